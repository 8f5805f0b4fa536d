/**
 * Actors on this node: names, placement on a thread (see actor-threads.ts), the constructor,
 * restarts after the thread dies (maxRestarts; the calls it was running, per maxTaskRetries, in
 * actor-calls.ts), kill, and the end of anonymous actors whose handles are all gone.
 */
import type { ErrorInfo } from "../common/errors.js";
import { objectIdOf } from "../common/ids.js";
import type { ObjectTable, ObjectValue, Waiter } from "../object-store/object-table.js";
import type { DirectRoute, TaskSpec } from "../rpc/protocol.js";
import type { ActorHandleData } from "../serialization/markers.js";
import { heldRefs, whenDependenciesReady } from "./dependencies.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { FunctionTable } from "./function-table.js";
import type { ResourceScheduler } from "./resource-scheduler.js";
import type { ResourcePool } from "./resources.js";
import { discardAll, expectReturns } from "./task-manager.js";
import type { PooledWorker, WorkerPool } from "./worker-pool.js";
import type { ActorDirectory, Restart } from "../gcs/actor-directory.js";
import { serialize } from "../serialization/serializer.js";
import { Fifo } from "../common/fifo.js";
import { ActorCalls, type CallTarget } from "./actor-calls.js";
import { ActorThreads } from "./actor-threads.js";

interface ActorRecord extends CallTarget {
  id: string;
  creation: TaskSpec;
  pool: ResourcePool;
  /** True when the actor lives on a shared host thread rather than its own. */
  shared: boolean;
  restarts: number;
  /** Resources held while alive (those asked for explicitly). */
  held?: Record<string, number>;
  /** How its last thread or process ended ("was killed", "crashed: ..."), for the calls lost with it. */
  lastLoss?: string;
  /** Direct calls handed over while the node still counted their process as alive: taken when it ends. */
  lostDirect?: TaskSpec[];
  /** Told once the actor is next alive or dead (see directEndpoint). */
  onSettled?: (() => void)[];
}

export interface ActorManagerDeps {
  table: ObjectTable;
  scheduler: ResourceScheduler;
  workers: WorkerPool;
  functions: FunctionTable;
  directory: ActorDirectory;
  poolFor(spec: TaskSpec): ResourcePool | ErrorInfo;
  /** Sends a sealed return to the call's submitter (its owner), if it is still connected. */
  ownerOf(spec: TaskSpec): Waiter | undefined;
  /** What the GCS keeps to restart a detached actor after a head restart, when it can. */
  restartOf(spec: TaskSpec): Restart | undefined;
  /** Sends a worker the execute message of a spec, once its arguments are readable there (see RemoteObjects.execute). */
  execute(w: PooledWorker, spec: TaskSpec, functions?: FunctionDescriptor[]): void;
  /** Told the results of each creation and call as they are sealed (see TaskEvents). */
  ended(spec: TaskSpec, results: ObjectValue[]): void;
}

type Exit = NonNullable<PooledWorker["exit"]>;

export class ActorManager {
  private readonly actors = new Map<string, ActorRecord>();
  private readonly threads: ActorThreads<ActorRecord>;
  private readonly calls: ActorCalls;
  /** Actors whose constructor is running, by the creation's task id. */
  private readonly constructing = new Map<string, ActorRecord>();
  /** Handles made with getIfExists point at an actor under another id. */
  private readonly aliases = new Map<string, string>();

  constructor(private readonly d: ActorManagerDeps) {
    this.threads = new ActorThreads(d.workers);
    this.calls = new ActorCalls(d.table, d.ownerOf, d.execute, d.ended);
  }

  create(spec: TaskSpec): void {
    const a = spec.actor!;
    const { table, directory } = this.d;
    table.expectActor(a.actorId, spec.ownerId);
    expectReturns(table, spec, this.d.ownerOf(spec));
    table.hold(heldRefs(spec), spec.taskId);
    if (a.name) {
      const existing = this.liveActorNamed(a.namespace, a.name);
      if (existing) {
        if (a.getIfExists) {
          // The new handle's id stands for the existing actor, which it keeps alive.
          this.aliases.set(a.actorId, existing);
          table.hold([existing], a.actorId);
          this.sealCreation(spec, okNull());
          table.release(heldRefs(spec), spec.taskId);
          return;
        }
        return this.refuse(spec, {
          code: "ACTOR_ERROR", name: "RayActorError",
          message: `an actor named '${a.name}' already exists in namespace '${a.namespace}'; use getIfExists to reuse it`,
        });
      }
    }
    const pool = this.d.poolFor(spec);
    if (!("total" in pool)) return this.refuse(spec, pool);
    const rec: ActorRecord = {
      id: a.actorId, creation: spec, state: "pending", pool, shared: false, restarts: 0, queue: new Fifo(),
      noRestart: false,
    };
    this.actors.set(a.actorId, rec);
    directory.register(this.handleData(rec), spec, a.detached ? this.d.restartOf(spec) : undefined);
    whenDependenciesReady(table, spec, (failure) => {
      if (failure) return this.die(rec, failure);
      this.place(rec);
    });
  }

