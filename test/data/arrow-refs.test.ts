import { test } from "node:test";
import assert from "node:assert/strict";
import { Table, tableFromArrays } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";
import { describeTable } from "../fixtures/data/arrow-task.js";

clusterAndFolder("tsray-data-arrow-refs-");

// 40,000 Float64 values (320 KB): above the size from which the store keeps a value in shared memory.
const N = 40_000;
const bigTable = () => tableFromArrays({ x: Float64Array.from({ length: N }, (_, i) => i * 0.5), name: Array.from({ length: N }, (_, i) => `r${i % 7}`) });
const expectedSum = (N * (N - 1)) / 4;

test("ray.put of an Arrow table gets a Table back, its column buffers views of the object store", async () => {
  const table = bigTable();
  const back = await ray.get(ray.put(table));
  assert.ok(back instanceof Table);
  assert.equal(back.numRows, N);
  assert.deepEqual(back.schema.fields.map((f) => f.name), ["x", "name"]);
  const values = back.getChild("x")!.data[0]!.values as Float64Array;
  assert.ok(values.buffer instanceof SharedArrayBuffer, "the Float64 column is a view of the store's shared memory, not a copy");
  assert.equal(values[N - 1], (N - 1) * 0.5);
  assert.equal(back.getChild("name")!.get(9), "r2");
  // Small tables travel inline, and come back as Tables too.
  const small = await ray.get(ray.put(tableFromArrays({ a: Int32Array.from([1, 2, 3]) })));
  assert.ok(small instanceof Table);
  assert.deepEqual([...small.getChild("a")!], [1, 2, 3]);
});

test("a Table passed to a task (by value and by ref) arrives as a Table, zero-copy, in a worker that never imported tsray/data", async () => {
  const describe = ray.remote(describeTable);
  const table = bigTable();
  const byValue = await ray.get(describe.remote(table));
  const byRef = await ray.get(describe.remote(ray.put(table) as never));
  for (const out of [byValue, byRef]) assert.deepEqual(out, { isTable: true, rows: N, sum: expectedSum, shared: true });
});

test("a task returning a Table gives a Table", async () => {
  const make = ray.remote((n: number) => tableFromArrays({ y: Float64Array.from({ length: n }, (_, i) => i) }));
  const table = await ray.get(make.remote(N));
  assert.ok(table instanceof Table);
  assert.equal(table.numRows, N);
  assert.ok((table.getChild("y")!.data[0]!.values as Float64Array).buffer instanceof SharedArrayBuffer);
});

test("toArrowRefs returns refs of Tables; fromArrowRefs takes them back", async () => {
  const ds = data.range(100, { overrideNumBlocks: 4 }).map((r) => ({ id: r.id, double: r.id * 2 }));
  const refs = await ds.toArrowRefs();
  assert.equal(refs.length, 4);
  const tables = await ray.get(refs);
  assert.ok(tables.every((t) => t instanceof Table));
  assert.equal(tables.reduce((n, t) => n + t.numRows, 0), 100);
  const back = data.fromArrowRefs<{ id: number; double: number }>(refs);
  assert.ok(back instanceof data.MaterializedDataset);
  assert.equal(back.numBlocks(), 4);
  assert.equal(await back.count(), 100);
  assert.deepEqual((await back.takeAll()).map((r) => r.double), Array.from({ length: 100 }, (_, i) => i * 2));
  // Tables a user put are blocks too.
  const own = data.fromArrowRefs([ray.put(tableFromArrays({ a: Float64Array.from([1, 2]) })), ray.put(bigTable())]);
  assert.equal(await own.count(), N + 2);
  assert.equal(await own.filter((r) => r.a === 2).count(), 1);
  assert.equal((await own.split(2)).length, 2);
  assert.throws(() => data.fromArrowRefs([42 as never]), /fromArrowRefs\(\) takes an array of ObjectRefs/);
});
