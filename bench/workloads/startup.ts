// Embedded init() to the first task's result, in a fresh process.
import { now, report } from "./measure.js";

const t = now();
const ray = await import("tsray");
const one = ray.remote(function one() {
  return 1;
});
await ray.init({ numCpus: 2, logToDriver: false });
await ray.get(one.remote());
const ms = now() - t;
await ray.shutdown();
report({ ms });