  /**
   * A detached actor a restarted head found in its storage: its calls wait until its node joins
   * again and `adopt` takes it back, or `abandon` restarts it (when its arguments were kept,
   * `restartable`) or gives up.
   */
  recovering(creation: TaskSpec, restartable: boolean): void {
    const id = creation.actor!.actorId;
    this.actors.set(id, {
      id, creation, state: "restarting", pool: undefined as unknown as ResourcePool, shared: false, restarts: 0, queue: new Fifo(), noRestart: !restartable,
    });
  }

  /**
   * Takes back actors running on worker `w` of a node that joined a restarted head, as they are.
   * False (nothing taken) when one of them is not waiting to be taken back.
   */
  adopt(w: PooledWorker, actorIds: string[], pool: ResourcePool): boolean {
    const recs = actorIds.map((id) => this.actors.get(id));
    if (!recs.length || recs.some((r) => r?.state !== "restarting" || r.worker)) return false;
    this.threads.adopt(recs as ActorRecord[], w);
    for (const rec of recs as ActorRecord[]) {
      rec.worker = w;
      rec.pool = pool;
      // In a placement group, the group's reservation (made again) holds its resources.
      const inGroup = rec.creation.scheduling?.type === "placement_group";
      if (rec.creation.actor!.holdsResources && !inGroup) {
        rec.held = rec.creation.resources;
        pool.forceAcquire(rec.held);
      }
      rec.state = "alive";
      this.d.directory.setState(rec.id, "ALIVE");
      this.calls.pump(rec);
      this.settled(rec);
    }
    return true;
  }

  /**
   * Recovery is over: an actor not taken back by now (its node did not join again, or it ran on
   * the head that went) starts again from its constructor where it can, else it is dead.
   */
  abandon(actorId: string, why: string): void {
    const rec = this.actors.get(actorId);
    if (rec?.state !== "restarting" || rec.worker) return;
    const lost: ErrorInfo = { code: "ACTOR_DIED", name: "ActorDiedError", message: `actor ${rec.creation.actor!.className} was lost: ${why}` };
    if (rec.noRestart) return this.die(rec, lost);
    const pool = this.d.poolFor(rec.creation);
    if (!("total" in pool)) return this.die(rec, { ...lost, message: `${lost.message}, and cannot be placed again: ${pool.message}` });
    rec.pool = pool;
    rec.restarts++;
    this.place(rec);
  }

  /** The id of the live (not dead) actor named `name` in `namespace`, if any. */
  liveActorNamed(namespace: string, name: string): string | undefined {
    const entry = this.d.directory.lookup(namespace, name);
    return entry && this.actors.get(entry.data.actorId)?.state !== "dead" ? entry.data.actorId : undefined;
  }

  handleData(rec: ActorRecord): ActorHandleData {
    const a = rec.creation.actor!;
    return { actorId: rec.id, className: a.className, methods: a.methods, maxTaskRetries: a.maxTaskRetries };
  }

  /** A method call. */
  call(spec: TaskSpec): void {
    // A handle made with getIfExists names its actor by an alias: the worker knows the real id.
    spec.actorId = this.resolve(spec.actorId!);
    this.calls.submit(spec, this.actors.get(spec.actorId));
  }

  /** A call or constructor finished on thread `w`; results nobody waits for any more are discarded. */
  onDone(w: PooledWorker, taskId: string, results: ObjectValue[]): void {
    if (this.calls.done(w, taskId, results)) return;
    const rec = this.constructing.get(taskId);
    if (!rec || rec.worker !== w) return discardAll(this.d.table, results);
    this.constructing.delete(taskId);
    this.onConstructed(rec, results[0]);
  }

  onWorkerExit(w: PooledWorker): void {
    for (const rec of this.threads.ended(w)) this.lose(rec, w.exit!);
  }

