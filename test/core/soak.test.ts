// A soak: for a bounded time (TSRAY_SOAK_MS, default 40 s), a seeded random mix of puts, gets,
// tasks, actor calls, streaming generators, cancels, kills and crashes runs against a small
// store, several at once. Every operation must settle with a result or an error it may give;
// afterwards the store holds no byte and no object, and a shutdown with calls in flight
// settles them all.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { Gate } from "../helpers/gate.js";
import { settledStore } from "../helpers/store.js";

const SOAK_MS = Number(process.env.TSRAY_SOAK_MS) || 40_000;
const SEED = Number(process.env.TSRAY_SOAK_SEED) || 20261129;
const IN_FLIGHT = 6;
const KB = 1024;

class Keeper {
  kept: Float64Array[] = [];
  keep(xs: Float64Array): number {
    this.kept.push(xs);
    if (this.kept.length > 3) this.kept.shift();
    return xs[xs.length - 1];
  }
  make(n: number): Float64Array {
    return new Float64Array(n).fill(n);
  }
  crash(): never {
    process.exit(3);
  }
}

const floats = (bytes: number, fill: number) => new Float64Array(Math.max(1, Math.floor(bytes / 8))).fill(fill);

const echoLast = ray.remote(function echoLast(xs: Float64Array) {
  return xs[xs.length - 1];
});
const makeBig = ray.remote(function makeBig(n: number) {
  return new Float64Array(n).fill(n);
});
const holdThenExit = ray.remote(function holdThenExit(xs: Float64Array, bytes: ArrayBuffer) {
  (globalThis as Record<string, unknown>).kept = [xs, bytes];
  process.exit(1);
}).options({ maxRetries: 0 });
const putForever = ray.remote(async function putForever(gate: ray.ActorHandle<Gate>, key: string) {
  await ray.get(gate.open.remote(key));
  const kept: ray.ObjectRef[] = [];
  for (let i = 0; ; i++) {
    kept.push(ray.put(new Float64Array(16 * 1024)));
    if (kept.length > 8) kept.shift();
    if (i % 32 === 0) await new Promise((r) => setImmediate(r));
  }
});
const waitForever = ray.remote(async function waitForever(gate: ray.ActorHandle<Gate>, key: string, xs: Float64Array) {
  await ray.get(gate.open.remote(key));
  await ray.get(gate.wait.remote(`never:${key}`));
  return xs.length;
});
const nested = ray.remote(async function nested(n: number) {
  const inner = ray.remote(function inner(xs: Float64Array) {
    return xs.length;
  });
  return ray.get(inner.remote(new Float64Array(n).fill(1)));
});
const pair = ray.remote(function pair(n: number) {
  return [new Float64Array(n).fill(1), new Float64Array(n).fill(2)];
}).options({ numReturns: 2 });
const items = ray.remote(function* items(count: number, n: number) {
  for (let i = 0; i < count; i++) yield new Float64Array(n).fill(i);
}).options({ numReturns: "streaming", generatorBackpressureNumObjects: 2 });

type Op = (rng: () => number, gate: ray.ActorHandle<Gate>) => Promise<void>;

