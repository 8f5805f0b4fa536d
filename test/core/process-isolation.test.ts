// Worker processes (isolation "process"): tasks and actors in a process of their own, with its
// own pid, working directory and environment, objects copied in and out; a crash or a SIGKILL
// fails that worker alone, and no worker process outlives shutdown() or its driver.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ray from "tsray";
import { isAlive } from "../../src/node/session.js";

const dir = realpathSync(mkdtempSync(path.join(os.tmpdir(), "tsray-wd-")));
before(() => ray.init({ numCpus: 2 }));
after(async () => {
  await ray.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const where = ray.remote(function where() {
  return { pid: process.pid, cwd: process.cwd(), marker: process.env.TSRAY_TEST_MARKER ?? null };
});

const alive = isAlive;

test("a task with isolation: process runs in a worker process of its own, reused by tasks of the same env", async () => {
  const inThread = await ray.get(where.remote());
  assert.equal(inThread.pid, process.pid);
  const inProcess = where.options({ isolation: "process" });
  const first = await ray.get(inProcess.remote());
  const second = await ray.get(inProcess.remote());
  assert.notEqual(first.pid, process.pid);
  assert.equal(second.pid, first.pid, "an idle worker process is reused");
  const other = await ray.get(where.options({ isolation: "process", runtimeEnv: { env: { TSRAY_TEST_MARKER: "x" } } }).remote());
  assert.notEqual(other.pid, first.pid, "another env gets another process");
  assert.equal(other.marker, "x");
});

test("runtimeEnv.workingDir runs the task in a worker process in that folder", async () => {
  const r = await ray.get(where.options({ runtimeEnv: { workingDir: dir } }).remote());
  assert.equal(r.cwd, dir);
  assert.notEqual(r.pid, process.pid);
  assert.throws(() => where.options({ runtimeEnv: { workingDir: path.join(dir, "missing") } }), /runtimeEnv\.workingDir must be an existing folder/);
  assert.throws(() => where.options({ isolation: "thread", runtimeEnv: { workingDir: dir } }), /workingDir needs a worker process/);
  assert.throws(() => where.options({ isolation: "fiber" as never }), /isolation must be "thread" or "process"/);
});

test("large arrays are copied into and out of a worker process", async () => {
  const double = ray.remote(function double(xs: Float64Array) {
    return xs.map((x) => x * 2);
  }).options({ isolation: "process" });
  const input = new Float64Array(2 * 2 ** 20).map((_, i) => i);
  const out = (await ray.get(double.remote(ray.put(input)))) as Float64Array;
  assert.equal(out.length, input.length);
  assert.ok(out.every((x, i) => x === i * 2));
});

test("an actor in a worker process keeps its state, and tasks it submits run", async () => {
  class Tally {
    total = 0;
    add(n: number) {
      return (this.total += n);
    }
    async squareViaTask(n: number) {
      const square = ray.remote(function square(x: number) {
        return x * x;
      });
      return ray.get(square.remote(n));
    }
    pid() {
      return process.pid;
    }
  }
  const t = ray.remote(Tally).options({ isolation: "process" }).remote();
  await t.add.remote(2);
  assert.equal(await ray.get(t.add.remote(3)), 5);
  assert.equal(await ray.get(t.squareViaTask.remote(7)), 49);
  assert.notEqual(await ray.get(t.pid.remote()), process.pid);
});

test("process.exit and a SIGKILL of a worker process fail that work alone", async () => {
  const quit = ray.remote(function quit() {
    process.exit(7);
  }).options({ isolation: "process", maxRetries: 0 });
  await assert.rejects(ray.get(quit.remote()), (e: unknown) => e instanceof ray.WorkerCrashedError && /exited with code 7/.test((e as Error).message));
  class Sleeper {
    pid() {
      return process.pid;
    }
    async sleep() {
      await new Promise(() => {});
    }
  }
  const s = ray.remote(Sleeper).options({ isolation: "process" }).remote();
  const pid = await ray.get(s.pid.remote());
  const sleeping = s.sleep.remote();
  process.kill(pid, "SIGKILL");
  await assert.rejects(ray.get(sleeping), (e: unknown) => e instanceof ray.RayActorError && /crashed: its process was killed \(SIGKILL\)/.test((e as Error).message));
  assert.equal(await ray.get(where.remote()).then((r) => r.pid), process.pid, "the node goes on");
});

test("no worker process outlives shutdown()", async () => {
  const pids = await ray.get([where.options({ isolation: "process" }).remote(), where.options({ runtimeEnv: { workingDir: dir } }).remote()]);
  await ray.shutdown();
  for (const { pid } of pids) assert.equal(alive(pid), false, `worker process ${pid} is gone`);
  await ray.init({ numCpus: 2 });
});

test("no worker process outlives its driver killed with SIGKILL", async () => {
  const fixture = fileURLToPath(new URL("../fixtures/process-worker-driver.ts", import.meta.url));
  const driver = spawn(process.execPath, ["--conditions=tsray-source", "--import", "tsx", fixture], { stdio: ["ignore", "pipe", "inherit"] });
  let out = "";
  const closed = new Promise<void>((resolve) => driver.stdout.on("close", resolve));
  await new Promise<void>((resolve) => driver.stdout.on("data", (d: Buffer) => (out += d.toString()).includes("\n") && resolve()));
  const { pid } = JSON.parse(out) as { pid: number };
  assert.equal(alive(pid), true);
  driver.kill("SIGKILL");
  // The worker process writes to the same pipe: the pipe closes once it has exited too.
  await closed;
  assert.equal(alive(pid), false);
});

test("init({ runtimeEnv: { workingDir } }) runs every task of the job in a worker process there", async () => {
  await ray.shutdown();
  await ray.init({ numCpus: 1, runtimeEnv: { workingDir: dir } });
  try {
    const r = await ray.get(where.remote());
    assert.equal(r.cwd, dir);
    assert.notEqual(r.pid, process.pid);
  } finally {
    await ray.shutdown();
    await ray.init({ numCpus: 2 });
  }
});
