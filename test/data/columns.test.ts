import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

test("addColumn computes a column from each block's numpy batch, or replaces one in place", async () => {
  const ds = data.range(6, { overrideNumBlocks: 2 }).addColumn("sq", (b) => (b.id as Float64Array).map((v) => v * v));
  assert.deepEqual(await ds.takeAll(), [0, 1, 2, 3, 4, 5].map((id) => ({ id, sq: id * id })));
  const replaced = ds.addColumn("id", (b) => (b.id as Float64Array).map((v) => -v));
  assert.deepEqual(await replaced.columns(), ["id", "sq"]);
  assert.deepEqual((await replaced.take(2)).map((r) => r.id), [-0, -1]);
  await assert.rejects(data.range(4, { overrideNumBlocks: 1 }).addColumn("x", () => [1]).count(), /returned 1 values for a batch of 4 rows/);
});

test("selectColumns keeps columns in the order given, dropColumns removes them, renameColumns renames them", async () => {
  const ds = data.fromItems([{ a: 1, b: "x", c: true }, { a: 2, b: "y", c: false }]);
  assert.deepEqual(await ds.selectColumns(["c", "a"]).takeAll(), [{ c: true, a: 1 }, { c: false, a: 2 }]);
  assert.deepEqual(await ds.selectColumns(["c", "a"]).columns(), ["c", "a"]);
  assert.deepEqual(await ds.dropColumns(["b"]).takeAll(), [{ a: 1, c: true }, { a: 2, c: false }]);
  const renamed = ds.renameColumns<{ alpha: number; b: string; c: boolean }>({ a: "alpha" });
  assert.deepEqual(await renamed.columns(), ["alpha", "b", "c"]);
  assert.equal((await renamed.take(1))[0]!.alpha, 1);
});

test("an unknown column rejects the consumption with an error naming it", async () => {
  const ds = data.fromItems([{ a: 1 }]);
  for (const wrong of [ds.selectColumns(["nope" as "a"]), ds.dropColumns(["nope" as "a"]), ds.renameColumns({ nope: "x" } as never)]) {
    await assert.rejects(wrong.takeAll(), (err: unknown) => err instanceof ray.RayTaskError && /no column 'nope'/.test(err.message));
  }
  await assert.rejects(ds.sum("nope" as "a"), /no column 'nope'/);
});

test("column steps fuse with UDF steps and keep schemas of blocks a filter emptied", async () => {
  const ds = data.range(20, { overrideNumBlocks: 4 }).filter((r) => r.id >= 15).selectColumns(["id"]).map((r) => ({ v: r.id }));
  assert.deepEqual((await ds.takeAll()).map((r) => r.v), [15, 16, 17, 18, 19]);
});

test("takeBatch gives the first batch of up to batchSize rows in the format asked", async () => {
  const ds = data.range(50, { overrideNumBlocks: 5 });
  const numpy = await ds.takeBatch(12);
  assert.deepEqual([...(numpy.id as Float64Array)], Array.from({ length: 12 }, (_, i) => i));
  assert.deepEqual(await ds.takeBatch(3, { batchFormat: "rows" }), [{ id: 0 }, { id: 1 }, { id: 2 }]);
  assert.equal(((await ds.takeBatch(undefined, { batchFormat: "arrow" })) as Table).numRows, 20);
  assert.deepEqual(await ds.filter(() => false).takeBatch(3, { batchFormat: "rows" }), []);
});

test("sum, min, max, mean, std and unique equal plain JavaScript's; nulls skipped; null when empty", async () => {
  // Values far from zero: a naive sum of squares would lose the variance entirely.
  const xs = Array.from({ length: 1000 }, (_, i) => 1e9 + ((i * 7919) % 1000) / 10);
  const ds = data.fromItems(xs.map((x, i) => ({ x: i % 10 === 0 ? null : x, k: `k${i % 3}` })));
  const kept = xs.filter((_, i) => i % 10 !== 0);
  const mean = kept.reduce((s, v) => s + (v - 1e9), 0) / kept.length + 1e9;
  const variance = kept.reduce((s, v) => s + (v - mean) ** 2, 0) / (kept.length - 1);
  const close = (a: number | null, b: number) => assert.ok(a !== null && Math.abs(a - b) <= 1e-9 * Math.abs(b), `${a} vs ${b}`);
  close(await ds.sum("x"), kept.reduce((s, v) => s + v, 0));
  close(await ds.mean("x"), mean);
  close(await ds.std("x"), Math.sqrt(variance));
  close(await ds.std("x", { ddof: 0 }), Math.sqrt((variance * (kept.length - 1)) / kept.length));
  assert.equal(await ds.min("x"), Math.min(...kept));
  assert.equal(await ds.max("x"), Math.max(...kept));
  assert.equal(await ds.min("k"), "k0");
  assert.deepEqual((await ds.unique("k")).sort(), ["k0", "k1", "k2"]);
  const empty = data.range(10).filter(() => false);
  assert.equal(await empty.sum("id"), null);
  assert.equal(await empty.mean("id"), null);
  assert.equal(await empty.max("id"), null);
});
