// put of 100 MB into a warm store, against a warm memcpy; get of stored objects of growing size.
import * as ray from "tsray";
import { now, report, scale } from "./measure.js";

const BYTES = scale(100 * 2 ** 20, 2 ** 20);
const ROUNDS = 5;
const src = new Float64Array(BYTES / 8).fill(3);

if (process.argv[2] === "memcpy") {
  const dst = new Float64Array(BYTES / 8);
  dst.set(src);
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = now();
    dst.set(src);
    best = Math.min(best, now() - t);
  }
  report({ gbPerSecond: BYTES / 1e9 / (best / 1000) });
} else {
  await ray.init({ numCpus: 2, logToDriver: false, objectStoreMemory: 8 * BYTES });
  // A warm store: each put reuses the region the previous object, dropped and collected, had.
  const collect = async () => {
    global.gc!();
    await new Promise((r) => setImmediate(r));
  };
  await ray.get(ray.put(src));
  await collect();
  let best = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = now();
    ray.put(src);
    best = Math.min(best, now() - t);
    await collect();
  }
  const result: Record<string, number> = { putGbPerSecond: BYTES / 1e9 / (best / 1000) };
  // Many small objects: puts per second, then gets per second of those already stored.
  const SMALL = process.env.TSRAY_BENCH_SMOKE ? 200 : 10_000;
  let t = now();
  const small = Array.from({ length: SMALL }, (_, i) => ray.put(i));
  result.smallPutsPerSecond = SMALL / ((now() - t) / 1000);
  t = now();
  for (const ref of small) await ray.get(ref);
  result.smallGetsPerSecond = SMALL / ((now() - t) / 1000);
  for (const mb of [10, 100, 400]) {
    const ref = ray.put(new Uint8Array(scale(mb * 2 ** 20, 2 ** 20)));
    await ray.get(ref);
    let g = Infinity;
    for (let r = 0; r < ROUNDS; r++) {
      const t = now();
      await ray.get(ref);
      g = Math.min(g, now() - t);
    }
    result[`get${mb}MbMs`] = g;
  }
  await ray.shutdown();
  report(result);
}
