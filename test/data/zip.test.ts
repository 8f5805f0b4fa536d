import { test } from "node:test";
import assert from "node:assert/strict";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-zip-");

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

test("zip puts the rows of two datasets side by side, in order, whatever their blocks", async () => {
  const left = data.range(100, { overrideNumBlocks: 3 }).map((r) => ({ id: r.id, sq: r.id * r.id }));
  const right = data.fromItems(ids(100).map((i) => ({ name: `n${i}`, neg: -i })), { overrideNumBlocks: 7 });
  const zipped = left.zip(right);
  const rows = await zipped.takeAll();
  assert.deepEqual(rows, ids(100).map((i) => ({ id: i, sq: i * i, name: `n${i}`, neg: -i })));
  assert.equal(await zipped.count(), 100);
  assert.deepEqual(await zipped.columns(), ["id", "sq", "name", "neg"]);
  // The left blocks are kept: 3 blocks out.
  assert.equal((await zipped.materialize()).numBlocks(), 3);
});

test("clashing columns of the other dataset get a _1 suffix (a name still taken, another); types (Int64, tensors) are kept", async () => {
  const a = data.range(10, { overrideNumBlocks: 2 });
  const b = data.range(10, { overrideNumBlocks: 5 }).map((r) => ({ id: r.id * 10, id_1: r.id * 100 }));
  const zipped = a.zip(b);
  assert.deepEqual(await zipped.columns(), ["id", "id_1", "id_1_1"]);
  assert.deepEqual(await zipped.take(2), [{ id: 0, id_1: 0, id_1_1: 0 }, { id: 1, id_1: 10, id_1_1: 100 }]);
  const schema = await zipped.schema();
  assert.equal(String(schema.fields[0]!.type), "Int64");
  const tensors = data.rangeTensor(6, { shape: [2, 2], overrideNumBlocks: 2 });
  const withTensors = await data.range(6, { overrideNumBlocks: 3 }).zip(tensors).takeAll();
  assert.deepEqual(withTensors.map((r) => [r.id, r.data.shape, [...r.data.data]]), ids(6).map((i) => [i, [2, 2], [i, i, i, i]]));
});

test("zip of datasets of different row counts is an error naming both counts: at once when known, else at consumption", async () => {
  assert.throws(() => data.range(10).zip(data.range(12)), /same row count: this one has 10 rows, the other 12/);
  // A filter hides the counts until it runs.
  const fewer = data.range(10, { overrideNumBlocks: 2 }).filter((r) => r.id < 7);
  await assert.rejects(fewer.zip(data.range(10)).takeAll(), /this one has 7 rows, the other 10/);
  await assert.rejects(data.range(10).zip(fewer).takeAll(), /this one has 10 rows, the other 7/);
  assert.throws(() => data.range(3).zip([] as never), /zip\(\) takes a Dataset/);
  // Empty with empty: nothing.
  assert.deepEqual(await data.range(5).filter(() => false).zip(data.range(0)).takeAll(), []);
});
