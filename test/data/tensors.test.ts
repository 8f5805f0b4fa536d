import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

test("rangeTensor: rows of Float64 tensors of the shape, filled with the row index", async () => {
  const ds = data.rangeTensor(5, { shape: [2, 3], overrideNumBlocks: 2 });
  assert.equal(await ds.count(), 5);
  const rows = await ds.takeAll();
  assert.equal(rows.length, 5);
  rows.forEach((r, i) => {
    assert.deepEqual(r.data.shape, [2, 3]);
    assert.ok(r.data.data instanceof Float64Array);
    assert.deepEqual([...r.data.data], new Array(6).fill(i));
  });
  const field = (await ds.schema()).fields[0]!;
  assert.equal(String(field.type), "FixedSizeList[6]<Float64>");
  assert.equal(field.metadata.get("ARROW:extension:name"), "arrow.fixed_shape_tensor");
  assert.deepEqual(JSON.parse(field.metadata.get("ARROW:extension:metadata")!), { shape: [2, 3] });
});

test("a numpy batch holds a tensor column as one Tensor of shape [rows, ...]; a batch UDF may return one", async () => {
  const ds = data.rangeTensor(4, { shape: [2], overrideNumBlocks: 1 })
    .mapBatches((b: { data: data.Tensor<Float64Array> }) => ({ data: { data: b.data.data.map((v) => v * 10), shape: b.data.shape }, n: [1, 2, 3, 4] }));
  const [batch] = await collect(ds.iterBatches({ batchSize: null }));
  const t = batch!.data as data.Tensor;
  assert.deepEqual(t.shape, [4, 2]);
  assert.deepEqual([...t.data], [0, 0, 10, 10, 20, 20, 30, 30]);
  assert.deepEqual((await ds.take(2)).map((r) => [...(r.data as data.Tensor).data]), [[0, 0], [10, 10]]);
});

test("fromNumpy: a typed array gives number rows, a Tensor gives tensor rows; a block per array", async () => {
  assert.deepEqual(await data.fromNumpy([new Int32Array([1, 2]), new Int32Array([3])]).takeAll(), [{ data: 1 }, { data: 2 }, { data: 3 }]);
  const images = data.fromNumpy({ data: new Uint8Array(2 * 2 * 2).map((_, i) => i), shape: [2, 2, 2] });
  const rows = await images.takeAll();
  assert.deepEqual(rows.map((r) => [r.data.shape, [...r.data.data], r.data.data.constructor.name]), [
    [[2, 2], [0, 1, 2, 3], "Uint8Array"],
    [[2, 2], [4, 5, 6, 7], "Uint8Array"],
  ]);
  assert.equal((await images.materialize()).numBlocks(), 1);
});

test("tensors in rows travel through map, column steps and limits with their shape", async () => {
  const ds = data.fromItems([{ id: 1 }, { id: 2 }, { id: 3 }], { overrideNumBlocks: 1 })
    .map((r) => ({ id: r.id, t: { data: new Float32Array([r.id, -r.id]), shape: [2] } }))
    .renameColumns<{ id: number; vec: data.Tensor }>({ t: "vec" })
    .limit(2);
  const rows = await ds.takeAll();
  assert.deepEqual(rows.map((r) => [r.id, r.vec.shape, [...r.vec.data], r.vec.data.constructor.name]), [
    [1, [2], [1, -1], "Float32Array"],
    [2, [2], [2, -2], "Float32Array"],
  ]);
  const [table] = await collect(ds.iterBatches({ batchFormat: "arrow" }));
  assert.equal((table as Table).schema.fields[1]!.metadata.get("ARROW:extension:name"), "arrow.fixed_shape_tensor");
  await assert.rejects(data.fromItems([{ t: { data: new Float32Array(2), shape: [2] } }, { t: { data: new Float32Array(3), shape: [3] } }], { overrideNumBlocks: 1 }).takeAll(),
    /ragged tensors are not supported yet/);
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
