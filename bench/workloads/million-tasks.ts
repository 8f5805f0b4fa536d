// A million tasks queued from one driver, then drained: driver memory per pending task.
import * as ray from "tsray";
import { now, report, scale } from "./measure.js";

const N = scale(1_000_000, 2_000);
const noop = ray.remote(function noop() {
  return 0;
});
await ray.init({ numCpus: 2, logToDriver: false });
await ray.get(noop.remote());
global.gc?.();
const before = process.memoryUsage();
const t = now();
const refs = new Array(N);
for (let i = 0; i < N; i++) refs[i] = noop.remote();
const submitted = process.memoryUsage();
const perTask = (submitted.heapUsed + submitted.external - before.heapUsed - before.external) / N;
let peakRss = submitted.rss;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
await ray.get(refs);
clearInterval(sampler);
const seconds = (now() - t) / 1000;
await ray.shutdown();
report({ bytesPerPendingTask: perTask, peakRssMb: peakRss / 2 ** 20, seconds });
