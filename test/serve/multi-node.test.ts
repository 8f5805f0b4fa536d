// Serve across two nodes: a head and a worker node, real processes started with the CLI as a user
// does (as test/cluster/nodes.test.ts), and a Serve driver in a process of its own
// (test/fixtures/serve/serve-driver.ts, which deploys a replica class that says its pid and its
// node's). The nodes and that driver run the built package (dist/, which `npm test` builds
// first): the driver's modules reach the workers by URL, and must be the tsray their node runs.
// Replicas spread over both nodes; a proxy on each node with a replica serves every
// application; a killed proxy is started anew; a node left without replicas has its proxy
// drained; a restarted controller keeps the proxies; HeadOnly has one proxy, Disabled none
// (handles only); two proxies of one machine given one fixed port: the second is UNHEALTHY with
// the bind error; a worker node killed takes its proxy with it (last: the cluster has one node after).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { createServer } from "node:net";
import { clusterFolder, type Session } from "../helpers/cluster.js";
import { startServeDriver, type ServeDriver } from "../helpers/serve-driver.js";

const { tmp, env, tsray, sessions } = clusterFolder();
let head: Session;
let worker: Session;
let driver: ServeDriver;

interface ProxyDetails {
  nodeId: string;
  status: string;
  url?: string;
  message: string;
}
interface Status {
  proxies: Record<string, string>;
  applications: Record<string, { status: string; deployments: Record<string, { replicas: { replicaId: string; nodeId: string; pid: number }[] }> }>;
}

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "4", "--dashboard-port", "0");
  assert.equal(started.code, 0, started.stderr);
  [head] = sessions();
  const joined = await tsray("start", "--address", head!.address, "--num-cpus", "4");
  assert.equal(joined.code, 0, joined.stderr);
  worker = sessions().find((s) => !s.head)!;
  driver = await startServeDriver(env);
});