/** Each operation checks its own results; the errors it may give are checked by `expected`. */
const ops: [name: string, weight: number, op: Op][] = [
  ["put-get", 4, async (rng) => {
    const bytes = 100 * KB + Math.floor(rng() * 900 * KB);
    const fill = Math.floor(rng() * 1000);
    const ref = ray.put(floats(bytes, fill));
    assert.equal(((await ray.get(ref)) as Float64Array)[0], fill);
    if (rng() < 0.5) ref[Symbol.dispose]();
  }],
  ["put-arraybuffer", 2, async (rng) => {
    const buf = new ArrayBuffer(100 * KB + Math.floor(rng() * 400 * KB));
    new Uint8Array(buf)[0] = 42;
    const back = (await ray.get(ray.put(buf))) as ArrayBuffer;
    assert.equal(new Uint8Array(back)[0], 42);
  }],
  ["task-big-arg", 4, async (rng) => {
    const fill = Math.floor(rng() * 1000);
    assert.equal(await ray.get(echoLast.remote(floats(100 * KB + rng() * 900 * KB, fill))), fill);
  }],
  ["task-big-return", 3, async (rng) => {
    const n = 16 * 1024 + Math.floor(rng() * 100_000);
    const xs = (await ray.get(makeBig.remote(n))) as Float64Array;
    assert.equal(xs[n - 1], n);
  }],
  ["task-crash", 2, async (rng) => {
    await assert.rejects(ray.get(holdThenExit.remote(floats(200 * KB + rng() * 800 * KB, 1), new ArrayBuffer(200 * KB))), ray.WorkerCrashedError);
  }],
  ["task-force-cancel", 2, async (rng, gate) => {
    const key = `put:${rng()}`;
    const running = putForever.remote(gate, key);
    await ray.get(gate.wait.remote(key));
    await ray.cancel(running, { force: true });
    await assert.rejects(ray.get(running), ray.TaskCancelledError);
  }],
  ["task-cancel", 2, async (rng, gate) => {
    const key = `wait:${rng()}`;
    const running = waitForever.remote(gate, key, floats(300 * KB, 1));
    await ray.get(gate.wait.remote(key));
    await ray.cancel(running);
    await assert.rejects(ray.get(running), ray.TaskCancelledError);
  }],
  ["nested", 2, async (rng) => {
    const n = 16 * 1024 + Math.floor(rng() * 50_000);
    assert.equal(await ray.get(nested.remote(n)), n);
  }],
  ["multi-return", 2, async (rng) => {
    const n = 16 * 1024 + Math.floor(rng() * 50_000);
    const [a, b] = pair.remote(n) as unknown as ray.ObjectRef<Float64Array>[];
    assert.equal(((await ray.get(b)) as Float64Array)[0], 2);
    if (rng() < 0.5) assert.equal(((await ray.get(a)) as Float64Array)[0], 1);
  }],
  ["actor", 3, async (rng) => {
    const keeper = ray.remote(Keeper).options({ maxRestarts: rng() < 0.5 ? 1 : 0 }).remote();
    const n = 16 * 1024 + Math.floor(rng() * 50_000);
    for (let i = 0; i < 4; i++) {
      const roll = rng();
      if (roll < 0.15) await assert.rejects(ray.get(keeper.crash.remote()), ray.RayActorError);
      else if (roll < 0.25) await ray.kill(keeper);
      else if (roll < 0.6) await ray.get(keeper.keep.remote(floats(100 * KB + rng() * 400 * KB, 7))).then((v) => assert.equal(v, 7), expectActorGone);
      else await ray.get(keeper.make.remote(n)).then((v) => assert.equal((v as Float64Array)[0], n), expectActorGone);
    }
  }],
  ["stream", 3, async (rng) => {
    const count = 1 + Math.floor(rng() * 5);
    const gen = items.remote(count, 16 * 1024 + Math.floor(rng() * 60_000));
    const take = Math.floor(rng() * (count + 1));
    let i = 0;
    for await (const ref of gen) {
      if (i === take) break;
      assert.equal(((await ray.get(ref)) as Float64Array)[0], i++);
    }
    if (take === count) assert.equal(i, count);
  }],
];

/** An actor call may fail once the actor was killed or crashed in the same operation. */
function expectActorGone(e: unknown): void {
  if (!(e instanceof ray.RayActorError)) throw e;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test(`soak: a random mix of work and faults for ${SOAK_MS / 1000} s leaves the store empty and nothing pending`, { timeout: SOAK_MS + 120_000 }, async () => {
  await ray.init({ numCpus: 2, objectStoreMemory: 64 * 2 ** 20 });
  try {
    const rng = mulberry32(SEED);
    const gate = ray.remote({ maxConcurrency: 1000 })(Gate).remote();
    const total = ops.reduce((n, [, w]) => n + w, 0);
    const pick = () => {
      let r = rng() * total;
      for (const [name, w, op] of ops) if ((r -= w) < 0) return [name, op] as const;
      return [ops[0][0], ops[0][2]] as const;
    };
    const counts = new Map<string, number>();
    const failures: string[] = [];
    const inFlight = new Set<Promise<void>>();
    const deadline = Date.now() + SOAK_MS;
    while (Date.now() < deadline) {
      const [name, op] = pick();
      counts.set(name, (counts.get(name) ?? 0) + 1);
      const p = runOp(name, op, rng, gate, failures);
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
      if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    assert.deepEqual(failures, [], `operations failed (seed ${SEED})`);
    // The calls of cancelled tasks still wait at the gate, as pending work would: end them.
    await ray.get(gate.openAll.remote());
    const use = await settledStore();
    assert.deepEqual(use, { usedBytes: 0, objects: 0 }, `after ${[...counts].map(([k, v]) => `${v} ${k}`).join(", ")}`);
  } finally {
    await ray.shutdown();
  }
});

async function runOp(name: string, op: Op, rng: () => number, gate: ray.ActorHandle<Gate>, failures: string[]): Promise<void> {
  try {
    await op(rng, gate);
  } catch (err) {
    failures.push(`${name}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  }
}

test("a shutdown in the middle of work settles every call in flight", { timeout: 120_000 }, async () => {
  await ray.init({ numCpus: 2, objectStoreMemory: 64 * 2 ** 20 });
  const gate = ray.remote({ maxConcurrency: 1000 })(Gate).remote();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < 20; i++) {
    calls.push(ray.get(waitForever.remote(gate, `shutdown:${i}`, floats(200 * KB, 1))));
    calls.push(ray.get(makeBig.remote(20_000 + i)));
    const gen = items.remote(10, 20_000);
    calls.push(gen.next());
  }
  const settled = Promise.allSettled(calls);
  await ray.get(gate.wait.remote("shutdown:0"));
  await ray.shutdown();
  for (const outcome of await settled) {
    if (outcome.status === "rejected") assert.ok(outcome.reason instanceof ray.RayError, String(outcome.reason));
  }
});
