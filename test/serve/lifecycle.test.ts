// Deployments' lifecycle: options refused by name, DEPLOY_FAILED naming the constructor's error,
// status/delete/shutdown (the port free after), a SIGKILLed replica replaced while traffic goes
// on, a replica failing its health checks replaced, userConfig applied in place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { serveCluster } from "../helpers/serve-tests.js";

serveCluster(); // port 0, not 8000: it may be taken

class Plain {
  hello() {
    return "hello";
  }
}

test("bad options throw at once: TypeError for unknown names and wrong types, RangeError out of range, each naming the option", () => {
  assert.throws(() => serve.deployment(Plain, { numReplica: 2 } as never), (e: Error) => e instanceof TypeError && /numReplica/.test(e.message));
  assert.throws(() => serve.deployment(Plain, { numReplicas: "2" as never }), (e: Error) => e instanceof TypeError && /numReplicas/.test(e.message));
  assert.throws(() => serve.deployment(Plain, { numReplicas: -1 }), (e: Error) => e instanceof RangeError && /numReplicas/.test(e.message));
  assert.throws(() => serve.deployment(Plain, { maxOngoingRequests: 0 }), (e: Error) => e instanceof RangeError && /maxOngoingRequests/.test(e.message));
  assert.throws(() => serve.deployment(Plain, { numReplicas: 2, autoscalingConfig: {} }), (e: Error) => e instanceof TypeError && /autoscalingConfig/.test(e.message));
  assert.throws(() => serve.deployment(Plain, { autoscalingConfig: { minReplicas: 3, maxReplicas: 2 } }), (e: Error) => e instanceof RangeError && /autoscalingConfig\.maxReplicas/.test(e.message));
  assert.throws(() => serve.deployment(Plain, { userConfig: { f: () => 1 } as never }), (e: Error) => e instanceof TypeError && /userConfig/.test(e.message));
  assert.throws(() => serve.deployment(Plain).options({ healthCheckPeriodMs: "x" as never }), (e: Error) => e instanceof TypeError && /healthCheckPeriodMs/.test(e.message));
  assert.throws(() => (serve.deployment(Plain) as serve.Deployment<Plain, [unknown]>).bind(() => 1), (e: Error) => e instanceof TypeError && /argument 0 is a function/.test(e.message));
  assert.throws(() => serve.deployment((() => 1) as () => number), /has no name: give option name/);
  const d = serve.deployment(Plain, { numReplicas: 2 }).options({ name: "Renamed" });
  assert.equal(d.name, "Renamed");
});

class Broken {
  constructor() {
    throw new SyntaxError("no model file");
  }
}

test("a constructor that always throws: run() rejects with RayServeError naming the deployment and the error, cause set", async () => {
  const err = await serve.run(serve.deployment(Broken, { maxConstructorRetryCount: 2 }).bind(), { name: "broken", routePrefix: null }).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof serve.RayServeError, String(err));
  assert.match((err as Error).message, /Broken/);
  assert.match((err as Error).message, /SyntaxError: no model file/);
  assert.equal(((err as Error).cause as Error).name, "SyntaxError");
  const st = await serve.status();
  assert.equal(st.applications.broken!.status, "DEPLOY_FAILED");
  assert.equal(st.applications.broken!.deployments.Broken!.status, "DEPLOY_FAILED");
  await serve.deleteApp("broken");
  assert.equal((await serve.status()).applications.broken, undefined);
});

class Pid {
  pid() {
    return process.pid;
  }
}

test("a replica SIGKILLed is replaced and traffic continues", async () => {
  const handle = await serve.run(serve.deployment(Pid, { numReplicas: 2 }).bind(), { name: "pids", routePrefix: null });
  const before = (await serve.status()).applications.pids!.deployments.Pid!.replicas;
  assert.equal(before.length, 2);
  const victim = before[0]!;
  process.kill(victim.pid, "SIGKILL");
  // Calls keep succeeding (requests running on the victim may fail; queued ones go to live replicas).
  let served = 0;
  let failures = 0;
  let replaced = false;
  const deadline = Date.now() + 60_000;
  while (!replaced && Date.now() < deadline) {
    await handle.pid.remote().then(() => served++, () => failures++);
    const now = (await serve.status()).applications.pids!.deployments.Pid!;
    replaced = now.status === "HEALTHY" && now.replicas.length === 2 && !now.replicas.some((r) => r.replicaId === victim.replicaId);
  }
  assert.ok(replaced, "a new replica took the killed one's place");
  assert.ok(failures <= 1, `at most the call running on the victim fails (${failures})`);
  const pids = new Set(await Promise.all(Array.from({ length: 20 }, () => handle.pid.remote())));
  assert.ok(!pids.has(victim.pid));
  assert.ok(served > 0);
});

class Flaky {
  healthy = true;
  fail() {
    this.healthy = false;
  }
  checkHealth() {
    if (!this.healthy) throw new Error("sick");
  }
  id() {
    return serve.getReplicaContext().replicaId;
  }
}

