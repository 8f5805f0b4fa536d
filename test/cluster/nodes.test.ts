// A cluster of three node processes on this machine, started with the CLI as a user does (a
// head and two worker nodes of one CPU each): work spreads over them, runs where it is pinned
// with its large arguments, and survives a worker node killed with SIGKILL. One cluster serves
// the whole file; every process it starts is gone at the end.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isAlive } from "../../src/node/session.js";
import { clusterFolder, driver, DRIVER_ARGS, result, taskDirApp, untilLine, workingDirApp, type Session } from "../helpers/cluster.js";

const { tmp, env, tsray, drive, run, sessions } = clusterFolder();
let head: Session;
const workers: Session[] = [];
const SMALL_STORE = 96 * 2 ** 20;
/** `.ci/run` installs promtool (Debian's prometheus package) and sets this: there, its absence is a failure. */
const hasPromtool = spawnSync("promtool", ["--version"]).status === 0;
const promtoolSkip = !hasPromtool && process.env.TSRAY_TEST_PROMTOOL !== "required" ? "promtool is not installed (Debian: apt-get install prometheus)" : false;

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "1");
  assert.equal(started.code, 0, started.stderr);
  [head] = sessions();
  for (let i = 0; i < 2; i++) {
    // workers[0] with a small store (see "small-store"), workers[1] the second to join.
    const store = i === 0 ? ["--object-store-memory", String(SMALL_STORE)] : [];
    const joined = await tsray("start", "--address", head.address, "--num-cpus", "1", ...store);
    assert.equal(joined.code, 0, joined.stderr);
    const nodeId = new RegExp(`^Worker node ([0-9a-f]+) joined the cluster at ${head.address.replace(/\./g, "\\.")}`).exec(joined.stdout)?.[1];
    assert.ok(nodeId, joined.stdout);
    workers.push(sessions().find((s) => s.nodeId === nodeId)!);
  }
});

