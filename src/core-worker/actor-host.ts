/**
 * The actors living in a worker thread. Usually one, in a thread of its own; past a node's
 * limit of actor threads, light actors share host threads (see raylet/actor-manager.ts), so a
 * host keeps each actor's instance, queue and concurrency apart.
 */
import { Fifo } from "../common/fifo.js";
import type { ErrorInfo } from "../common/errors.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { TaskSpec } from "../rpc/protocol.js";

type AnyFn = (...args: unknown[]) => unknown;

export interface Execution {
  spec: TaskSpec;
  args: ObjectValue[];
}

interface HostedActor {
  instance: Record<string, unknown>;
  className: string;
  resources: Record<string, number>;
  maxConcurrency: number;
  running: number;
  queue: Fifo<Execution>;
}

/** What the host needs from the executor that runs code. */
export interface ActorRunner {
  /** `mayInterleave`: other calls may run while this one awaits (see CoreWorker.runTask). */
  run(spec: TaskSpec, args: ObjectValue[], body: (args: unknown[]) => Promise<unknown>, resources: Record<string, number>, mayInterleave: boolean): Promise<void>;
  load(fnId: string | undefined): Promise<unknown>;
  fail(spec: TaskSpec, error: ErrorInfo): void;
}

export class ActorHost {
  private readonly actors = new Map<string, HostedActor>();
  /** Actors dropped while their constructor still ran: the instance is discarded when it comes. */
  private readonly dropped = new Set<string>();

  constructor(private readonly runner: ActorRunner, private readonly onIdle: () => void) {}

  get size(): number {
    return this.actors.size;
  }

  /** Runs the constructor; calls that arrive meanwhile wait in the actor's queue. */
  construct(spec: TaskSpec, args: ObjectValue[]): Promise<void> {
    const a = spec.actor!;
    const resources = a.holdsResources ? spec.resources : {};
    return this.runner.run(
      spec,
      args,
      async (decoded) => {
        const Cls = (await this.runner.load(spec.fnId)) as new (...args: unknown[]) => Record<string, unknown>;
        const instance = new Cls(...decoded);
        if (this.dropped.delete(a.actorId)) return null;
        const actor: HostedActor = { instance, className: a.className, resources, maxConcurrency: a.maxConcurrency, running: 0, queue: new Fifo() };
        this.actors.set(a.actorId, actor);
        this.pump(actor);
        return null;
      },
      resources,
      this.actors.size > 0,
    );
  }

  call(spec: TaskSpec, args: ObjectValue[]): void {
    const actor = this.actors.get(spec.actorId!);
    if (!actor) {
      this.runner.fail(spec, { code: "ACTOR_ERROR", name: "RayActorError", message: `${spec.name} reached a worker that does not host its actor` });
      return;
    }
    actor.queue.push({ spec, args });
    this.pump(actor);
  }

  /** The actor was killed on a shared host: forget it; calls still queued fail. */
  drop(actorId: string): void {
    const actor = this.actors.get(actorId);
    if (!actor) {
      this.dropped.add(actorId);
      return;
    }
    this.actors.delete(actorId);
    for (const c of actor.queue.takeAll()) {
      this.runner.fail(c.spec, { code: "ACTOR_DIED", name: "ActorDiedError", message: `actor ${actor.className} was killed` });
    }
    if (this.idle()) this.onIdle();
  }

  /** Removes a queued call (a cancel); true if it was still queued. */
  cancelQueued(taskId: string, fail: (spec: TaskSpec) => void): boolean {
    for (const actor of this.actors.values()) {
      const c = actor.queue.removeWhere((x) => x.spec.taskId === taskId);
      if (c) {
        fail(c.spec);
        return true;
      }
    }
    return false;
  }

  idle(): boolean {
    for (const a of this.actors.values()) if (a.running || a.queue.length) return false;
    return true;
  }

  /** Starts queued calls up to maxConcurrency; with 1, calls run one after another, in order. */
  private pump(actor: HostedActor): void {
    while (actor.running < actor.maxConcurrency && actor.queue.length) {
      const { spec, args } = actor.queue.shift()!;
      actor.running++;
      void this.runner
        .run(
          spec,
          args,
          async (decoded) => {
            const method = actor.instance[spec.method!];
            if (typeof method !== "function") throw new TypeError(`actor ${actor.className} has no method '${spec.method}'`);
            return (method as AnyFn).apply(actor.instance, decoded);
          },
          actor.resources,
          actor.maxConcurrency > 1 || this.actors.size > 1,
        )
        .finally(() => {
          actor.running--;
          this.pump(actor);
        });
    }
    if (this.idle()) this.onIdle();
  }
}
