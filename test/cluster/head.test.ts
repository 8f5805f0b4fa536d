// A head node started with the CLI, as a user does, and drivers in processes of their own that
// connect to it with init({ address: "auto" }): their tasks, actors and large objects work across
// the process boundary, their jobs end with them, and the CLI reports and stops the node. One
// head serves the whole file; every process it starts is gone at the end.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, rmSync, statSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { isAlive } from "../../src/node/session.js";
import { bin, clusterFolder, driver, DRIVER_ARGS, result, taskDirApp, workingDirApp, type Session } from "../helpers/cluster.js";
import { selfSignedCert } from "../helpers/tls.js";

const { tmp, env, tsray, drive, run, sessionDirs } = clusterFolder();
let head: Session;

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "2");
  assert.equal(started.code, 0, started.stderr);
  const [dir] = sessionDirs();
  head = JSON.parse(readFileSync(path.join(tmp, dir, "node.json"), "utf8")) as Session;
  assert.match(started.stdout, new RegExp(`Started the head node ${head.nodeId} at ${head.address.replace(/\./g, "\\.")}`));
  assert.match(started.stdout, /tsray start --address 127\.0\.0\.1:\d+ --token [0-9a-f]{48}/);
});

after(async () => {
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

test("the session folder is the user's alone, and status and list describe the node", async () => {
  const dir = path.join(tmp, `node-${head.nodeId}`);
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.equal(statSync(path.join(dir, "token")).mode & 0o777, 0o600);
  const status = await tsray("status");
  assert.equal(status.code, 0, status.stderr);
  assert.match(status.stdout, new RegExp(`ALIVE +${head.nodeId} +127\\.0\\.0\\.1 +\\(head\\)`));
  assert.match(status.stdout, /CPU +0 \/ 2/);
  const nodes = JSON.parse((await tsray("list", "nodes", "--format", "json")).stdout) as Record<string, unknown>[];
  assert.deepEqual(nodes.map((n) => [n.node_id, n.state, n.is_head_node]), [[head.nodeId, "ALIVE", true]]);
});

test("a driver in another process runs tasks and actors and moves large objects both ways", async () => {
  const r = result(await drive("work"));
  assert.deepEqual(r.squares, [1, 4, 9]);
  assert.equal(r.total, r.expected);
  assert.equal(r.doubledOk, true);
  assert.equal(r.count, 2);
  assert.equal(r.address, head.address);
  assert.deepEqual(r.nodes, [{ alive: true, isHead: true }]);
  assert.match(r.sabError as string, /^value contains a SharedArrayBuffer, which cannot be shared with a cluster in another process/);
  const jobs = JSON.parse((await tsray("list", "jobs", "--format", "json", "--filter", `job_id=${r.jobId}`)).stdout) as Record<string, unknown>[];
  assert.equal(jobs.length, 1);
  assert.equal(jobs[0].state, "SUCCEEDED");
  assert.equal(jobs[0].entrypoint, driver);
});

test("tsray list tasks and objects, memory, timeline and the state API: what ran, what failed and why, the objects a driver holds", async () => {
  const r = result(await drive("state")) as Record<string, unknown> & {
    failed: string; tasks: [string, string][]; failedRow: Record<string, unknown>; kept: Record<string, unknown>;
  };
  assert.equal(r.failed, "RayTaskError");
  assert.ok(r.tasks.some(([name, state]) => name === "fine" && state === "FINISHED"), JSON.stringify(r.tasks));
  assert.equal(r.failedRow.state, "FAILED");
  assert.equal(r.failedRow.error_type, "RangeError");
  assert.match(r.failedRow.error_message as string, /kaboom/);
  assert.equal(r.failedRow.node_id, head.nodeId);
  assert.equal(typeof r.failedRow.duration_ms, "number");
  assert.deepEqual([r.kept.state, r.kept.size_bytes, r.kept.reference_kinds], ["IN_MEMORY", 2 ** 20, ["LOCAL_REFERENCE"]]);
  assert.equal(r.memoryHasKept, true, "tsray memory lists the put");
  assert.deepEqual(new Set((r.spans as unknown[][]).map((s) => JSON.stringify(s))), new Set([JSON.stringify(["fine", "number", "number", true]), JSON.stringify(["boom", "number", "number", true])]));
  assert.ok((r.threads as number) >= 1, "the timeline names its workers' rows");
  assert.deepEqual(r.failedByApi, [200, ["boom"]], "the state API reads without the token on loopback, and filters");
  assert.deepEqual(r.paged, [1, true]);
  assert.equal(r.rebound, 401, "a GET naming another host (DNS rebinding) needs the token");
  assert.deepEqual((r.taskLog as string[]).map((l) => l.replace(/pid=\d+, worker=\w+/, "")), ["(shout ) from the task 7f3a"], "tsray logs --task-id: that task's lines");
  assert.ok((r.actorLog as string[]).some((l) => /^\(Loud\.say pid=\d+, worker=\w+\) from the actor 7f3a$/.test(l)), JSON.stringify(r.actorLog));
  assert.equal(r.nodeLogHasBoth, true, "tsray logs --node-id: the node's whole log");
});

test("a detached actor and placement group outlive their driver's job; the job's other actors and groups end with it", async () => {
  assert.deepEqual(result(await drive("detached-create")), { created: true });
  const r = result(await drive("detached-use"));
  assert.equal(r.count, 2);
  assert.match(r.temp as string, /no actor named 'temp'/);
  assert.equal(r.tempPg, "no placement group named 'temp-pg' in namespace 'shared'");
  const actors = JSON.parse((await tsray("list", "actors", "--format", "json", "--filter", "class_name=counter")).stdout) as Record<string, unknown>[];
  assert.ok(actors.length >= 2 && actors.every((a) => a.state === "DEAD"), JSON.stringify(actors));
});

test("a task's own runtimeEnv.workingDir is uploaded when it is first submitted: it runs in the head's copy", async () => {
  const r = result(await run(taskDirApp(tmp, "{}"), [], ["--import", "tsx"]));
  assert.equal(r.data, "read from the task's own folder");
  assert.match(r.cwd as string, new RegExp(`node-${head.nodeId}/jobs/[0-9a-f]+/dir-[0-9a-f]+$`));
  assert.equal(r.libUrl, pathToFileURL(path.join(r.cwd as string, "lib.ts")).href, "the module came from the uploaded copy");
});

test("init({ runtimeEnv: { workingDir } }) uploads the folder: tasks run in the head's copy, and load its modules from there", async () => {
  const r = result(await run(workingDirApp(tmp, "{}"), [], ["--import", "tsx"]));
  assert.equal(r.value, 42);
  assert.match(r.cwd as string, new RegExp(`node-${head.nodeId}/jobs/[0-9a-f]+/working_dir$`));
  assert.equal(r.libUrl, pathToFileURL(path.join(r.cwd as string, "lib.ts")).href, "the module came from the uploaded copy");
});

test("a driver killed with work in flight fails its job; the node goes on serving", async () => {
  const child = spawn(process.execPath, [...DRIVER_ARGS, driver, "hang"], { env, stdio: ["ignore", "pipe", "inherit"] });
  let line = "";
  await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => (line += d.toString()).includes("\n") && resolve()));
  child.kill("SIGKILL");
  await new Promise((resolve) => child.once("exit", resolve));
  assert.deepEqual(result(await drive("work")).squares, [1, 4, 9]);
  const status = await tsray("status");
  assert.match(status.stdout, /CPU +0 \/ 2/, "the killed job's task no longer holds a CPU");
  const jobs = JSON.parse((await tsray("list", "jobs", "--format", "json")).stdout) as Record<string, unknown>[];
  const killed = jobs.find((j) => j.job_id === (JSON.parse(line) as { jobId: string }).jobId);
  assert.equal(killed?.state, "FAILED");
});

