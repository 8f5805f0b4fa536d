// Direct actor calls: a thread of the node's process calls an actor in a worker process of its
// own (taking calls concurrently) over a socket to that process, not through the node's main
// thread. What users rely on stays as it was: results, returns passed on to other work,
// results holding refs or large bodies, nothing left in the store, cancel, and the fate of calls
// in flight when the process dies (RayActorError, or run again after a restart).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as ray from "tsray";
import { coreWorker } from "../../src/core-worker/runtime.js";
import { ACTOR_HANDLE_BRAND, type ActorHandleData } from "../../src/serialization/markers.js";
import { settledStore, storeUse, type StoreUse } from "../helpers/store.js";
import { until } from "../helpers/serve-tests.js";
import { embeddedNode } from "../../src/api/lifecycle.js";
import { taskIdOfObject } from "../../src/common/ids.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "tsray-direct-"));
before(() => ray.init({ numCpus: 4 }));
after(async () => {
  await ray.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

class Echo {
  private opened?: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.opened = resolve));
  echo(x: unknown): unknown {
    return x;
  }
  num(x: number): number {
    return x;
  }
  pid(): number {
    return process.pid;
  }
  /** Answers once open() was called. */
  async afterOpen(x: number): Promise<number> {
    await this.gate;
    return x;
  }
  open(): void {
    this.opened!();
  }
  big(n: number): Float64Array {
    return new Float64Array(n).fill(1.5);
  }
  fails(): never {
    throw new RangeError("no such thing");
  }
  holding(x: number): ray.ObjectRef<number>[] {
    return [ray.put(x)];
  }
  /** Hangs in the actor's first life (until `marker` exists at the time of a call), answers after a restart. */
  async hangUntilRestarted(marker: string): Promise<number> {
    if (!existsSync(marker)) await new Promise(() => {});
    return process.pid;
  }
}

const plusOne = ray.remote(function plusOne(x: number) {
  return x + 1;
});

type EchoHandle = ray.ActorHandle<Echo>;

/** Calls the actor until this thread's calls to it go direct (the first ones go through the node while it is looked up). */
async function direct(h: EchoHandle): Promise<void> {
  const { actorId } = (h as unknown as Record<symbol, ActorHandleData>)[ACTOR_HANDLE_BRAND]!;
  for (let i = 0; i < 200 && !coreWorker().callsDirectly(actorId); i++) await ray.get(h.pid.remote());
  assert.ok(coreWorker().callsDirectly(actorId), "calls to the actor go to its process directly");
}

/** The store once collections free nothing more: a round may free refs only the next releases (a value's nested refs). */
async function settled(): Promise<StoreUse> {
  let use = await settledStore();
  for (let i = 0; i < 8; i++) {
    const next = await storeUse();
    if (next.objects === use.objects && next.usedBytes === use.usedBytes) return next;
    use = next;
  }
  return use;
}

const processActor = (opts: ray.ActorOptions = {}) => ray.remote(Echo).options({ isolation: "process", maxConcurrency: 100, ...opts }).remote();

test("calls to a concurrent actor in a worker process go to it directly, each with its own result", async () => {
  const h = processActor();
  await direct(h);
  const values = Array.from({ length: 500 }, (_, i) => ({ i, text: `call ${i}` }));
  assert.deepEqual(await ray.get(values.map((v) => h.echo.remote(v))), values);
  assert.notEqual(await ray.get(h.pid.remote()), process.pid);
  ray.kill(h);
});

test("a direct call's return passed on to a task or inside a value works, before and after its result came", async () => {
  const h = processActor();
  await direct(h);
  const pending = h.afterOpen.remote(41);
  const viaTask = plusOne.remote(pending);
  const inside = ray.put({ ref: pending });
  h.open.remote();
  assert.equal(await ray.get(viaTask), 42);
  const arrived = h.num.remote(9);
  assert.equal(await ray.get(arrived), 9);
  assert.equal(await ray.get(plusOne.remote(arrived)), 10);
  assert.equal(await ray.get((await ray.get(inside)).ref), 41);
  const [again] = await ray.get(ray.put([arrived]));
  assert.equal(await ray.get(again), 9);
  ray.kill(h);
});

test("results holding refs or large bodies come back through the node", async () => {
  const h = processActor();
  await direct(h);
  const big = (await ray.get(h.big.remote(2 ** 20))) as Float64Array;
  assert.equal(big.length, 2 ** 20);
  assert.ok(big.every((x) => x === 1.5));
  const [inner] = await ray.get(h.holding.remote(7));
  assert.equal(await ray.get(inner), 7);
  ray.kill(h);
});

