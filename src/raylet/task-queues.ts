/**
 * Leases and pipelining. Ready tasks wait in a queue per (resource shape, pool, environment).
 * A lease is a worker plus the resources of one task of that queue; tasks run on it one after
 * another. For fast tasks the raylet sends several at once down a lease (one message and one
 * wake-up for many tasks, which is what makes small tasks cheap); slow or unknown tasks go one
 * at a time, so long tasks never wait behind each other on one worker while others are free.
 */
import type { ErrorInfo } from "../common/errors.js";
import { Fifo } from "../common/fifo.js";
import type { ResourceScheduler } from "./resource-scheduler.js";
import { fits, shapeKey, subtract, type ResourcePool, type ResourceSet } from "./resources.js";
import type { TaskSpec } from "../rpc/protocol.js";
import { envKey, workerEnvOf, type PooledWorker, type WorkerEnv, type WorkerPool } from "./worker-pool.js";

/** What a queue needs to know of a task. */
export interface Queued {
  readonly spec: Pick<TaskSpec, "taskId" | "name" | "resources" | "env" | "memoryBytes" | "jobId" | "isolation" | "workingDir" | "scheduling">;
  /** Whose resources it takes (a node's, or a bundle's); another node's when it spills back. */
  pool: ResourcePool;
  lease?: Lease;
}

export interface Lease {
  readonly worker: PooledWorker;
  readonly queue: TaskQueue;
  /** Sent to the worker, in order; the first is the one running. */
  readonly inflight: Queued[];
  /** Gets the running task is blocked in; its CPU is back with the node while > 0. */
  blocked: number;
}

export class TaskQueue {
  readonly ready = new Fifo<Queued>();
  readonly leases = new Set<Lease>();
  requesting = false;
  private avgMs = 0;
  private samples = 0;

  constructor(
    readonly key: string,
    readonly pool: ResourcePool,
    readonly resources: ResourceSet,
    readonly env: WorkerEnv,
  ) {}

  /** Learns how long this queue's tasks take (exponential average). */
  observe(ms: number): void {
    this.avgMs = this.samples === 0 ? ms : this.avgMs * 0.8 + ms * 0.2;
    this.samples++;
  }

  /** How many tasks a lease may hold: one, unless tasks are known to be fast; then a fair share. */
  depth(): number {
    if (this.samples < 3 || this.avgMs >= 1) return 1;
    let waiting = this.ready.length;
    for (const l of this.leases) waiting += l.inflight.length;
    const parallel = this.leases.size + (this.requesting ? 1 : 0);
    return Math.min(64, Math.max(1, Math.ceil(waiting / Math.max(1, parallel))));
  }
}

export interface TaskQueuesDeps {
  scheduler: ResourceScheduler;
  workers: WorkerPool;
  /** Sends a task down a lease (the caller's execute message). */
  start(task: Queued, lease: Lease): void;
  /** The task can never get a lease: its pool is gone. */
  fail(task: Queued, error: ErrorInfo): void;
}

export class TaskQueues {
  private readonly queues = new Map<string, TaskQueue>();
  private readonly byWorker = new Map<PooledWorker, Lease>();

  constructor(private readonly d: TaskQueuesDeps) {}

  leaseOf(w: PooledWorker): Lease | undefined {
    return this.byWorker.get(w);
  }

  leases(): Iterable<Lease> {
    return this.byWorker.values();
  }

  /** Adds a ready task and sends what can go now. */
  push(task: Queued, pool: ResourcePool): void {
    const q = this.queueFor(task, pool);
    q.ready.push(task);
    this.pump(q);
  }

  pushFront(tasks: Queued[], q: TaskQueue): void {
    q.ready.unshiftAll(tasks);
    this.pump(q);
  }

  /**
   * Spillback: ready tasks waiting for a node that has no room go to nodes (`pools`) that have
   * room now, oldest first, as Ray's raylets send queued work on. Only tasks the scheduler may
   * place anywhere (DEFAULT and SPREAD); a task pinned to a node or in a bundle stays.
   */
  spillback(pools: ResourcePool[]): void {
    if (pools.length < 2) return;
    for (const q of [...this.queues.values()]) {
      if (!q.ready.length || !pools.includes(q.pool) || fits(q.resources, q.pool.available)) continue;
      for (const to of pools) {
        if (to === q.pool) continue;
        const room = { ...to.available };
        while (q.ready.length && fits(q.resources, room) && movable(q.ready.peek()!)) {
          const task = q.ready.shift()!;
          subtract(room, q.resources);
          task.pool = to;
          this.push(task, to);
        }
      }
    }
  }

