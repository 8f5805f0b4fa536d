/**
 * Normal tasks on this node: from submission through dependency resolution and a lease (see
 * task-queues.ts), to sealed results. Retries when a worker dies (maxRetries) or, if asked,
 * when the function throws (retryExceptions); cancellation; a blocked task's CPU going back to
 * the node, and the tasks queued behind it going to other workers.
 */
import type { ErrorInfo } from "../common/errors.js";
import { objectIdOf } from "../common/ids.js";
import type { ObjectTable, ObjectValue, Waiter } from "../object-store/object-table.js";
import type { TaskSpec } from "../rpc/protocol.js";
import { heldRefs, refArgs, whenDependenciesReady } from "./dependencies.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { Lineage } from "./remote-objects.js";
import type { FunctionTable } from "./function-table.js";
import type { ResourceScheduler } from "./resource-scheduler.js";
import type { ResourcePool } from "./resources.js";
import { Streams } from "./streams.js";
import { TaskQueues, type Lease } from "./task-queues.js";
import type { PooledWorker, WorkerPool } from "./worker-pool.js";

type State = "waiting" | "queued" | "sent" | "finished";

interface TaskRecord {
  spec: TaskSpec;
  state: State;
  attempts: number;
  pool: ResourcePool;
  lease?: Lease;
  cancelDeps?: () => void;
  cancelled?: { force: boolean };
  streamed: number;
}

export interface TaskManagerDeps {
  table: ObjectTable;
  scheduler: ResourceScheduler;
  workers: WorkerPool;
  functions: FunctionTable;
  /** The pool a task's resources come from (node, or a placement-group bundle). */
  poolFor(spec: TaskSpec): ResourcePool | ErrorInfo;
  /** How long a non-forced cancel waits for a running task to stop before its thread is stopped. */
  cancelGraceMs: number;
  /** Sends a sealed return to the task's submitter (its owner), if it is still connected. */
  ownerOf(spec: TaskSpec): Waiter | undefined;
  /** Sends a worker the execute message of a spec, once its arguments are readable there (see RemoteObjects.execute). */
  execute(w: PooledWorker, spec: TaskSpec, functions?: FunctionDescriptor[]): void;
  /** A task (again: see reconstruct) is submitted (see TaskEvents). */
  submitted(spec: TaskSpec): void;
  /** Its arguments are ready: it waits for a worker (see TaskEvents). */
  queued(spec: TaskSpec): void;
  /** A task's results are about to be sealed (see RemoteObjects.finished, TaskEvents). */
  finished(spec: TaskSpec, attempts: number, results: ObjectValue[]): void;
}

export class TaskManager {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly children = new Map<string, Set<string>>();
  private readonly queues: TaskQueues;
  readonly streams: Streams;

  constructor(private readonly d: TaskManagerDeps) {
    this.queues = new TaskQueues({
      scheduler: d.scheduler,
      workers: d.workers,
      start: (task, lease) => this.send(task as TaskRecord, lease),
      // A queue whose node is gone: its tasks are placed again; a removed placement group fails them.
      fail: (task, error) => (task.pool.closed ? this.enqueue(task as TaskRecord) : this.finish(task as TaskRecord, [{ ok: false, error }])),
    });
    this.streams = new Streams({
      table: d.table,
      tellWorker: (taskId, index) => this.tasks.get(taskId)?.lease?.worker.channel.send({ t: "stream-consumed", taskId, index }),
      cancel: (taskId) => this.cancel(taskId, false, true),
    });
  }

  submit(spec: TaskSpec): void {
    const { table } = this.d;
    expectReturns(table, spec, this.d.ownerOf(spec));
    if (spec.numReturns === "streaming") this.streams.opened(spec.taskId, spec.ownerId);
    this.start(spec, 0);
  }

