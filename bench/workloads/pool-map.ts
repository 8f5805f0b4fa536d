// Seed 004: x * 10 over a million numbers with util.Pool.map (the Python side is peers/python-pool.py).
import * as ray from "tsray";
import { now, report, scale } from "./measure.js";

const N = scale(1_000_000, 10_000);
const items = Array.from({ length: N }, (_, i) => i);

await ray.init({ numCpus: 2, logToDriver: false });
const pool = new ray.util.Pool({ processes: 2 });
await pool.map((x: number) => x * 10, [1, 2, 3]);
let best = Infinity;
for (let r = 0; r < 3; r++) {
  const t = now();
  const out = await pool.map((x: number) => x * 10, items);
  best = Math.min(best, now() - t);
  if (out[N - 1] !== (N - 1) * 10) throw new Error("wrong result");
}
await pool.close();
await ray.shutdown();
report({ seconds: best / 1000 });
