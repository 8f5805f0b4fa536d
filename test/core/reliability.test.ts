// Faults a long-running program meets: workers and actors that die holding objects, tasks killed
// while they allocate, puts that find no room, returns that fail half-way, placement groups
// removed under waiting work. After each, the store gives back every byte and nothing hangs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { Gate } from "../helpers/gate.js";
import { settledStore } from "../helpers/store.js";

const MB = 2 ** 20;
before(() => ray.init({ numCpus: 2, objectStoreMemory: 256 * MB }));
after(() => ray.shutdown());


/** A Float64Array of `mb` megabytes. */
const floats = (mb: number) => new Float64Array((mb * MB) / 8);

test("objects held by workers that die are freed: eight dead tasks' 32 MB arguments leave room for 200 MB", async () => {
  const holdAndExit = ray.remote(function holdAndExit(xs: Float64Array) {
    (globalThis as Record<string, unknown>).kept = xs;
    process.exit(1);
  }).options({ maxRetries: 0 });
  const calls = Array.from({ length: 8 }, () => holdAndExit.remote(floats(32)));
  for (const call of calls) await assert.rejects(ray.get(call), ray.WorkerCrashedError);
  assert.equal((await settledStore()).usedBytes, 0);
  using big = ray.put(floats(200));
  assert.equal(((await ray.get(big)) as Float64Array).length, (200 * MB) / 8);
});

test("objects an actor held are freed when it dies", async () => {
  class Keeper {
    kept?: Float64Array;
    keep(xs: Float64Array) {
      this.kept = xs;
      return xs.length;
    }
    crash() {
      process.exit(2);
    }
  }
  const keeper = ray.remote(Keeper).remote();
  const data = ray.put(floats(64));
  assert.equal(await ray.get(keeper.keep.remote(data)), (64 * MB) / 8);
  data[Symbol.dispose]();
  // The actor's view holds the 64 MB on its own now.
  assert.equal((await settledStore(64 * MB)).usedBytes, 64 * MB);
  await assert.rejects(ray.get(keeper.crash.remote()), ray.RayActorError);
  assert.equal((await settledStore()).usedBytes, 0);
});

test("a task force-cancelled while it puts in a tight loop never stalls the node, and its objects are freed", async () => {
  const putter = ray.remote(async function putter(gate: ray.ActorHandle<Gate>, key: string) {
    await ray.get(gate.open.remote(key));
    const kept: ray.ObjectRef[] = [];
    for (;;) {
      kept.push(ray.put(new Float64Array(32 * 1024)));
      if (kept.length > 64) kept.shift();
    }
  });
  const gate = ray.remote({ maxConcurrency: 100 })(Gate).remote();
  for (let round = 1; round <= 10; round++) {
    const running = putter.remote(gate, `round ${round}`);
    await ray.get(gate.wait.remote(`round ${round}`));
    await ray.cancel(running, { force: true });
    await assert.rejects(ray.get(running), ray.TaskCancelledError);
    // The driver's own put goes through at once, whatever state the killed thread left.
    using mine = ray.put(floats(1));
    assert.ok(mine instanceof ray.ObjectRef);
  }
  assert.equal((await settledStore()).usedBytes, 0);
});

test("a worker's put that finds no room fails with ObjectStoreFullError, and frees what it had", async () => {
  // It reads every object it puts: none of them can spill to make room.
  const hoard = ray.remote(async function hoard() {
    const kept: Float64Array[] = [];
    for (let i = 0; i < 12; i++) kept.push(await ray.get(ray.put(new Float64Array((32 * MB) / 8))));
    return kept.length;
  }).options({ maxRetries: 0 });
  await assert.rejects(ray.get(hoard.remote()), (e: unknown) => {
    assert.ok(e instanceof ray.ObjectStoreFullError, String(e));
    assert.match((e as Error).message, /object store is full/);
    return true;
  });
  assert.equal((await settledStore()).usedBytes, 0);
});

test("when one of several returns cannot be sent, the task fails and the returns made so far are freed", async () => {
  const two = ray.remote(function two() {
    return [new Float64Array((16 * MB) / 8), () => "not data"];
  }).options({ numReturns: 2, maxRetries: 0 });
  const [first, second] = two.remote() as unknown as ray.ObjectRef[];
  await assert.rejects(ray.get(first), (e: unknown) => e instanceof ray.RayTaskError && /return value\[1\] is a function/.test((e as Error).message));
  await assert.rejects(ray.get(second), ray.RayTaskError);
  assert.equal((await settledStore()).usedBytes, 0);
});

test("removing a placement group rejects its ready() and fails the work waiting for it", async () => {
  const where = ray.remote(function where() {
    return "ran";
  });
  // Never placed: the node has 2 CPUs.
  const unplaceable = ray.util.placementGroup([{ CPU: 64 }]);
  const ready = unplaceable.ready();
  const waiting = where.options({ schedulingStrategy: { type: "placement_group", placementGroup: unplaceable } }).remote();
  const Actor = ray.remote(class Idle {
    ping() {
      return "pong";
    }
  });
  const actor = Actor.options({ schedulingStrategy: { type: "placement_group", placementGroup: unplaceable } }).remote();
  await ray.util.removePlacementGroup(unplaceable);
  await assert.rejects(ready, (e: unknown) => e instanceof ray.RayError && /was removed before all its bundles were reserved/.test((e as Error).message));
  await assert.rejects(ray.get(waiting), /was removed/);
  await assert.rejects(ray.get(actor.ping.remote()), ray.RayActorError);

  // Placed, with one task running in its bundle and one queued behind it: the queued one fails,
  // the running one finishes. The running one holds its CPU (a blocking wait on shared memory,
  // not a get, which would hand the CPU back to the bundle).
  const placed = ray.util.placementGroup([{ CPU: 1 }]);
  await placed.ready();
  const holdCpu = ray.remote(function holdCpu(shared: SharedArrayBuffer) {
    const flags = new Int32Array(shared);
    Atomics.store(flags, 1, 1);
    Atomics.notify(flags, 1);
    while (Atomics.load(flags, 0) === 0) Atomics.wait(flags, 0, 0);
    return "finished";
  });
  const flags = new Int32Array(new SharedArrayBuffer(8));
  const inBundle = { schedulingStrategy: { type: "placement_group" as const, placementGroup: placed } };
  const running = holdCpu.options(inBundle).remote(flags.buffer as SharedArrayBuffer);
  // Atomics.waitAsync does not keep the process alive, and the runtime's threads do not either.
  const alive = setInterval(() => {}, 60_000);
  const started = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: unknown } }).waitAsync(flags, 1, 0);
  if (started.async) await started.value;
  clearInterval(alive);
  const queued = where.options(inBundle).remote();
  await ray.util.removePlacementGroup(placed);
  await assert.rejects(ray.get(queued), /was removed/);
  Atomics.store(flags, 0, 1);
  Atomics.notify(flags, 0);
  assert.equal(await ray.get(running), "finished");
});
