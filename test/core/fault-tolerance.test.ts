import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { MemoryMonitor } from "../../src/raylet/memory-monitor.js";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

class Attempts {
  n = 0;
  next() {
    return ++this.n;
  }
}
const RemoteAttempts = ray.remote(Attempts);

const flaky = ray.remote(async function flaky(attempts: ray.ActorHandle<Attempts>, failures: number, how: "exit" | "throw") {
  const n = (await ray.get(attempts.next.remote())) as number;
  if (n <= failures) {
    if (how === "exit") process.exit(3);
    throw new RangeError(`attempt ${n} fails`);
  }
  return n;
});

test("a task whose worker exits is retried (default maxRetries 3)", async () => {
  const attempts = RemoteAttempts.remote();
  assert.equal(await ray.get(flaky.remote(attempts, 2, "exit")), 3);
});

test("when retries run out, WorkerCrashedError", async () => {
  const attempts = RemoteAttempts.remote();
  await assert.rejects(ray.get(flaky.options({ maxRetries: 1 }).remote(attempts, 5, "exit")), (e: unknown) => {
    assert.ok(e instanceof ray.WorkerCrashedError);
    assert.match((e as Error).message, /flaky exited with code 3 \(after 2 attempts\)/);
    return true;
  });
  assert.equal(await ray.get(attempts.next.remote()), 3);
});

test("retryExceptions retries a throwing task; by default it is not retried", async () => {
  const a1 = RemoteAttempts.remote();
  await assert.rejects(ray.get(flaky.remote(a1, 1, "throw")), ray.RayTaskError);
  const a2 = RemoteAttempts.remote();
  assert.equal(await ray.get(flaky.options({ retryExceptions: true }).remote(a2, 2, "throw")), 3);
  const a3 = RemoteAttempts.remote();
  assert.equal(await ray.get(flaky.options({ retryExceptions: ["RangeError"] }).remote(a3, 1, "throw")), 2);
  const a4 = RemoteAttempts.remote();
  await assert.rejects(ray.get(flaky.options({ retryExceptions: ["TypeError"] }).remote(a4, 1, "throw")), ray.RayTaskError);
});

test("a task that exhausts its memory fails alone with OutOfMemoryError", async () => {
  const hog = ray.remote(function hog() {
    const keep: number[][] = [];
    for (;;) keep.push(new Array(1e5).fill(Math.random()));
  }).options({ memory: 64 * 2 ** 20, maxRetries: 0 });
  const fine = ray.remote(function fine() {
    return "fine";
  });
  await assert.rejects(ray.get(hog.remote()), ray.OutOfMemoryError);
  assert.equal(await ray.get(fine.remote()), "fine");
});

test("an uncaught error in a task's callback crashes only its worker", async () => {
  const crash = ray.remote(function crash() {
    setImmediate(() => {
      throw new Error("late failure");
    });
    return new Promise(() => {});
  }).options({ maxRetries: 0 });
  await assert.rejects(ray.get(crash.remote()), (e: unknown) => e instanceof ray.WorkerCrashedError && /late failure/.test((e as Error).message));
});

test("the memory monitor stops the newest task when memory runs short", () => {
  let stopped = 0;
  const log: string[] = [];
  const m = new MemoryMonitor({ threshold: 0.95, intervalMs: 1000, usage: () => 0.97, stopNewestTask: () => ++stopped > 0, log: (l) => log.push(l) });
  assert.equal(m.check(), true);
  assert.equal(stopped, 1);
  assert.match(log[0], /97\.0%.*stopped the newest task/);
  const calm = new MemoryMonitor({ threshold: 0.95, intervalMs: 1000, usage: () => 0.5, stopNewestTask: () => ++stopped > 0, log: () => {} });
  assert.equal(calm.check(), false);
  assert.equal(stopped, 1);
});
