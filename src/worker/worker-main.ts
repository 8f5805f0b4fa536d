/**
 * The main module of a worker thread: maps the node's shared arena, connects its core worker
 * to the raylet over the thread's port, and prefixes every line the thread prints with the
 * running task's (or actor's) name and the worker's id, like Ray's `(f pid=123)`.
 */
import { readlinkSync } from "node:fs";
import { getHeapStatistics } from "node:v8";
import { workerData } from "node:worker_threads";
import { CoreWorker } from "../core-worker/core-worker.js";
import { makeActorHandle } from "../core-worker/actor-handle.js";
import { setCoreWorker, coreWorker } from "../core-worker/runtime.js";
import { TaskExecutor } from "../core-worker/task-executor.js";
import { SharedArena } from "../object-store/shared-arena.js";
import { PortChannel } from "../rpc/channel.js";
import { Doorbell } from "../rpc/doorbell.js";
import { sleepWhenIdle } from "./idle-sleep.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import type { WorkerBootData } from "../raylet/worker-pool.js";
import { prefixLines } from "./log-prefix.js";
// Registers the classes that are revived with their prototype (util.Queue) in this thread.
import "../util/index.js";

const boot = workerData as WorkerBootData;
const channel = new PortChannel<ToRaylet, FromRaylet>(boot.port, new Doorbell(boot.replyBell), boot.slot, true);
let executor: TaskExecutor;
const cw = new CoreWorker(
  { workerId: boot.workerId, nodeId: boot.nodeId, jobId: boot.jobId, namespace: boot.namespace, mode: "worker" },
  channel,
  SharedArena.attach(boot.arena, boot.arenaTag),
  (data, fresh) => makeActorHandle(coreWorker, data, fresh),
  (msg) => executor.onMessage(msg),
);
executor = new TaskExecutor(cw);
const sleep = sleepWhenIdle(new Doorbell(boot.doorbell), channel as PortChannel<unknown, unknown>, () => executor.idle());
// A collection takes ms to tens of ms. The raylet asks for one to reuse freed shared memory, and
// the tasks at hand run first; and a thread that was handed large zero-copy views collects once
// idle, so the memory they pinned goes back to the store while nothing else needs the thread.
const IDLE_COLLECT_BYTES = 32 * 2 ** 20;
// When the store has no other warm run as large as the views, the thread collects before its
// results go (if its heap is small enough for that to take a few ms): the views' memory is then
// back in the store when the owner hears of the results, and a put the owner makes next (a loop
// of put and task) reuses those warm pages instead of faulting in fresh ones, several times
// slower. Otherwise the results go first, and the collection follows.
const COLLECT_BEFORE_RESULTS_HEAP = 64 * 2 ** 20;
let collectPending = false;
cw.collectWhenIdle = () => {
  if (executor.idle()) cw.collect();
  else collectPending = true;
};
executor.onIdle = () => {
  const viewsToRelease = cw.tracker.viewBytesSinceSweep >= IDLE_COLLECT_BYTES;
  if (collectPending || viewsToRelease) {
    collectPending = false;
    const first = viewsToRelease && !cw.arena!.fitsWarm(cw.tracker.viewBytesSinceSweep) && getHeapStatistics().used_heap_size <= COLLECT_BEFORE_RESULTS_HEAP;
    if (!first) channel.flushNow();
    cw.collect();
  }
  sleep();
};
setCoreWorker(cw);
channel.send({ t: "ready", tid: threadId() });
executor.onIdle();
prefixLines(() => `(${executor.current()?.name ?? executor.idleName} pid=${process.pid}, worker=${boot.workerId})`, boot.logToDriver);

/** This thread's id in the OS, where /proc says it (Linux): "PID/task/TID". */
function threadId(): number | undefined {
  try {
    return Number(readlinkSync("/proc/thread-self").split("/").pop()) || undefined;
  } catch {
    return undefined;
  }
}