  /** The actor's thread ended, or it was dropped from a shared host: restart it or let it die. */
  private lose(rec: ActorRecord, exit: Exit): void {
    rec.worker = undefined;
    this.constructing.delete(rec.creation.taskId);
    const how = exit.oom ? "ran out of memory" : exit.intended ? "was killed" : exit.error ? `crashed: ${exit.error.message}` : `exited with code ${exit.code}`;
    rec.lastLoss = how;
    // Calls in flight fail, unless they may be retried on the restarted actor.
    this.calls.lost(rec, (spec) => this.lostCall(rec, spec));
    const direct = rec.lostDirect;
    rec.lostDirect = undefined;
    if (direct) this.calls.handOver(rec, direct, (spec) => this.lostCall(rec, spec));
    if (rec.held) {
      rec.pool.release(rec.held);
      rec.held = undefined;
      this.d.scheduler.dispatch();
    }
    const max = rec.creation.actor!.maxRestarts;
    if (!rec.noRestart && rec.state === "alive" && (max === -1 || rec.restarts < max)) {
      rec.restarts++;
      rec.state = "restarting";
      this.place(rec);
      return;
    }
    const className = rec.creation.actor!.className;
    this.die(rec, rec.death ?? { code: "ACTOR_DIED", name: "ActorDiedError", message: `actor ${className} ${how}${rec.restarts ? ` after ${rec.restarts} restart(s)` : ""}` });
  }

  /** How a call in flight on an actor's lost thread or process fails. */
  private lostCall(rec: ActorRecord, spec: TaskSpec): ErrorInfo {
    return { code: "ACTOR_ERROR", name: "RayActorError", message: `actor ${rec.creation.actor!.className} ${rec.lastLoss ?? "died"} while running ${spec.name}` };
  }

  /**
   * Where a caller in this process may call the actor directly (see core-worker/direct-calls.ts):
   * an actor alive in a worker process of this node that takes calls concurrently (its calls
   * keep no order, so some may go through the node while others go direct). Undefined otherwise.
   */
  async directEndpoint(actorId: string): Promise<DirectRoute | undefined> {
    const id = this.resolve(actorId);
    const rec = this.actors.get(id);
    if (!rec || rec.creation.actor!.maxConcurrency <= 1) return undefined;
    // Asked by an actor's first calls, usually before its constructor is done.
    if (rec.state === "pending" || rec.state === "restarting") await new Promise<void>((resolve) => (rec.onSettled ??= []).push(resolve));
    const w = rec.worker;
    if (rec.state !== "alive" || !w?.direct || rec.shared) return undefined;
    return { actorId: id, workerId: w.id, ...w.direct };
  }

  /** The actor is alive or dead now: whoever waited for either hears of it. */
  private settled(rec: ActorRecord): void {
    const waiting = rec.onSettled;
    rec.onSettled = undefined;
    if (waiting) for (const resolve of waiting) resolve();
  }

  /**
   * Direct calls whose connection to the actor's process `workerId` closed before they
   * answered: if the node has not yet seen that process end, they wait for it (its last results
   * may still be on their way through the node); else they are taken now (see ActorCalls.handOver).
   */
  directLost(actorId: string, workerId: string, specs: TaskSpec[]): void {
    const rec = this.actors.get(this.resolve(actorId));
    if (!rec) {
      const error: ErrorInfo = { code: "ACTOR_DIED", name: "ActorDiedError", message: `the actor of ${specs[0]?.name} is dead or unknown` };
      return this.calls.handOver({ state: "dead", death: error, queue: new Fifo(), noRestart: true }, specs, () => error);
    }
    if (rec.worker?.id === workerId) (rec.lostDirect ??= []).push(...specs);
    else this.calls.handOver(rec, specs, (spec) => this.lostCall(rec, spec));
  }

  kill(actorId: string, noRestart: boolean): void {
    const rec = this.actors.get(this.resolve(actorId));
    if (!rec || rec.state === "dead") return;
    rec.noRestart = noRestart;
    const className = rec.creation.actor!.className;
    if (noRestart) rec.death ??= { code: "ACTOR_DIED", name: "ActorDiedError", message: `actor ${className} was killed` };
    const w = rec.worker;
    if (w && rec.shared) {
      // Its neighbours on the host live on: only this actor goes.
      w.channel.send({ t: "drop-actor", actorId: rec.id });
      this.threads.leave(rec, w);
      this.lose(rec, { code: 0, oom: false, intended: true });
    } else if (w) this.d.workers.kill(w);
    else if (noRestart) this.die(rec, rec.death!);
  }

  /** The job's driver is gone: its actors end, but for detached ones (as in Ray). */
  endJob(jobId: string): void {
    for (const rec of [...this.actors.values()]) {
      if (rec.creation.jobId === jobId && !rec.creation.actor!.detached) this.kill(rec.id, true);
    }
  }

  /** The last handle of an actor is gone: an anonymous, non-detached actor ends. */
  onOutOfScope(actorId: string): void {
    const target = this.aliases.get(actorId);
    if (target) {
      this.aliases.delete(actorId);
      this.d.table.release([target], actorId);
      return;
    }
    const rec = this.actors.get(actorId);
    if (!rec) return;
    const a = rec.creation.actor!;
    if (a.name || a.detached) return;
    if (rec.state === "dead") {
      this.actors.delete(actorId);
      return;
    }
    this.kill(actorId, true);
  }

