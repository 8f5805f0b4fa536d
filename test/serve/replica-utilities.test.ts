// serve.batch and serve.multiplexed inside real replicas: concurrent handle calls share batches
// (each caller its own result), calls of different model ids never share one, and a replica's
// multiplexed cache loads each model once, evicts the least recently used (disposing it) and
// sees the model id of handle options and of the HTTP header serve_multiplexed_model_id.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as serve from "tsray/serve";
import { serveCluster } from "../helpers/serve-tests.js";

const cluster = serveCluster();

class Doubler {
  readonly batches: { size: number; model: string }[] = [];
  predict = serve.batch(async (xs: number[]) => {
    this.batches.push({ size: xs.length, model: serve.getMultiplexedModelId() });
    return xs.map((x) => x * 2);
  }, { maxBatchSize: 4, batchWaitTimeoutMs: 1000 });
  seen() {
    return this.batches;
  }
}

test("serve.batch in a replica: concurrent calls share batches of at most maxBatchSize, each caller its own result", async () => {
  const handle = await serve.run(serve.deployment(Doubler, { maxOngoingRequests: 16 }).bind(), { name: "batch", routePrefix: null });
  const xs = Array.from({ length: 12 }, (_, i) => i);
  assert.deepEqual(await Promise.all(xs.map((x) => handle.predict.remote(x))), xs.map((x) => x * 2));
  const batches = await handle.seen.remote();
  assert.equal(batches.reduce((n, b) => n + b.size, 0), 12);
  assert.ok(batches.every((b) => b.size <= 4), JSON.stringify(batches));
  assert.ok(batches.some((b) => b.size > 1), `the calls were batched: ${JSON.stringify(batches)}`);
  // Calls of two models at once: no batch mixes them.
  const a = handle.options({ multiplexedModelId: "a" });
  const b = handle.options({ multiplexedModelId: "b" });
  const mixed = await Promise.all(xs.map((x) => (x % 2 ? a : b).predict.remote(x)));
  assert.deepEqual(mixed, xs.map((x) => x * 2));
  const byModel = (await handle.seen.remote()).filter((batch) => batch.model !== "");
  assert.equal(byModel.reduce((n, batch) => n + batch.size, 0), 12);
  await serve.delete("batch");
});

class Models {
  readonly loads: string[] = [];
  readonly disposed: string[] = [];
  getModel = serve.multiplexed(async (id: string) => {
    this.loads.push(id);
    return { id, dispose: () => { this.disposed.push(id); } };
  }, { maxNumModelsPerReplica: 2 });
  async infer(x: number) {
    const model = await this.getModel(serve.getMultiplexedModelId());
    return `${model.id}:${x}`;
  }
  async fetch(request: Request) {
    return this.infer(Number(new URL(request.url).searchParams.get("x")));
  }
  history() {
    return { loads: this.loads, disposed: this.disposed };
  }
}

test("serve.multiplexed in a replica: a model per id from handle options and from the HTTP header, loaded once, LRU-evicted and disposed", async () => {
  const handle = await serve.run(serve.deployment(Models).bind(), { name: "models", routePrefix: "/models" });
  const call = (id: string, x: number) => handle.options({ multiplexedModelId: id }).infer.remote(x);
  assert.deepEqual(await Promise.all([call("m1", 1), call("m1", 2), call("m2", 3)]), ["m1:1", "m1:2", "m2:3"]);
  const overHttp = await fetch(`${cluster.url()}/models?x=4`, { headers: { serve_multiplexed_model_id: "m3" } });
  assert.equal(await overHttp.text(), "m3:4");
  assert.equal(await call("m1", 5), "m1:5");
  const { loads, disposed } = await handle.history.remote();
  // m1 loaded once for its three calls until m3's load evicted it (m1, m2 held; m3 pushed out m1), then again.
  assert.deepEqual(loads, ["m1", "m2", "m3", "m1"]);
  assert.deepEqual(disposed, ["m1", "m2"]);
  await serve.delete("models");
});
