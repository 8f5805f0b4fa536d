// DataContext: its defaults, a dataset's copy of it (taken when the dataset is made, seen by its
// tasks), and the settings the executor uses: block sizes and counts, resource limits, locality.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

clusterAndFolder("tsray-data-context-");
const MiB = 1024 * 1024;

/** Runs `fn` with changes to the current context, then puts the context back as it was. */
function withSettings<T>(change: (c: data.DataContext) => void, fn: () => T): T {
  const context = data.DataContext.getCurrent();
  const saved = structuredClone(context);
  change(context);
  try {
    return fn();
  } finally {
    Object.assign(context, saved);
  }
}

test("the context has the contract's defaults, one object per process", () => {
  const c = data.DataContext.getCurrent();
  assert.equal(c, data.DataContext.getCurrent());
  assert.equal(c.targetMaxBlockSize, 128 * MiB);
  assert.equal(c.targetMinBlockSize, 1 * MiB);
  assert.equal(c.readOpMinNumBlocks, 200);
  assert.deepEqual(c.executionOptions, {
    resourceLimits: {}, excludeResources: {}, preserveOrder: false, localityWithOutput: false, actorLocalityEnabled: true,
  });
  assert.equal(c.enableProgressBars, true);
  assert.equal(c.enableOperatorProgressBars, true);
  assert.equal(c.maxErroredBlocks, 0);
  c.enableProgressBars = false; // the rest of this file runs quietly
});

test("a task whose output is larger than targetMaxBlockSize splits it into blocks, in order", async () => {
  // 1000 Int64 ids (8000 bytes of data) in one read task, with 2 KiB blocks.
  const small = withSettings((c) => (c.targetMaxBlockSize = 2048), () => data.range(1000, { overrideNumBlocks: 1 }));
  const rows = await small.takeAll();
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 1000 }, (_, i) => i));
  const [op] = small.statsSummary()!.operators;
  assert.equal(op!.numTasks, 1);
  assert.ok(op!.numBlocksOut >= 4, `${op!.numBlocksOut} blocks`);
  const materialized = await small.materialize();
  assert.equal(materialized.numBlocks(), op!.numBlocksOut);
  // Made after the setting was put back: the dataset keeps the context of its making.
  const usual = data.range(1000, { overrideNumBlocks: 1 });
  assert.equal((await usual.materialize()).numBlocks(), 1);
});

test("a dataset's tasks see the dataset's copy of the context", async () => {
  const ds = withSettings((c) => (c.targetMaxBlockSize = 3 * MiB), () =>
    data.range(4).map((r) => ({ id: r.id, seen: data.DataContext.getCurrent().targetMaxBlockSize })));
  data.DataContext.getCurrent().targetMaxBlockSize = 5 * MiB; // later changes do not reach it
  try {
    const rows = await ds.takeAll();
    assert.deepEqual(rows.map((r) => r.seen), [3 * MiB, 3 * MiB, 3 * MiB, 3 * MiB]);
  } finally {
    data.DataContext.getCurrent().targetMaxBlockSize = 128 * MiB;
  }
});

test("targetMinBlockSize and readOpMinNumBlocks set the default block count", async () => {
  // range(10_000): 80,000 bytes. 1 MiB blocks: none by size, so 2 × CPUs = 4.
  assert.equal((await data.range(10_000).materialize()).numBlocks(), 4);
  // 8,000-byte blocks: 10.
  const bySize = withSettings((c) => (c.targetMinBlockSize = 8000), () => data.range(10_000));
  assert.equal((await bySize.materialize()).numBlocks(), 10);
  // At most readOpMinNumBlocks: 6 (still at least 2 × CPUs).
  const capped = withSettings((c) => { c.targetMinBlockSize = 8000; c.readOpMinNumBlocks = 6; }, () => data.range(10_000));
  assert.equal((await capped.materialize()).numBlocks(), 6);
  // Never more than one per row.
  const tiny = withSettings((c) => (c.targetMinBlockSize = 1), () => data.range(7));
  assert.equal((await tiny.materialize()).numBlocks(), 7);
});

test("resource limits and locality: executions under them give the same rows", async () => {
  const expected = Array.from({ length: 500 }, (_, i) => i * 3);
  const run = async (change: (c: data.DataContext) => void) => {
    const ds = withSettings(change, () => data.range(500, { overrideNumBlocks: 10 }).map((r) => ({ x: r.id * 3 })));
    assert.deepEqual((await ds.takeAll()).map((r) => r.x), expected);
    return ds.statsSummary()!;
  };
  await run((c) => (c.executionOptions.resourceLimits = { cpu: 1 }));
  await run((c) => (c.executionOptions.excludeResources = { cpu: 1 }));
  await run((c) => (c.executionOptions.resourceLimits = { objectStoreMemory: 1 }));
  await run((c) => (c.executionOptions.localityWithOutput = true));
  await run((c) => (c.executionOptions.localityWithOutput = [ray.getRuntimeContext().nodeId]));
  await run((c) => (c.executionOptions.preserveOrder = true));
});

test("settings that cannot work are refused when a dataset is made, naming the field", () => {
  const refused = (change: (c: data.DataContext) => void, pattern: RegExp, type: typeof Error) =>
    withSettings(change, () => assert.throws(() => data.range(10), (err: Error) => err instanceof type && pattern.test(err.message)));
  refused((c) => (c.targetMaxBlockSize = 0), /DataContext\.targetMaxBlockSize must be a positive number/, RangeError);
  refused((c) => (c.readOpMinNumBlocks = 1.5), /DataContext\.readOpMinNumBlocks/, RangeError);
  refused((c) => (c.maxErroredBlocks = -2), /DataContext\.maxErroredBlocks/, RangeError);
  refused((c) => (c.executionOptions.resourceLimits = { cpus: 2 } as never), /resourceLimits has no field 'cpus'/, TypeError);
  refused((c) => (c.executionOptions.resourceLimits = { cpu: -1 }), /resourceLimits\.cpu must be a number ≥ 0/, RangeError);
  refused((c) => {
    c.executionOptions.resourceLimits = { cpu: 1 };
    c.executionOptions.excludeResources = { cpu: 1 };
  }, /cpu is set in both resourceLimits and excludeResources/, TypeError);
});

class Concurrency {
  running = 0;
  most = 0;
  enter(): void {
    this.running++;
    this.most = Math.max(this.most, this.running);
  }
  exit(): void {
    this.running--;
  }
  peak(): number {
    return this.most;
  }
}

test("resourceLimits.cpu caps the tasks in flight", async () => {
  const counter = ray.remote(Concurrency).remote();
  const ds = withSettings((c) => (c.executionOptions.resourceLimits = { cpu: 1 }), () =>
    data.range(40, { overrideNumBlocks: 8 }).mapBatches(async (b: { id: Float64Array }, c: ray.ActorHandle<Concurrency>) => {
      await ray.get(c.enter.remote());
      const out = { id: b.id.map((x) => x + 1) };
      await ray.get(c.exit.remote());
      return out;
    }, { fnArgs: [counter] }));
  assert.equal((await ds.takeAll()).length, 40);
  assert.equal(await ray.get(counter.peak.remote()), 1);
});
