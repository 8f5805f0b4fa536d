import { test } from "node:test";
import assert from "node:assert/strict";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-local-shuffle-");

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

async function idsOfBatches(ds: data.Dataset<{ id: number }>, opts: data.IterBatchesOptions<"default">): Promise<{ order: number[]; sizes: number[] }> {
  const order: number[] = [];
  const sizes: number[] = [];
  for await (const batch of ds.iterBatches(opts)) {
    const column = batch.id as Float64Array;
    sizes.push(column.length);
    order.push(...column);
  }
  return { order, sizes };
}

test("a local shuffle gives every row once, in batches of batchSize, in an order fixed by the seed", async () => {
  const ds = data.range(1000, { overrideNumBlocks: 10 });
  const a = await idsOfBatches(ds, { batchSize: 64, localShuffleBufferSize: 200, localShuffleSeed: 7 });
  assert.deepEqual([...a.order].sort((x, y) => x - y), ids(1000), "every row exactly once");
  assert.notDeepEqual(a.order, ids(1000), "shuffled");
  assert.deepEqual(a.sizes, [...Array(15).fill(64), 1000 - 15 * 64]);
  const b = await idsOfBatches(ds, { batchSize: 64, localShuffleBufferSize: 200, localShuffleSeed: 7 });
  assert.deepEqual(b.order, a.order, "the same seed, the same order");
  const c = await idsOfBatches(ds, { batchSize: 64, localShuffleBufferSize: 200, localShuffleSeed: 8 });
  assert.notDeepEqual(c.order, a.order, "another seed, another order");
  // Unseeded: every row once all the same.
  const d = await idsOfBatches(ds, { batchSize: 100, localShuffleBufferSize: 300 });
  assert.deepEqual([...d.order].sort((x, y) => x - y), ids(1000));
});

test("a local shuffle stays within the reach of its buffer: a row leaves at most bufferSize + a block behind its place", async () => {
  // Blocks of 50 rows, a buffer of 100: row i arrives with the rows up to its block's end, so it cannot leave before
  // (its block's end − buffer) rows have left.
  const ds = data.range(1000, { overrideNumBlocks: 20 });
  const { order } = await idsOfBatches(ds, { batchSize: 10, localShuffleBufferSize: 100, localShuffleSeed: 1 });
  order.forEach((id, position) => assert.ok(position >= Math.floor(id / 50) * 50 + 50 - 100 - 50, `row ${id} left at ${position}`));
  assert.ok(order.slice(0, 100).some((id) => id >= 100) || order.slice(0, 100).some((id, i) => id !== i));
});

test("a local shuffle keeps column types (Int64, strings, tensors) and works with every batch format and dropLast", async () => {
  const ds = data.fromItems(ids(30).map((i) => ({ i: BigInt(i), s: `s${i}`, t: { data: Float64Array.of(i, -i), shape: [2] } })));
  const rows: { i: number; s: string; t: data.Tensor }[] = [];
  for await (const batch of ds.iterBatches({ batchFormat: "rows", batchSize: 8, dropLast: true, localShuffleBufferSize: 10, localShuffleSeed: 3 })) {
    assert.equal(batch.length, 8);
    rows.push(...(batch as unknown as typeof rows));
  }
  assert.equal(rows.length, 24, "dropLast drops the last 6 rows");
  for (const row of rows) {
    assert.equal(row.s, `s${row.i}`);
    assert.deepEqual([...row.t.data], [row.i, -row.i]);
  }
  assert.equal(new Set(rows.map((r) => r.i)).size, 24);
  for await (const table of ds.iterBatches({ batchFormat: "arrow", batchSize: 30, localShuffleBufferSize: 5, localShuffleSeed: 3 })) {
    assert.equal(String(table.schema.fields.find((f) => f.name === "i")!.type), "Int64");
    assert.equal(table.numRows, 30);
  }
});

test("prefetchBatches and dropLast: the same batches whatever the prefetch; options out of range are refused", async () => {
  const ds = data.range(1000, { overrideNumBlocks: 7 });
  const plain = await idsOfBatches(ds, { batchSize: 64, prefetchBatches: 0 });
  for (const prefetchBatches of [1, 4]) assert.deepEqual(await idsOfBatches(ds, { batchSize: 64, prefetchBatches }), plain);
  assert.deepEqual(plain.order, ids(1000));
  const dropped = await idsOfBatches(ds, { batchSize: 64, dropLast: true, prefetchBatches: 2 });
  assert.deepEqual(dropped.sizes, Array(15).fill(64));
  assert.deepEqual(dropped.order, ids(960));
  // Leaving early with batches prefetched ends the iteration cleanly.
  let seen = 0;
  for await (const _ of ds.iterBatches({ batchSize: 10, prefetchBatches: 3 })) if (++seen === 2) break;
  assert.equal(seen, 2);
  await assert.rejects(async () => { for await (const _ of ds.iterBatches({ localShuffleBufferSize: 0 })) break; }, /localShuffleBufferSize must be a positive integer/);
  await assert.rejects(async () => { for await (const _ of ds.iterBatches({ localShuffleSeed: 1 })) break; }, /localShuffleSeed needs localShuffleBufferSize/);
  await assert.rejects(async () => { for await (const _ of ds.iterBatches({ prefetchBatches: -1 })) break; }, /prefetchBatches must be a non-negative integer/);
});
