// No call lost while replicas are drained: under a steady stream of concurrent calls (handles and
// HTTP), a scale-down from 3 replicas to 1, a rolling update and a delete-and-rerun fail no call
// (a stopping replica refuses new calls, which its callers send elsewhere; during the delete, the
// calls made while the application does not exist get the contract's DeploymentUnavailableError,
// 404 or 503). A replica SIGKILLed while calls wait for it at the router: those calls succeed on
// the others. And the retry rule itself: which failures send a call to another replica.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Gate } from "../helpers/gate.js";
import { serveCluster, until } from "../helpers/serve-tests.js";
import { afterFailure, ReplicaStoppingRefusal } from "../../src/serve/retry-rule.js";

const cluster = serveCluster();

class Worker {
  constructor(private readonly version: string) {}
  async work(): Promise<{ replica: string; version: string }> {
    await new Promise((r) => setTimeout(r, 2)); // a call stays in flight a little
    return { replica: serve.getReplicaContext().replicaId, version: this.version };
  }
  fetch(): Promise<{ replica: string; version: string }> {
    return this.work();
  }
  echo<T>(value: T): T {
    return value;
  }
}

/** Concurrent loops of calls, each the next as soon as the last settled; outcomes counted. */
class Load {
  ok = 0;
  /** Calls refused because the application did not exist (allowed only while `gap`). */
  unavailable = 0;
  readonly failures: string[] = [];
  readonly versions = new Set<string>();
  gap = false;
  #stopped = false;
  readonly #loops: Promise<void>[] = [];
  readonly #waiters: { until: number; resolve(): void }[] = [];

  constructor(private readonly handle: serve.DeploymentHandle<Worker>, private readonly url: string) {}

  /** `composed` loops pass one call's response into another call. */
  start(handleLoops: number, httpLoops: number, composedLoops: number): void {
    for (let i = 0; i < handleLoops; i++) this.#loops.push(this.#handleLoop(false));
    for (let i = 0; i < composedLoops; i++) this.#loops.push(this.#handleLoop(true));
    for (let i = 0; i < httpLoops; i++) this.#loops.push(this.#httpLoop());
  }

  /** Resolves once `n` more calls succeeded. */
  successes(n: number): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ until: this.ok + n, resolve }));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
  }

  #succeeded(result: { version: string }): void {
    this.ok++;
    this.versions.add(result.version);
    for (const w of this.#waiters.filter((x) => this.ok >= x.until)) {
      this.#waiters.splice(this.#waiters.indexOf(w), 1);
      w.resolve();
    }
  }

  async #refused(): Promise<void> {
    this.unavailable++;
    await new Promise((r) => setTimeout(r, 20)); // no busy loop while the app is gone
  }

  async #handleLoop(composed: boolean): Promise<void> {
    while (!this.#stopped) {
      try {
        this.#succeeded(await (composed ? this.handle.echo.remote(this.handle.work.remote()) as PromiseLike<{ version: string }> : this.handle.work.remote()));
      } catch (err) {
        if (this.gap && err instanceof serve.DeploymentUnavailableError) await this.#refused();
        else this.failures.push(`handle: ${(err as Error).name}: ${(err as Error).message}`);
      }
    }
  }

  async #httpLoop(): Promise<void> {
    while (!this.#stopped) {
      try {
        const res = await fetch(`${this.url}/drain`);
        const body = await res.text();
        if (res.status === 200) this.#succeeded(JSON.parse(body));
        else if (this.gap && (res.status === 404 || res.status === 503)) await this.#refused();
        else this.failures.push(`http: ${res.status} ${body}`);
      } catch (err) {
        this.failures.push(`http: ${(err as Error).message}`);
      }
    }
  }
}


const replicasOf = async (app: string) => (await serve.status()).applications[app]?.deployments.Worker?.replicas ?? [];

test("a steady stream of calls over handles (also composed) and HTTP: scale 3 -> 1, a rolling update, delete and run again: no call fails", async () => {
  const worker = serve.deployment(Worker, { numReplicas: 3, maxOngoingRequests: 4 });
  const handle = await serve.run(worker.bind("v1"), { name: "drain", routePrefix: "/drain" });
  const load = new Load(handle, cluster.url());
  load.start(5, 3, 2);
  try {
    await load.successes(50);

    // Scale down in place: two replicas drain while the calls go on.
    await serve.run(worker.options({ numReplicas: 1 }).bind("v1"), { name: "drain", routePrefix: "/drain" });
    await until("one replica left", async () => ((await replicasOf("drain")).length === 1 ? true : undefined));
    await load.successes(50);
    assert.deepEqual(load.failures, [], "scale-down");

    // A rolling update (new bound argument): the new replica runs before the old one drains.
    await serve.run(worker.options({ numReplicas: 1 }).bind("v2"), { name: "drain", routePrefix: "/drain" });
    await until("the old replica gone", async () => {
      const replicas = await replicasOf("drain");
      return replicas.length === 1 && replicas[0]!.state === "RUNNING" ? true : undefined;
    });
    const before = load.ok;
    await load.successes(50);
    assert.ok(load.versions.has("v2") && load.ok > before);
    assert.deepEqual(load.failures, [], "rolling update");

    // Delete and run again: calls in flight finish; calls while it is gone are refused as the contract says.
    load.gap = true;
    await serve.delete("drain");
    assert.deepEqual(load.failures, [], "delete");
    await serve.run(worker.options({ numReplicas: 2 }).bind("v3"), { name: "drain", routePrefix: "/drain" });
    await until("calls served by the new application", async () => (load.versions.has("v3") ? true : undefined));
    await load.successes(30);
    load.gap = false;
    await load.successes(50);
  } finally {
    await load.stop();
  }
  assert.deepEqual(load.failures, []);
  assert.ok(load.ok > 200, `${load.ok} calls served`);
  await serve.delete("drain");
});

