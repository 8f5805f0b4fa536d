/**
 * Normal tasks on this node: from submission through dependency resolution, resources and a
 * worker, to sealed results. Retries when a worker dies (maxRetries) or, if asked, when the
 * function throws (retryExceptions); cancellation; a blocked task's CPU going back to the node.
 */
import { taskErrorInfo, type ErrorInfo } from "../common/errors.js";
import { objectIdOf } from "../common/ids.js";
import type { ObjectTable, ObjectValue } from "../object-store/object-table.js";
import type { TaskSpec } from "../rpc/protocol.js";
import { argValues, heldRefs, whenDependenciesReady } from "./dependencies.js";
import type { ResourceRequest, ResourceScheduler } from "./resource-scheduler.js";
import type { ResourcePool } from "./resources.js";
import type { PooledWorker, WorkerPool } from "./worker-pool.js";
import type { FunctionTable } from "./function-table.js";

type State = "waiting" | "queued" | "running" | "finished";

interface TaskRecord {
  spec: TaskSpec;
  state: State;
  attempts: number;
  pool: ResourcePool;
  worker?: PooledWorker;
  request?: ResourceRequest;
  cancelDeps?: () => void;
  cancelled?: { force: boolean };
  /** Concurrent gets this task is blocked in; its CPU is given back while > 0. */
  blocked: number;
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
}

export class TaskManager {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly children = new Map<string, Set<string>>();
  private readonly byWorker = new Map<PooledWorker, TaskRecord>();

  constructor(private readonly d: TaskManagerDeps) {}

  get running(): number {
    return this.byWorker.size;
  }

  get size(): number {
    return this.tasks.size;
  }

  submit(spec: TaskSpec): void {
    const { table } = this.d;
    for (const id of heldRefs(spec)) table.addRef(id);
    const returns = spec.numReturns === "streaming" ? 1 : spec.numReturns;
    for (let i = 0; i < returns; i++) table.expect(objectIdOf(spec.taskId, spec.numReturns === "streaming" ? 0 : i + 1), 1);
    const pool = this.d.poolFor(spec);
    if (!("total" in pool)) {
      this.sealAll(spec, { ok: false, error: pool });
      this.releaseHolds(spec);
      return;
    }
    const rec: TaskRecord = { spec, state: "waiting", attempts: 0, pool, blocked: 0, streamed: 0 };
    this.tasks.set(spec.taskId, rec);
    if (spec.parentTaskId) {
      let set = this.children.get(spec.parentTaskId);
      if (!set) this.children.set(spec.parentTaskId, (set = new Set()));
      set.add(spec.taskId);
    }
    rec.cancelDeps = whenDependenciesReady(table, spec, (failure) => {
      rec.cancelDeps = undefined;
      if (failure) this.finish(rec, [{ ok: false, error: failure }]);
      else this.enqueue(rec);
    });
  }

  private enqueue(rec: TaskRecord): void {
    rec.state = "queued";
    const req: ResourceRequest = {
      resources: rec.spec.resources,
      pool: rec.pool,
      describe: () => `task ${rec.spec.name}`,
      grant: () => {
        if (rec.state !== "queued") return false;
        rec.request = undefined;
        this.start(rec);
        return true;
      },
    };
    rec.request = req;
    this.d.scheduler.request(req);
  }

  private start(rec: TaskRecord): void {
    const spec = rec.spec;
    const w = this.d.workers.acquire({ env: spec.env, memoryBytes: spec.memoryBytes });
    rec.state = "running";
    rec.worker = w;
    rec.attempts++;
    this.byWorker.set(w, rec);
    w.channel.send({ t: "execute", spec, args: argValues(this.d.table, spec), functions: this.d.functions.missingFor(w, [spec.fnId]) });
  }

  /** A worker finished a task. */
  onDone(w: PooledWorker, taskId: string, results: ObjectValue[]): void {
    const rec = this.tasks.get(taskId);
    if (!rec || rec.worker !== w) return;
    this.detach(rec);
    this.d.workers.release(w);
    const first = results[0];
    if (rec.cancelled) this.finish(rec, [cancelledValue(rec.spec)]);
    else if (first && !first.ok && this.retriesException(rec, first.error)) this.enqueue(rec);
    else this.finish(rec, results);
    this.d.scheduler.dispatch();
  }

