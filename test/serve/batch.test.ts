// serve.batch in-process: it is a plain function, so no cluster. Requests (and their multiplexed
// model ids and cancellation) are simulated with withRequestContext; the wait timeout is driven by
// node:test's mock timers, never by sleeping.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import * as serve from "tsray/serve";
import { withRequestContext, type RequestContext } from "../../src/serve/request-context.js";

function request(multiplexedModelId = "", signal = new AbortController().signal): RequestContext {
  return { requestId: `r-${Math.random()}`, route: "", appName: "default", multiplexedModelId, signal };
}

interface Gate {
  promise: Promise<void>;
  resolve(): void;
}

function deferred(): Gate {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets queued promise callbacks run (batches start and settle through a few of them). */
const settle = () => new Promise<void>((r) => setImmediate(r));

test("a full batch runs at once, one result per item, in order", async () => {
  const seen: number[][] = [];
  const double = serve.batch(async (xs: number[]) => (seen.push(xs), xs.map((x) => x * 2)), { maxBatchSize: 4, batchWaitTimeoutMs: 60_000 });
  const results = await Promise.all([1, 2, 3, 4].map((x) => double(x)));
  assert.deepEqual(results, [2, 4, 6, 8]);
  assert.deepEqual(seen, [[1, 2, 3, 4]]);
});

test("a batch not full runs batchWaitTimeoutMs after its first call", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const seen: string[][] = [];
  const upper = serve.batch(async (xs: string[]) => (seen.push(xs), xs.map((x) => x.toUpperCase())), { maxBatchSize: 10, batchWaitTimeoutMs: 50 });
  const a = upper("a");
  t.mock.timers.tick(30);
  const b = upper("b"); // joins the batch opened by "a": its clock does not restart
  t.mock.timers.tick(19);
  assert.deepEqual(seen, [], "49 ms after the first call, the batch still waits");
  t.mock.timers.tick(1);
  assert.deepEqual(seen, [["a", "b"]]);
  assert.deepEqual(await Promise.all([a, b]), ["A", "B"]);
});

test("the defaults: maxBatchSize 10, batchWaitTimeoutMs 10", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const sizes: number[] = [];
  const id = serve.batch(async (xs: number[]) => (sizes.push(xs.length), xs));
  const calls = Array.from({ length: 13 }, (_, i) => id(i));
  await settle();
  assert.deepEqual(sizes, [10], "ten calls fill a batch");
  t.mock.timers.tick(9);
  await settle();
  assert.deepEqual(sizes, [10]);
  t.mock.timers.tick(1);
  assert.deepEqual(await Promise.all(calls), Array.from({ length: 13 }, (_, i) => i));
  assert.deepEqual(sizes, [10, 3]);
});

test("more calls than maxBatchSize make several batches; maxConcurrentBatches 1 runs them one at a time", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const started: number[][] = [];
  const gates: Gate[] = [];
  const f = serve.batch(async (xs: number[]) => {
    started.push(xs);
    const gate = deferred();
    gates.push(gate);
    await gate.promise;
    return xs.map((x) => -x);
  }, { maxBatchSize: 2, batchWaitTimeoutMs: 100 });
  const calls = [1, 2, 3, 4, 5].map((x) => f(x));
  await settle();
  assert.deepEqual(started, [[1, 2]], "the second full batch waits for the running one");
  gates[0].resolve();
  await settle();
  assert.deepEqual(started, [[1, 2], [3, 4]]);
  gates[1].resolve();
  await settle();
  assert.deepEqual(started, [[1, 2], [3, 4]], "the last batch (one call) waits for its timeout");
  t.mock.timers.tick(100);
  assert.deepEqual(started, [[1, 2], [3, 4], [5]]);
  gates[2].resolve();
  assert.deepEqual(await Promise.all(calls), [-1, -2, -3, -4, -5]);
});

