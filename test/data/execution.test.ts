import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as data from "tsray/data";

// 2 CPUs: each operator keeps at most 2 × 2 = 4 tasks in flight.
const IN_FLIGHT = 4;
before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

class BlockCounter {
  made = 0;
  blockMade(): number { return ++this.made; }
  count(): number { return this.made; }
}
const Counter = ray.remote(BlockCounter);

/** A batch UDF (a whole block per call) that tells the counter of every block it makes. */
async function countBlock(batch: data.ColumnBatch, counter: ray.ActorHandle<BlockCounter>): Promise<data.ColumnBatch> {
  await ray.get(counter.blockMade.remote());
  return batch;
}

test("nothing runs before consumption; then one UDF call per block", async () => {
  const counter = Counter.remote();
  const ds = data.range(100, { overrideNumBlocks: 10 }).mapBatches(countBlock, { fnArgs: [counter] }).map((r) => r).filter(() => true);
  const more = ds.map((r) => ({ ...r }));
  assert.equal(await ray.get(counter.count.remote()), 0, "building the plan ran a UDF");
  assert.equal(await more.count(), 100);
  assert.equal(await ray.get(counter.count.remote()), 10);
});

test("rows stream: the first row arrives while most blocks are not made yet; a break stops the work", async () => {
  const counter = Counter.remote();
  const ds = data.range(400, { overrideNumBlocks: 40 }).mapBatches(countBlock, { fnArgs: [counter] });
  let madeAtFirstRow = -1;
  let rowsSeen = 0;
  for await (const row of ds.iterRows()) {
    if (rowsSeen === 0) madeAtFirstRow = await ray.get(counter.count.remote());
    assert.equal(row.id, rowsSeen);
    if (++rowsSeen === 25) break;
  }
  assert.ok(madeAtFirstRow >= 1 && madeAtFirstRow <= IN_FLIGHT, `${madeAtFirstRow} of 40 blocks were made before the first row`);
  // Let every worker finish what it may still run: a dataset of 40 one-row blocks takes all of them.
  assert.equal(await data.range(40, { overrideNumBlocks: 40 }).map((r) => r).count(), 40);
  const madeInAll = await ray.get(counter.count.remote());
  assert.ok(madeInAll <= 3 + IN_FLIGHT, `after a break at block 3, ${madeInAll} of 40 blocks were made`);
});

test("limit stops early: upstream makes only the blocks it needs and a window more", async () => {
  const counter = Counter.remote();
  const rows = await data.range(1000, { overrideNumBlocks: 50 }).mapBatches(countBlock, { fnArgs: [counter] }).limit(15).takeAll();
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 15 }, (_, i) => i));
  assert.equal(await data.range(40, { overrideNumBlocks: 40 }).map((r) => r).count(), 40);
  const made = await ray.get(counter.count.remote());
  assert.ok(made <= 1 + IN_FLIGHT, `limit(15) over 20-row blocks made ${made} of 50 blocks`);
});

test("take(n) runs only as much of the plan as it needs", async () => {
  const counter = Counter.remote();
  assert.deepEqual(await data.range(1000, { overrideNumBlocks: 100 }).mapBatches(countBlock, { fnArgs: [counter] }).take(3), [{ id: 0 }, { id: 1 }, { id: 2 }]);
  assert.equal(await data.range(40, { overrideNumBlocks: 40 }).map((r) => r).count(), 40);
  assert.ok((await ray.get(counter.count.remote())) <= 1 + IN_FLIGHT);
});

test("an error thrown by a UDF rejects the consumption with RayTaskError, its cause the original error", async () => {
  const ds = data.range(50).map(function explode(r) {
    if (r.id === 33) throw new RangeError(`no row ${r.id}`);
    return r;
  });
  await assert.rejects(ds.takeAll(), (err: unknown) => {
    assert.ok(err instanceof ray.RayTaskError, `got ${String(err)}`);
    assert.ok(err.cause instanceof RangeError);
    assert.equal(err.cause.message, "no row 33");
    return true;
  });
  await assert.rejects(data.range(5).map(() => 42 as never).count(), /Map\(<lambda>\) returned a number .*must return a row/);
});

test("a UDF closing over a local variable fails with a RayTaskError naming it", async () => {
  const factor = Number(process.env.NO_SUCH_FACTOR ?? 3);
  await assert.rejects(data.range(3).map((r) => ({ v: r.id * factor })).takeAll(), (err: unknown) => {
    assert.ok(err instanceof ray.RayTaskError);
    assert.match(String((err as Error).message), /factor/);
    return true;
  });
});
