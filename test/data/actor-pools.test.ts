// Compute: class UDFs on actor pools (fixed, autoscaling), their constructor and call arguments,
// close() at the pool's end, no actor left after a break, a killed actor process recovered;
// resources and retries per UDF, for tasks and actors.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

const folder = clusterAndFolder("tsray-data-actors-");

/** Tags each row with the actor and process that computed it, times `factor` plus `add`. */
class Tagger {
  factor: number;
  constructor(factor: number) {
    this.factor = factor;
  }
  call(batch: { id: Float64Array }, add = 0) {
    const actor = ray.getRuntimeContext().actorId ?? "none";
    return { id: batch.id, v: Array.from(batch.id, (x) => x * this.factor + add), actor: Array.from(batch.id, () => actor), pid: Array.from(batch.id, () => process.pid) };
  }
}

/** A barrier the pool's calls wait at until `n` distinct actors have arrived. */
class Barrier {
  ids = new Set<string>();
  waiting: (() => void)[] = [];
  async arrive(id: string, n: number): Promise<number> {
    this.ids.add(id);
    if (this.ids.size >= n) for (const release of this.waiting.splice(0)) release();
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    return this.ids.size;
  }
}

/** Actors of the pool class alive now, from the state API. */
async function aliveHosts(): Promise<number> {
  const { dashboardUrl } = await ray.init({ ignoreReinitError: true });
  assert.ok(dashboardUrl, "the embedded cluster serves the state API");
  const body = (await (await fetch(`${dashboardUrl}/api/v0/actors?limit=10000`)).json()) as { data: { result: { result: { class_name: string; state: string }[] } } };
  return body.data.result.result.filter((a) => a.class_name === "ActorUdfHost" && a.state !== "DEAD").length;
}

test("a fixed pool: constructor args with an ObjectRef, fnArgs with one, every actor used, output in input order", async () => {
  const ds = data.range(40, { overrideNumBlocks: 8 })
    .mapBatches(Tagger, { concurrency: 2, fnConstructorArgs: [ray.put(3)], fnArgs: [ray.put(1)] });
  const rows = await ds.takeAll();
  const [pool] = ds.statsSummary()!.operators;
  assert.deepEqual([pool!.numActors, pool!.numBlocksOut, pool!.numRowsOut], [2, 8, 40]);
  assert.deepEqual(rows.map((r) => [r.id, r.v]), Array.from({ length: 40 }, (_, i) => [i, i * 3 + 1]));
  assert.equal(new Set(rows.map((r) => r.actor)).size, 2);
  assert.equal(await aliveHosts(), 0, "the pool ends with the execution");
});

test("map, flatMap, filter and addColumn take classes too, fused with function steps into the actors' calls", async () => {
  class Scale {
    constructor(readonly k: number) {}
    call(row: { id: number }) {
      return { id: row.id, x: row.id * this.k };
    }
  }
  class Twice {
    call(row: { id: number; x: number }) {
      return [row, row];
    }
  }
  class Even {
    call(row: { x: number }) {
      return row.x % 4 === 0;
    }
  }
  class Plus {
    call(batch: { x: Float64Array }, n: number) {
      return Array.from(batch.x, (x) => x + n);
    }
  }
  // Four pools at once on two CPUs, the actors asking for a quarter of one each.
  const quarter = { numCpus: 0.25 };
  const ds = data.range(10)
    .map((r) => ({ id: r.id + 1 }), quarter)
    .map(Scale, { ...quarter, fnConstructorArgs: [2], concurrency: 1 })
    .map((r) => ({ ...r, tag: "t" }), quarter)
    .flatMap(Twice, { ...quarter, concurrency: 1 })
    .filter(Even, { ...quarter, concurrency: [1, 2] })
    .addColumn("y", Plus, { ...quarter, fnArgs: [0.5], compute: { type: "actors", size: 1 } });
  const physical = ds.explain().split("-------- Physical Plan --------")[1]!;
  assert.match(physical, /ActorPoolMapOperator\[Map\(<lambda>\)->Map\(Scale\)->Map\(<lambda>\)\]/);
  assert.match(physical, /ActorPoolMapOperator\[FlatMap\(Twice\)\]/);
  assert.match(physical, /ActorPoolMapOperator\[AddColumn\(Plus\)\]/);
  assert.match(physical, /TaskPoolMapOperator\[ReadRange\]/);
  assert.match(data.range(3).map((r) => r).map(Scale, { fnConstructorArgs: [1] }).explain(), /ActorPoolMapOperator\[ReadRange->Map\(<lambda>\)->Map\(Scale\)\]/);
  const expected = Array.from({ length: 10 }, (_, i) => ({ id: i + 1, x: (i + 1) * 2, tag: "t" }))
    .flatMap((r) => [r, r]).filter((r) => r.x % 4 === 0).map((r) => ({ ...r, y: r.x + 0.5 }));
  assert.deepEqual(await ds.takeAll(), expected);
});