test("a script that ends without shutdown() ends its job as succeeded", async () => {
  const { jobId } = result(await drive("connect", JSON.stringify({ address: "auto" }), "exit"));
  const jobs = JSON.parse((await tsray("list", "jobs", "--format", "json", "--filter", `job_id=${jobId as string}`)).stdout) as Record<string, unknown>[];
  assert.equal(jobs[0]?.state, "SUCCEEDED");
});

test("a wrong token, a wrong address and a taken port are refused with one clear line", async () => {
  const wrong = result(await drive("connect", JSON.stringify({ address: head.address, token: "0".repeat(48) })));
  assert.equal(wrong.ok, false);
  assert.match(wrong.message as string, new RegExp(`tsray at ${head.address.replace(/\./g, "\\.")} refused the connection: wrong or missing cluster token`));
  const log = readFileSync(path.join(tmp, `node-${head.nodeId}`, "logs", "node.log"), "utf8");
  assert.match(log, /refused a connection from 127\.0\.0\.1:\d+: wrong or missing cluster token/);

  const free = await new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
  const nobody = result(await drive("connect", JSON.stringify({ address: `127.0.0.1:${free}`, token: "t" })));
  assert.equal(nobody.ok, false);
  assert.match(nobody.message as string, new RegExp(`cannot connect to tsray at 127\\.0\\.0\\.1:${free}`));

  const taken = await tsray("start", "--head", "--port", head.address.split(":")[1]);
  assert.equal(taken.code, 2);
  assert.equal(taken.stderr.trim().split("\n").length, 1);
  assert.match(taken.stderr, /^tsray start: port \d+ on 127\.0\.0\.1 is taken/);
  assert.equal(sessionDirs().length, 1, "the failed start left no session behind");
});