  /**
   * Runs a finished task again, for its returns that were lost with a node (lineage
   * reconstruction): they are pending again, and its other returns keep their values.
   */
  reconstruct({ spec, attempts }: Lineage): void {
    if (this.tasks.has(spec.taskId)) return;
    this.d.submitted(spec);
    this.start(spec, attempts);
  }

  private start(spec: TaskSpec, attempts: number): void {
    const { table } = this.d;
    table.hold(heldRefs(spec), spec.taskId);
    const pool = this.d.poolFor(spec);
    if (!("total" in pool)) {
      sealReturns(this.d.table, spec, [{ ok: false, error: pool }]);
      this.releaseHolds(spec);
      return;
    }
    const rec: TaskRecord = { spec, state: "waiting", attempts, pool, streamed: 0 };
    this.tasks.set(spec.taskId, rec);
    if (spec.parentTaskId) {
      let set = this.children.get(spec.parentTaskId);
      if (!set) this.children.set(spec.parentTaskId, (set = new Set()));
      set.add(spec.taskId);
    }
    this.whenReady(rec);
  }

  /** Queues the task once its arguments are sealed (a failed one fails it). */
  private whenReady(rec: TaskRecord): void {
    rec.state = "waiting";
    rec.cancelDeps = whenDependenciesReady(this.d.table, rec.spec, (failure) => {
      rec.cancelDeps = undefined;
      if (failure) this.finish(rec, [{ ok: false, error: failure }]);
      else this.enqueue(rec);
    });
  }

  /** Waiting tasks go to nodes with room now (see TaskQueues.spillback). */
  spillback(pools: ResourcePool[]): void {
    this.queues.spillback(pools);
  }

  private enqueue(rec: TaskRecord): void {
    if (rec.pool.closed) {
      // Its node is gone (a retry after the node died): placed again among the live ones.
      const pool = this.d.poolFor(rec.spec);
      if (!("total" in pool)) return this.finish(rec, [{ ok: false, error: pool }]);
      rec.pool = pool;
    }
    rec.state = "queued";
    this.d.queued(rec.spec);
    this.queues.push(rec, rec.pool);
  }

  private send(rec: TaskRecord, lease: Lease): void {
    rec.state = "sent";
    rec.attempts++;
    const { spec } = rec;
    const w = lease.worker;
    this.d.execute(w, spec, this.d.functions.missingFor(w, spec.fnId));
  }

  /** A worker finished a task. Results not kept (a task no longer there, cancelled, retried) are discarded. */
  onDone(w: PooledWorker, taskId: string, results: ObjectValue[], ms: number): void {
    const rec = this.tasks.get(taskId);
    const lease = this.queues.leaseOf(w);
    if (!rec || !lease || rec.lease !== lease) return discardAll(this.d.table, results);
    this.queues.finished(lease, rec, ms);
    const first = results[0];
    if (rec.cancelled) {
      discardAll(this.d.table, results);
      this.finish(rec, [cancelledValue(rec.spec)]);
    } else if (first && !first.ok && this.retriesException(rec, first.error)) this.enqueue(rec);
    else this.finish(rec, results);
    this.queues.settle(lease.queue);
  }

  /**
   * A worker handed back tasks it had not started: it blocked, or (on a worker node) an argument
   * could not be pulled from a node that died, which is being made again: those wait for it.
   */
  onRequeue(w: PooledWorker, taskIds: string[]): void {
    const lease = this.queues.leaseOf(w);
    if (!lease) return;
    const back: TaskRecord[] = [];
    for (const id of taskIds) {
      const rec = this.tasks.get(id);
      if (!rec || rec.lease !== lease) continue;
      this.queues.finished(lease, rec);
      rec.attempts--;
      if (rec.cancelled) this.finish(rec, [cancelledValue(rec.spec)]);
      else if (!refArgs(rec.spec).every((id) => this.d.table.isReady(id))) this.whenReady(rec);
      else {
        rec.state = "queued";
        back.push(rec);
      }
    }
    this.queues.pushFront(back, lease.queue);
    this.queues.settle(lease.queue);
  }

