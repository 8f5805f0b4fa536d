import { test } from "node:test";
import assert from "node:assert/strict";
import { tableFromArrays } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-passing-");

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

test("a task receives a Dataset that works: count, a map of its own, the UDFs of the plan it was given", async () => {
  const ds = data.range(100, { overrideNumBlocks: 4 }).map((r) => ({ x: r.id * 3 }));
  const inspect = ray.remote(async (received: data.Dataset<{ x: number }>) => {
    const doubled = await received.map((r) => ({ y: r.x * 2 })).take(3);
    return { isDataset: received instanceof data.Dataset, count: await received.count(), doubled, sum: await received.sum("x") };
  });
  assert.deepEqual(await ray.get(inspect.remote(ds as never)), {
    isDataset: true, count: 100, doubled: [{ y: 0 }, { y: 6 }, { y: 12 }], sum: 3 * sum(Array.from({ length: 100 }, (_, i) => i)),
  });
});

test("a MaterializedDataset arrives as one, its blocks alive in the store; tables and all-to-all steps travel too", async () => {
  const materialized = await data.range(50, { overrideNumBlocks: 5 }).map((r) => ({ id: r.id, k: r.id % 3 })).materialize();
  const inspect = ray.remote(async (m: data.MaterializedDataset<{ id: number; k: number }>) =>
    [m instanceof data.MaterializedDataset, m.numBlocks(), await m.count(), await m.sum("id")]);
  assert.deepEqual(await ray.get(inspect.remote(materialized as never)), [true, 5, 50, 1225]);
  const grouped = data.fromArrow(tableFromArrays({ k: Float64Array.from([1, 2, 1, 2, 1]), v: Float64Array.from([1, 2, 3, 4, 5]) }))
    .groupby("k").sum("v").sort("k");
  const rows = ray.remote(async (g: data.Dataset) => g.takeAll());
  assert.deepEqual(await ray.get(rows.remote(grouped as never)), [{ k: 1, "sum(v)": 9 }, { k: 2, "sum(v)": 6 }]);
  // A custom aggregation travels with its functions, in a plan and on its own; one of built-in functions cannot.
  const counter = data.agg.custom({ name: "c", init: () => 0, accumulateRow: (a: number) => a + 1, merge: (a: number, b: number) => a + b });
  const custom = data.range(6).map((r) => ({ k: r.id % 2 })).groupby("k").aggregate(counter);
  assert.deepEqual(await ray.get(rows.remote(custom as never)), [{ k: 0, c: 3 }, { k: 1, c: 3 }]);
  const whole = ray.remote(async (agg: data.AggregateFn) => data.range(7).aggregate(agg));
  assert.deepEqual(await ray.get(whole.remote(counter as never)), { c: 7 });
  const native = data.range(3).groupby("id").aggregate(data.agg.custom({ name: "m", init: () => 0, accumulateRow: (a) => a, merge: Math.max }));
  assert.throws(() => rows.remote(native as never), /custom aggregation 'm' has functions that cannot be shipped/);
});

test("an actor receives a DataIterator and sums its rows over 2 epochs; each pass is one execution", async () => {
  class Trainer {
    async train(it: data.DataIterator<{ id: number }>, epochs: number) {
      const sums: number[] = [];
      for (let e = 0; e < epochs; e++) {
        let s = 0;
        for await (const batch of it.iterBatches({ batchSize: 16 })) for (const v of batch.id as Float64Array) s += v;
        sums.push(s);
      }
      let rows = 0;
      for await (const _ of it.iterRows()) rows++;
      return { sums, rows, schema: (await it.schema()).fields.map((f) => f.name), stats: it.stats().split("\n")[0] };
    }
  }
  const trainer = ray.remote(Trainer).remote();
  const it = data.range(200, { overrideNumBlocks: 4 }).iterator();
  assert.deepEqual(await ray.get(trainer.train.remote(it as never, 2)), {
    sums: [19900, 19900], rows: 200, schema: ["id"], stats: "DataIterator: 3 passes",
  });
  // And in the driver, the same iterator as it is.
  let rows = 0;
  for await (const _ of it.iterRows()) rows++;
  assert.equal(rows, 200);
  assert.match(it.stats(), /pass 1: 200 rows in 4 blocks/);
});

/** Fails on row 3. */
function failOnThree(row: { id: number }) {
  if (row.id === 3) throw new Error("row 3 is bad");
  return row;
}

test("a dataset sent to a task keeps the DataContext it was made with, not the receiving worker's", async () => {
  const context = data.DataContext.getCurrent();
  context.maxErroredBlocks = 1;
  const ds = data.range(10, { overrideNumBlocks: 5 }).map(failOnThree);
  context.maxErroredBlocks = 0;
  const ids = ray.remote(async (received: data.Dataset<{ id: number }>) => (await received.takeAll()).map((r) => r.id));
  // The receiving worker's own context allows no errored block; the dataset's allows one.
  assert.deepEqual(await ray.get(ids.remote(ds as never)), [0, 1, 4, 5, 6, 7, 8, 9]);
});
