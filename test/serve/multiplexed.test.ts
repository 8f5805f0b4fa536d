// serve.multiplexed in-process: a plain function over a loader, so no cluster. Requests with model
// ids are simulated with withRequestContext; loads and disposes are held open by gates to observe
// their order, never by sleeping. The loaded-ids registry is per process, shared by every cache of
// this file, so each test uses model ids of its own and looks at those only.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as serve from "tsray/serve";
import { loadedModelIds, onLoadedModelIdsChange } from "../../src/serve/multiplexed.js";
import { withRequestContext, type RequestContext } from "../../src/serve/request-context.js";

function request(multiplexedModelId: string): RequestContext {
  return { requestId: `r-${multiplexedModelId}`, route: "", appName: "default", multiplexedModelId, signal: new AbortController().signal };
}

interface Gate {
  promise: Promise<void>;
  resolve(): void;
}
function gate(): Gate {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const settle = () => new Promise<void>((r) => setImmediate(r));

class FakeModel {
  disposed = false;
  constructor(readonly id: string, private readonly log: string[], private readonly disposeGate?: Promise<void>) {}
  async dispose(): Promise<void> {
    this.log.push(`dispose ${this.id}`);
    await this.disposeGate;
    this.disposed = true;
    this.log.push(`disposed ${this.id}`);
  }
}

const mine = (prefix: string) => loadedModelIds().filter((id) => id.startsWith(prefix));

test("a model loads once and is served from the cache after", async () => {
  const log: string[] = [];
  const getModel = serve.multiplexed(async (id: string) => (log.push(`load ${id}`), new FakeModel(id, log)));
  const first = await withRequestContext(request("once-a"), () => getModel(serve.getMultiplexedModelId()));
  const again = await getModel("once-a");
  assert.equal(first, again);
  assert.equal(first.id, "once-a");
  assert.deepEqual(log, ["load once-a"]);
});

test("concurrent calls for one id share one load", async () => {
  const log: string[] = [];
  const loading = gate();
  const getModel = serve.multiplexed(async (id: string) => {
    log.push(`load ${id}`);
    await loading.promise;
    return new FakeModel(id, log);
  });
  const calls = [getModel("share-a"), getModel("share-a"), getModel("share-a")];
  await settle();
  assert.deepEqual(log, ["load share-a"]);
  loading.resolve();
  const [m1, m2, m3] = await Promise.all(calls);
  assert.ok(m1 === m2 && m2 === m3);
});

test("LRU: past maxNumModelsPerReplica the least recently used model is evicted, its dispose() awaited before the next load", async () => {
  const log: string[] = [];
  const disposing = gate();
  const models: Record<string, FakeModel> = {};
  const getModel = serve.multiplexed(async (id: string) => {
    log.push(`load ${id}`);
    return (models[id] = new FakeModel(id, log, disposing.promise));
  }, { maxNumModelsPerReplica: 2 });
  await getModel("lru-a");
  await getModel("lru-b");
  await getModel("lru-a"); // a is now the most recently used: b goes first
  const c = getModel("lru-c");
  await settle();
  assert.deepEqual(log, ["load lru-a", "load lru-b", "dispose lru-b"], "c waits for b's dispose");
  assert.deepEqual(mine("lru-"), ["lru-a"], "b left the loaded ids when its eviction started");
  disposing.resolve();
  await c;
  assert.deepEqual(log, ["load lru-a", "load lru-b", "dispose lru-b", "disposed lru-b", "load lru-c"]);
  assert.equal(models["lru-b"].disposed, true);
  assert.equal(models["lru-a"].disposed, false);
  assert.deepEqual(mine("lru-"), ["lru-a", "lru-c"]);
  await getModel("lru-b"); // evicted ones load again, evicting a now
  assert.deepEqual(log.slice(5), ["dispose lru-a", "disposed lru-a", "load lru-b"]);
  assert.deepEqual(mine("lru-"), ["lru-b", "lru-c"]);
});

test("the default keeps 3 models; -1 keeps every model", async () => {
  const evicted: string[] = [];
  const loader = async (id: string) => ({ id, dispose: () => void evicted.push(id) });
  const byDefault = serve.multiplexed(loader);
  for (const id of ["def-1", "def-2", "def-3", "def-4"]) await byDefault(id);
  assert.deepEqual(evicted, ["def-1"]);
  assert.deepEqual(mine("def-"), ["def-2", "def-3", "def-4"]);
  const unbounded = serve.multiplexed(loader, { maxNumModelsPerReplica: -1 });
  for (let i = 0; i < 20; i++) await unbounded(`all-${String(i).padStart(2, "0")}`);
  assert.equal(mine("all-").length, 20);
  assert.deepEqual(evicted, ["def-1"]);
});

test("a failed load is not cached: every call waiting on it rejects, and the next call loads again", async () => {
  let attempts = 0;
  const loading = gate();
  const getModel = serve.multiplexed(async (id: string) => {
    attempts++;
    await loading.promise;
    if (attempts === 1) throw new Error(`weights of ${id} not found`);
    return { id };
  });
  const failing = [getModel("fail-a"), getModel("fail-a")];
  loading.resolve();
  for (const call of failing) await assert.rejects(call, /weights of fail-a not found/);
  assert.deepEqual(mine("fail-"), []);
  assert.deepEqual(await getModel("fail-a"), { id: "fail-a" });
  assert.equal(attempts, 2);
  assert.deepEqual(mine("fail-"), ["fail-a"]);
});

test("models without dispose() are simply dropped; a throwing dispose() is reported and the eviction goes on", async (t) => {
  const errors = t.mock.method(console, "error", () => {});
  const getModel = serve.multiplexed(async (id: string) => (id === "drop-bad" ? { dispose: () => { throw new Error("cannot free"); } } : { id }), { maxNumModelsPerReplica: 1 });
  await getModel("drop-plain");
  await getModel("drop-bad");
  assert.deepEqual(mine("drop-"), ["drop-bad"]);
  assert.deepEqual(await getModel("drop-next"), { id: "drop-next" });
  assert.deepEqual(mine("drop-"), ["drop-next"]);
  assert.equal(errors.mock.callCount(), 1);
  assert.match(String(errors.mock.calls[0].arguments[0]), /dispose\(\) of evicted model 'drop-bad'/);
});

test("loads in flight are not evicted; the cache shrinks back to its limit as they finish", async () => {
  const log: string[] = [];
  const gates: Record<string, Gate> = { "fly-a": gate(), "fly-b": gate(), "fly-c": gate(), "fly-d": gate() };
  const getModel = serve.multiplexed(async (id: string) => {
    log.push(`load ${id}`);
    await gates[id].promise;
    return new FakeModel(id, log);
  }, { maxNumModelsPerReplica: 1 });
  const a = getModel("fly-a");
  const b = getModel("fly-b");
  await settle();
  assert.deepEqual(log, ["load fly-a", "load fly-b"], "both load at once");
  gates["fly-a"].resolve();
  await a;
  gates["fly-b"].resolve();
  const modelB = await b;
  assert.deepEqual(mine("fly-"), ["fly-b"]);
  assert.deepEqual(log.slice(2), ["dispose fly-a", "disposed fly-a"]);
  assert.equal(await getModel("fly-b"), modelB);
  // Finishing in the other order: the model that finished last is kept, its callers not having had it yet.
  const c = getModel("fly-c");
  const d = getModel("fly-d");
  gates["fly-d"].resolve();
  await d;
  gates["fly-c"].resolve();
  const modelC = await c;
  assert.equal(modelC.disposed, false);
  assert.deepEqual(mine("fly-"), ["fly-c"]);
});

test("the loaded-ids registry: listeners get the new list on each load and eviction, and can unsubscribe", async () => {
  const seen: string[][] = [];
  const stop = onLoadedModelIdsChange((ids) => seen.push(ids.filter((id) => id.startsWith("reg-"))));
  const getModel = serve.multiplexed(async (id: string) => ({ id }), { maxNumModelsPerReplica: 2 });
  await getModel("reg-a");
  await getModel("reg-b");
  await getModel("reg-a"); // a cache hit changes nothing
  await getModel("reg-c");
  assert.deepEqual(seen, [["reg-a"], ["reg-a", "reg-b"], ["reg-a"], ["reg-a", "reg-c"]]);
  stop();
  await getModel("reg-d");
  assert.equal(seen.length, 4);
  assert.deepEqual(mine("reg-"), ["reg-c", "reg-d"]);
});

test("two caches holding one id report it once, until both let it go", async () => {
  const loader = async (id: string) => ({ id });
  const one = serve.multiplexed(loader, { maxNumModelsPerReplica: 1 });
  const two = serve.multiplexed(loader, { maxNumModelsPerReplica: 1 });
  await one("two-x");
  await two("two-x");
  assert.deepEqual(mine("two-"), ["two-x"]);
  await one("two-y");
  assert.deepEqual(mine("two-"), ["two-x", "two-y"], "the second cache still holds x");
  await two("two-y");
  assert.deepEqual(mine("two-"), ["two-y"]);
});

test("as a class field: one cache per instance, `this` the instance", async () => {
  class Replica {
    loads = 0;
    constructor(readonly prefix: string) {}
    getModel = serve.multiplexed(async (id: string) => (this.loads++, `${this.prefix}/${id}`), { maxNumModelsPerReplica: 2 });
  }
  const r1 = new Replica("one");
  const r2 = new Replica("two");
  assert.equal(await r1.getModel("cls-m"), "one/cls-m");
  assert.equal(await r2.getModel("cls-m"), "two/cls-m");
  assert.equal(await r1.getModel("cls-m"), "one/cls-m");
  assert.deepEqual([r1.loads, r2.loads], [1, 1]);
});

test("bad options and model ids are named", async () => {
  const load = async (id: string) => id;
  const bad: [unknown, ErrorConstructor][] = [
    [{ maxNumModelsPerReplica: 0 }, RangeError],
    [{ maxNumModelsPerReplica: 1.5 }, RangeError],
    [{ maxNumModelsPerReplica: -2 }, RangeError],
    [{ maxNumModelsPerReplica: "3" }, TypeError],
  ];
  for (const [opts, type] of bad) {
    assert.throws(() => serve.multiplexed(load, opts as { maxNumModelsPerReplica: number }),
      (err: Error) => err instanceof type && /maxNumModelsPerReplica/.test(err.message), JSON.stringify(opts));
  }
  assert.throws(() => serve.multiplexed(load, { maxModels: 2 } as never), (err: Error) => err instanceof TypeError && /maxModels/.test(err.message));
  assert.throws(() => serve.multiplexed("load" as never), TypeError);
  const getModel = serve.multiplexed(load);
  await assert.rejects(getModel(""), (err: Error) => err instanceof TypeError && /model id/.test(err.message));
  await assert.rejects(getModel(7 as never), TypeError);
});
