// Jobs submitted to a head with the CLI, as a user does: the working directory is uploaded before
// submit returns, the command runs as a driver on the head's machine with its env vars, its logs
// stream back and its status is the CLI's exit status; stopping a job ends its whole process
// tree; the job API refuses requests without the cluster token.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { isAlive } from "../../src/node/session.js";
import { clusterFolder, result, type Session } from "../helpers/cluster.js";

const { tmp, tsray, drive, sessions } = clusterFolder();
let head: Session & { dashboardUrl: string };
const work = mkdtempSync(path.join(os.tmpdir(), "tsray-job-dir-"));

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--dashboard-port", "0", "--num-cpus", "1");
  assert.equal(started.code, 0, started.stderr);
  head = sessions()[0] as typeof head;
  assert.match(started.stdout, new RegExp(`tsray job submit --address ${head.dashboardUrl.replace(/\./g, "\\.")}`));
});

after(async () => {
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

test("a TypeScript driver in an uploaded folder runs as a job, with its env vars, after the folder is deleted", async () => {
  const dir = path.join(work, "app");
  mkdirSync(dir);
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(path.join(dir, "main.ts"), [
    'import * as ray from "tsray";',
    'import { factor } from "./lib.ts";',
    'await ray.init({ address: "auto" });',
    "const times = ray.remote((x: number) => x * factor);",
    'console.log("result", JSON.stringify(await ray.get([1, 2, 3].map((x) => times.remote(x)))), process.env.GREETING);',
    "await ray.shutdown();",
  ].join("\n"));
  writeFileSync(path.join(dir, "lib.ts"), "export const factor = 10;\n");
  const submitted = await tsray("job", "submit", "--no-wait", "--working-dir", dir, "--runtime-env-json", '{"env_vars": {"GREETING": "hello"}}', "--submission-id", "first", "--", "node", "--import", "tsx", "main.ts");
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.equal(submitted.stdout.split("\n")[0], "Job first submitted.");
  rmSync(dir, { recursive: true });
  const followed = await tsray("job", "logs", "first", "--follow");
  assert.match(followed.stdout, /^result \[10,20,30\] hello$/m);
  assert.equal((await tsray("job", "status", "first")).stdout, "first: SUCCEEDED\n");
});

test("submit streams the logs and exits with the job's status", async () => {
  const ok = await tsray("job", "submit", "--", "echo", "out", "&&", "echo", "err", "1>&2");
  assert.equal(ok.code, 0);
  assert.match(ok.stdout, /^Job tsrayjob_[0-9a-f]+ submitted\.\nout\nerr\nJob tsrayjob_[0-9a-f]+ SUCCEEDED\.\n$/);
  const failed = await tsray("job", "submit", "--submission-id", "bad", "--", "exit", "3");
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /Job bad FAILED \(the command exited with code 3\)\./);
  const list = await tsray("job", "list");
  assert.match(list.stdout, /^bad +FAILED +exit 3$/m);
  const unknown = await tsray("job", "status", "nope");
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /^tsray job: no job nope\n$/);
});

test("stopping a job ends every process it started", async () => {
  const submitted = await tsray("job", "submit", "--no-wait", "--submission-id", "long", "--", "sleep 300 & echo pids $$ $!; wait");
  assert.equal(submitted.code, 0, submitted.stderr);
  // Its first line, as it comes, through the API's log tail.
  const token = readFileSync(path.join(tmp, `node-${head.nodeId}`, "token"), "utf8");
  const tail = await fetch(`${head.dashboardUrl}/api/jobs/long/logs/tail`, { headers: { authorization: `Bearer ${token}` } });
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of tail.body as unknown as AsyncIterable<Uint8Array>) if ((text += decoder.decode(chunk)).includes("\n")) break;
  const [shell, sleeper] = /pids (\d+) (\d+)/.exec(text)!.slice(1).map(Number);
  assert.equal(isAlive(sleeper), true);
  assert.equal((await tsray("job", "stop", "long")).stdout, "Job long stopped.\n");
  assert.equal((await tsray("job", "status", "long")).stdout, "long: STOPPED\n");
  assert.equal(isAlive(shell), false);
  assert.equal(isAlive(sleeper), false);
});

test("the job API refuses a request without the cluster token, and logs it", async () => {
  for (const authorization of [undefined, "Bearer wrong"]) {
    const res = await fetch(`${head.dashboardUrl}/api/jobs/`, { method: "POST", headers: authorization ? { authorization } : {}, body: JSON.stringify({ entrypoint: "touch /tmp/tsray-pwned" }) });
    assert.equal(res.status, 401);
  }
  const log = readFileSync(path.join(tmp, `node-${head.nodeId}`, "logs", "node.log"), "utf8");
  assert.match(log, /refused an HTTP request from 127\.0\.0\.1: POST \/api\/jobs\/ without the cluster token/);
  const jobs = (await tsray("job", "list")).stdout;
  assert.doesNotMatch(jobs, /tsray-pwned/);
});

test("an actor is killed by a POST with the token; without it, or by a GET, nothing happens", async () => {
  assert.deepEqual(result(await drive("doomed")), { created: true });
  const [doomed] = JSON.parse((await tsray("list", "actors", "--format", "json", "--filter", "name=doomed")).stdout) as { actor_id: string; state: string }[];
  assert.equal(doomed.state, "ALIVE");
  const kill = `${head.dashboardUrl}/api/v0/actors/${doomed.actor_id}/kill`;
  assert.equal((await fetch(kill, { method: "POST" })).status, 401);
  assert.equal((await fetch(kill)).status, 405, "a GET changes nothing");
  const stillAlive = JSON.parse((await tsray("list", "actors", "--format", "json", "--filter", "name=doomed")).stdout) as { state: string }[];
  assert.equal(stillAlive[0].state, "ALIVE");
  const token = readFileSync(path.join(tmp, `node-${head.nodeId}`, "token"), "utf8");
  const killed = await fetch(kill, { method: "POST", headers: { authorization: `Bearer ${token}` } });
  assert.equal(killed.status, 200);
  const after = JSON.parse((await tsray("list", "actors", "--format", "json", "--filter", `actor_id=${doomed.actor_id}`)).stdout) as { state: string }[];
  assert.equal(after[0].state, "DEAD");
  const log = readFileSync(path.join(tmp, `node-${head.nodeId}`, "logs", "node.log"), "utf8");
  assert.match(log, /refused an HTTP request from 127\.0\.0\.1: POST \/api\/v0\/actors\/\w+\/kill without the cluster token/);
  assert.match(log, new RegExp(`actor Counter \\(${doomed.actor_id}\\) killed through the HTTP API`));
});
