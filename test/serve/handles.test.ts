// Handles: composition (a bound deployment's handle in a constructor, a DeploymentResponse passed
// unawaited), function deployments, Request/Response through fetch.remote, handles passed to
// tasks, streaming, cancel (the replica's signal aborts), result() timeouts, BackPressureError,
// and two replicas sharing the load. One cluster and one Serve instance for the file.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Latch } from "../helpers/latch.js";
import { serveCluster, until } from "../helpers/serve-tests.js";
import { embeddedNode } from "../../src/api/lifecycle.js";

serveCluster({ proxyLocation: "Disabled" });

class Adder {
  constructor(private readonly amount: number) {}
  add(x: number) {
    return x + this.amount;
  }
}
class Multiplier {
  constructor(private readonly factor: number) {}
  multiply(x: number) {
    return x * this.factor;
  }
}
class Pipeline {
  constructor(private readonly adder: serve.DeploymentHandle<Adder>, private readonly multiplier: serve.DeploymentHandle<Multiplier>) {}
  async compute(x: number) {
    // The adder's response goes to the multiplier unawaited: resolved before multiply runs.
    return this.multiplier.multiply.remote(this.adder.add.remote(x));
  }
  pid() {
    return process.pid;
  }
  async viaLookup(x: number) {
    // Inside a replica the application defaults to the replica's own.
    const adder = await serve.getDeploymentHandle<Adder>("Adder");
    return adder.add.remote(x);
  }
}

test("a bound deployment reaches the constructor as a handle; a DeploymentResponse passed unawaited is resolved first", async () => {
  const app = serve.deployment(Pipeline).bind(serve.deployment(Adder).bind(2), serve.deployment(Multiplier).bind(10));
  const handle = await serve.run(app, { name: "pipeline", routePrefix: null });
  assert.equal(await handle.compute.remote(1), 30);
  // At the driver too: one call's response as another's argument.
  const adder = await serve.getDeploymentHandle<Adder>("Adder", "pipeline");
  const multiplier = await serve.getDeploymentHandle<Multiplier>("Multiplier", "pipeline");
  assert.equal(await multiplier.multiply.remote(adder.add.remote(5)), 70);
  assert.notEqual(await handle.pid.remote(), process.pid);
  assert.equal(await handle.viaLookup.remote(1), 3);
  await assert.rejects(serve.getDeploymentHandle("Adder"), /give appName/);
  assert.throws(() => multiplier.multiply.remote([adder.add.remote(1)] as never), /nested/);
  // toObjectRef(): the result's reference, for ray.get and tasks.
  const ref = await adder.add.remote(1).toObjectRef();
  assert.equal(await ray.get(ref), 3);
  assert.equal(await ray.get(ray.remote((x: number) => x * 100).remote(ref)), 300);
  const st = await serve.status();
  assert.deepEqual(Object.keys(st.applications.pipeline!.deployments).sort(), ["Adder", "Multiplier", "Pipeline"]);
  await assert.rejects(serve.getAppHandle("nope"), serve.RayServeError);
  const same = await serve.getAppHandle<Pipeline>("pipeline");
  assert.equal(await same.compute.remote(0), 20);
});

test("a function deployment is called as handle.remote(); a handle passed to a task calls from there", async () => {
  const double = (x: number) => x * 2;
  const handle = await serve.run(serve.deployment(double).bind(), { name: "fn", routePrefix: null });
  assert.equal(await handle.remote(21), 42);
  const viaTask = ray.remote(async function callIt(h: serve.DeploymentHandle<typeof double>) {
    return await h.remote(4);
  });
  assert.equal(await ray.get(viaTask.remote(handle)), 8);
});

class Web {
  async fetch(request: Request) {
    const body = await request.text();
    return new Response(`${request.method} ${new URL(request.url).pathname} ${body}`, { status: 201, headers: { "x-k": "v" } });
  }
}

test("fetch.remote(request) sends the Request whole and returns the Response whole", async () => {
  const handle = await serve.run(serve.deployment(Web).bind(), { name: "web", routePrefix: null });
  const res = await handle.fetch.remote(new Request("http://x/a/b", { method: "POST", body: "hi" }));
  assert.ok(res instanceof Response);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get("x-k"), "v");
  assert.equal(await res.text(), "POST /a/b hi");
});