  /** Takes a task out of its queue before it was sent (a cancel). */
  withdraw(task: Queued, pool: ResourcePool): boolean {
    return this.queues.get(queueKey(task, pool))?.ready.remove(task) ?? false;
  }

  /** A task of `lease` finished (or was handed back): drop it from the lease, refill or end the lease. */
  finished(lease: Lease, task: Queued, ms?: number): void {
    const i = lease.inflight.indexOf(task);
    if (i >= 0) lease.inflight.splice(i, 1);
    task.lease = undefined;
    if (ms !== undefined) lease.queue.observe(ms);
  }

  /** Refills `lease`'s queue's leases, asks for another lease if tasks still wait, ends idle leases. */
  settle(q: TaskQueue): void {
    this.pump(q);
    for (const lease of q.leases) if (lease.inflight.length === 0) this.end(lease);
  }

  setBlocked(lease: Lease, blocked: boolean): void {
    const cpu = lease.queue.resources.CPU;
    if (blocked) {
      if (lease.blocked++ === 0 && cpu) {
        lease.queue.pool.release({ CPU: cpu });
        this.d.scheduler.dispatch();
        this.pump(lease.queue);
      }
    } else if (lease.blocked > 0 && --lease.blocked === 0) {
      if (cpu) lease.queue.pool.forceAcquire({ CPU: cpu });
      this.pump(lease.queue);
    }
  }

  /** The lease's worker is gone: its resources go back; returns the tasks it held, running one first. */
  lost(lease: Lease): Queued[] {
    const tasks = lease.inflight.splice(0);
    for (const t of tasks) t.lease = undefined;
    this.release(lease);
    return tasks;
  }

  /** The lease whose worker started last (the memory monitor's victim). */
  newest(): Lease | undefined {
    let last: Lease | undefined;
    for (const l of this.byWorker.values()) if (l.inflight.length) last = l;
    return last;
  }

  private queueFor(task: Queued, pool: ResourcePool): TaskQueue {
    const key = queueKey(task, pool);
    let q = this.queues.get(key);
    if (!q) {
      q = new TaskQueue(key, pool, task.spec.resources, { ...workerEnvOf(task.spec), nodeId: pool.nodeId });
      this.queues.set(key, q);
    }
    return q;
  }

  private pump(q: TaskQueue): void {
    for (const lease of q.leases) this.fill(lease);
    if (q.ready.length && !q.requesting) this.requestLease(q);
  }

  private fill(lease: Lease): void {
    if (lease.blocked > 0 || lease.worker.exit) return;
    const q = lease.queue;
    const depth = q.depth();
    while (lease.inflight.length < depth && q.ready.length) {
      const task = q.ready.shift()!;
      task.lease = lease;
      lease.inflight.push(task);
      this.d.start(task, lease);
    }
  }

  private requestLease(q: TaskQueue): void {
    q.requesting = true;
    this.d.scheduler.request({
      resources: q.resources,
      pool: q.pool,
      describe: () => `task ${q.ready.peek()?.spec.name ?? "?"}`,
      grant: () => {
        q.requesting = false;
        if (!q.ready.length) return false;
        const worker = this.d.workers.acquire(q.env);
        const lease: Lease = { worker, queue: q, inflight: [], blocked: 0 };
        q.leases.add(lease);
        this.byWorker.set(worker, lease);
        this.pump(q);
        return true;
      },
      fail: (error) => {
        q.requesting = false;
        for (const task of q.ready.takeAll()) this.d.fail(task, error);
        if (!q.leases.size) this.queues.delete(q.key);
      },
    });
  }

  private end(lease: Lease): void {
    this.release(lease);
    this.d.workers.release(lease.worker);
    this.d.scheduler.dispatch();
  }

  private release(lease: Lease): void {
    const q = lease.queue;
    if (!q.leases.delete(lease)) return;
    this.byWorker.delete(lease.worker);
    const cpu = q.resources.CPU;
    // A blocked lease has already given its CPU back.
    q.pool.release(lease.blocked > 0 && cpu ? { ...q.resources, CPU: 0 } : q.resources);
    if (!q.leases.size && !q.ready.length && !q.requesting) this.queues.delete(q.key);
  }
}

function movable(task: Queued): boolean {
  const s = task.spec.scheduling;
  return s === undefined || s.type === "DEFAULT" || s.type === "SPREAD";
}

function queueKey(task: Queued, pool: ResourcePool): string {
  // The spec has the environment's fields (its node is the pool's).
  return `${pool.id}|${shapeKey(task.spec.resources)}|${envKey(task.spec)}`;
}
