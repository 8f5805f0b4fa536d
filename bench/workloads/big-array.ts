// A 100 MB Float64Array handed to a task that reads all of it: tsray (put + task) or piscina (structured clone).
import { createRequire } from "node:module";
import * as ray from "tsray";
import { sum as sumBody } from "../peers/piscina-worker.mjs";
import { now, report, scale } from "./measure.js";

const LENGTH = scale(100 * 2 ** 20, 2 ** 20) / 8;
const data = new Float64Array(LENGTH).fill(1);
const ROUNDS = 3;

if (process.argv[2] === "piscina") {
  const Piscina = createRequire(import.meta.url)("piscina");
  const pool = new Piscina({ filename: new URL("../peers/piscina-worker.mjs", import.meta.url).href, minThreads: 2, maxThreads: 2 });
  await pool.run(new Float64Array(8), { name: "sum" });
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = now();
    const s = await pool.run(data, { name: "sum" });
    best = Math.min(best, now() - t);
    if (s !== LENGTH) throw new Error("wrong sum");
  }
  await pool.destroy();
  report({ ms: best });
} else {
  const sum = ray.remote(sumBody);
  await ray.init({ numCpus: 2, logToDriver: false });
  await ray.get(sum.remote(new Float64Array(8)));
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = now();
    const s = await ray.get(sum.remote(ray.put(data)));
    best = Math.min(best, now() - t);
    if (s !== LENGTH) throw new Error("wrong sum");
    // The next round's put reuses this round's memory, as in a warm store.
    global.gc!();
    await new Promise((r) => setImmediate(r));
  }
  await ray.shutdown();
  report({ ms: best });
}