class Slow {
  cancelled = 0;
  started = 0;
  async *count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }
  async wait() {
    const { signal } = serve.getRequestContext();
    this.started++;
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    this.cancelled++;
    return "aborted";
  }
  cancelledCount() {
    return this.cancelled;
  }
  startedCount() {
    return this.started;
  }
  plain() {
    return 1;
  }
}

test("stream: true gives the generator's values as an async iterable", async () => {
  const handle = await serve.run(serve.deployment(Slow, { maxOngoingRequests: 10 }).bind(), { name: "slow", routePrefix: null });
  const values: number[] = [];
  for await (const v of handle.options({ stream: true }).count.remote(5)) values.push(v);
  assert.deepEqual(values, [0, 1, 2, 3, 4]);
  // Leaving early is fine too.
  for await (const v of handle.options({ stream: true }).count.remote(1000)) if (v === 2) break;
  await assert.rejects(async () => {
    for await (const _ of (handle.options({ stream: true }) as unknown as serve.StreamingDeploymentHandle<any>).plain.remote()) { /* nothing */ }
  }, /not a generator/);
});

test("cancel() rejects with RequestCancelledError and aborts the replica's request signal", async () => {
  const handle = await serve.getAppHandle<Slow>("slow");
  const response = handle.wait.remote();
  // Running on the replica (and listening to its signal) before it is cancelled.
  for (let i = 0; i < 200 && (await handle.startedCount.remote()) < 1; i++) await new Promise((r) => setTimeout(r, 25));
  response.cancel();
  await assert.rejects(response.result(), serve.RequestCancelledError);
  await assert.rejects(response.result(), serve.RequestCancelledError);
  // The replica saw the abort (its count goes up once the signal fired).
  for (let i = 0; i < 100 && (await handle.cancelledCount.remote()) < 1; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await handle.cancelledCount.remote(), 1);
});

class Outer {
  constructor(private readonly inner: serve.DeploymentHandle<Slow>) {}
  async relay() {
    return this.inner.wait.remote();
  }
}