  onStreamItem(w: PooledWorker, taskId: string, index: number, value: ObjectValue): void {
    const rec = this.tasks.get(taskId);
    if (!rec || rec.lease?.worker !== w) return this.d.table.discard(value);
    this.streams.item(taskId, index, value);
    rec.streamed = Math.max(rec.streamed, index);
  }

  /** A worker's thread ended: retry the task it was running, requeue those it had not started. */
  onWorkerExit(w: PooledWorker): void {
    const lease = this.queues.leaseOf(w);
    if (!lease) return;
    const q = lease.queue;
    const [running, ...notStarted] = this.queues.lost(lease) as TaskRecord[];
    const back: TaskRecord[] = [];
    for (const rec of notStarted) {
      rec.attempts--;
      if (rec.cancelled) this.finish(rec, [cancelledValue(rec.spec)]);
      else {
        rec.state = "queued";
        back.push(rec);
      }
    }
    if (running) this.onLost(running, w);
    this.queues.pushFront(back, q);
    this.d.scheduler.dispatch();
  }

  private onLost(rec: TaskRecord, w: PooledWorker): void {
    const exit = w.exit!;
    const { maxRetries } = rec.spec;
    // A streaming task that already yielded cannot be replayed without duplicating items.
    const canRetry = rec.streamed === 0 && (maxRetries === -1 || rec.attempts <= maxRetries);
    if (rec.cancelled) {
      this.finish(rec, [cancelledValue(rec.spec)]);
    } else if (canRetry) {
      this.enqueue(rec);
    } else {
      const what = exit.oom ? "ran out of memory" : exit.error ? `crashed: ${exit.error.message}` : `exited with code ${exit.code}`;
      const tries = rec.attempts > 1 ? ` (after ${rec.attempts} attempts)` : "";
      const error: ErrorInfo = exit.oom
        ? { code: "OUT_OF_MEMORY", name: "OutOfMemoryError", message: `task ${rec.spec.name} ${what}${tries}; give it more with the memory option, or use less` }
        : { code: "WORKER_CRASHED", name: "WorkerCrashedError", message: `the worker running task ${rec.spec.name} ${what}${tries}` };
      this.finish(rec, [{ ok: false, error }]);
    }
  }

  onBlocked(w: PooledWorker, taskId: string, blocked: boolean): void {
    const lease = this.queues.leaseOf(w);
    const rec = this.tasks.get(taskId);
    if (lease && rec?.lease === lease) this.queues.setBlocked(lease, blocked);
  }

  /** Stops the task that started last, as out of memory (the memory monitor's policy). */
  stopNewest(): boolean {
    const lease = this.queues.newest();
    if (!lease) return false;
    this.d.workers.kill(lease.worker, { oom: true });
    return true;
  }

  has(taskId: string): boolean {
    return this.tasks.has(taskId);
  }

  /** Cancels a task (and, with `recursive`, the tasks it submitted). */
  cancel(taskId: string, force: boolean, recursive: boolean): void {
    const rec = this.tasks.get(taskId);
    if (recursive) for (const child of this.children.get(taskId) ?? []) this.cancel(child, force, true);
    if (!rec || rec.state === "finished") return;
    rec.cancelled = { force };
    switch (rec.state) {
      case "waiting":
        rec.cancelDeps?.();
        this.finish(rec, [cancelledValue(rec.spec)]);
        return;
      case "queued":
        this.queues.withdraw(rec, rec.pool);
        this.finish(rec, [cancelledValue(rec.spec)]);
        return;
      case "sent": {
        const lease = rec.lease!;
        const w = lease.worker;
        // Only the first task of a lease runs; the others are dropped by the worker on request.
        if (force && lease.inflight[0] === rec) {
          this.d.workers.kill(w);
          return;
        }
        // JavaScript cannot interrupt running code from outside: the task's pending gets are
        // interrupted now, and if it has not stopped after a grace period its thread is.
        w.channel.send({ t: "cancel-task", taskId });
        const timer = setTimeout(() => {
          if (rec.lease === lease && lease.inflight[0] === rec) this.d.workers.kill(w);
        }, this.d.cancelGraceMs);
        timer.unref();
      }
    }
  }