test("maxConcurrentBatches bounds the batches running at once", async () => {
  let running = 0;
  let most = 0;
  const gates: Gate[] = [];
  const f = serve.batch(async (xs: number[]) => {
    running++;
    most = Math.max(most, running);
    const gate = deferred();
    gates.push(gate);
    await gate.promise;
    running--;
    return xs;
  }, { maxBatchSize: 2, batchWaitTimeoutMs: 60_000, maxConcurrentBatches: 2 });
  const calls = [1, 2, 3, 4, 5, 6, 7, 8].map((x) => f(x));
  await settle();
  assert.equal(gates.length, 2, "two of the four full batches run");
  gates[0].resolve();
  await settle();
  assert.equal(gates.length, 3, "a finished batch frees its slot for the next one");
  for (const g of gates) g.resolve();
  await settle();
  for (const g of gates) g.resolve();
  assert.deepEqual(await Promise.all(calls), [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.equal(most, 2);
});

test("a wrong-length or non-array result rejects every call of the batch, saying why", async () => {
  const short = serve.batch(async function shortOne(xs: number[]) { return xs.slice(1); }, { maxBatchSize: 3, batchWaitTimeoutMs: 60_000 });
  const results = await Promise.allSettled([1, 2, 3].map((x) => short(x)));
  for (const r of results) {
    assert.equal(r.status, "rejected");
    const err = (r as PromiseRejectedResult).reason;
    assert.ok(err instanceof serve.RayServeError);
    assert.match(err.message, /shortOne/);
    assert.match(err.message, /batch of 3 items it returned 2 results/);
  }
  const notArray = serve.batch(async (xs: number[]) => xs.length as unknown as number[], { maxBatchSize: 2, batchWaitTimeoutMs: 60_000 });
  const both = await Promise.allSettled([notArray(1), notArray(2)]);
  for (const r of both) assert.match((r as PromiseRejectedResult).reason.message, /must return an array.*returned number/);
});

test("a throwing batch function rejects every call of the batch with its error; the next batch runs", async () => {
  let n = 0;
  const f = serve.batch(async (xs: number[]) => {
    if (n++ === 0) throw new Error("model exploded");
    return xs;
  }, { maxBatchSize: 2, batchWaitTimeoutMs: 60_000 });
  const first = await Promise.allSettled([f(1), f(2)]);
  assert.deepEqual(first.map((r) => r.status), ["rejected", "rejected"]);
  for (const r of first) assert.equal((r as PromiseRejectedResult).reason.message, "model exploded");
  assert.deepEqual(await Promise.all([f(3), f(4)]), [3, 4]);
  const sync = serve.batch((() => { throw new TypeError("sync throw"); }) as (xs: number[]) => number[], { maxBatchSize: 1 });
  await assert.rejects(sync(1), /sync throw/);
});

test("setMaxBatchSize applies at once: a queued batch reaching the new size runs, a larger one is split", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const started: number[][] = [];
  const f = serve.batch(async (xs: number[]) => (started.push(xs), xs), { maxBatchSize: 10, batchWaitTimeoutMs: 1000 });
  const calls = [1, 2, 3, 4, 5].map((x) => f(x));
  await settle();
  assert.deepEqual(started, []);
  f.setMaxBatchSize(2);
  await Promise.all(calls.slice(0, 4));
  assert.deepEqual(started, [[1, 2], [3, 4]], "the queued calls run two by two, without waiting for the timeout");
  t.mock.timers.tick(1000);
  await calls[4];
  assert.deepEqual(started, [[1, 2], [3, 4], [5]]);
  const more = [6, 7].map((x) => f(x));
  await Promise.all(more);
  assert.deepEqual(started.at(-1), [6, 7], "new calls fill batches of the new size");
  assert.throws(() => f.setMaxBatchSize(0), (err: Error) => err instanceof RangeError && /maxBatchSize/.test(err.message));
});

test("setBatchWaitTimeoutMs applies to the batches opened after it", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const started: number[][] = [];
  const f = serve.batch(async (xs: number[]) => (started.push(xs), xs), { maxBatchSize: 10, batchWaitTimeoutMs: 1000 });
  f.setBatchWaitTimeoutMs(5);
  const call = f(1);
  t.mock.timers.tick(4);
  assert.deepEqual(started, []);
  t.mock.timers.tick(1);
  assert.deepEqual(started, [[1]]);
  await call;
  assert.throws(() => f.setBatchWaitTimeoutMs(-1), (err: Error) => err instanceof RangeError && /batchWaitTimeoutMs/.test(err.message));
});