const GateActor = ray.remote(Gate);
class Blocker {
  constructor(private readonly gate: ray.ActorHandle<Gate>) {}
  async hold(key: string): Promise<string> {
    await ray.get(this.gate.open.remote(`started:${key}`));
    await ray.get(this.gate.wait.remote(key));
    return serve.getReplicaContext().replicaId;
  }
  quick(): string {
    return serve.getReplicaContext().replicaId;
  }
  /** ?hold=KEY holds like hold(); else quick(). */
  fetch(request: Request): Promise<string> | string {
    const key = new URL(request.url).searchParams.get("hold");
    return key === null ? this.quick() : this.hold(key);
  }
}

test("a replica SIGKILLed while calls wait for it at the router: those calls succeed on the other replicas", async () => {
  const gate = GateActor.options({ maxConcurrency: 100 }).remote();
  const handle = await serve.run(serve.deployment(Blocker, { numReplicas: 2, maxOngoingRequests: 1 }).bind(gate), { name: "sigkill", routePrefix: null });
  const replicas = (await serve.status()).applications.sigkill!.deployments.Blocker!.replicas;
  // One held call on each replica (each holds one at most), then calls that wait at the router.
  const held = ["a", "b"].map((key) => handle.hold.remote(key).then((replica) => ({ replica }), (err: unknown) => ({ err })));
  await ray.get([gate.wait.remote("started:a"), gate.wait.remote("started:b")]);
  const queued = Array.from({ length: 6 }, () => handle.quick.remote());
  const victim = replicas[0]!;
  process.kill(victim.pid, "SIGKILL");
  await ray.get([gate.open.remote("a"), gate.open.remote("b")]);
  // The held call on the victim fails (it was running: never retried); the other one finishes.
  const outcomes = await Promise.all(held);
  const failed = outcomes.filter((o) => "err" in o);
  assert.equal(failed.length, 1, JSON.stringify(outcomes));
  assert.ok(failed[0]!.err instanceof ray.RayActorError, String(failed[0]!.err));
  const served = await Promise.all(queued);
  assert.equal(served.length, 6);
  assert.ok(!served.includes(victim.replicaId), "no queued call ran on the victim");
  await serve.delete("sigkill");
});

test("over HTTP too: requests waiting at the proxy for a SIGKILLed replica are served by the others", async () => {
  const gate = GateActor.options({ maxConcurrency: 100 }).remote();
  await serve.run(serve.deployment(Blocker, { numReplicas: 2, maxOngoingRequests: 1 }).bind(gate), { name: "sigkill-http", routePrefix: "/sigkill" });
  const replicas = (await serve.status()).applications["sigkill-http"]!.deployments.Blocker!.replicas;
  const get = (query: string) => fetch(`${cluster.url()}/sigkill${query}`).then(async (res) => ({ status: res.status, body: await res.text() }));
  const held = ["ha", "hb"].map((key) => get(`?hold=${key}`));
  await ray.get([gate.wait.remote("started:ha"), gate.wait.remote("started:hb")]);
  const queued = Array.from({ length: 6 }, () => get(""));
  const victim = replicas[0]!;
  process.kill(victim.pid, "SIGKILL");
  await ray.get([gate.open.remote("ha"), gate.open.remote("hb")]);
  const outcomes = await Promise.all(held);
  assert.deepEqual(outcomes.map((o) => o.status).sort(), [200, 500], JSON.stringify(outcomes));
  assert.match(outcomes.find((o) => o.status === 500)!.body, /RayActorError/);
  const served = await Promise.all(queued);
  assert.ok(served.every((r) => r.status === 200), JSON.stringify(served));
  assert.ok(!served.some((r) => r.body === victim.replicaId), "no queued request ran on the victim");
  await serve.delete("sigkill-http");
});

test("the retry rule: a call goes to another replica only when it never ran on its own", async () => {
  const gone: string[] = [];
  const router = (fate: "drained" | "died") => ({ markGone: (id: string) => void gone.push(id), fateOf: async () => fate });
  const dead = async () => { throw new ray.ActorDiedError("actor ServeReplica was killed"); };
  const alive = async () => ({ pid: 1 });
  const refusedBy = (id: string) => new ray.RayTaskError("ServeReplica.handleRequest", new ReplicaStoppingRefusal(id, "Worker"));
  assert.equal(await afterFailure(router("died"), "r1", refusedBy("r1"), alive), "elsewhere", "refused by its stopping replica");
  assert.equal(await afterFailure(router("died"), "r1", refusedBy("other"), alive), "arguments", "an argument's call was refused by another replica");
  assert.equal(await afterFailure(router("died"), "r2", new ray.ActorDiedError("actor was killed"), dead), "elsewhere", "never reached the actor");
  assert.equal(await afterFailure(router("drained"), "r3", new ray.RayActorError("killed while running"), dead), "elsewhere", "killed after drain() answered every started call");
  assert.equal(await afterFailure(router("died"), "r4", new ray.RayActorError("crashed while running"), dead), "fail", "may have run: not retried");
  assert.equal(await afterFailure(router("died"), "r5", new ray.ActorDiedError("an argument's actor died"), alive), "arguments", "the replica lives: the error is an argument's");
  assert.equal(await afterFailure(router("drained"), "r6", new ray.RayTaskError("m", new Error("user error")), dead), "fail", "the method threw");
  assert.deepEqual(gone, ["r1", "r2", "r3", "r4"]);
});