test("cancelling a call cancels the handle calls it made (the downstream replica's signal aborts)", async () => {
  const handle = await serve.run(serve.deployment(Outer).bind(serve.deployment(Slow, { maxOngoingRequests: 10 }).bind()), { name: "outer", routePrefix: null });
  const inner = await serve.getDeploymentHandle<Slow>("Slow", "outer");
  const response = handle.relay.remote();
  for (let i = 0; i < 200 && (await inner.startedCount.remote()) < 1; i++) await new Promise((r) => setTimeout(r, 25));
  response.cancel();
  await assert.rejects(response.result(), serve.RequestCancelledError);
  for (let i = 0; i < 200 && (await inner.cancelledCount.remote()) < 1; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(await inner.cancelledCount.remote(), 1);
  await serve.deleteApp("outer");
});

test("result({ timeoutMs }) throws GetTimeoutError; the call goes on", async () => {
  const handle = await serve.getAppHandle<Slow>("slow");
  const response = handle.wait.remote();
  await assert.rejects(response.result({ timeoutMs: 50 }), ray.GetTimeoutError);
  response.cancel();
  await assert.rejects(response.result(), serve.RequestCancelledError);
});

const LatchActor = ray.remote(Latch);
class Gate {
  constructor(private readonly latch: ray.ActorHandle<Latch>) {}
  async hold() {
    await ray.get(this.latch.wait.remote());
    return process.pid;
  }
}

test("maxOngoingRequests holds calls at the caller; past maxQueuedRequests: BackPressureError", async () => {
  const latch = LatchActor.options({ maxConcurrency: 10 }).remote();
  const handle = await serve.run(serve.deployment(Gate, { maxOngoingRequests: 1, maxQueuedRequests: 1 }).bind(latch), { name: "gate", routePrefix: null });
  const first = handle.hold.remote(); // runs (and holds the one slot)
  await first.toObjectRef();
  const second = handle.hold.remote(); // queued at this caller
  const third = handle.hold.remote(); // past the queue
  await assert.rejects(third.result(), serve.BackPressureError);
  await ray.get(latch.open.remote());
  assert.equal(typeof (await first), "number");
  assert.equal(typeof (await second), "number");
});

class Who {
  async who() {
    await new Promise((r) => setTimeout(r, 20));
    return serve.getReplicaContext().replicaId;
  }
}

test("two replicas share the load", async () => {
  const handle = await serve.run(serve.deployment(Who, { numReplicas: 2 }).bind(), { name: "who", routePrefix: null });
  const ids = await Promise.all(Array.from({ length: 40 }, () => handle.who.remote()));
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  assert.equal(counts.size, 2, `both replicas served: ${JSON.stringify([...counts])}`);
  const st = await serve.status();
  assert.equal(st.applications.who!.deployments.Who!.replicas.length, 2);
});

// Every call waits here until `n` have arrived: they can only all return if `n` run at once.
class Rendezvous {
  #arrived = 0;
  #all!: () => void;
  readonly #allArrived = new Promise<void>((r) => { this.#all = r; });
  async arrive(n: number) {
    if (++this.#arrived >= n) this.#all();
    await this.#allArrived;
  }
}
class Meet {
  constructor(private readonly rendezvous: ray.ActorHandle<Rendezvous>) {}
  async meet(n: number) {
    await ray.get(this.rendezvous.arrive.remote(n));
    return process.pid;
  }
}

test("maxOngoingRequests raised in place: the same replica runs that many calls at once", { timeout: 120_000 }, async () => {
  const rendezvous = ray.remote(Rendezvous).options({ maxConcurrency: 100 }).remote();
  const handle = await serve.run(serve.deployment(Meet, { maxOngoingRequests: 1 }).bind(rendezvous), { name: "meet", routePrefix: null });
  const pid = (await serve.status()).applications.meet!.deployments.Meet!.replicas[0]!.pid;
  await serve.run(serve.deployment(Meet, { maxOngoingRequests: 60 }).bind(rendezvous), { name: "meet", routePrefix: null });
  const pids = await Promise.all(Array.from({ length: 60 }, () => handle.meet.remote(60)));
  assert.deepEqual(new Set(pids), new Set([pid]));
});

// Counts passes; reached(n) returns once n passed.
class Turnstile {
  #passed = 0;
  readonly #waiting: [number, () => void][] = [];
  pass() {
    this.#passed++;
    for (const [n, resolve] of this.#waiting) if (this.#passed >= n) resolve();
  }
  async reached(n: number) {
    if (this.#passed < n) await new Promise<void>((resolve) => this.#waiting.push([n, resolve]));
  }
}
class Busy {
  constructor(private readonly latch: ray.ActorHandle<Latch>, private readonly turnstile: ray.ActorHandle<Turnstile>) {}
  async hold() {
    await ray.get(this.turnstile.pass.remote());
    await ray.get(this.latch.wait.remote());
    return serve.getReplicaContext().replicaId;
  }
  who() {
    return serve.getReplicaContext().replicaId;
  }
}

test("a replica full of another caller's calls refuses more, before they run: they wait at their caller, then run there", { timeout: 120_000 }, async () => {
  const latch = LatchActor.options({ maxConcurrency: 10 }).remote();
  const turnstile = ray.remote(Turnstile).options({ maxConcurrency: 10 }).remote();
  const handle = await serve.run(serve.deployment(Busy, { maxOngoingRequests: 1 }).bind(latch, turnstile), { name: "busy", routePrefix: null });
  const held = handle.hold.remote(); // takes the replica's one slot
  await ray.get(turnstile.reached.remote(1));
  // Another caller (a task, with a router of its own that does not know of `held`) sends a call
  // there: the replica refuses it (a failed attempt in the node's task list) rather than queue it,
  // where the replica's death would fail it; the call waits at that caller.
  const fromTask = ray.remote(async function callBusy(h: serve.DeploymentHandle<Busy>) {
    const response = h.who.remote();
    // The reference toObjectRef() gives follows the call past its refused first attempt.
    const ref = await response.toObjectRef();
    return [await response, await ray.get(ref)];
  });
  const other = fromTask.remote(handle);
  await until("a refusal of the full replica", async () =>
    embeddedNode()!.raylet.events.rows().some((r) => r.error_type === "ServeReplicaFullRefusal") || undefined, 30_000);
  await ray.get(latch.open.remote());
  const replicaId = await held;
  assert.deepEqual(await ray.get(other), [replicaId, replicaId], "run by the replica once it had room; its reference is that run's");
});