  /**
   * Where a live actor runs (its worker, and that worker's node: absent for this one) and how
   * often it restarted; undefined once its record is gone (a dead actor's usually is).
   */
  placement(actorId: string): { workerId?: string; nodeId?: string; pid?: number; restarts: number } | undefined {
    const rec = this.actors.get(actorId);
    if (!rec) return undefined;
    const w = rec.worker;
    return { workerId: w?.id, nodeId: w?.nodeId, pid: w?.pid(), restarts: rec.restarts };
  }

  cancel(taskId: string): boolean {
    return this.calls.cancel(taskId, this.actors.values());
  }

  isActorTask(taskId: string): boolean {
    return this.calls.has(taskId, this.actors.values());
  }

  private resolve(actorId: string): string {
    return this.aliases.get(actorId) ?? actorId;
  }

  /** Reserves the actor's resources, then starts its thread and runs the constructor. */
  private place(rec: ActorRecord): void {
    const spec = rec.creation;
    if (rec.pool.closed) {
      // Its node is gone (a restart after the node died): placed again among the live ones.
      const pool = this.d.poolFor(spec);
      if (!("total" in pool)) return this.die(rec, { code: "ACTOR_DIED", name: "ActorDiedError", message: `actor ${spec.actor!.className} cannot be placed: ${pool.message}` });
      rec.pool = pool;
    }
    this.d.scheduler.request({
      resources: spec.resources,
      pool: rec.pool,
      describe: () => `actor ${spec.actor!.className}`,
      grant: () => {
        if (rec.state === "dead") return false;
        const w = (rec.worker = this.threads.seat(rec));
        this.constructing.set(spec.taskId, rec);
        // Placement needs 1 CPU; a live actor holds only what it asked for.
        rec.held = spec.actor!.holdsResources ? spec.resources : undefined;
        if (!rec.held) rec.pool.release(spec.resources);
        this.d.execute(w, spec, this.d.functions.missingFor(w, spec.fnId));
        return true;
      },
      fail: (error) => {
        if (rec.state === "dead") return;
        if (rec.pool.closed) return this.place(rec);
        this.die(rec, { code: "ACTOR_DIED", name: "ActorDiedError", message: `actor ${spec.actor!.className} cannot be placed: ${error.message}` });
      },
    });
  }

  private onConstructed(rec: ActorRecord, result: ObjectValue): void {
    if (!result.ok) {
      rec.death = {
        code: "ACTOR_DIED", name: "ActorDiedError",
        message: `actor ${rec.creation.actor!.className} could not be created: the constructor threw ${result.error.cause?.name ?? result.error.name}: ${result.error.cause?.message ?? result.error.message}`,
        cause: result.error.cause ?? result.error,
      };
      rec.noRestart = true;
      this.kill(rec.id, true);
      return;
    }
    // A restarted actor's constructor result has no taker: its creation result was sealed long ago.
    if (rec.state === "pending") this.sealCreation(rec.creation, result);
    else this.d.table.discard(result);
    rec.state = "alive";
    this.d.directory.setState(rec.id, "ALIVE");
    this.calls.pump(rec);
    this.settled(rec);
  }

  private die(rec: ActorRecord, error: ErrorInfo): void {
    rec.state = "dead";
    rec.death = error;
    this.settled(rec);
    this.d.directory.setState(rec.id, "DEAD", `${error.name}: ${error.message}`);
    this.d.directory.unregisterName(rec.id);
    this.sealCreation(rec.creation, { ok: false, error });
    this.calls.failQueued(rec, error);
    this.d.table.release(heldRefs(rec.creation), rec.creation.taskId);
    if (!this.d.table.has(rec.id)) this.actors.delete(rec.id);
  }

  /** The actor cannot be created: it is dead from the start, with `error` as the reason its calls fail. */
  private refuse(spec: TaskSpec, error: ErrorInfo): void {
    this.actors.set(spec.actor!.actorId, {
      id: spec.actor!.actorId, creation: spec, state: "dead", pool: undefined as unknown as ResourcePool, shared: false, restarts: 0,
      queue: new Fifo(), noRestart: true, death: error,
    });
    this.sealCreation(spec, { ok: false, error });
    this.d.table.release(heldRefs(spec), spec.taskId);
  }

  private sealCreation(spec: TaskSpec, result: ObjectValue): void {
    this.d.ended(spec, [result]);
    this.d.table.seal(objectIdOf(spec.taskId, 1), result);
  }
}

function okNull(): ObjectValue {
  return { ok: true, value: serialize(null, {}) };
}
