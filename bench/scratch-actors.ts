import * as ray from "tsray";
class Target { n = 0; call() { return ++this.n; } }
await ray.init({ numCpus: 2, logToDriver: false });
const a = ray.remote(Target).remote();
await ray.get(a.call.remote());
const rates: number[] = [];
for (let r = 0; r < 8; r++) {
  const t = performance.now();
  const refs = []; for (let i = 0; i < 20000; i++) refs.push(a.call.remote());
  await ray.get(refs);
  rates.push(Math.round(20000 / ((performance.now() - t) / 1000)));
}
const sync: number[] = [];
for (let r = 0; r < 6; r++) {
  const t = performance.now();
  for (let i = 0; i < 1000; i++) await ray.get(a.call.remote());
  sync.push(Math.round(performance.now() - t));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`async ${med(rates.slice(2))}/s [${rates.join(" ")}]  sync ${med(sync.slice(2))}µs [${sync.join(" ")}]`);
await ray.shutdown();
