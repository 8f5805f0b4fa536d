// Embedded init() to the first task's result, in a fresh process (module loading excluded).
import * as ray from "tsray";
import { now, report } from "./measure.js";

const one = ray.remote(function one() {
  return 1;
});
const t = now();
await ray.init({ numCpus: 2, logToDriver: false });
await ray.get(one.remote());
const ms = now() - t;
await ray.shutdown();
report({ ms });
