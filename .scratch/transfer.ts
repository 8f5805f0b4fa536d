import * as ray from "tsray";
import { withLocalCluster } from "../bench/workloads/local-cluster.js";
const BIG = 100 * 2 ** 20 / 8;
await withLocalCluster(2, async () => {
  await ray.init({ address: "auto", logToDriver: false });
  const nodes = await ray.nodes();
  const [b, c] = nodes.filter((n) => !n.isHead).map((n) => ({ schedulingStrategy: { type: "node_affinity" as const, nodeId: n.nodeId, soft: false } }));
  const make = ray.remote(function make(n: number) { return new Float64Array(n).fill(1); });
  const length = ray.remote(function length(xs: Float64Array) { return xs.length; });
  await ray.get([b, c].map((o) => length.options(o).remote(new Float64Array(8))));
  for (let i = 0; i < 6; i++) {
    let t0 = performance.now();
    const ref = make.options(b).remote(BIG);
    await ray.wait([ref]);
    const made = performance.now() - t0;
    t0 = performance.now();
    await ray.get(length.options(c).remote(ref));
    const moved = performance.now() - t0;
    console.log(`made ${made.toFixed(0)} ms, moved+read ${moved.toFixed(0)} ms`);
  }
  await ray.shutdown();
});
