// What the dashboard says a worker uses: a thread spinning shows CPU, a thread asleep in
// Atomics.wait (as an idle worker sleeps on its bell) shows none, read per thread from /proc.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { UsageSampler } from "../../src/metrics/usage.js";

const skip = existsSync("/proc/thread-self") ? false : "no /proc here: CPU per thread is read on Linux";

/** A thread that says its OS thread id, then spins until told to stop, or sleeps in Atomics.wait. */
function thread(spin: boolean): Promise<{ tid: number; stop(): Promise<number> }> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const w = new Worker(
    `const { parentPort, workerData } = require("node:worker_threads");
     const flag = workerData.flag;
     parentPort.postMessage(Number(require("node:fs").readlinkSync("/proc/thread-self").split("/").pop()));
     if (workerData.spin) { while (Atomics.load(flag, 0) === 0) {} }
     else Atomics.wait(flag, 0, 0);`,
    { eval: true, workerData: { flag, spin } },
  );
  return new Promise((resolve) =>
    w.once("message", (tid: number) =>
      resolve({
        tid,
        stop: () => {
          Atomics.store(flag, 0, 1);
          Atomics.notify(flag, 0);
          return w.terminate();
        },
      }),
    ),
  );
}

test("a spinning worker thread uses CPU and a sleeping one none; the node's memory is read", { skip }, async () => {
  const [busy, idle] = await Promise.all([thread(true), thread(false)]);
  try {
    const sampler = new UsageSampler();
    const workers = [{ id: "busy", tid: busy.tid, pid: () => undefined }, { id: "idle", tid: idle.tid, pid: () => undefined }];
    sampler.sample(workers);
    // Until the busy thread has used a tick or more of CPU time past the first sample.
    let usage = sampler.sample(workers);
    for (let i = 0; i < 200 && usage.workers[0].cpuPercent === 0; i++) {
      await new Promise((r) => setImmediate(r));
      usage = sampler.sample(workers);
    }
    const [b, i] = usage.workers;
    assert.ok(b.cpuPercent > 0, `the spinning thread: ${b.cpuPercent}%`);
    assert.ok(i.cpuPercent < b.cpuPercent, `the sleeping thread: ${i.cpuPercent}% (spinning: ${b.cpuPercent}%)`);
    assert.equal(b.rssBytes, undefined, "a thread has no memory of its own");
    assert.ok(usage.rssBytes > 2 ** 20 && usage.memoryUsedBytes > 0 && usage.memoryTotalBytes >= usage.memoryUsedBytes);
  } finally {
    await Promise.all([busy.stop(), idle.stop()]);
  }
});