after(async () => {
  await driver?.close();
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

/** The node whose process has this pid. */
function nodeOfPid(pid: number): string | undefined {
  return [head, worker].find((s) => s.pid === pid)?.nodeId;
}

const status = () => driver.call<Status>("status");
const proxyDetails = () => driver.call<ProxyDetails[]>("proxyDetails");

/** Serve started with `opts` for one test, shut down after it whatever happened. */
async function withServe(opts: unknown, body: (started: { httpUrl?: string }) => Promise<void>): Promise<void> {
  await driver.call("shutdown"); // what an earlier test that failed may have left
  const started = await driver.call<{ httpUrl?: string }>("start", opts);
  try {
    await body(started);
  } finally {
    await driver.call("shutdown");
  }
}

/** Polls (bounded, 100 ms apart) until `check` returns something; fails with `what` after 60 s. */
async function until<T>(what: string, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const got = await check().catch(() => undefined);
    if (got !== undefined) return got;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The HEALTHY proxies' URLs by node, once `nodes` all have one. */
function healthyProxies(nodes: string[]): Promise<Map<string, string>> {
  return until(`a HEALTHY proxy on ${nodes.join(", ")}`, async () => {
    const healthy = new Map((await proxyDetails()).filter((p) => p.status === "HEALTHY" && p.url).map((p) => [p.nodeId, p.url!]));
    return nodes.every((n) => healthy.has(n)) ? healthy : undefined;
  });
}

async function getJson(url: string): Promise<{ nodePid: number; pid: number; path: string }> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `${url}: ${res.status} ${await res.clone().text()}`);
  return (await res.json()) as { nodePid: number; pid: number; path: string };
}

test("EveryNode on port 0: replicas on both nodes, a proxy on each, each proxy serving every application", async () => {
  await driver.call("shutdown");
  const { httpUrl } = await driver.call<{ httpUrl: string }>("start", { http: { port: 0 } });
  assert.match(httpUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
  await driver.call("run", "a", "A", "/a", { numReplicas: 2 });
  await driver.call("run", "b", "B", "/b");

  const replicas = (await status()).applications.a!.deployments.A!.replicas;
  assert.deepEqual(new Set(replicas.map((r) => r.nodeId)), new Set([head.nodeId, worker.nodeId]), "the two replicas are on both nodes");
  assert.notEqual(replicas[0]!.pid, replicas[1]!.pid);
  // What status says of each replica is where it runs.
  const seen = new Map<number, string>();
  for (let i = 0; i < 40 && seen.size < 2; i++) {
    const w = await driver.call<{ nodePid: number; pid: number }>("where", "a");
    seen.set(w.pid, nodeOfPid(w.nodePid)!);
  }
  for (const r of replicas) assert.equal(seen.get(r.pid), r.nodeId, `replica ${r.replicaId}'s node`);

  const proxies = await healthyProxies([head.nodeId, worker.nodeId]);
  assert.equal(proxies.get(head.nodeId), httpUrl, "start() resolved with the head's proxy");
  assert.notEqual(proxies.get(worker.nodeId), httpUrl);
  assert.deepEqual(Object.keys((await status()).proxies).sort(), [head.nodeId, worker.nodeId].sort());
  for (const url of proxies.values()) {
    assert.equal((await getJson(`${url}/a/x`)).path, "/x");
    assert.equal((await getJson(`${url}/b/y`)).path, "/y");
    assert.equal((await fetch(`${url}/c`)).status, 404);
  }
});

test("a killed proxy is noticed and started anew on its node, and serves again", async () => {
  const before = await healthyProxies([head.nodeId, worker.nodeId]);
  await driver.call("killProxy", worker.nodeId);
  // Until the controller noticed, the old URL may still be listed: it answers no more.
  const answered = await until("the worker node's proxy to serve again", async () => {
    const url = (await proxyDetails()).find((p) => p.nodeId === worker.nodeId && p.status === "HEALTHY")?.url;
    return url === undefined ? undefined : getJson(`${url}/a/again`);
  });
  assert.equal(answered.path, "/again");
  const after = await healthyProxies([head.nodeId, worker.nodeId]);
  assert.equal(after.get(head.nodeId), before.get(head.nodeId), "the head's proxy was left alone");
  assert.equal((await status()).proxies[worker.nodeId], "HEALTHY");
});

test("a restarted controller takes over every node's proxy as it is (same URLs)", async () => {
  const before = await healthyProxies([head.nodeId, worker.nodeId]);
  await driver.call("killController");
  const after = await until("the restarted controller to list both proxies", async () => {
    const details = await proxyDetails();
    return details.length === 2 && details.every((p) => p.status === "HEALTHY") ? new Map(details.map((p) => [p.nodeId, p.url])) : undefined;
  });
  assert.deepEqual(after, before);
  for (const url of after.values()) assert.equal((await getJson(`${url!}/b/still`)).path, "/still");
});

test("a node left without replicas has its proxy drained and no longer listed; the head keeps its own", async () => {
  await driver.call("deleteApp", "a");
  await driver.call("deleteApp", "b");
  const left = await until("the worker node's proxy to be gone", async () => {
    const { proxies } = await status();
    return proxies[worker.nodeId] === undefined ? proxies : undefined;
  });
  assert.deepEqual(left, { [head.nodeId]: "HEALTHY" });
  await driver.call("shutdown");
});

test("one fixed port on two nodes of one machine: the second proxy cannot bind it and is UNHEALTHY with the bind error", async () => {
  const port = await freePort();
  await withServe({ http: { port } }, async ({ httpUrl }) => {
    assert.equal(httpUrl, `http://127.0.0.1:${port}`);
    await driver.call("run", "a", "A", "/a", { numReplicas: 2 });
    const failed = await until("the worker node's proxy to fail to bind", async () =>
      (await proxyDetails()).find((p) => p.nodeId === worker.nodeId && p.status === "UNHEALTHY"));
    assert.match(failed.message, /EADDRINUSE/);
    assert.match(failed.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.equal((await status()).proxies[worker.nodeId], "UNHEALTHY");
    // The head's proxy serves meanwhile.
    assert.equal((await getJson(`${httpUrl}/a/z`)).path, "/z");
  });
});

test("HeadOnly: one proxy, on the head, though replicas run on both nodes", async () => {
  await withServe({ proxyLocation: "HeadOnly", http: { port: 0 } }, async ({ httpUrl }) => {
    await driver.call("run", "a", "A", "/a", { numReplicas: 2 });
    const st = await status();
    assert.equal(new Set(st.applications.a!.deployments.A!.replicas.map((r) => r.nodeId)).size, 2);
    assert.deepEqual(st.proxies, { [head.nodeId]: "HEALTHY" });
    assert.deepEqual((await proxyDetails()).map((p) => p.nodeId), [head.nodeId]);
    assert.equal((await getJson(`${httpUrl}/a/h`)).path, "/h");
  });
});

test("Disabled: start() resolves without httpUrl, no proxy runs, handles work", async () => {
  await withServe({ proxyLocation: "Disabled" }, async (started) => {
    assert.deepEqual(started, {});
    await driver.call("run", "a", "A", "/a", { numReplicas: 2 });
    const w = await driver.call<{ nodePid: number }>("where", "a");
    assert.ok(nodeOfPid(w.nodePid));
    assert.deepEqual((await status()).proxies, {});
    assert.deepEqual(await proxyDetails(), []);
  });
});

test("a worker node killed with SIGKILL: its proxy is no longer listed, its replica is replaced on the head", async () => {
  await withServe({ http: { port: 0 } }, async () => {
    await driver.call("run", "a", "A", "/a", { numReplicas: 2 });
    await healthyProxies([head.nodeId, worker.nodeId]);
    process.kill(worker.pid, "SIGKILL");
    const st = await until("the worker node's proxy gone and both replicas running on the head", async () => {
      const s = await status();
      const replicas = s.applications.a!.deployments.A!.replicas;
      const onHead = replicas.length === 2 && replicas.every((r) => r.nodeId === head.nodeId && r.pid > 0);
      return s.proxies[worker.nodeId] === undefined && onHead ? s : undefined;
    });
    assert.deepEqual(st.proxies, { [head.nodeId]: "HEALTHY" });
    assert.equal(st.applications.a!.status, "RUNNING");
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