test("an autoscaling pool [1, 2] grows to 2 actors while inputs wait, and close() runs on every actor", async () => {
  class Gated {
    constructor(readonly barrier: ray.ActorHandle<Barrier>, readonly dir: string) {}
    async call(batch: { id: Float64Array }) {
      const actor = ray.getRuntimeContext().actorId!;
      // The first actor's call waits here until a second actor exists, which only scaling up makes.
      await ray.get(this.barrier.arrive.remote(actor, 2));
      return { id: batch.id, actor: Array.from(batch.id, () => actor) };
    }
    close() {
      writeFileSync(join(this.dir, `closed-${ray.getRuntimeContext().actorId}`), "");
    }
  }
  const dir = folder.path();
  const barrier = ray.remote(Barrier).options({ maxConcurrency: 100 }).remote();
  const rows = await data.range(32, { overrideNumBlocks: 16 })
    .mapBatches(Gated, { concurrency: [1, 2], fnConstructorArgs: [barrier, dir] })
    .takeAll();
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 32 }, (_, i) => i));
  const actors = new Set(rows.map((r) => r.actor));
  assert.equal(actors.size, 2);
  const closed = readdirSync(dir).filter((f) => f.startsWith("closed-")).map((f) => f.slice("closed-".length));
  assert.deepEqual(closed.sort(), [...actors].sort());
  assert.equal(await aliveHosts(), 0);
});

test("a class UDF with no size autoscales from 1 to the cluster's CPUs; compute { minSize, maxSize, initialSize } starts initialSize", async () => {
  const rows = await data.range(20, { overrideNumBlocks: 10 }).mapBatches(Tagger, { fnConstructorArgs: [1] }).takeAll();
  assert.deepEqual(rows.map((r) => r.v), Array.from({ length: 20 }, (_, i) => i));
  assert.ok(new Set(rows.map((r) => r.actor)).size <= 2);
  const barrier = ray.remote(Barrier).options({ maxConcurrency: 100 }).remote();
  class Meet {
    constructor(readonly barrier: ray.ActorHandle<Barrier>) {}
    async call(batch: { id: Float64Array }) {
      const actor = ray.getRuntimeContext().actorId!;
      // Both actors must be there from the start: the first two calls go one to each.
      await ray.get(this.barrier.arrive.remote(actor, 2));
      return { id: batch.id, actor: Array.from(batch.id, () => actor) };
    }
  }
  const met = await data.range(4, { overrideNumBlocks: 2 })
    .mapBatches(Meet, { compute: { type: "actors", minSize: 1, maxSize: 2, initialSize: 2, maxTasksInFlightPerActor: 1 }, fnConstructorArgs: [barrier] })
    .takeAll();
  assert.equal(new Set(met.map((r) => r.actor)).size, 2);
});

test("breaking out of the iteration kills the pool: no actor is left alive", async () => {
  class Same {
    call(row: { id: number }) {
      return { v: row.id };
    }
  }
  let seen = 0;
  for await (const row of data.range(1000, { overrideNumBlocks: 50 }).map(Same, { concurrency: 2 })) {
    assert.equal(row.v, seen++);
    if (seen === 3) break;
  }
  assert.equal(await aliveHosts(), 0);
});

for (const maxRestarts of [undefined, 0]) test(`a pool actor's process killed (maxRestarts ${maxRestarts ?? "default, -1"}): its in-flight batches go to another actor and the output is complete`, async () => {
  const marker = folder.path(`killed-pid-${maxRestarts}`);
  class Fragile {
    constructor(readonly marker: string) {}
    call(batch: { id: Float64Array }) {
      // The first actor to see row 10 dies with SIGKILL, once.
      if (batch.id.includes(10) && !existsSync(this.marker)) {
        writeFileSync(this.marker, String(process.pid));
        process.kill(process.pid, "SIGKILL");
      }
      return { id: batch.id, pid: Array.from(batch.id, () => process.pid) };
    }
  }
  const rows = await data.range(40, { overrideNumBlocks: 20 })
    .mapBatches(Fragile, { concurrency: 2, isolation: "process", fnConstructorArgs: [marker], ...(maxRestarts !== undefined ? { maxRestarts } : {}) })
    .takeAll();
  assert.deepEqual(rows.map((r) => r.id), Array.from({ length: 40 }, (_, i) => i));
  const killed = Number(readFileSync(marker, "utf8"));
  assert.notEqual(killed, process.pid);
  assert.notEqual(rows.find((r) => r.id === 10)!.pid, killed, "the lost batch ran again in another process");
  assert.equal(await aliveHosts(), 0);
});

