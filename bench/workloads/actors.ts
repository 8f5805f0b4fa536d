// Calls to one actor: async rate (N calls, then get all) and sync call latency.
import * as ray from "tsray";
import { now, report, scale } from "./measure.js";

const N = scale(20_000, 500);
const SYNC = scale(2_000, 50);

class Target {
  n = 0;
  call() {
    return ++this.n;
  }
}

await ray.init({ numCpus: 2, logToDriver: false });
const a = ray.remote(Target).remote();
// One full round first, so the JIT has compiled the hot paths (the peers get the same).
await ray.get(Array.from({ length: N }, () => a.call.remote()));
let t = now();
const refs = [];
for (let i = 0; i < N; i++) refs.push(a.call.remote());
await ray.get(refs);
const rate = N / ((now() - t) / 1000);
t = now();
for (let i = 0; i < SYNC; i++) await ray.get(a.call.remote());
const syncUs = ((now() - t) / SYNC) * 1000;
await ray.shutdown();
report({ callsPerSecond: rate, syncCallUs: syncUs });