after(async () => {
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

test("worker nodes join the head: status and list show every node and the cluster's resources", async () => {
  assert.equal(workers.length, 2);
  const status = await tsray("status");
  assert.match(status.stdout, /Nodes \(3\):/);
  for (const s of [head, ...workers]) assert.match(status.stdout, new RegExp(`ALIVE +${s.nodeId}`));
  assert.match(status.stdout, /CPU +0 \/ 3/);
  const rows = JSON.parse((await tsray("list", "nodes", "--format", "json", "--filter", "is_head_node=false")).stdout) as Record<string, unknown>[];
  assert.deepEqual(rows.map((r) => r.node_id).sort(), workers.map((w) => w.nodeId).sort());
});

test("SPREAD reaches every node; pinned work runs where pinned, with its large arguments; actors and nested tasks work there", async () => {
  const r = result(await drive("nodes"));
  const nodes = r.nodes as string[];
  assert.equal(nodes.length, 3);
  assert.deepEqual(new Set(r.spread as string[]), new Set(nodes), "SPREAD tasks ran on every node");
  assert.deepEqual(r.sums, nodes.map((n) => [n, (24 * 2 ** 20) / 8 / 2]));
  assert.equal(r.count, 2);
  assert.equal(r.nested, 42);
  assert.equal(r.cpus, 3);
});

test("/metrics, without the token, is Prometheus text (promtool reads it) and counts the work done on every node", { skip: promtoolSkip }, async () => {
  const { dashboardUrl } = JSON.parse(readFileSync(path.join(tmp, `node-${head.nodeId}`, "node.json"), "utf8")) as { dashboardUrl: string };
  const scrape = async () => {
    const res = await fetch(`${dashboardUrl}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/plain; version=0\.0\.4/);
    return res.text();
  };
  /** The value of the sample of `name` whose labels include `labels`. */
  const value = (text: string, name: string, labels: Record<string, string> = {}) => {
    for (const line of text.split("\n")) {
      const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (m?.[1] !== name) continue;
      const have = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]));
      if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
    }
    return NaN;
  };
  const before = await scrape();
  assert.equal(result(await drive("count")).failed, 2);
  const after = await scrape();
  // A real Prometheus parser reads it: its only complaint is the name the issue gives a gauge.
  const checked = spawnSync("promtool", ["check", "metrics"], { input: after, encoding: "utf8" });
  assert.ok(checked.status === 0 || checked.status === 3, checked.stdout + checked.stderr);
  for (const line of (checked.stdout + checked.stderr).split("\n").filter(Boolean)) assert.match(line, /^tsray_resources_total non-counter metrics should not have "_total" suffix$/);
  assert.match(after, /^# TYPE tsray_tasks_total counter$/m);
  assert.match(after, /^# TYPE tsray_rpc_latency_seconds histogram$/m);
  assert.equal(value(after, "tsray_tasks_total", { state: "FINISHED" }) - value(before, "tsray_tasks_total", { state: "FINISHED" }), 7);
  assert.equal(value(after, "tsray_tasks_total", { state: "FAILED" }) - value(before, "tsray_tasks_total", { state: "FAILED" }), 2);
  assert.equal(value(after, "tsray_tasks", { state: "RUNNING" }), 0);
  for (const s of [head, ...workers]) {
    assert.equal(value(after, "tsray_resources_total", { node_id: s.nodeId, resource: "CPU" }), 1);
    assert.ok(value(after, "tsray_workers", { node_id: s.nodeId }) >= 0, `workers of ${s.nodeId}`);
    assert.ok(value(after, "tsray_node_rss_bytes", { node_id: s.nodeId }) > 10 * 2 ** 20, `memory of ${s.nodeId}`);
    assert.ok(value(after, "tsray_node_cpu_percent", { node_id: s.nodeId }) >= 0, `CPU of ${s.nodeId}`);
  }
  assert.equal(value(after, "tsray_object_store_capacity_bytes", { node_id: workers[0].nodeId }), SMALL_STORE);
  assert.ok(value(after, "tsray_rpc_latency_seconds_count", { node_id: head.nodeId, method: "nodes" }) >= 1, "the driver's request was timed");
});

test("arrays made on one worker node and read on another, on the head and by the driver arrive intact, round after round", async () => {
  const { rounds } = result(await drive("relay")) as { rounds: [number, number][] };
  for (const [got, expected] of rounds) assert.equal(got, expected);
});

test("a node's store keeps what its workers made only while refs to it live: 12 x 24 MB made through a 96 MB store", async () => {
  const { seen } = result(await drive("small-store", workers[0].nodeId, workers[1].nodeId)) as { seen: number[] };
  assert.deepEqual(seen, Array.from({ length: 12 }, (_, i) => i));
});

test("a worker node spills what its workers made to disk when its store is full, and reads it back for a task there and for the driver", async () => {
  const r = result(await drive("node-spill", workers[0].nodeId));
  assert.deepEqual(r, { there: [0, 1, 2, 3, 4, 5], here: 1 });
});

test("workers on one node that take the same large object read one copy of it there", async () => {
  const { views } = result(await drive("shared-copy", workers[0].nodeId)) as { views: { shared: boolean; offset: number; first: number }[] };
  assert.deepEqual(views.map((v) => [v.shared, v.first]), [[true, 3], [true, 3]]);
  assert.equal(views[0].offset, views[1].offset, "the same memory on the node");
});

test("a task on a worker node reads back its own large put after more puts", async () => {
  const r = result(await drive("own-put", workers[0].nodeId));
  assert.equal(r.sum, r.expected);
  assert.equal(r.other, 2);
});

test("what tasks print on every node reaches the driver, prefixed with the task's name", async () => {
  const { seen } = result(await drive("logs")) as { seen: string[] };
  assert.deepEqual(new Set(seen), new Set([head, ...workers].map((s) => s.nodeId)));
});

test("a driver's uploaded working directory reaches the worker node that runs its task", async () => {
  const worker = workers[0];
  const options = JSON.stringify({ schedulingStrategy: { type: "node_affinity", nodeId: worker.nodeId, soft: false } });
  const r = result(await run(workingDirApp(tmp, options), [], ["--import", "tsx"]));
  assert.equal(r.value, 42);
  assert.equal(r.node, worker.nodeId);
  assert.match(r.cwd as string, new RegExp(`node-${worker.nodeId}/jobs/[0-9a-f]+/working_dir$`));
  assert.equal(r.libUrl, pathToFileURL(path.join(r.cwd as string, "lib.ts")).href, "the module came from the node's copy");
});

test("a task's own working directory is uploaded when it is submitted, and the worker node runs it from its copy", async () => {
  const worker = workers[0];
  const options = JSON.stringify({ schedulingStrategy: { type: "node_affinity", nodeId: worker.nodeId, soft: false } });
  const r = result(await run(taskDirApp(tmp, options), [], ["--import", "tsx"]));
  assert.equal(r.data, "read from the task's own folder");
  assert.equal(r.node, worker.nodeId);
  assert.match(r.cwd as string, new RegExp(`node-${worker.nodeId}/jobs/[0-9a-f]+/dir-[0-9a-f]+$`));
  assert.equal(r.libUrl, pathToFileURL(path.join(r.cwd as string, "lib.ts")).href, "the module came from the node's copy");
});

test("a STRICT_SPREAD placement group puts a bundle on each node, and work in a bundle runs there", async () => {
  const { placed } = result(await drive("placement")) as { placed: string[] };
  assert.equal(new Set(placed).size, 3);
  assert.deepEqual(new Set(placed), new Set([head, ...workers].map((s) => s.nodeId)));
});

test("tasks waiting on a busy node move to a node that frees up (spillback)", async () => {
  const dir = mkdtempSync(path.join(tmp, "latches-"));
  const r = result(await drive("spillback", dir));
  assert.deepEqual(r.ran, [r.b, r.b, r.b, r.b], "all four ran on the node that freed up");
});

test("a task goes to the idle node that has a copy of its large argument rather than another idle one", async () => {
  const dir = mkdtempSync(path.join(tmp, "latches-"));
  // The second node to join: with both idle, the scheduler would otherwise take the first.
  const r = result(await drive("locality", dir, workers[1].nodeId));
  assert.equal(r.heldOn, workers[1].nodeId);
  assert.deepEqual(r.ranOn, [workers[1].nodeId, (16 * 2 ** 20) / 8]);
});

test("a worker node killed with SIGKILL: its task is retried, its actor restarted and its objects made again elsewhere (a put is lost), the node is DEAD, work pinned there is refused", async () => {
  const victim = workers[1];
  const child = spawn(process.execPath, [...DRIVER_ARGS, driver, "node-dies", victim.nodeId], { env, stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => (out += d.toString()).includes("started") && resolve()));
  process.kill(victim.pid, "SIGKILL");
  assert.equal(await exited, 0);
  const r = JSON.parse(out.trim().split("\n").at(-1)!) as {
    ranOn: string; refused: string; alive: boolean; actorBefore: string; actorAfter: string;
    lost: { madeOn: string[]; rebuilt: number[]; once: string; put: string; relayed: number };
  };
  assert.notEqual(r.ranOn, victim.nodeId);
  assert.equal(r.actorBefore, victim.nodeId);
  assert.notEqual(r.actorAfter, victim.nodeId, "the actor was restarted on a live node");
  assert.match(r.refused, new RegExp(`must run on node ${victim.nodeId}, which is not in the cluster`));
  assert.equal(r.alive, false);
  assert.equal(isAlive(victim.pid), false);
  // What only the victim had: a task's return is made again by running the task elsewhere
  // (lineage), within its retries; a put cannot be.
  assert.deepEqual(r.lost.madeOn, [victim.nodeId, victim.nodeId, victim.nodeId, victim.nodeId]);
  assert.equal(r.lost.relayed, (32 * 2 ** 20) / 8, "pulled by a task as its node died: made again, then read");
  assert.deepEqual(r.lost.rebuilt, [7, 7, 2], "the task ran again, once");
  assert.match(r.lost.once, /^ObjectLostError: object \w+ was lost with node \w+: task make has no retries left \(maxRetries 0\)/);
  assert.match(r.lost.put, new RegExp(`^ObjectLostError: object \\w+ was lost with node ${victim.nodeId}: it was put there`));
  const rows = JSON.parse((await tsray("list", "nodes", "--format", "json", "--filter", `node_id=${victim.nodeId}`)).stdout) as Record<string, unknown>[];
  assert.equal(rows[0]?.state, "DEAD");
  assert.match((await tsray("status")).stdout, /CPU +0 \/ 2/);
});

test("a head killed with SIGKILL and started again on its address: the worker node joins it again by itself", async () => {
  const survivor = workers[0];
  const token = readFileSync(path.join(tmp, `node-${head.nodeId}`, "token"), "utf8");
  process.kill(head.pid, "SIGKILL");
  const again = await tsray("start", "--head", "--port", head.address.split(":")[1], "--num-cpus", "1", "--token", token);
  assert.equal(again.code, 0, again.stderr);
  const newHead = sessions().find((s) => s.head && s.pid !== head.pid)!;
  await untilLine(path.join(tmp, `node-${newHead.nodeId}`, "logs", "node.log"), new RegExp(`node ${survivor.nodeId} at \\S+ joined`));
  head = newHead;
  assert.match((await tsray("status")).stdout, new RegExp(`ALIVE +${survivor.nodeId}`));
  const r = result(await drive("connect", JSON.stringify({ address: "auto" })));
  assert.equal(r.ok, true);
});

test("joining with a wrong token, or to an address nobody listens on, fails with one line", async () => {
  const wrong = await tsray("start", "--address", head.address, "--token", "0".repeat(48));
  assert.equal(wrong.code, 2);
  assert.equal(wrong.stderr.trim().split("\n").length, 1);
  assert.match(wrong.stderr, /refused the connection: wrong or missing cluster token/);
  const nobody = await tsray("start", "--address", "127.0.0.1:1", "--token", "t");
  assert.equal(nobody.code, 2);
  assert.match(nobody.stderr, /^tsray start: cannot connect to tsray at 127\.0\.0\.1:1/);
});

test("stop ends the head and every worker node", async () => {
  const all = sessions();
  assert.equal((await tsray("stop")).code, 0);
  for (const s of all) assert.equal(isAlive(s.pid), false, `node ${s.nodeId} stopped`);
  assert.deepEqual(sessions(), []);
});
