// Calls to one actor: async rate (N calls, then get all) and sync call latency.
import * as ray from "tsray";
import { medianTime, report, scale } from "./measure.js";
import { Target } from "./target.js";

const N = scale(20_000, 500);
const SYNC = scale(2_000, 50);
const ROUNDS = scale(5, 1);


await ray.init({ numCpus: 2, logToDriver: false });
const a = ray.remote(Target).remote();
// Measured as the tasks are: median of timed rounds after warm-up ones.
const asyncMs = await medianTime(() => {
  const refs = [];
  for (let i = 0; i < N; i++) refs.push(a.call.remote());
  return ray.get(refs);
}, ROUNDS, 2);
const syncMs = await medianTime(async () => {
  for (let i = 0; i < SYNC; i++) await ray.get(a.call.remote());
}, ROUNDS, 2);
await ray.shutdown();
report({ callsPerSecond: N / (asyncMs / 1000), syncCallUs: (syncMs / SYNC) * 1000 });
