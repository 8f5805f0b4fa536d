/**
 * The method calls of the node's actors: each actor's queue in submission order, sent to its
 * thread as their dependencies are ready, in flight until done; failed with the actor's death,
 * or queued again after a restart when maxTaskRetries allows.
 */
import type { ErrorInfo } from "../common/errors.js";
import { objectIdOf } from "../common/ids.js";
import type { Fifo } from "../common/fifo.js";
import type { ObjectTable, ObjectValue, Waiter } from "../object-store/object-table.js";
import type { TaskSpec } from "../rpc/protocol.js";
import { heldRefs, whenDependenciesReady } from "./dependencies.js";
import { adoptReturns, cancelledValue, expectReturns, sealReturns } from "./task-manager.js";
import type { PooledWorker } from "./worker-pool.js";

export interface Call {
  spec: TaskSpec;
  actor: CallTarget;
  depsReady: boolean;
  failed?: ErrorInfo;
  cancelDeps?: () => void;
  attempts: number;
}

/** What calls need of an actor's record. */
export interface CallTarget {
  state: "pending" | "alive" | "restarting" | "dead";
  worker?: PooledWorker;
  queue: Fifo<Call>;
  noRestart: boolean;
  /** Why the actor died, once it has. */
  death?: ErrorInfo;
}

export class ActorCalls {
  /** Calls sent to their actor's thread and not done, by task id (in the order sent). */
  private readonly inflight = new Map<string, Call>();

  constructor(
    private readonly table: ObjectTable,
    /** Sends a sealed return to the call's submitter (its owner), if it is still connected. */
    private readonly ownerOf: (spec: TaskSpec) => Waiter | undefined,
    /** Sends a worker the execute message of a spec (see RemoteObjects.execute). */
    private readonly execute: (w: PooledWorker, spec: TaskSpec) => void,
    /** Told each call's results as they are sealed (see TaskEvents). */
    private readonly ended: (spec: TaskSpec, results: ObjectValue[]) => void,
  ) {}

  /** A call of `actor`; with no live actor, it fails at once. */
  submit(spec: TaskSpec, actor: CallTarget | undefined): void {
    this.table.hold(heldRefs(spec), spec.taskId);
    expectReturns(this.table, spec, this.ownerOf(spec));
    if (!actor || actor.state === "dead") {
      return this.fail(spec, actor?.death ?? { code: "ACTOR_DIED", name: "ActorDiedError", message: `the actor of ${spec.name} is dead or unknown` });
    }
    const c: Call = { spec, actor, depsReady: false, attempts: 0 };
    actor.queue.push(c);
    c.cancelDeps = whenDependenciesReady(this.table, spec, (failure) => {
      c.cancelDeps = undefined;
      c.depsReady = true;
      c.failed = failure;
      this.pump(actor);
    });
  }

  /** Sends the actor's queued calls to its thread in order, as far as their dependencies are ready. */
  pump(actor: CallTarget): void {
    if (actor.state !== "alive" || !actor.worker) return;
    const w = actor.worker;
    while (actor.queue.length && actor.queue.peek()!.depsReady) {
      const c = actor.queue.shift()!;
      if (c.failed) {
        this.fail(c.spec, c.failed);
        continue;
      }
      c.attempts++;
      this.inflight.set(c.spec.taskId, c);
      this.execute(w, c.spec);
    }
  }

  /** A call finished on thread `w`; false when `taskId` is no call in flight there (the caller discards the results). */
  done(w: PooledWorker, taskId: string, results: ObjectValue[]): boolean {
    const c = this.inflight.get(taskId);
    if (!c || c.actor.worker !== w) return false;
    this.inflight.delete(taskId);
    this.seal(c.spec, results);
    return true;
  }

  /**
   * The actor's thread is gone: its calls in flight go back to the front of its queue, in order,
   * when they may be retried on a restarted actor; the others fail with `error(spec)`.
   */
  lost(actor: CallTarget, error: (spec: TaskSpec) => ErrorInfo): void {
    const retry: Call[] = [];
    for (const c of this.inflight.values()) {
      if (c.actor !== actor) continue;
      this.inflight.delete(c.spec.taskId);
      if (mayRetry(actor, c)) retry.push(c);
      else this.fail(c.spec, error(c.spec));
    }
    actor.queue.unshiftAll(retry);
  }

  /**
   * Direct calls (see core-worker/direct-calls.ts) whose connection to the actor's process
   * closed before they answered, handed over by their caller: they count as calls that were in
   * flight on the thread that is gone (see lost), and their returns are the node's to deliver
   * from now on. A call the node already has results of (sent through it, see "direct-done")
   * is left alone.
   */
  handOver(actor: CallTarget, specs: TaskSpec[], error: (spec: TaskSpec) => ErrorInfo): void {
    const retry: Call[] = [];
    for (const spec of specs) {
      if (this.table.isReady(objectIdOf(spec.taskId, 1))) continue;
      adoptReturns(this.table, spec as TaskSpec & { numReturns: number }, this.ownerOf(spec));
      this.table.hold(heldRefs(spec), spec.taskId);
      const c: Call = { spec, actor, depsReady: true, attempts: 1 };
      if (actor.state !== "dead" && mayRetry(actor, c)) retry.push(c);
      else this.fail(spec, actor.state === "dead" && actor.death ? actor.death : error(spec));
    }
    actor.queue.unshiftAll(retry);
    this.pump(actor);
  }

  /** The actor is dead: its queued calls fail with its death. */
  failQueued(actor: CallTarget, error: ErrorInfo): void {
    for (const c of actor.queue.takeAll()) {
      c.cancelDeps?.();
      this.fail(c.spec, error);
    }
  }

  /** Cancels a call: a queued one is dropped, a running one asked to stop. False if no such call. */
  cancel(taskId: string, actors: Iterable<CallTarget>): boolean {
    const running = this.inflight.get(taskId);
    if (running) {
      running.actor.worker?.channel.send({ t: "cancel-task", taskId });
      return true;
    }
    for (const actor of actors) {
      const c = actor.queue.removeWhere((x) => x.spec.taskId === taskId);
      if (c) {
        c.cancelDeps?.();
        this.seal(c.spec, [cancelledValue(c.spec)]);
        return true;
      }
    }
    return false;
  }

  /** Whether `taskId` is a call queued or in flight. */
  has(taskId: string, actors: Iterable<CallTarget>): boolean {
    if (this.inflight.has(taskId)) return true;
    for (const actor of actors) if (actor.queue.some((c) => c.spec.taskId === taskId)) return true;
    return false;
  }

  private fail(spec: TaskSpec, error: ErrorInfo): void {
    this.seal(spec, [{ ok: false, error }]);
  }

  /** Seals the call's returns and releases its holds. */
  private seal(spec: TaskSpec, results: ObjectValue[]): void {
    this.ended(spec, results);
    sealReturns(this.table, spec, results);
    this.table.release(heldRefs(spec), spec.taskId);
  }
}

/** Whether a call lost with its actor's thread or process runs again on the restarted actor (maxTaskRetries). */
function mayRetry(actor: CallTarget, c: Call): boolean {
  const max = c.spec.maxRetries;
  return !actor.noRestart && (max === -1 || c.attempts <= max);
}
