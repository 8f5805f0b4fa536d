// A thousand actors alive at once: memory per idle actor.
import * as ray from "tsray";
import { now, report, scale } from "./measure.js";

const N = scale(1_000, 20);
class Idle {
  ping() {
    return 1;
  }
}
await ray.init({ numCpus: 2, logToDriver: false });
const before = process.memoryUsage().rss;
const t = now();
const actors = Array.from({ length: N }, () => ray.remote(Idle).remote());
await ray.get(actors.map((a) => a.ping.remote()));
const seconds = (now() - t) / 1000;
const perActorMb = (process.memoryUsage().rss - before) / N / 2 ** 20;
await ray.shutdown();
report({ actors: N, perActorMb, seconds });