test("calls with different multiplexed model ids never share a batch; fn sees its batch's model id", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const started: { model: string; xs: number[] }[] = [];
  const f = serve.batch(async (xs: number[]) => {
    started.push({ model: serve.getMultiplexedModelId(), xs });
    return xs.map((x) => `${serve.getMultiplexedModelId()}:${x}`);
  }, { maxBatchSize: 2, batchWaitTimeoutMs: 50 });
  const a1 = withRequestContext(request("a"), () => f(1));
  const b2 = withRequestContext(request("b"), () => f(2));
  const a3 = withRequestContext(request("a"), () => f(3));
  const none = f(4);
  assert.deepEqual(await Promise.all([a1, a3]), ["a:1", "a:3"], "a's batch is full with 1 and 3");
  assert.deepEqual(started, [{ model: "a", xs: [1, 3] }]);
  t.mock.timers.tick(50);
  assert.deepEqual(await Promise.all([b2, none]), ["b:2", ":4"]);
  assert.deepEqual(started.slice(1), [{ model: "b", xs: [2] }, { model: "", xs: [4] }]);
});

test("each call joins the batch of its own model id, in whatever order the ids come", async () => {
  const models: string[] = [];
  const f = serve.batch(async (xs: number[]) => (models.push(serve.getMultiplexedModelId()), xs), { maxBatchSize: 2, batchWaitTimeoutMs: 60_000 });
  const p1 = withRequestContext(request("m1"), () => f(1));
  const p2 = withRequestContext(request("m2"), () => f(2));
  // The third call completes m2's batch, from a request with another model id afterwards.
  const p3 = withRequestContext(request("m2"), () => f(3));
  const p4 = withRequestContext(request("m1"), () => f(4));
  assert.deepEqual(await Promise.all([p1, p2, p3, p4]), [1, 2, 3, 4]);
  assert.deepEqual(models.sort(), ["m1", "m2"]);
});

test("as a class field: each instance has its own queue, and `this` is the instance", async () => {
  class Model {
    constructor(readonly factor: number) {}
    calls: number[][] = [];
    predict = serve.batch(async (xs: number[]) => {
      this.calls.push(xs);
      return xs.map((x) => x * this.factor);
    }, { maxBatchSize: 2, batchWaitTimeoutMs: 60_000 });
  }
  const ten = new Model(10);
  const hundred = new Model(100);
  const results = await Promise.all([ten.predict(1), hundred.predict(1), ten.predict(2), hundred.predict(2)]);
  assert.deepEqual(results, [10, 100, 20, 200]);
  assert.deepEqual(ten.calls, [[1, 2]]);
  assert.deepEqual(hundred.calls, [[1, 2]]);
});

test("a batched `function` gets `this` from the call; calls on different objects never share a batch", async () => {
  const shared = serve.batch(async function (this: { name: string }, xs: number[]) {
    return xs.map((x) => `${this.name}${x}`);
  }, { maxBatchSize: 2, batchWaitTimeoutMs: 60_000 });
  const a = { name: "a", run: shared };
  const b = { name: "b", run: shared };
  assert.deepEqual(await Promise.all([a.run(1), b.run(2), a.run(3), b.run(4)]), ["a1", "b2", "a3", "b4"]);
});

test("a cancelled request's call leaves its batch and rejects with RequestCancelledError", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const started: number[][] = [];
  const f = serve.batch(async (xs: number[]) => (started.push(xs), xs), { maxBatchSize: 3, batchWaitTimeoutMs: 100 });
  const cancelled = new AbortController();
  const p1 = withRequestContext(request(), () => f(1));
  const p2 = withRequestContext(request("", cancelled.signal), () => f(2));
  cancelled.abort();
  await assert.rejects(p2, serve.RequestCancelledError);
  const p3 = withRequestContext(request(), () => f(3));
  t.mock.timers.tick(100);
  assert.deepEqual(await Promise.all([p1, p3]), [1, 3]);
  assert.deepEqual(started, [[1, 3]]);
  await assert.rejects(withRequestContext(request("", cancelled.signal), () => f(4)), serve.RequestCancelledError, "an already-cancelled request never queues");
});

