// Backpressure: a dataset ten times larger than the object store streams through iterBatches and
// count() without ObjectStoreFullError, with the driver's memory bounded, the execution's bytes in
// the store under its limit, and the consumed blocks freed by the store.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as data from "tsray/data";
import { ExecutionBudget } from "../../src/data/execution-budget.js";
import { ExecutionRecorder } from "../../src/data/execution-stats.js";
import type { BlockRef } from "../../src/data/block.js";

const MiB = 1024 * 1024;
const STORE = 64 * MiB;
/** 80 blocks of 2^20 Float64 rows (8 MiB each): 640 MiB, ten times the store. */
const BLOCKS = 80;
const ROWS_PER_BLOCK = 1 << 20;
let dashboardUrl = "";

before(async () => {
  const info = await ray.init({ numCpus: 2, objectStoreMemory: STORE });
  dashboardUrl = info.dashboardUrl ?? "";
});
after(async () => {
  await ray.shutdown();
});

/** Each task makes one 8 MiB block: its block index, 2^20 times. */
function bigBlocks(): data.Dataset<{ v: number }> {
  return data.range(BLOCKS, { overrideNumBlocks: BLOCKS }).mapBatches((b: { id: Float64Array }) => {
    const v = new Float64Array(1 << 20);
    v.fill(b.id[0]!);
    return { v };
  });
}

/** The store's bytes in use, as the state API reports them. */
async function storeUsed(): Promise<number> {
  const body = (await (await fetch(`${dashboardUrl}/api/v0/memory`)).json()) as { store: { used: number } };
  return body.store.used;
}

/**
 * The blocks consumed were released: the store has room for three quarters of itself again (a put
 * that needs it has the driver collect the refs and views it dropped).
 */
function storeHasRoomAgain(): void {
  const ref = ray.put(new Uint8Array((STORE * 3) / 4));
  ref[Symbol.dispose]();
}

function memory(): { rss: number; arrayBuffers: number } {
  const { rss, arrayBuffers } = process.memoryUsage();
  return { rss, arrayBuffers };
}