test("stop ends every node process and removes the sessions; a second stop is quiet", async () => {
  const stopped = await tsray("stop");
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.equal(isAlive(head.pid), false);
  assert.deepEqual(sessionDirs(), []);
  assert.deepEqual(await tsray("stop"), { code: 0, stdout: "", stderr: "" });
  const status = await tsray("status");
  assert.equal(status.code, 2);
  assert.match(status.stderr, /no cluster runs on this machine/);
});

test("a head with --tls-cert and --tls-key speaks TLS; local drivers and the CLI find how to verify it", async (t) => {
  const tls = selfSignedCert();
  if (!tls) return t.skip("openssl is not installed");
  try {
    const started = await tsray("start", "--head", "--port", "0", "--tls-cert", tls.certPath, "--tls-key", tls.keyPath);
    assert.equal(started.code, 0, started.stderr);
    assert.equal(result(await drive("connect", JSON.stringify({ address: "auto" }))).ok, true);
    assert.match((await tsray("status")).stdout, /ALIVE/);
    assert.equal((await tsray("stop")).code, 0);
    const half = await tsray("start", "--head", "--tls-cert", tls.certPath);
    assert.match(half.stderr, /^tsray start: --tls-cert and --tls-key go together\n$/);
  } finally {
    rmSync(tls.dir, { recursive: true, force: true });
  }
});

test("--block runs the node in the foreground until SIGTERM, then leaves nothing", async () => {
  const child = spawn(process.execPath, [bin, "start", "--head", "--port", "0", "--block"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  await new Promise<void>((resolve) => child.stdout.on("data", (d: Buffer) => (out += d.toString()).includes("Stop:") && resolve()));
  assert.equal(sessionDirs().length, 1);
  assert.equal(result(await drive("connect", JSON.stringify({ address: "auto" }))).ok, true);
  child.kill("SIGTERM");
  const code = await new Promise((resolve) => child.once("exit", resolve));
  assert.equal(code, 0);
  assert.deepEqual(sessionDirs(), []);
});