test("fn runs in its batch's request context, whose signal aborts once all its requests are cancelled", async () => {
  const gate = deferred();
  let signal: AbortSignal | undefined;
  let requestId = "";
  const f = serve.batch(async (xs: number[]) => {
    const context = serve.getRequestContext();
    signal = context.signal;
    requestId = context.requestId;
    await gate.promise;
    return xs;
  }, { maxBatchSize: 2, batchWaitTimeoutMs: 60_000 });
  const c1 = new AbortController();
  const c2 = new AbortController();
  const r1 = request("", c1.signal);
  const p1 = withRequestContext(r1, () => f(1));
  const p2 = withRequestContext(request("", c2.signal), () => f(2));
  await settle();
  assert.equal(requestId, r1.requestId);
  c1.abort();
  await assert.rejects(p1, serve.RequestCancelledError, "a running call's request cancelled: it rejects at once");
  assert.equal(signal!.aborted, false, "one request of the batch still waits for it");
  c2.abort();
  assert.equal(signal!.aborted, true);
  await assert.rejects(p2, serve.RequestCancelledError);
  gate.resolve();
});

test("bad options name the option", () => {
  const fn = async (xs: number[]) => xs;
  const bad: [unknown, ErrorConstructor, RegExp][] = [
    [{ maxBatchSize: 0 }, RangeError, /maxBatchSize/],
    [{ maxBatchSize: 2.5 }, RangeError, /maxBatchSize/],
    [{ maxBatchSize: "4" }, TypeError, /maxBatchSize/],
    [{ batchWaitTimeoutMs: -1 }, RangeError, /batchWaitTimeoutMs/],
    [{ batchWaitTimeoutMs: Infinity }, RangeError, /batchWaitTimeoutMs/],
    [{ maxConcurrentBatches: 0 }, RangeError, /maxConcurrentBatches/],
    [{ maxBatchSiz: 3 }, TypeError, /maxBatchSiz/],
  ];
  for (const [opts, type, message] of bad) {
    assert.throws(() => serve.batch(fn, opts as serve.BatchOptions), (err: Error) => err instanceof type && message.test(err.message), JSON.stringify(opts));
  }
  assert.throws(() => serve.batch("nope" as never), TypeError);
});

test("property: any interleaving of calls, model ids, time and size changes keeps every invariant", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  type Action = { call: string } | { tick: number } | { setMax: number };
  const action = fc.oneof(
    fc.constantFrom("", "a", "b").map((m) => ({ call: m }) as Action),
    fc.integer({ min: 0, max: 40 }).map((ms) => ({ tick: ms }) as Action),
    fc.integer({ min: 1, max: 5 }).map((n) => ({ setMax: n }) as Action),
  );
  await fc.assert(fc.asyncProperty(
    fc.array(action, { maxLength: 60 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 30 }),
    async (actions, maxBatchSize, maxConcurrentBatches, waitMs) => {
      let currentMax = maxBatchSize;
      let running = 0;
      const problems: string[] = [];
      const f = serve.batch(async (items: string[]) => {
        running++;
        const model = serve.getMultiplexedModelId();
        if (running > maxConcurrentBatches) problems.push(`${running} batches ran at once`);
        if (items.length === 0 || items.length > currentMax) problems.push(`a batch of ${items.length} with maxBatchSize ${currentMax}`);
        for (const item of items) if (!item.startsWith(`${model}:`)) problems.push(`item ${item} in a batch of model '${model}'`);
        await new Promise((r) => setTimeout(r, 7));
        running--;
        return items.map((item) => `done ${item}`);
      }, { maxBatchSize, maxConcurrentBatches, batchWaitTimeoutMs: waitMs });
      const calls: [string, Promise<string>][] = [];
      let settled = 0;
      for (const a of actions) {
        if ("call" in a) {
          const item = `${a.call}:${calls.length}`;
          const result = withRequestContext(request(a.call), () => f(item));
          void result.finally(() => settled++);
          calls.push([item, result]);
        } else if ("tick" in a) {
          t.mock.timers.tick(a.tick);
        } else {
          currentMax = a.setMax;
          f.setMaxBatchSize(a.setMax);
        }
        await settle();
      }
      // Time passes until every call settled (bounded: a call left waiting fails the property).
      for (let i = 0; i < 200 && settled < calls.length; i++) {
        t.mock.timers.tick(50);
        await settle();
      }
      assert.equal(settled, calls.length, "every call settles");
      for (const [item, result] of calls) assert.equal(await result, `done ${item}`);
      assert.deepEqual(problems, []);
    },
  ), { numRuns: 150 });
});
