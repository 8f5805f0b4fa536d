// Autoscaling: replicas follow the ongoing requests the callers' routers report (held calls scale
// a deployment up to maxReplicas, idle it goes back to minReplicas, no call lost meanwhile), the
// decision logic's window and delays, and autoscalingConfig's option errors.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Autoscaler } from "../../src/serve/autoscaler.js";
import { resolveOptions } from "../../src/serve/options.js";
import { Latch } from "../helpers/latch.js";
import { serveCluster, until } from "../helpers/serve-tests.js";

const cluster = serveCluster();

class Plain {
  hello() {
    return "hello";
  }
}

test("autoscalingConfig errors name the field", () => {
  const bad = (a: unknown, type: typeof TypeError | typeof RangeError, field: RegExp) =>
    assert.throws(() => serve.deployment(Plain, { autoscalingConfig: a as serve.AutoscalingConfig }), (e: Error) => e instanceof type && field.test(e.message), JSON.stringify(a));
  bad({ minReplica: 1 }, TypeError, /minReplica/);
  bad({ minReplicas: "1" }, TypeError, /autoscalingConfig\.minReplicas/);
  bad({ minReplicas: -1 }, RangeError, /autoscalingConfig\.minReplicas/);
  bad({ maxReplicas: 1.5 }, RangeError, /autoscalingConfig\.maxReplicas/);
  bad({ targetOngoingRequests: 0 }, RangeError, /autoscalingConfig\.targetOngoingRequests/);
  bad({ metricsIntervalMs: -5 }, RangeError, /autoscalingConfig\.metricsIntervalMs/);
  bad({ minReplicas: 1, maxReplicas: 3, initialReplicas: 4 }, RangeError, /autoscalingConfig\.initialReplicas|initialReplicas/);
  bad({ minReplicas: 2 }, RangeError, /autoscalingConfig\.maxReplicas/); // default maxReplicas is 1
  assert.doesNotThrow(() => serve.deployment(Plain, { numReplicas: "auto", autoscalingConfig: { minReplicas: 2 } })); // "auto": maxReplicas 100
});

test("the defaults: Ray Serve's; numReplicas \"auto\" autoscales up to 100, a number does not autoscale", () => {
  assert.deepEqual(resolveOptions({ numReplicas: "auto" }).autoscaling, {
    minReplicas: 1, initialReplicas: 1, maxReplicas: 100, targetOngoingRequests: 2,
    metricsIntervalMs: 10_000, lookBackPeriodMs: 30_000, upscaleDelayMs: 30_000, downscaleDelayMs: 600_000,
  });
  const o = resolveOptions({ autoscalingConfig: { minReplicas: 2, initialReplicas: 3, maxReplicas: 4 } });
  assert.equal(o.numReplicas, 3);
  assert.equal(o.autoscaling!.maxReplicas, 4);
  assert.equal(resolveOptions({ autoscalingConfig: {} }).autoscaling!.maxReplicas, 1);
  assert.equal(resolveOptions({ numReplicas: 2 }).autoscaling, undefined);
  assert.equal(resolveOptions({}).autoscaling, undefined);
});

const config = { minReplicas: 1, initialReplicas: 1, maxReplicas: 3, targetOngoingRequests: 2, metricsIntervalMs: 100, lookBackPeriodMs: 1000, upscaleDelayMs: 300, downscaleDelayMs: 500 };

test("the decision: reports averaged over the window and summed over routers, clamped, applied once it held for the delay", () => {
  const a = new Autoscaler(config, -1000); // a window's reports ago: deciding
  assert.equal(a.target, 1);
  a.record("r1", 4, 0);
  a.record("r2", 2, 0); // 6 ongoing / 2 per replica = 3
  assert.equal(a.decide(0), false); // up must hold 300 ms
  a.record("r1", 4, 200);
  a.record("r2", 2, 200);
  assert.equal(a.decide(200), false);
  assert.equal(a.decide(300), true);
  assert.equal(a.target, 3);
  a.record("r1", 40, 400); // r1 averages (4+4+40)/3 = 16: clamped to maxReplicas
  assert.equal(a.decide(400), false);
  assert.equal(a.target, 3);
  // Nothing reported after 400: the window empties at 1400, down must then hold 500 ms.
  assert.equal(a.decide(1300), false);
  assert.equal(a.decide(1500), false);
  assert.equal(a.ongoing(1500), 0);
  assert.equal(a.decide(1999), false);
  assert.equal(a.decide(2000), true);
  assert.equal(a.target, 1); // minReplicas
  // New bounds (an update) clamp the decision and restart the delay.
  a.record("r1", 6, 2100);
  assert.equal(a.decide(2100), false);
  a.configure({ ...config, maxReplicas: 2 });
  assert.equal(a.decide(2300), false);
  assert.equal(a.decide(2599), false);
  assert.equal(a.decide(2600), true);
  assert.equal(a.target, 2);
  // A decision that flips direction restarts its delay.
  const b = new Autoscaler({ ...config, initialReplicas: 2 }, -1000);
  b.record("r", 0, 0);
  assert.equal(b.decide(0), false); // down pending since 0
  b.record("r", 12, 400); // average 6: up
  assert.equal(b.decide(400), false); // up pending since 400
  for (let t = 410; t <= 450; t += 10) b.record("r", 0, t); // average 12/7: down again, pending since 450
  assert.equal(b.decide(450), false);
  assert.equal(b.decide(949), false); // had the first down's delay gone on, it would have applied at 500
  assert.equal(b.decide(950), true);
  assert.equal(b.target, 1);
  // A new one (or a restarted controller's) decides nothing before a whole window of reports.
  const c = new Autoscaler(config, 0);
  assert.equal(c.decide(999), false);
  assert.equal(c.target, 1);
  c.record("r", 6, 1000);
  assert.equal(c.decide(1000), false); // up pending
  assert.equal(c.decide(1300), true);
  assert.equal(c.target, 3);
});

