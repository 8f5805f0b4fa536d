// A 100 MB Float64Array handed to a task that reads all of it: tsray (put + task) or piscina
// (structured clone). Also the floor no implementation can beat: one copy of the array (what
// put does) plus one read of it, timed in this process.
import { createRequire } from "node:module";
import * as ray from "tsray";
import { sum as sumBody } from "../peers/piscina-worker.mjs";
import { now, report, scale } from "./measure.js";

const LENGTH = scale(100 * 2 ** 20, 2 ** 20) / 8;
const data = new Float64Array(LENGTH).fill(1);
const ROUNDS = 10;
/** Warm-up: the read, compiled in both threads of each implementation. */
const small = () => [new Float64Array(2 ** 17).fill(1), new Float64Array(2 ** 17).fill(1)];

async function best(round: () => Promise<number>, between: () => Promise<void> = async () => {}): Promise<number> {
  let ms = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = now();
    const s = await round();
    ms = Math.min(ms, now() - t);
    if (s !== LENGTH) throw new Error("wrong sum");
    await between();
  }
  return ms;
}

if (process.argv[2] === "piscina") {
  const Piscina = createRequire(import.meta.url)("piscina");
  const pool = new Piscina({ filename: new URL("../peers/piscina-worker.mjs", import.meta.url).href, minThreads: 2, maxThreads: 2 });
  for (let i = 0; i < 3; i++) await Promise.all(small().map((xs) => pool.run(xs, { name: "sum" })));
  const ms = await best(() => pool.run(data, { name: "sum" }));
  await pool.destroy();
  report({ ms });
} else if (process.argv[2] === "floor") {
  const copy = new Float64Array(LENGTH);
  for (let i = 0; i < 3; i++) small().map(sumBody);
  const ms = await best(async () => {
    copy.set(data);
    return sumBody(copy);
  });
  report({ ms });
} else {
  const sum = ray.remote(sumBody);
  await ray.init({ numCpus: 2, logToDriver: false });
  for (let i = 0; i < 3; i++) await ray.get(small().map((xs) => sum.remote(xs)));
  // Between rounds the dropped object is collected, so the next put reuses its memory (a warm store).
  const ms = await best(() => ray.get(sum.remote(ray.put(data))), async () => {
    global.gc!();
    await new Promise((r) => setImmediate(r));
  });
  await ray.shutdown();
  report({ ms });
}
