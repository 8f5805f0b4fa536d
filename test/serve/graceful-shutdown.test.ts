// Graceful shutdown: deleting an application or scaling down waits for the requests in flight
// (up to gracefulShutdownTimeoutMs) and their results reach the callers, over handles and HTTP;
// a request still running when that timeout passes is cut off, its caller getting an error that
// says so, and delete() resolves. Requests are held by latches; the tests assert on outcomes.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Latch } from "../helpers/latch.js";
import { serveCluster, until } from "../helpers/serve-tests.js";

const cluster = serveCluster();
const LatchActor = ray.remote(Latch);
const latch = () => LatchActor.options({ maxConcurrency: 100 }).remote();
type LatchHandle = ray.ActorHandle<Latch>;

class Held {
  constructor(private readonly release: LatchHandle) {}
  /** Says it started, then waits for the release. */
  async hold(started: LatchHandle): Promise<string> {
    await ray.get(started.open.remote());
    await ray.get(this.release.wait.remote());
    return `done on ${serve.getReplicaContext().replicaId}`;
  }
  async fetch(request: Request): Promise<string> {
    const started = (await ray.getActor(new URL(request.url).searchParams.get("started")!, { namespace: "graceful-test" })) as LatchHandle;
    return this.hold(started);
  }
}


/** A held HTTP request: its `started` latch is a named actor the ingress finds. */
function heldHttp(prefix: string, name: string): { started: LatchHandle; response: Promise<{ status: number; body: string }> } {
  const started = LatchActor.options({ name, namespace: "graceful-test", maxConcurrency: 100 }).remote();
  const response = fetch(`${cluster.url()}${prefix}?started=${name}`).then(async (res) => ({ status: res.status, body: await res.text() }));
  return { started, response };
}

const replicaStates = async (app: string) => (await serve.status()).applications[app]?.deployments.Held?.replicas.map((r) => r.state) ?? [];

test("delete() waits for the requests in flight: their results reach the callers (handle and HTTP)", async () => {
  const release = latch();
  const handle = await serve.run(serve.deployment(Held, { gracefulShutdownTimeoutMs: 120_000 }).bind(release), { name: "graceful", routePrefix: "/graceful" });
  const started = latch();
  const call = handle.hold.remote(started);
  const http = heldHttp("/graceful", "graceful-started");
  await ray.get([started.wait.remote(), http.started.wait.remote()]);
  const deleting = serve.delete("graceful");
  await until("the replica stopping", async () => ((await replicaStates("graceful")).includes("STOPPING") ? true : undefined));
  await ray.get(release.open.remote());
  assert.match(await call, /^done on /);
  assert.deepEqual({ ...(await http.response), body: (await http.response).body.replace(/ on .*/, "") }, { status: 200, body: "done" });
  await deleting;
  assert.equal((await serve.status()).applications.graceful, undefined);
});

/** Two replicas, one held call on each (so the one that stops has one), then scaled down to one. */
async function scaleDownWhileHeld(name: string) {
  const release = latch();
  const deployment = serve.deployment(Held, { numReplicas: 2, maxOngoingRequests: 1, gracefulShutdownTimeoutMs: 120_000 });
  const handle = await serve.run(deployment.bind(release), { name, routePrefix: null });
  const started = [latch(), latch()];
  const calls = started.map((s) => handle.hold.remote(s));
  await ray.get(started.map((s) => s.wait.remote()));
  await serve.run(deployment.options({ numReplicas: 1 }).bind(release), { name, routePrefix: null });
  return { release, calls };
}

test("a scale-down waits for the requests in flight on the replicas it stops", async () => {
  const { release, calls } = await scaleDownWhileHeld("scaledown");
  await until("a replica stopping", async () => ((await replicaStates("scaledown")).includes("STOPPING") ? true : undefined));
  await ray.get(release.open.remote());
  const results = await Promise.all(calls);
  assert.equal(new Set(results).size, 2, `both replicas answered: ${results}`);
  await until("the stopped replica gone", async () => ((await replicaStates("scaledown")).length === 1 ? true : undefined));
  await serve.delete("scaledown");
});

test("past gracefulShutdownTimeoutMs a request still running is cut off: its caller gets an error saying so, and delete() resolves", async () => {
  const never = latch(); // never opened
  const handle = await serve.run(serve.deployment(Held, { gracefulShutdownTimeoutMs: 200 }).bind(never), { name: "cut", routePrefix: "/cut" });
  const started = latch();
  const call = handle.hold.remote(started).then(() => undefined, (err: unknown) => err);
  const http = heldHttp("/cut", "cut-started");
  await ray.get([started.wait.remote(), http.started.wait.remote()]);
  await serve.delete("cut");
  const err = await call;
  assert.ok(err instanceof serve.RayServeError, String(err));
  assert.match((err as Error).message, /cut off/);
  assert.match((err as Error).message, /gracefulShutdownTimeoutMs \(200 ms\)/);
  const res = await http.response;
  assert.equal(res.status, 500);
  assert.match(res.body, /cut off/);
  assert.equal((await serve.status()).applications.cut, undefined);
});

test("a controller killed while a replica drains: its replacement drains and stops that replica too (the held request still gets its result)", async () => {
  const { release, calls } = await scaleDownWhileHeld("restart");
  const stopping = await until("a replica stopping", async () =>
    (await serve.status()).applications.restart?.deployments.Held?.replicas.find((r) => r.state === "STOPPING"));
  await ray.kill(await ray.getActor("SERVE_CONTROLLER_ACTOR", { namespace: "serve" }), { noRestart: false });
  // The new controller took the stopping replica over, still stopping.
  await until("the stopping replica taken over", async () => {
    const st = await serve.status().catch(() => undefined);
    return st?.applications.restart?.deployments.Held?.replicas.some((r) => r.replicaId === stopping.replicaId && r.state === "STOPPING") ? true : undefined;
  });
  await ray.get(release.open.remote());
  assert.equal(new Set(await Promise.all(calls)).size, 2, "both held calls answered");
  await until("the stopped replica gone and its process exited", async () => {
    const replicas = (await serve.status()).applications.restart?.deployments.Held?.replicas ?? [];
    if (replicas.some((r) => r.replicaId === stopping.replicaId)) return undefined;
    try {
      process.kill(stopping.pid, 0);
      return undefined;
    } catch {
      return true;
    }
  });
  await serve.delete("restart");
});