  /** The job's driver is gone: its tasks still to finish are cancelled, the running ones stopped. */
  endJob(jobId: string): void {
    for (const [taskId, rec] of this.tasks) if (rec.spec.jobId === jobId) this.cancel(taskId, true, false);
  }

  /** Forgets every task (the node is stopping). */
  clear(): void {
    this.tasks.clear();
    this.children.clear();
  }

  private retriesException(rec: TaskRecord, error: ErrorInfo): boolean {
    const { retryExceptions, maxRetries } = rec.spec;
    if (!retryExceptions || error.code !== "TASK_ERROR") return false;
    if (maxRetries !== -1 && rec.attempts > maxRetries) return false;
    if (retryExceptions === true) return true;
    const name = error.cause?.name ?? error.name;
    return retryExceptions.includes(name);
  }

  private finish(rec: TaskRecord, results: ObjectValue[]): void {
    rec.state = "finished";
    this.tasks.delete(rec.spec.taskId);
    if (rec.spec.parentTaskId) {
      const set = this.children.get(rec.spec.parentTaskId);
      set?.delete(rec.spec.taskId);
      if (set && !set.size) this.children.delete(rec.spec.parentTaskId);
    }
    this.d.finished(rec.spec, rec.attempts, results);
    sealReturns(this.d.table, rec.spec, results);
    this.releaseHolds(rec.spec);
  }

  private releaseHolds(spec: TaskSpec): void {
    this.d.table.release(heldRefs(spec), spec.taskId);
  }
}

/** Registers a spec's returns, held for the owner, who is sent each once sealed (as Ray's owners are). */
export function expectReturns(table: ObjectTable, spec: TaskSpec, deliver: Waiter | undefined): void {
  const streaming = spec.numReturns === "streaming";
  const n = streaming ? 1 : (spec.numReturns as number);
  for (let i = 0; i < n; i++) {
    const id = objectIdOf(spec.taskId, streaming ? 0 : i + 1);
    table.expect(id, spec.ownerId);
    if (deliver) table.whenReady(id, deliver);
  }
}

/** Drops results that will not be stored (see ObjectTable.discard). */
export function discardAll(table: ObjectTable, results: ObjectValue[]): void {
  for (const r of results) table.discard(r);
}

/**
 * Registers a direct call's returns (see core-worker/direct-calls.ts) as expectReturns does,
 * but for those its caller handed to the node already (passed on: see "own"), held since then.
 */
export function adoptReturns(table: ObjectTable, call: Pick<TaskSpec, "taskId" | "ownerId"> & { numReturns: number }, deliver: Waiter | undefined): void {
  for (let i = 1; i <= call.numReturns; i++) {
    const id = objectIdOf(call.taskId, i);
    if (!table.has(id)) table.expect(id, call.ownerId);
    if (deliver) table.whenReady(id, deliver);
  }
}

/** Seals a spec's returns: each with its result, or all with one failure (tasks and actor calls). */
export function sealReturns(table: ObjectTable, spec: Pick<TaskSpec, "taskId" | "numReturns">, results: ObjectValue[]): void {
  const failure = results.length === 1 && !results[0].ok ? results[0] : undefined;
  if (spec.numReturns === "streaming") {
    table.seal(objectIdOf(spec.taskId, 0), results[0]);
    return;
  }
  for (let i = 0; i < spec.numReturns; i++) table.seal(objectIdOf(spec.taskId, i + 1), failure ?? results[i]);
}

export function cancelledValue(spec: TaskSpec): ObjectValue {
  return { ok: false, error: { code: "TASK_CANCELLED", name: "TaskCancelledError", message: `task ${spec.name} was cancelled` } };
}
