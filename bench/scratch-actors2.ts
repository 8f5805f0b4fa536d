import * as ray from "tsray";
class Target { n = 0; call() { return ++this.n; } }
await ray.init({ numCpus: 2, logToDriver: false });
const a = ray.remote(Target).remote();
await ray.get(a.call.remote());
const rates: number[] = [];
for (let r = 0; r < 14; r++) {
  const t = performance.now();
  const refs = []; for (let i = 0; i < 20000; i++) refs.push(a.call.remote());
  await ray.get(refs);
  rates.push(Math.round(20000 / ((performance.now() - t) / 1000)));
}
const sync: number[] = [];
for (let r = 0; r < 12; r++) {
  const t = performance.now();
  for (let i = 0; i < 1000; i++) await ray.get(a.call.remote());
  sync.push(Math.round(performance.now() - t));
}
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log(`${process.env.VARIANT} async ${med(rates.slice(4))}/s  sync ${med(sync.slice(4))}µs`);
console.log((globalThis as any).__rx);
await ray.shutdown();