const LatchActor = ray.remote(Latch);
class Held {
  constructor(private readonly latch: ray.ActorHandle<Latch>) {}
  async hold() {
    await ray.get(this.latch.wait.remote());
    return serve.getReplicaContext().replicaId;
  }
  quick() {
    return serve.getReplicaContext().replicaId;
  }
  fetch() {
    return new Response(serve.getReplicaContext().replicaId);
  }
}


test("held calls scale a deployment up to maxReplicas; once they finish it goes back to minReplicas, no call lost", async () => {
  const latch = LatchActor.options({ maxConcurrency: 20 }).remote();
  const autoscalingConfig = { minReplicas: 1, maxReplicas: 3, targetOngoingRequests: 1, metricsIntervalMs: 100, lookBackPeriodMs: 500, upscaleDelayMs: 0, downscaleDelayMs: 0 };
  const handle = await serve.run(serve.deployment(Held, { autoscalingConfig }).bind(latch), { name: "auto", routePrefix: null });
  const dep = async () => (await serve.status()).applications.auto!.deployments.Held!;
  assert.equal((await dep()).targetNumReplicas, 1);
  const held = [0, 1, 2, 3].map(() => handle.hold.remote());
  const seen = new Set<string>();
  const appStatuses = new Set<string>();
  await until("3 replicas running", async () => {
    const st = await serve.status();
    const d = st.applications.auto!.deployments.Held!;
    seen.add(d.status);
    appStatuses.add(st.applications.auto!.status);
    return d.targetNumReplicas === 3 && d.status === "HEALTHY" && d.replicas.filter((r) => r.state === "RUNNING").length === 3 ? d : undefined;
  });
  assert.ok(seen.has("UPSCALING"), [...seen].join());
  assert.deepEqual([...appStatuses], ["RUNNING"]); // scaling is not redeploying
  // A restarted controller goes on from the 3 replicas it takes over (same processes), not from initialReplicas.
  const pids = (await dep()).replicas.map((r) => r.pid).sort();
  await ray.kill(await ray.getActor("SERVE_CONTROLLER_ACTOR", { namespace: "serve" }), { noRestart: false });
  await until("the restarted controller", async () => (await serve.status().catch(() => undefined))?.applications.auto?.deployments.Held);
  // Past a whole window of reports (lookBackPeriodMs 500): still 3, the same ones.
  const deadline = Date.now() + 1500;
  while (Date.now() < deadline) {
    const d = await dep();
    assert.equal(d.targetNumReplicas, 3);
    assert.deepEqual(d.replicas.map((r) => r.pid).sort(), pids);
    await new Promise((r) => setTimeout(r, 50));
  }
  await ray.get(latch.open.remote());
  const ids = await Promise.all(held.map((r) => r.result()));
  assert.equal(ids.length, 4);
  // Calls go on while it scales down: every one succeeds.
  let served = 0;
  const final = await until("back to 1 replica", async () => {
    await handle.quick.remote().result();
    served++;
    const d = await dep();
    return d.targetNumReplicas === 1 && d.status === "HEALTHY" && d.replicas.length === 1 ? d : undefined;
  });
  assert.equal(final.replicas[0]!.state, "RUNNING");
  assert.ok(served > 0);
  await serve.deleteApp("auto");
});

test("minReplicas 0: idle it runs no replica; a call (handle, then HTTP) waits at the caller for a cold start, then it scales to zero again", async () => {
  const autoscalingConfig = { minReplicas: 0, maxReplicas: 2, targetOngoingRequests: 1, metricsIntervalMs: 100, lookBackPeriodMs: 300, upscaleDelayMs: 0, downscaleDelayMs: 0 };
  const handle = await serve.run(serve.deployment(Held, { autoscalingConfig }).bind(null as never), { name: "zero", routePrefix: "/zero" });
  const dep = async () => (await serve.status()).applications.zero!.deployments.Held!;
  const idle = await dep();
  assert.equal(idle.targetNumReplicas, 0);
  assert.equal(idle.replicas.length, 0);
  assert.equal((await serve.status()).applications.zero!.status, "RUNNING");
  const replicaId = await handle.quick.remote().result();
  assert.equal(typeof replicaId, "string");
  const scaledToZero = () => until("scaled to zero again", async () => {
    const d = await dep();
    return d.targetNumReplicas === 0 && d.replicas.length === 0 ? d : undefined;
  });
  await scaledToZero();
  // The proxy's router reports its waiting request the same way.
  const res = await fetch(`${cluster.url()}/zero`);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /^[0-9a-f]{8}$/);
  await scaledToZero();
  await serve.deleteApp("zero");
});
