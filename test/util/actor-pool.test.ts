import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { Gate } from "../helpers/gate.js";

/** A pool actor: announces that `key` started, optionally holds until the gate opens `key`. */
class Worker {
  async work(gate: ray.ActorHandle<Gate>, key: string, hold: boolean): Promise<string> {
    gate.open.remote(`started:${key}`);
    if (hold) await ray.get(gate.wait.remote(key));
    return key.toUpperCase();
  }
  double(x: number): number {
    return 2 * x;
  }
  fail(message: string): never {
    throw new Error(message);
  }
}

let gate: ray.ActorHandle<Gate>;
// Shared by the tests (each builds its own pool over some of them): starting actors is the slow part.
let actors: ray.ActorHandle<Worker>[];
const GateActor = ray.remote({ maxConcurrency: 100 })(Gate);
const WorkerActor = ray.remote(Worker);

before(async () => {
  await ray.init({ numCpus: 2 });
  gate = GateActor.remote();
  actors = [WorkerActor.remote(), WorkerActor.remote()];
});
after(() => ray.shutdown());

function workers(n: number): ray.ActorHandle<Worker>[] {
  return actors.slice(0, n);
}

async function collect<R>(it: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("constructor rejects bad actor lists", () => {
  assert.throws(() => new ray.util.ActorPool([]), RangeError);
  assert.throws(() => new ray.util.ActorPool("x" as never), { name: "TypeError", message: /actors/ });
  assert.throws(() => new ray.util.ActorPool([{} as never]), { name: "TypeError", message: /actors\[0\]/ });
  const [a] = workers(1);
  assert.throws(() => new ray.util.ActorPool([a, a]), RangeError);
});

test("map yields in input order while more values than actors are queued", async () => {
  const pool = new ray.util.ActorPool(workers(2));
  const values = Array.from({ length: 7 }, (_, i) => i);
  const results = await collect(pool.map((a, v) => a.double.remote(v), values));
  assert.deepEqual(results, values.map((v) => 2 * v));
  assert.equal(pool.hasNext(), false);
});

test("map keeps input order when a later value finishes first", async () => {
  const pool = new ray.util.ActorPool(workers(2));
  const refs: ray.ObjectRef<string>[] = [];
  const it = pool.map((a, key: string) => {
    const ref = a.work.remote(gate, key, true);
    refs.push(ref);
    return ref;
  }, ["map-a", "map-b"]);
  ray.get(gate.open.remote("map-b"));
  await ray.wait([refs[1]]); // "map-b" is done, "map-a" still held
  const first = it[Symbol.asyncIterator]().next();
  ray.get(gate.open.remote("map-a"));
  assert.deepEqual(await first, { done: false, value: "MAP-A" });
});

test("mapUnordered yields in completion order", async () => {
  const pool = new ray.util.ActorPool(workers(2));
  const iter = pool.mapUnordered((a, key: string) => a.work.remote(gate, key, true), ["mu-a", "mu-b"])[Symbol.asyncIterator]();
  await ray.get(gate.open.remote("mu-b"));
  assert.deepEqual(await iter.next(), { done: false, value: "MU-B" });
  await ray.get(gate.open.remote("mu-a"));
  assert.deepEqual(await iter.next(), { done: false, value: "MU-A" });
  assert.equal((await iter.next()).done, true);
});

test("submit, hasNext and getNext return results in submission order", async () => {
  const pool = new ray.util.ActorPool(workers(2));
  assert.equal(pool.hasNext(), false);
  for (let i = 0; i < 5; i++) pool.submit((a, v: number) => a.double.remote(v), i);
  assert.equal(pool.hasNext(), true);
  const got: number[] = [];
  while (pool.hasNext()) got.push(await pool.getNext<number>());
  assert.deepEqual(got, [0, 2, 4, 6, 8]);
  await assert.rejects(pool.getNext(), /no more results/);
  await assert.rejects(pool.getNextUnordered(), /no more results/);
});

test("queued work goes to an actor as soon as it is free, without a getNext", async () => {
  const pool = new ray.util.ActorPool(workers(1));
  pool.submit((a, key: string) => a.work.remote(gate, key, true), "eager-1");
  pool.submit((a, key: string) => a.work.remote(gate, key, false), "eager-2");
  await ray.get(gate.open.remote("eager-1"));
  // Resolves only once the queued call has started on the (single) actor.
  await ray.get(gate.wait.remote("started:eager-2"));
  assert.equal(await pool.getNext(), "EAGER-1");
  assert.equal(await pool.getNext(), "EAGER-2");
});

test("getNext times out with GetTimeoutError and the result stays retrievable", async () => {
  const pool = new ray.util.ActorPool(workers(1));
  pool.submit((a, key: string) => a.work.remote(gate, key, true), "timeout-1");
  await assert.rejects(pool.getNext({ timeoutMs: 20 }), ray.GetTimeoutError);
  await assert.rejects(pool.getNextUnordered({ timeoutMs: 0 }), ray.GetTimeoutError);
  assert.equal(pool.hasNext(), true);
  await ray.get(gate.open.remote("timeout-1"));
  assert.equal(await pool.getNext({ timeoutMs: 60_000 }), "TIMEOUT-1");
  assert.equal(pool.hasNext(), false);
});

test("getNextUnordered returns whichever finishes first", async () => {
  const pool = new ray.util.ActorPool(workers(2));
  pool.submit((a, key: string) => a.work.remote(gate, key, true), "gnu-a");
  pool.submit((a, key: string) => a.work.remote(gate, key, true), "gnu-b");
  await ray.get(gate.open.remote("gnu-b"));
  assert.equal(await pool.getNextUnordered(), "GNU-B");
  await ray.get(gate.open.remote("gnu-a"));
  assert.equal(await pool.getNextUnordered(), "GNU-A");
});

test("failed calls surface on getNext and the pool keeps working", async () => {
  const pool = new ray.util.ActorPool(workers(1));
  pool.submit((a, m: string) => a.fail.remote(m), "boom");
  pool.submit(() => {
    throw new Error("fn threw");
  }, 0);
  pool.submit((() => 42) as never, 0);
  pool.submit((a, v: number) => a.double.remote(v), 4);
  await assert.rejects(pool.getNext(), (err: unknown) => err instanceof ray.RayTaskError && /boom/.test(String(err.message)));
  await assert.rejects(pool.getNext(), /fn threw/);
  await assert.rejects(pool.getNext(), { name: "TypeError", message: /ObjectRef/ });
  assert.equal(await pool.getNext(), 8);
});

test("bad arguments are TypeError / RangeError", async () => {
  const pool = new ray.util.ActorPool(workers(1));
  assert.throws(() => pool.submit(42 as never, 1), { name: "TypeError", message: /fn/ });
  assert.throws(() => pool.map((a, v: number) => a.double.remote(v), 5 as never), { name: "TypeError", message: /values/ });
  pool.submit((a, v: number) => a.double.remote(v), 1);
  await assert.rejects(pool.getNext({ timeoutMs: -1 }), { name: "RangeError", message: /timeoutMs/ });
  await assert.rejects(pool.getNext({ timeout: 1 } as never), { name: "TypeError", message: /timeout/ });
  assert.equal(await pool.getNext(), 2);
});

test("popIdle, push and hasFree manage the actor set", async () => {
  const [a, b] = workers(2);
  const pool = new ray.util.ActorPool([a]);
  assert.equal(pool.hasFree(), true);
  assert.equal(pool.popIdle(), a);
  assert.equal(pool.popIdle(), undefined);
  pool.submit((x, v: number) => x.double.remote(v), 21); // queued: no actor
  assert.equal(pool.hasFree(), false);
  pool.push(b);
  assert.throws(() => pool.push(b), RangeError);
  assert.equal(await pool.getNext(), 42);
});

test("using an ActorPool lets go of its work at the end of the block; the actors live on", async () => {
  let pool: ray.util.ActorPool<Worker>;
  {
    using p = new ray.util.ActorPool(workers(1));
    pool = p;
    p.submit((a, key: string) => a.work.remote(gate, key, true), "held-by-dispose");
    p.submit((a, x: number) => a.double.remote(x), 21); // queued behind the held call: dropped
    await ray.get(gate.wait.remote("started:held-by-dispose"));
  }
  assert.equal(pool.hasNext(), false);
  assert.throws(() => pool.submit((a, x: number) => a.double.remote(x), 1), /ActorPool\.submit\(\): the pool was disposed/);
  await assert.rejects(pool.getNext(), /no more results|the pool was disposed/);
  await ray.get(gate.open.remote("held-by-dispose"));
  assert.equal(await ray.get(workers(1)[0].double.remote(4)), 8);
});