  onStreamItem(w: PooledWorker, taskId: string, index: number, value: ObjectValue): void {
    const rec = this.tasks.get(taskId);
    if (!rec || rec.worker !== w) return;
    const id = objectIdOf(taskId, index);
    // Held for the submitter, whose generator takes that hold over.
    this.d.table.expect(id, 1);
    this.d.table.seal(id, value);
    rec.streamed = Math.max(rec.streamed, index);
  }

  /** A worker's thread ended: retry its task, or fail it. */
  onWorkerExit(w: PooledWorker): void {
    const rec = this.byWorker.get(w);
    if (!rec) return;
    this.detach(rec);
    const exit = w.exit!;
    const { maxRetries } = rec.spec;
    // A streaming task that already yielded cannot be replayed without duplicating items.
    const canRetry = rec.streamed === 0 && (maxRetries === -1 || rec.attempts <= maxRetries);
    // Kills are intended, except those of the memory monitor, which count as failures.
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
    this.d.scheduler.dispatch();
  }

  onBlocked(w: PooledWorker, taskId: string, blocked: boolean): void {
    const rec = this.tasks.get(taskId);
    if (!rec || rec.worker !== w) return;
    const cpu = rec.spec.resources.CPU;
    if (blocked) {
      if (rec.blocked++ === 0 && cpu) {
        rec.pool.release({ CPU: cpu });
        this.d.scheduler.dispatch();
      }
    } else if (--rec.blocked === 0 && cpu) rec.pool.forceAcquire({ CPU: cpu });
  }

  /** Stops the task that started last, as out of memory (the memory monitor's policy). */
  stopNewest(): boolean {
    let newest: PooledWorker | undefined;
    for (const w of this.byWorker.keys()) newest = w;
    if (!newest) return false;
    this.d.workers.kill(newest, { oom: true });
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
        if (rec.request) this.d.scheduler.withdraw(rec.request);
        this.finish(rec, [cancelledValue(rec.spec)]);
        return;
      case "running": {
        const w = rec.worker!;
        if (force) {
          this.d.workers.kill(w);
          return;
        }
        // JavaScript cannot interrupt running code from outside: the task's pending gets are
        // interrupted now, and if it has not stopped after a grace period its thread is.
        w.channel.send({ t: "cancel-task", taskId });
        const timer = setTimeout(() => {
          if (rec.worker === w) this.d.workers.kill(w);
        }, this.d.cancelGraceMs);
        timer.unref();
      }
    }
  }

  /** Fails every task still here (the node is stopping). */
  clear(): void {
    this.tasks.clear();
    this.byWorker.clear();
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

  private detach(rec: TaskRecord): void {
    const w = rec.worker;
    if (!w) return;
    this.byWorker.delete(w);
    rec.worker = undefined;
    rec.state = "queued";
    const cpu = rec.spec.resources.CPU;
    // A task blocked in get has already given its CPU back.
    const give = rec.blocked > 0 && cpu ? { ...rec.spec.resources, CPU: 0 } : rec.spec.resources;
    rec.pool.release(give);
    rec.blocked = 0;
  }

  private finish(rec: TaskRecord, results: ObjectValue[]): void {
    rec.state = "finished";
    this.tasks.delete(rec.spec.taskId);
    if (rec.spec.parentTaskId) {
      const set = this.children.get(rec.spec.parentTaskId);
      set?.delete(rec.spec.taskId);
      if (set && !set.size) this.children.delete(rec.spec.parentTaskId);
    }
    this.sealAll(rec.spec, results.length === 1 && !results[0].ok ? results[0] : undefined, results);
    this.releaseHolds(rec.spec);
  }

  /** Seals the task's returns: each with its result, or all with one failure. */
  private sealAll(spec: TaskSpec, failure?: ObjectValue, results?: ObjectValue[]): void {
    const { table } = this.d;
    if (spec.numReturns === "streaming") {
      table.seal(objectIdOf(spec.taskId, 0), failure ?? results![0]);
      return;
    }
    for (let i = 0; i < spec.numReturns; i++) table.seal(objectIdOf(spec.taskId, i + 1), failure ?? results![i]);
  }

  private releaseHolds(spec: TaskSpec): void {
    for (const id of heldRefs(spec)) this.d.table.removeRef(id);
  }
}

export function cancelledValue(spec: TaskSpec): ObjectValue {
  return { ok: false, error: { code: "TASK_CANCELLED", name: "TaskCancelledError", message: `task ${spec.name} was cancelled` } };
}

export { taskErrorInfo };
