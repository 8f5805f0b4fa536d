// Multiplexed routing across real replicas: requests with a model id (handle options or the HTTP
// header serve_multiplexed_model_id) go to the replica that loaded that model, as replicas report
// their loaded ids through the controller; a model no replica holds goes to one holding the
// fewest models and then sticks there. Each replica answers with its replicaId.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { getController } from "../../src/serve/controller-client.js";
import { chooseReplica } from "../../src/serve/model-choice.js";
import type { RoutingUpdate } from "../../src/serve/controller-client.js";
import { serveCluster } from "../helpers/serve-tests.js";

const cluster = serveCluster();

class ModelServer {
  getModel = serve.multiplexed(async (id: string) => ({ id }), { maxNumModelsPerReplica: 4 });
  async predict(): Promise<{ replica: string; model: string }> {
    const model = await this.getModel(serve.getMultiplexedModelId());
    return { replica: serve.getReplicaContext().replicaId, model: model.id };
  }
  async fetch(): Promise<{ replica: string; model: string }> {
    return this.predict();
  }
}

const deployment = serve.deployment(ModelServer, { numReplicas: 3, maxOngoingRequests: 5 });

/** Waits (on the controller's long poll, bounded) until the routing state published satisfies `ok`. */
async function untilPublished(app: string, ok: (update: RoutingUpdate) => boolean): Promise<RoutingUpdate> {
  const controller = await getController();
  const deadline = Date.now() + 60_000;
  let version = "";
  for (;;) {
    const update = await ray.get(controller.listen.remote(app, "ModelServer", version));
    if (ok(update)) return update;
    if (Date.now() > deadline) throw new Error(`the controller never published the expected models: ${JSON.stringify(update.replicas.map((r) => [r.replicaId, r.modelIds]))}`);
    version = update.version;
  }
}

/** The replicas `n` concurrent calls for `model` landed on. */
async function landing(call: () => PromiseLike<{ replica: string; model: string }>, model: string, n: number): Promise<Set<string>> {
  const results = await Promise.all(Array.from({ length: n }, call));
  assert.ok(results.every((r) => r.model === model));
  return new Set(results.map((r) => r.replica));
}

test("handles: each model's calls go to the replica that loaded it; a new model lands on one and sticks there", async () => {
  const handle = await serve.run(deployment.bind(), { name: "mux-handles", routePrefix: null });
  const forModel = (m: string) => handle.options({ multiplexedModelId: m });
  // Three models one after another: each goes to a replica holding the fewest, so one per replica.
  const home = new Map<string, string>();
  for (const m of ["m1", "m2", "m3"]) home.set(m, (await forModel(m).predict.remote()).replica);
  assert.equal(new Set(home.values()).size, 3, `one model per replica: ${JSON.stringify([...home])}`);
  for (let round = 0; round < 3; round++) {
    for (const m of ["m1", "m2", "m3"]) {
      assert.deepEqual(await landing(() => forModel(m).predict.remote(), m, 4), new Set([home.get(m)]), `round ${round}, model ${m}`);
    }
  }
  // The replicas' reports reached the controller (and so every router).
  await untilPublished("mux-handles", (u) => u.replicas.every((r) => (r.modelIds ?? []).length === 1));
  // A model none holds: some replica, then always that one.
  const first = (await forModel("fresh").predict.remote()).replica;
  for (let i = 0; i < 5; i++) assert.equal((await forModel("fresh").predict.remote()).replica, first);
  assert.deepEqual(await landing(() => forModel("fresh").predict.remote(), "fresh", 4), new Set([first]));
  await untilPublished("mux-handles", (u) => u.replicas.some((r) => r.replicaId === first && (r.modelIds ?? []).includes("fresh")));
  assert.equal((await forModel("fresh").predict.remote()).replica, first);
  await serve.delete("mux-handles");
});

test("HTTP: the header serve_multiplexed_model_id routes to the replica that loaded the model (loaded through a handle); a new model sticks too", async () => {
  const handle = await serve.run(deployment.bind(), { name: "mux-http", routePrefix: "/mux" });
  const home = new Map<string, string>();
  for (const m of ["h1", "h2", "h3"]) home.set(m, (await handle.options({ multiplexedModelId: m }).predict.remote()).replica);
  assert.equal(new Set(home.values()).size, 3);
  // The proxy's router learns the models from the controller: wait until it published all three.
  await untilPublished("mux-http", (u) => [...home].every(([m, r]) => u.replicas.some((x) => x.replicaId === r && (x.modelIds ?? []).includes(m))));
  const get = async (model: string) => {
    const res = await fetch(`${cluster.url()}/mux`, { headers: { serve_multiplexed_model_id: model } });
    assert.equal(res.status, 200);
    return (await res.json()) as { replica: string; model: string };
  };
  for (let round = 0; round < 3; round++) {
    for (const m of ["h1", "h2", "h3"]) {
      assert.deepEqual(await landing(() => get(m), m, 4), new Set([home.get(m)]), `round ${round}, model ${m}`);
    }
  }
  const first = (await get("fresh-http")).replica;
  for (let i = 0; i < 5; i++) assert.equal((await get("fresh-http")).replica, first);
  assert.deepEqual(await landing(() => get("fresh-http"), "fresh-http", 4), new Set([first]));
  await serve.delete("mux-http");
});

test("the choice: holders with room first, else the replicas with room holding the fewest models; an expected model counts as held", () => {
  const replica = (replicaId: string, inFlight: number, models: string[]) => ({ replicaId, inFlight, modelIds: new Set(models) });
  const none = new Map<string, string>();
  const replicas = [replica("a", 0, ["x", "y"]), replica("b", 1, ["z"]), replica("c", 0, [])];
  for (let i = 0; i < 20; i++) {
    assert.equal(chooseReplica(replicas, 2, "x", none)?.replicaId, "a", "the holder");
    assert.equal(chooseReplica(replicas, 2, "new", none)?.replicaId, "c", "none holds it: the one with the fewest models");
    assert.equal(chooseReplica(replicas, 2, "new", new Map([["w", "c"], ["v", "c"]]))?.replicaId, "b", "c expects two models: b holds fewer");
    assert.equal(chooseReplica(replicas, 2, "w", new Map([["w", "b"]]))?.replicaId, "b", "expected where it was sent");
    assert.equal(chooseReplica(replicas, 1, "z", none)?.replicaId !== "b", true, "the holder is full: another replica");
    assert.ok(["a", "b", "c"].includes(chooseReplica(replicas, 2, "", none)!.replicaId));
  }
  assert.equal(chooseReplica([replica("a", 1, ["x"])], 1, "x", none), undefined, "no room: the call waits");
});