test("a replica whose checkHealth throws 3 times in a row is replaced", async () => {
  const handle = await serve.run(serve.deployment(Flaky, { healthCheckPeriodMs: 50, healthCheckTimeoutMs: 1000 }).bind(), { name: "flaky", routePrefix: null });
  const first = await handle.id.remote();
  await handle.fail.remote();
  let now = first;
  for (let i = 0; i < 200 && now === first; i++) {
    now = await handle.id.remote();
    if (now === first) await new Promise((r) => setTimeout(r, 25));
  }
  assert.notEqual(now, first);
});

class Configurable {
  value: unknown = null;
  reconfigure(config: { v: number }) {
    this.value = config.v;
  }
  get_() {
    return { value: this.value, pid: process.pid };
  }
}

test("userConfig reaches reconfigure at start and, changed, in place (same pid)", async () => {
  const d = serve.deployment(Configurable, { userConfig: { v: 1 } });
  const handle = await serve.run(d.bind(), { name: "conf", routePrefix: null });
  const a = await handle.get_.remote();
  assert.equal(a.value, 1);
  await serve.run(d.options({ userConfig: { v: 2 } }).bind(), { name: "conf", routePrefix: null });
  let b = await handle.get_.remote();
  for (let i = 0; i < 100 && b.value !== 2; i++) b = await handle.get_.remote();
  assert.equal(b.value, 2);
  assert.equal(b.pid, a.pid);
});

class V1 {
  version() {
    return 1;
  }
}
class V2 {
  version() {
    return 2;
  }
}

test("new code rolls out replica by replica: calls made during the update all succeed, then reach the new version", async () => {
  const handle = await serve.run(serve.deployment(V1, { numReplicas: 2 }).options({ name: "Versioned" }).bind(), { name: "roll", routePrefix: null });
  assert.equal(await handle.version.remote(), 1);
  const oldVersion = (await serve.status()).applications.roll!.deployments.Versioned!.replicas[0]!.version;
  let done = false;
  const seen = new Set<number>();
  let failures = 0;
  const traffic = (async () => {
    while (!done) await handle.version.remote().then((v) => seen.add(v), () => failures++);
  })();
  await serve.run(serve.deployment(V2, { numReplicas: 2 }).options({ name: "Versioned" }).bind(), { name: "roll", routePrefix: null });
  const dep = (await serve.status()).applications.roll!.deployments.Versioned!;
  done = true;
  await traffic;
  assert.equal(failures, 0);
  const live = dep.replicas.filter((r) => r.state !== "STOPPING");
  assert.equal(live.length, 2);
  assert.ok(live.every((r) => r.version !== oldVersion && r.state === "RUNNING"));
  for (let i = 0; i < 100 && (await handle.version.remote()) !== 2; i++);
  assert.equal(await handle.version.remote(), 2);
  await serve.deleteApp("roll");
});

test("a killed controller is restarted and takes over the running replicas (same pids); traffic flows meanwhile", async () => {
  const handle = await serve.run(serve.deployment(Pid, { numReplicas: 2 }).options({ name: "Survivor" }).bind(), { name: "survivor", routePrefix: null });
  const pidsBefore = (await serve.status()).applications.survivor!.deployments.Survivor!.replicas.map((r) => r.pid).sort();
  assert.ok(pidsBefore.includes(await handle.pid.remote())); // traffic flowing: the handle knows the replicas
  const controller = await ray.getActor("SERVE_CONTROLLER_ACTOR", { namespace: "serve" });
  await ray.kill(controller, { noRestart: false });
  // Calls go on while the controller is down or recovering.
  for (let i = 0; i < 10; i++) assert.ok(pidsBefore.includes(await handle.pid.remote()));
  let after: number[] = [];
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const st = await serve.status().catch(() => undefined);
    const dep = st?.applications.survivor?.deployments.Survivor;
    if (dep?.status === "HEALTHY") {
      after = dep.replicas.map((r) => r.pid).sort();
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(after, pidsBefore, "the same replica processes, taken over");
  assert.ok(pidsBefore.includes(await handle.pid.remote()));
  await serve.deleteApp("survivor");
});

test("status, delete and shutdown: the app's handle then fails with DeploymentUnavailableError; the port is free after shutdown", async () => {
  const { httpUrl } = (await serve.start({ http: { port: 0 } })) as { httpUrl: string };
  const handle = await serve.run(serve.deployment(Plain).bind(), { name: "plain", routePrefix: "/plain" });
  assert.equal(await handle.hello.remote(), "hello");
  assert.equal((await fetch(`${httpUrl}/plain`)).status, 501);
  const st = await serve.status();
  assert.deepEqual(Object.values(st.proxies), ["HEALTHY"]);
  const pid = st.applications.plain!.deployments.Plain!.replicas[0]!.pid;
  await serve.delete("plain");
  const alive = () => { try { process.kill(pid, 0); return true; } catch { return false; } };
  for (let i = 0; i < 200 && alive(); i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(alive(), false, "a stopped replica's process exits");
  await assert.rejects(handle.hello.remote().result(), serve.DeploymentUnavailableError);
  assert.equal((await fetch(`${httpUrl}/plain`)).status, 404);
  await serve.shutdown();
  assert.deepEqual(await serve.status(), { proxies: {}, applications: {} });
  const port = Number(new URL(httpUrl).port);
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => server.close(() => resolve()));
  });
});
