// A head that keeps the GCS in a real Redis (`--gcs-storage`), and a worker node with a small
// object store: the head killed with SIGKILL and started again on the same storage gives back
// the cluster's jobs, its detached actor (still running, in the same worker) and its detached
// placement group, and the worker node rejoins it by itself. One cluster and one redis-server
// serve the whole file; every process it starts is gone at the end.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import net from "node:net";
import { rmSync } from "node:fs";
import path from "node:path";
import { clusterFolder, result, untilLine, type Session } from "../helpers/cluster.js";

const { tmp, tsray, drive, sessions } = clusterFolder();
/** `.ci/run` installs redis-server and sets this: there, a machine without it is a failure, not a skip. */
const required = process.env.TSRAY_TEST_REDIS === "required";
const hasRedis = spawnSync("redis-server", ["--version"]).status === 0;
const skip = !hasRedis && !required ? "redis-server is not installed (Debian: apt-get install redis-server; .ci/run installs it)" : false;

let redis: ChildProcess | undefined;
let storage = "";
let head: Session;
let worker: Session;

before(async () => {
  if (skip) return;
  assert.ok(hasRedis, "redis-server is not installed, and TSRAY_TEST_REDIS=required");
  const port = await freePort();
  redis = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: ["ignore", "pipe", "inherit"] });
  // Not left behind by a test process that is stopped before its after hook runs.
  process.once("exit", () => redis?.kill());
  await new Promise<void>((resolve, reject) => {
    let out = "";
    redis!.stdout!.on("data", (d: Buffer) => (out += d.toString()).includes("Ready to accept connections") && resolve());
    redis!.once("exit", (code) => reject(new Error(`redis-server exited with code ${code}: ${out}`)));
  });
  storage = `redis://127.0.0.1:${port}`;
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "2", "--resources", '{"head_only": 1}', "--include-dashboard", "false", "--gcs-storage", storage);
  assert.equal(started.code, 0, started.stderr);
  [head] = sessions();
  const joined = await tsray("start", "--address", head.address, "--num-cpus", "1", "--resources", '{"survivor": 1}', "--object-store-memory", String(64 * 2 ** 20));
  assert.equal(joined.code, 0, joined.stderr);
  worker = sessions().find((s) => !s.head)!;
});

after(async () => {
  await tsray("stop", "--force");
  redis?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

test("an argument larger than a worker node's store fails its task with ObjectStoreFullError, and the node goes on", { skip }, async () => {
  const r = result(await drive("store-full", worker.nodeId));
  assert.match(r.big as string, new RegExp(`^ObjectStoreFullError: .*the object store of node ${worker.nodeId} is full`));
  assert.equal(r.small, 4);
  assert.match((await tsray("status")).stdout, new RegExp(`ALIVE +${worker.nodeId}`));
});

test("a head on Redis killed with SIGKILL and started again: jobs, the running detached actor, one restarted from its constructor and the detached group come back", { skip }, async () => {
  const before = result(await drive("recoverable-create"));
  assert.deepEqual([before.count, before.node], [2, worker.nodeId]);
  const jobs = JSON.parse((await tsray("list", "jobs", "--format", "json")).stdout) as { job_id: string }[];
  process.kill(head.pid, "SIGKILL");
  // No --token: the restarted head takes the cluster's token from its storage, so the node can rejoin.
  const again = await tsray("start", "--head", "--port", head.address.split(":")[1], "--num-cpus", "2", "--resources", '{"head_only": 1}', "--include-dashboard", "false", "--gcs-storage", storage);
  assert.equal(again.code, 0, again.stderr);
  head = sessions().find((s) => s.head && s.pid !== head.pid)!;
  const log = path.join(tmp, `node-${head.nodeId}`, "logs", "node.log");
  await untilLine(log, new RegExp(`node ${worker.nodeId} at \\S+ joined`));

  const r = result(await drive("recoverable-use"));
  assert.equal(r.count, 3, "the actor kept its state: it ran on through the restart");
  assert.deepEqual([r.node, r.worker], [worker.nodeId, before.worker], "in the same worker on the same node");
  assert.equal(r.reborn, 11, "the detached actor that ran on the head started again from its constructor (10), kept in storage");
  assert.equal(r.inGroup, "ran");
  assert.equal(r.temp, "no actor named 'temp' in namespace 'kept'", "a non-detached actor ended with its job");
  assert.equal(r.tempPg, "no placement group named 'temp-pg' in namespace 'kept'");
  const after = JSON.parse((await tsray("list", "jobs", "--format", "json")).stdout) as { job_id: string }[];
  for (const j of jobs) assert.ok(after.some((a) => a.job_id === j.job_id), `job ${j.job_id} is still listed`);
  const groups = JSON.parse((await tsray("list", "placement-groups", "--format", "json")).stdout) as { placement_group_id: string; name: string; state: string }[];
  assert.deepEqual(groups.map((g) => [g.placement_group_id, g.name, g.state]), [[r.pgId, "kept-pg", "CREATED"]]);
  const actors = JSON.parse((await tsray("list", "actors", "--format", "json", "--filter", "name=survivor")).stdout) as { state: string }[];
  assert.equal(actors[0]?.state, "ALIVE");
});

test("--gcs-storage that is not a Redis URL, given to a worker node, or naming a Redis nobody serves, is refused in one line", { skip }, async () => {
  const wrong = await tsray("start", "--head", "--port", "0", "--gcs-storage", "http://127.0.0.1:6379");
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--gcs-storage must be a redis:\/\/HOST:PORT URL, got 'http:\/\/127\.0\.0\.1:6379'/);
  const onWorker = await tsray("start", "--address", head.address, "--gcs-storage", storage);
  assert.equal(onWorker.code, 2);
  assert.match(onWorker.stderr, /--gcs-storage is for the head/);
  const port = await freePort();
  const nobody = await tsray("start", "--head", "--port", "0", "--include-dashboard", "false", "--gcs-storage", `redis://127.0.0.1:${port}`);
  assert.notEqual(nobody.code, 0);
  assert.equal(nobody.stderr.trim().split("\n").length, 1, nobody.stderr);
  assert.match(nobody.stderr, new RegExp(`cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
