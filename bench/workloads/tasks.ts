// No-op tasks: async rate (submit N, then get all) and sync round trip, on tsray or piscina.
import { createRequire } from "node:module";
import * as ray from "tsray";
import { noop as noopBody } from "../peers/piscina-worker.mjs";
import { medianTime, report, scale } from "./measure.js";

const N = scale(20_000, 500);
const SYNC = scale(2_000, 50);
const ROUNDS = scale(5, 1);

/** Both implementations, measured the same way: median of timed rounds after warm-up ones. */
async function measure(runAsync: () => Promise<unknown>, runOne: () => Promise<unknown>): Promise<Record<string, number>> {
  const asyncMs = await medianTime(runAsync, ROUNDS, 2);
  const syncMs = await medianTime(async () => {
    for (let i = 0; i < SYNC; i++) await runOne();
  }, ROUNDS, 2);
  return { tasksPerSecond: N / (asyncMs / 1000), syncRoundTripUs: (syncMs / SYNC) * 1000 };
}

if (process.argv[2] === "piscina") {
  const Piscina = createRequire(import.meta.url)("piscina");
  const pool = new Piscina({ filename: new URL("../peers/piscina-worker.mjs", import.meta.url).href, minThreads: 2, maxThreads: 2 });
  const result = await measure(() => Promise.all(Array.from({ length: N }, () => pool.run(null))), () => pool.run(null));
  await pool.destroy();
  report(result);
} else {
  const noop = ray.remote(noopBody);
  await ray.init({ numCpus: 2, logToDriver: false });
  const result = await measure(
    () => {
      const refs = [];
      for (let i = 0; i < N; i++) refs.push(noop.remote());
      return ray.get(refs);
    },
    () => ray.get(noop.remote()),
  );
  await ray.shutdown();
  report(result);
}
