// No-op tasks: async rate (submit N, then get all) and sync round trip, on tsray or piscina.
import { createRequire } from "node:module";
import * as ray from "tsray";
import { noop as noopBody } from "../peers/piscina-worker.mjs";
import { now, report, scale } from "./measure.js";

const N = scale(20_000, 500);
const SYNC = scale(2_000, 50);

if (process.argv[2] === "piscina") {
  const Piscina = createRequire(import.meta.url)("piscina");
  const pool = new Piscina({ filename: new URL("../peers/piscina-worker.mjs", import.meta.url).href, minThreads: 2, maxThreads: 2 });
  // One full round first, so the JIT has compiled the hot paths (tsray gets the same).
  await Promise.all(Array.from({ length: N }, () => pool.run(null)));
  let t = now();
  await Promise.all(Array.from({ length: N }, () => pool.run(null)));
  const rate = N / ((now() - t) / 1000);
  t = now();
  for (let i = 0; i < SYNC; i++) await pool.run(null);
  const syncUs = ((now() - t) / SYNC) * 1000;
  await pool.destroy();
  report({ tasksPerSecond: rate, syncRoundTripUs: syncUs });
} else {
  const noop = ray.remote(noopBody);
  await ray.init({ numCpus: 2, logToDriver: false });
  await ray.get(Array.from({ length: N }, () => noop.remote()));
  let t = now();
  const refs = [];
  for (let i = 0; i < N; i++) refs.push(noop.remote());
  await ray.get(refs);
  const rate = N / ((now() - t) / 1000);
  t = now();
  for (let i = 0; i < SYNC; i++) await ray.get(noop.remote());
  const syncUs = ((now() - t) / SYNC) * 1000;
  await ray.shutdown();
  report({ tasksPerSecond: rate, syncRoundTripUs: syncUs });
}