test("a dataset ten times the object store streams through iterBatches in bounded memory", async () => {
  const ds = bigBlocks();
  const start = memory();
  const peak = { ...start };
  let rows = 0;
  let sum = 0;
  let maxUsed = 0;
  let batches = 0;
  for await (const batch of ds.iterBatches({ batchSize: 1 << 18 })) {
    const v = batch.v as Float64Array;
    rows += v.length;
    for (let i = 0; i < v.length; i += 4096) sum += v[i]!;
    const now = memory();
    peak.rss = Math.max(peak.rss, now.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
    if (batches++ % 16 === 0) maxUsed = Math.max(maxUsed, await storeUsed());
  }
  assert.equal(rows, BLOCKS * ROWS_PER_BLOCK);
  // Every 4096th value of each block: 256 per block, each its block index.
  assert.equal(sum, 256 * ((BLOCKS * (BLOCKS - 1)) / 2));
  const dataset = BLOCKS * 8 * MiB;
  console.log(`iterBatches: rss +${((peak.rss - start.rss) / MiB).toFixed(0)} MiB, arrayBuffers +${((peak.arrayBuffers - start.arrayBuffers) / MiB).toFixed(0)} MiB, store peak ${(maxUsed / MiB).toFixed(0)} MiB of ${STORE / MiB}`);
  assert.ok(peak.rss - start.rss < dataset / 2, `rss grew by ${peak.rss - start.rss} bytes for a ${dataset}-byte dataset`);
  assert.ok(peak.arrayBuffers - start.arrayBuffers < dataset / 2, `arrayBuffers grew by ${peak.arrayBuffers - start.arrayBuffers} bytes`);
  const stats = ds.statsSummary()!;
  // The execution's own accounting: at most the limit (half the store) and one block more.
  assert.ok(stats.peakObjectStoreBytes <= STORE / 2 + 8 * MiB + 4096, `peak ${stats.peakObjectStoreBytes}`);
  assert.ok(stats.peakObjectStoreBytes >= 8 * MiB);
  assert.equal(stats.operators[0]!.numRowsOut, BLOCKS * ROWS_PER_BLOCK);
  storeHasRoomAgain();
});

test("count() over a dataset ten times the object store", async () => {
  const start = memory();
  assert.equal(await bigBlocks().count(), BLOCKS * ROWS_PER_BLOCK);
  const end = memory();
  assert.ok(end.rss - start.rss < (BLOCKS * 8 * MiB) / 2);
  storeHasRoomAgain();
});

test("an operator whose outputs are not consumed gets no new work, under resourceLimits.objectStoreMemory", async () => {
  const context = data.DataContext.getCurrent();
  const saved = context.executionOptions.resourceLimits;
  // Three blocks' room: the block being read and two made ahead, where the operator's window (2 × CPUs) is four tasks.
  context.executionOptions.resourceLimits = { objectStoreMemory: 24 * MiB };
  const ds = bigBlocks();
  context.executionOptions.resourceLimits = saved;
  let rows = 0;
  for await (const batch of ds.iterBatches({ batchSize: 1 << 18 })) {
    rows += (batch.v as Float64Array).length;
    const blocksRead = Math.ceil(rows / ROWS_PER_BLOCK);
    const made = ds.statsSummary()!.operators[0]!.numBlocksOut;
    assert.ok(made <= blocksRead + 2, `${made} blocks made for ${blocksRead} read`);
    if (blocksRead === 20) break;
  }
  const stats = ds.statsSummary()!;
  assert.ok(stats.peakObjectStoreBytes <= 24 * MiB + 4096, `peak ${stats.peakObjectStoreBytes}`);
  assert.ok(stats.operators[0]!.numBlocksOut < BLOCKS, "breaking out stopped the work");
  storeHasRoomAgain();
});

test("two operators (not fused) pass blocks ten times the store through it, freeing each as the next consumes it", async () => {
  // numCpus differs, so the map is an operator of its own, fed by the blocks of the first.
  const ds = bigBlocks().mapBatches((b: { v: Float64Array }) => ({ v: b.v.map((x) => x + 1) }), { numCpus: 0.5 });
  let rows = 0;
  let sum = 0;
  for await (const batch of ds.iterBatches({ batchSize: 1 << 18 })) {
    const v = batch.v as Float64Array;
    rows += v.length;
    sum += v[0]!;
  }
  assert.equal(rows, BLOCKS * ROWS_PER_BLOCK);
  // Each batch is a quarter of a block: its first value is its block index, plus one.
  assert.equal(sum, 4 * ((BLOCKS * (BLOCKS - 1)) / 2 + BLOCKS));
  const stats = ds.statsSummary()!;
  assert.deepEqual(stats.operators.map((op) => op.name), ["ReadRange->MapBatches(<lambda>)", "MapBatches(<lambda>)"]);
  assert.ok(stats.peakObjectStoreBytes <= STORE / 2 + 2 * 8 * MiB, `peak ${stats.peakObjectStoreBytes}`);
  storeHasRoomAgain();
});

test("the budget: bytes held plus tasks in flight × their output per task stay under the limit", () => {
  const recorder = new ExecutionRecorder();
  const budget = new ExecutionBudget({ cpu: 3, gpu: undefined, objectStoreMemory: 40, clusterCpu: 4, clusterGpu: 0 }, recorder);
  const read = recorder.operator("ReadRange", { cpu: 1, gpu: 0 });
  const map = recorder.operator("Map(f)", { cpu: 1, gpu: 0 });
  // Nothing known yet: a first task may always start.
  assert.equal(budget.mayStart(read), true);
  read.taskStarted();
  read.taskStarted();
  read.taskFinished();
  const block = { [Symbol.dispose]() {} } as unknown as BlockRef;
  budget.blockOut(read, block, 100, 10); // 10 bytes per task from now on
  // Held 10 + 1 in flight × 10 + the next 10 = 30 ≤ 40.
  assert.equal(budget.mayStart(read), true);
  read.taskStarted();
  // Held 10 + 2 × 10 + 10 = 40 ≤ 40; one more would be 50.
  assert.equal(budget.mayStart(read), true);
  read.taskStarted();
  assert.equal(budget.mayStart(read), false);
  assert.equal(budget.usedBytes(), 40);
  // An operator with nothing in flight may start one whatever the bytes: the pipeline never stalls.
  assert.equal(budget.mayStart(map), true);
  // The consumer releases the block: room again, but the CPU cap (3) is reached by the 3 reads in flight.
  budget.release(block, false);
  assert.equal(budget.heldBytes(), 0);
  assert.deepEqual(budget.reserved(), { cpu: 3, gpu: 0 });
  assert.equal(budget.mayStart(read), false);
  read.taskFinished();
  assert.equal(budget.mayStart(read), true);
  assert.equal(recorder.peakObjectStoreBytes, 10);
});
