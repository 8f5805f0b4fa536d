// Dataset.stats() and statsSummary(): per-operator figures of the last execution, checked against
// what the test knows (rows, blocks, tasks), and the execution's wall time and peak store use.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-stats-");
data.DataContext.getCurrent().enableProgressBars = false;

test("before any execution stats() is empty and statsSummary() undefined", () => {
  const ds = data.range(10).map((r) => ({ x: r.id }));
  assert.equal(ds.stats(), "");
  assert.equal(ds.statsSummary(), undefined);
});

test("a fused read and map: one operator with its tasks, blocks, rows and bytes", async () => {
  const ds = data.range(1000, { overrideNumBlocks: 4 }).map(function double(r) {
    return { x: r.id * 2 };
  });
  const rows = await ds.takeAll();
  assert.equal(rows.length, 1000);
  const stats = ds.statsSummary()!;
  assert.equal(stats.operators.length, 1);
  const [op] = stats.operators;
  assert.equal(op!.name, "ReadRange->Map(double)");
  assert.equal(op!.numTasks, 4);
  assert.equal(op!.numActors, 0);
  assert.equal(op!.numBlocksOut, 4);
  assert.equal(op!.numRowsOut, 1000);
  // 1000 Float64 values at least, in Arrow IPC.
  assert.ok(op!.bytesOut >= 8000, `bytesOut ${op!.bytesOut}`);
  assert.ok(op!.wallTimeMs > 0);
  assert.ok(stats.wallTimeMs >= op!.wallTimeMs);
  assert.ok(stats.peakObjectStoreBytes > 0 && stats.peakObjectStoreBytes <= op!.bytesOut);
  const text = ds.stats();
  assert.match(text, /Operator 1 ReadRange->Map\(double\): 4 tasks, 0 actors, 4 blocks out, 1000 rows out, [\d.]+ KiB out/);
  assert.match(text, /peak object store use/);
});

test("operators that do not fuse are counted apart; a filter's rows are what it kept", async () => {
  const items = Array.from({ length: 300 }, (_, i) => ({ n: i }));
  const ds = data.fromItems(items, { overrideNumBlocks: 3 })
    .filter(function even(r) { return r.n % 2 === 0; })
    .map(function half(r) { return { n: r.n / 2 }; }, { numCpus: 0.5 });
  assert.equal(await ds.count(), 150);
  const stats = ds.statsSummary()!;
  assert.deepEqual(stats.operators.map((op) => op.name), ["FromItems", "Filter(even)", "Map(half)"]);
  const [source, filter, map] = stats.operators;
  assert.deepEqual([source!.numTasks, source!.numBlocksOut, source!.numRowsOut], [0, 3, 300]);
  assert.deepEqual([filter!.numTasks, filter!.numBlocksOut, filter!.numRowsOut], [3, 3, 150]);
  assert.deepEqual([map!.numTasks, map!.numBlocksOut, map!.numRowsOut], [3, 3, 150]);
  assert.ok(filter!.bytesOut > 0 && map!.bytesOut > 0);
});

test("an all-to-all step is an operator of its own: its map and reduce tasks, its output blocks and rows", async () => {
  const ds = data.range(600, { overrideNumBlocks: 4 }).randomShuffle({ seed: 3, numBlocks: 3 }).map(function keep(r) {
    return r;
  });
  assert.equal((await ds.takeAll()).length, 600);
  const [read, shuffle, map] = ds.statsSummary()!.operators;
  assert.deepEqual([read!.name, shuffle!.name, map!.name], ["ReadRange", "RandomShuffle", "Map(keep)"]);
  // A map task per input block, a reduce task per output block.
  assert.deepEqual([shuffle!.numTasks, shuffle!.numBlocksOut, shuffle!.numRowsOut], [4 + 3, 3, 600]);
  assert.ok(shuffle!.bytesOut > 0 && shuffle!.wallTimeMs >= 0);
  const sorted = data.range(100, { overrideNumBlocks: 2 }).sort("id", { descending: true });
  assert.equal((await sorted.takeAll()).length, 100);
  const sort = sorted.statsSummary()!.operators.find((op) => op.name === "Sort")!;
  // Sort samples each input block too.
  assert.deepEqual([sort.numTasks, sort.numRowsOut], [2 + 2 + 2, 100]);
});

test("a materialized dataset reports the execution that made it; a dataset derived from it, its own", async () => {
  const ds = data.range(100, { overrideNumBlocks: 2 }).map((r) => ({ y: r.id + 1 }));
  const materialized = await ds.materialize();
  assert.equal(materialized.statsSummary()!.operators[0]!.numRowsOut, 100);
  assert.equal(materialized.stats(), ds.stats());
  const derived = materialized.filter((r) => r.y > 50);
  assert.equal(derived.stats(), "");
  assert.equal(await derived.count(), 50);
  const stats = derived.statsSummary()!;
  assert.deepEqual(stats.operators.map((op) => [op.name, op.numRowsOut]), [["Filter(<lambda>)", 50]]);
  // The materialized dataset keeps the figures of the execution that made it.
  assert.equal(materialized.statsSummary()!.operators[0]!.numRowsOut, 100);
});

test("the last execution replaces the figures of the one before", async () => {
  const ds = data.range(64, { overrideNumBlocks: 4 }).map((r) => r);
  await ds.count();
  const first = ds.statsSummary()!;
  for await (const _ of ds.limit(10).iterRows()) break;
  assert.deepEqual(ds.statsSummary(), first, "a derived dataset's execution is its own");
  await ds.takeAll();
  assert.notEqual(ds.statsSummary(), first);
  assert.equal(ds.statsSummary()!.operators[0]!.numRowsOut, 64);
});
