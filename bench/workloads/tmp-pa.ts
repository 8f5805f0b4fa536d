import * as ray from "tsray";
class Target { n = 0; call() { return ++this.n; } }
await ray.init({ numCpus: 2, logToDriver: false });
const a = ray.remote(Target).remote();
await ray.get(a.call.remote());
for (let r = 0; r < 6; r++) {
  const t = process.hrtime.bigint();
  const refs = []; for (let i = 0; i < 20000; i++) refs.push(a.call.remote());
  await ray.get(refs);
  console.log("calls/s", Math.round(20000 / (Number(process.hrtime.bigint() - t) / 1e9)));
}
await ray.shutdown();
