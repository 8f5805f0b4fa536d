import * as ray from "tsray";
import { sum } from "./peers/piscina-worker.mjs";
const data = new Float64Array(100*2**20/8).fill(1);
const timed = ray.remote((xs: Float64Array) => { const t = performance.now(); const s = sum(xs); return [s, performance.now() - t, t + performance.timeOrigin]; });
await ray.init({ numCpus: 2, logToDriver: false });
for (let i = 0; i < 3; i++) await ray.get([timed.remote(new Float64Array(2**17)), timed.remote(new Float64Array(2**17))]);
const copy = new Float64Array(data.length);
for (let r = 0; r < 8; r++) {
  let t = performance.now();
  const ref = ray.put(data);
  const tp = performance.now() - t;
  const [s, inner, startAbs] = await ray.get(timed.remote(ref)) as number[];
  const total = performance.now() - t;
  const t2 = performance.now(); copy.set(data); const tc = performance.now() - t2;
  console.log({ put: tp.toFixed(1), toStart: (startAbs - performance.timeOrigin - t - tp).toFixed(2), inner: inner.toFixed(1), total: total.toFixed(1), memcpy: tc.toFixed(1) });
  global.gc!(); await new Promise((r) => setImmediate(r));
}
await ray.shutdown();
