// streamingSplit consumed on two nodes: a head and a worker node of one CPU each, started with the CLI as a user
// does (see test/cluster/nodes.test.ts), and a driver of its own process (test/fixtures/data/split-driver.ts). Like
// the cluster tests, it runs the built package (dist/, which `npm test` builds first).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { rmSync } from "node:fs";
import { clusterFolder, DRIVER_ARGS, result } from "../helpers/cluster.js";

const { tmp, tsray, run, sessions } = clusterFolder();
const splitDriver = fileURLToPath(new URL("../fixtures/data/split-driver.ts", import.meta.url));

before(async () => {
  const head = await tsray("start", "--head", "--port", "0", "--num-cpus", "1");
  assert.equal(head.code, 0, head.stderr);
  const worker = await tsray("start", "--address", sessions()[0]!.address, "--num-cpus", "1");
  assert.equal(worker.code, 0, worker.stderr);
});

after(async () => {
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

test("streamingSplit(2, { equal: true }) consumed by a task on each node, two epochs: equal disjoint halves of the dataset", async () => {
  const { nodes, results } = result(await run(splitDriver, [], DRIVER_ARGS)) as { nodes: string[]; results: { node: string; ids: number[][] }[] };
  assert.equal(nodes.length, 2);
  assert.deepEqual(results.map((r) => r.node), nodes, "each consumer ran on its own node");
  for (const epoch of [0, 1]) {
    const [a, b] = results.map((r) => r.ids[epoch]!);
    assert.deepEqual([a!.length, b!.length], [200, 200]);
    assert.deepEqual([...a!, ...b!].sort((x, y) => x - y), Array.from({ length: 400 }, (_, i) => i));
  }
});