test("resources per UDF: tasks and pool actors hold what they ask for", async () => {
  const tasks = await data.range(4, { overrideNumBlocks: 2 })
    .map((r) => ({ id: r.id, cpu: ray.getRuntimeContext().assignedResources().CPU ?? 0 }), { numCpus: 0.5 })
    .takeAll();
  assert.deepEqual(tasks.map((r) => r.cpu), [0.5, 0.5, 0.5, 0.5]);
  class Held {
    call(row: { id: number }) {
      return { id: row.id, cpu: ray.getRuntimeContext().assignedResources().CPU ?? 0 };
    }
  }
  const actors = await data.range(4, { overrideNumBlocks: 2 }).map(Held, { numCpus: 0.5, concurrency: 2 }).takeAll();
  assert.deepEqual(actors.map((r) => r.cpu), [0.5, 0.5, 0.5, 0.5]);
});

test("a UDF asking for a resource no node has: a warning on stderr names the operator and the resource", async (t) => {
  const written: string[] = [];
  let warned!: () => void;
  const warning = new Promise<void>((resolve) => (warned = resolve));
  const write = process.stderr.write.bind(process.stderr);
  t.mock.method(process.stderr, "write", (chunk: unknown, ...rest: unknown[]) => {
    written.push(String(chunk));
    if (/no node of the cluster has/.test(String(chunk))) warned();
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  });
  class Accelerated {
    call(row: object) {
      return row;
    }
  }
  // The execution waits for such a node, as the core's tasks do; it is left pending and ends with the cluster.
  const pending = data.range(2).map(Accelerated, { resources: { accelerator_x: 1 }, name: "Infer" }).iterRows()[Symbol.asyncIterator]().next();
  pending.catch(() => {});
  await warning;
  const line = written.find((w) => /no node of the cluster has/.test(w))!;
  assert.match(line, /operator Infer asks for \{ accelerator_x: 1 \}/);
});

test("retries: a function UDF's thrown error retried with retryExceptions, and a class UDF's too", async () => {
  const dir = folder.path();
  function flaky(row: { id: number }, dir: string) {
    const mark = join(dir, `task-tried-${row.id}`);
    if (!existsSync(mark)) {
      writeFileSync(mark, "");
      throw new Error(`first try of ${row.id} fails`);
    }
    return { id: row.id };
  }
  // Each block of two rows fails twice: once at each row.
  const rows = await data.range(6, { overrideNumBlocks: 3 }).map(flaky, { fnArgs: [dir], retryExceptions: true, maxRetries: 2 }).takeAll();
  assert.deepEqual(rows.map((r) => r.id), [0, 1, 2, 3, 4, 5]);
  await assert.rejects(
    data.range(2).map(flaky, { fnArgs: [folder.path("missing-dir")], retryExceptions: ["TypeError"], maxRetries: 3 }).takeAll(),
    (e: unknown) => e instanceof ray.RayTaskError && /ENOENT/.test(String(e.cause?.message ?? e.message)),
  );
  class Flaky {
    call(row: { id: number }, dir: string) {
      const mark = join(dir, `actor-tried-${row.id}`);
      if (!existsSync(mark)) {
        writeFileSync(mark, "");
        throw new RangeError(`first try of ${row.id} fails`);
      }
      return { id: row.id };
    }
  }
  const fromActors = await data.range(6, { overrideNumBlocks: 3 }).map(Flaky, { fnArgs: [dir], retryExceptions: ["RangeError"], concurrency: 2 }).takeAll();
  assert.deepEqual(fromActors.map((r) => r.id), [0, 1, 2, 3, 4, 5]);
  // Without retryExceptions the error rejects the consumption, named after the operator as a task's would be.
  await assert.rejects(data.range(2).map(Flaky, { fnArgs: [folder.path("nowhere")], concurrency: 1 }).takeAll(),
    (e: unknown) => e instanceof ray.RayTaskError && /^Task ReadRange->Map\(Flaky\) failed: Error: ENOENT/.test((e as Error).message));
});

test("pool options are checked where they are written", () => {
  const ds = data.range(3);
  assert.throws(() => ds.mapBatches(Tagger, { compute: { type: "actors", size: 2, maxSize: 3 } }), /give size, or minSize and maxSize, not both/);
  assert.throws(() => ds.mapBatches(Tagger, { concurrency: [1, 2, 3] }), /initial size 3 is outside \[1, 2\]/);
  assert.throws(() => ds.mapBatches(Tagger, { concurrency: 0 }), /concurrency must be a positive integer/);
  assert.throws(() => ds.mapBatches(Tagger, { maxRestarts: -2 }), /maxRestarts must be an integer >= -1/);
  assert.throws(() => ds.mapBatches(Tagger, { concurrency: 2, compute: { type: "actors" } }), /give compute or concurrency, not both/);
  assert.throws(() => ds.map((r) => r, { compute: { type: "actors", size: 2 } }), /is for class UDFs/);
  assert.throws(() => ds.map((r) => r, { fnConstructorArgs: [1] }), /fnConstructorArgs is for class UDFs/);
});
