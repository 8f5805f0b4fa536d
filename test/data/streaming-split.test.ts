import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-streaming-split-");

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);
const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);

/** The ids of one pass over an iterator, by batches. */
async function pass(it: data.DataIterator<{ id: number }>): Promise<number[]> {
  const out: number[] = [];
  for await (const batch of it.iterBatches({ batchSize: 7 })) out.push(...(batch.id as Float64Array));
  return out;
}

test("streamingSplit(2) consumed by two tasks: disjoint parts of one execution whose union is the dataset", async () => {
  const ds = data.range(500, { overrideNumBlocks: 10 }).map((r) => ({ id: r.id }));
  const [a, b] = ds.streamingSplit(2);
  const consume = ray.remote(async (it: data.DataIterator<{ id: number }>) => {
    const out: number[] = [];
    for await (const row of it.iterRows()) out.push(row.id);
    return out;
  });
  const [rowsA, rowsB] = await ray.get([consume.remote(a as never), consume.remote(b as never)]);
  assert.deepEqual(sorted([...rowsA!, ...rowsB!]), ids(500));
  assert.ok(rowsA!.length > 0 && rowsB!.length > 0, `both splits got rows (${rowsA!.length}, ${rowsB!.length})`);
});

test("streamingSplit(3, { equal: true }) consumed by three actors over two epochs: equal counts, at most n − 1 rows dropped", async () => {
  // 10 blocks of uneven sizes (by a filter), 1000 − 1000/7 rows: not a multiple of 3.
  const ds = data.range(1000, { overrideNumBlocks: 10 }).filter((r) => r.id % 7 !== 3);
  const total = ids(1000).filter((i) => i % 7 !== 3);
  class Worker {
    async epochs(it: data.DataIterator<{ id: number }>, n: number): Promise<number[][]> {
      const out: number[][] = [];
      for (let e = 0; e < n; e++) {
        const rows: number[] = [];
        for await (const batch of it.iterBatches({ batchSize: 32, batchFormat: "rows" })) rows.push(...batch.map((r) => r.id));
        out.push(rows);
      }
      return out;
    }
  }
  const workers = [0, 1, 2].map(() => ray.remote({ numCpus: 0 })(Worker).remote());
  const splits = ds.streamingSplit(3, { equal: true });
  const results = await ray.get(splits.map((it, i) => workers[i]!.epochs.remote(it as never, 2)));
  const each = Math.floor(total.length / 3);
  for (const epoch of [0, 1]) {
    const parts = results.map((r) => r[epoch]!);
    assert.deepEqual(parts.map((p) => p.length), [each, each, each], `epoch ${epoch + 1}: equal counts`);
    const union = sorted(parts.flat());
    assert.equal(new Set(union).size, union.length, "disjoint");
    assert.ok(union.every((id) => total.includes(id)));
    assert.ok(total.length - union.length < 3, "at most n − 1 rows dropped");
  }
});

test("iterators consumed in the driver, concurrently, for two epochs; schema and stats; bad arguments", async () => {
  const ds = data.range(300, { overrideNumBlocks: 6 });
  const splits = ds.streamingSplit(2, { equal: true });
  for (let epoch = 0; epoch < 2; epoch++) {
    const [a, b] = await Promise.all(splits.map(pass));
    assert.deepEqual([a!.length, b!.length], [150, 150]);
    assert.deepEqual(sorted([...a!, ...b!]), ids(300));
  }
  assert.deepEqual((await splits[0]!.schema()).fields.map((f) => f.name), ["id"]);
  assert.match(splits[1]!.stats(), /^DataIterator \(split 1 of 2\): 2 passes\n {2}pass 1: 150 rows/);
  // An iterator left early: the other is not held up by the share it leaves (it is dropped), and the next epoch is whole.
  const [first, second] = splits;
  const leaveEarly = async () => { for await (const _ of first!.iterRows()) break; };
  const [, drained] = await Promise.all([leaveEarly(), pass(second!)]);
  assert.ok(drained.length <= 150);
  const [a, b] = await Promise.all([pass(first!), pass(second!)]);
  assert.deepEqual(sorted([...a, ...b]), ids(300));
  assert.throws(() => ds.streamingSplit(0), /streamingSplit\(\) takes a positive integer, got 0/);
  assert.throws(() => ds.streamingSplit(2, { localityHints: ["a"] }), /localityHints must be 2 node ids/);
  assert.throws(() => ds.streamingSplit(2, { eqaul: true } as never), /no option 'eqaul'/);
});