test("returns of direct calls dropped before or after their results came leave nothing in the store", async () => {
  const h = processActor();
  await direct(h);
  const before = await settled();
  // Dropped before their results came: plain ones, ones through the node, one passed on.
  for (let i = 0; i < 20; i++) h.afterOpen.remote(i)[Symbol.dispose]();
  h.holding.remote(1)[Symbol.dispose]();
  h.big.remote(2 ** 16)[Symbol.dispose]();
  const passed = h.afterOpen.remote(5);
  const viaTask = plusOne.remote(passed);
  passed[Symbol.dispose]();
  await ray.get(h.open.remote());
  assert.equal(await ray.get(viaTask), 6);
  viaTask[Symbol.dispose]();
  // Dropped after.
  for (const r of [h.echo.remote(1), h.holding.remote(2), h.big.remote(2 ** 16)]) {
    await ray.get(r);
    r[Symbol.dispose]();
  }
  await ray.get(h.pid.remote());
  const use = await settled();
  assert.equal(use.objects, before.objects, "no object of these calls is left");
  assert.equal(use.usedBytes, before.usedBytes);
  ray.kill(h);
});

test("direct calls are listed among the node's tasks, finished or failed (reported within a second)", async () => {
  const h = processActor();
  await direct(h);
  const ok = h.num.remote(1);
  const bad = h.fails.remote();
  assert.equal(await ray.get(ok), 1);
  await assert.rejects(ray.get(bad), /no such thing/);
  const ids = [ok, bad].map((r) => taskIdOfObject(r.hex()));
  const rows = await until("the direct calls' task events", async () => {
    const found = embeddedNode()!.raylet.events.rows().filter((r) => ids.includes(r.task_id));
    return found.length === 2 ? found : undefined;
  }, 10_000);
  const [okRow, badRow] = ids.map((id) => rows.find((r) => r.task_id === id)!);
  assert.equal(okRow.state, "FINISHED");
  assert.equal(okRow.type, "ACTOR_TASK");
  assert.equal(okRow.name, "Echo.num");
  assert.ok(okRow.worker_id && okRow.actor_id);
  assert.equal(badRow.state, "FAILED");
  assert.equal(badRow.error_type, "RangeError");
  ray.kill(h);
});

test("a direct call waiting in its actor's process can be cancelled", async () => {
  const h = processActor({ maxConcurrency: 2 });
  await direct(h);
  const running = [h.afterOpen.remote(1), h.afterOpen.remote(2)];
  const queued = h.echo.remote(3);
  ray.cancel(queued);
  await assert.rejects(ray.get(queued), ray.TaskCancelledError);
  // Its two slots stay taken: open() would wait behind them.
  ray.kill(h);
  for (const r of running) await assert.rejects(ray.get(r), ray.RayActorError);
});

test("direct calls in flight when the process dies fail with RayActorError, and nothing waits on", async () => {
  const h = processActor();
  await direct(h);
  const pid = await ray.get(h.pid.remote());
  const inFlight = Array.from({ length: 10 }, (_, i) => h.afterOpen.remote(i));
  process.kill(pid, "SIGKILL");
  for (const r of inFlight) await assert.rejects(ray.get(r), (err: Error) => err instanceof ray.RayActorError && /Echo/.test(err.message));
  // Later calls learn of the death through the node.
  await assert.rejects(ray.get(h.echo.remote(1)), ray.RayActorError);
});

test("ray.kill fails the direct calls in flight with the actor's death", async () => {
  const h = processActor();
  await direct(h);
  const inFlight = h.afterOpen.remote(1);
  ray.kill(h);
  await assert.rejects(ray.get(inFlight), (err: Error) => err instanceof ray.RayActorError && /killed/.test(err.message));
});

test("direct calls in flight when the process dies run again on the restarted actor when maxTaskRetries allows", async () => {
  const marker = path.join(dir, "restarted");
  const h = processActor({ maxRestarts: 1, maxTaskRetries: 1 });
  await direct(h);
  const pid = await ray.get(h.pid.remote());
  const inFlight = Array.from({ length: 5 }, () => h.hangUntilRestarted.remote(marker));
  // Each call is in the process before it dies: an answered call after them says so.
  await ray.get(h.pid.remote());
  writeFileSync(marker, "");
  process.kill(pid, "SIGKILL");
  const pids = await ray.get(inFlight);
  assert.ok(pids.every((p) => p !== pid && p === pids[0]), "each ran again in the restarted actor's process");
  ray.kill(h);
});
