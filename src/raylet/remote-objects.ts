/**
 * The head's side of objects whose bodies stay on the worker node that made them (see
 * SerializedValue.away). A worker node that is sent one pulls it from there itself (see
 * node/node-link.ts); a reader on the head (the driver, the head's own workers) waits until the
 * bodies are pulled here, once per object. When a node dies, what only it had is made again by
 * running the task that made it (lineage reconstruction, within the task's retries), or fails
 * with ObjectLostError: a `put` has no lineage.
 */
import { ObjectLostError, toErrorInfo, type ErrorInfo } from "../common/errors.js";
import { objectIdOf } from "../common/ids.js";
import type { ObjectPulls } from "../object-store/object-pulls.js";
import type { ObjectTable, ObjectValue, Waiter } from "../object-store/object-table.js";
import type { TaskSpec } from "../rpc/protocol.js";
import type { AwayBodies } from "../serialization/serialized-value.js";
import { executeMessage, heldRefs, refArgs } from "./dependencies.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { PooledWorker } from "./worker-pool.js";

/** The task that made an object kept on a worker node, and how often it has run. */
export interface Lineage {
  spec: TaskSpec;
  attempts: number;
}

export interface RemoteObjectsDeps {
  table: ObjectTable;
  /** This node's pulls; absent on a node with no worker nodes (an embedded cluster). */
  pulls?: ObjectPulls;
  /** Where a live worker node serves what it keeps. */
  address(nodeId: string): { host: string; port: number } | undefined;
  /** Tells a live worker node that an object it keeps is gone everywhere. */
  free(away: AwayBodies): void;
  /** Runs a task again to make its lost returns. */
  reconstruct(lineage: Lineage): void;
}

export class RemoteObjects {
  private readonly pulling = new Map<string, Promise<ErrorInfo | undefined>>();
  /** Execute messages to each of this node's workers that wait for pulls, in order. */
  private readonly outbox = new WeakMap<PooledWorker, Promise<void>>();
  private readonly lineage = new Map<string, Lineage>();
  /** Pulls that failed wait for their node's death to be handled, then try again. */
  private readonly gone = new Map<string, (() => void)[]>();

  constructor(private readonly d: RemoteObjectsDeps) {
    d.table.onAwayGone = (away) => {
      d.free(away);
      if (!d.table.has(away.id)) this.lineage.delete(away.id);
    };
  }

  /** A waiter for a reader on this node: an away value is pulled here before `send` is given it. */
  here(send: Waiter): Waiter {
    const deliver: Waiter = (value, id) => {
      if (!this.d.table.isAway(id)) return send(value, id);
      void this.pulled(id).then((error) => {
        if (error) return send({ ok: false, error }, id);
        // Pulled, or being made again (its node died): sent once sealed here. Gone: nobody waits.
        if (this.d.table.has(id)) this.d.table.whenReady(id, deliver);
      });
    };
    return deliver;
  }

  /**
   * Sends worker `w` the execute message for `spec` once its ref arguments are readable there: a
   * worker of this node waits for the away ones to be pulled here, its executes in order.
   */
  execute(w: PooledWorker, spec: TaskSpec, functions?: FunctionDescriptor[]): void {
    const away = w.nodeId === undefined ? refArgs(spec).filter((id) => this.d.table.isAway(id)) : [];
    const before = this.outbox.get(w);
    if (!away.length && !before) return w.channel.send(executeMessage(this.d.table, spec, w, functions));
    const pulls = Promise.all(away.map((id) => this.pulled(id).then((error) => [id, error] as const)));
    const sent = Promise.all([before, pulls]).then(([, pulled]) => {
      if (w.exit) return;
      const msg = executeMessage(this.d.table, spec, w, functions);
      // An argument that could not be pulled here fails the task with the reason.
      const failed = new Map(pulled.filter((p): p is readonly [string, ErrorInfo] => p[1] !== undefined));
      if (failed.size) {
        const ids = refArgs(spec);
        msg.args = msg.args!.map((v, i) => {
          const error = failed.get(ids[i]);
          return error ? { ok: false, error } : v;
        });
      }
      w.channel.send(msg);
    });
    this.outbox.set(w, sent);
    void sent.then(() => this.outbox.get(w) === sent && this.outbox.delete(w));
  }

  /** A task finished: the spec that made those of its returns kept on worker nodes, to make them again if lost. */
  finished(spec: TaskSpec, attempts: number, results: ObjectValue[]): void {
    if (spec.numReturns === "streaming") return;
    const lineage = { spec, attempts };
    results.forEach((r, i) => r.ok && r.value.away && this.lineage.set(objectIdOf(spec.taskId, i + 1), lineage));
  }

  /**
   * Node `nodeId` is gone: what only it had is made again, when the task that made it may run
   * again and its arguments are still there; the rest fails with ObjectLostError.
   */
  nodeGone(nodeId: string): void {
    const again = new Set<Lineage>();
    for (const id of this.d.table.lostWith(nodeId)) {
      const l = this.lineage.get(id);
      this.lineage.delete(id);
      const why = l ? this.cannotRerun(l) : "it was put there, and a put cannot be made again";
      if (why === undefined) {
        this.d.table.unseal(id);
        again.add(l!);
      } else {
        this.d.table.fail(id, { code: "OBJECT_LOST", name: "ObjectLostError", message: `object ${id} was lost with node ${nodeId}: ${why}` });
      }
    }
    for (const l of again) this.d.reconstruct(l);
    for (const wake of this.gone.get(nodeId) ?? []) wake();
    this.gone.delete(nodeId);
  }

  private cannotRerun({ spec, attempts }: Lineage): string | undefined {
    if (spec.actorId) return "it was returned by an actor method, which is not run again";
    if (spec.maxRetries !== -1 && attempts > spec.maxRetries) return `task ${spec.name} has no retries left (maxRetries ${spec.maxRetries})`;
    const missing = heldRefs(spec).find((id) => !this.d.table.has(id));
    if (missing) return `task ${spec.name} that made it cannot run again: its argument ${missing} is gone`;
    return undefined;
  }

  /** Resolves once the object's bodies are here, or with why they cannot be (never rejects). */
  private pulled(id: string): Promise<ErrorInfo | undefined> {
    let p = this.pulling.get(id);
    if (p) return p;
    p = new Promise<ErrorInfo | undefined>((resolve) => {
      const attempt = () => {
        // Freed meanwhile: nothing to pull (and no entry to make by waiting for it).
        if (!this.d.table.has(id)) return resolve(undefined);
        this.d.table.whenReady(id, (v) => {
          if (!this.d.table.isAway(id) || !v.ok) return resolve(undefined);
          const away = v.value.away!;
          const at = this.d.address(away.node);
          if (!this.d.pulls || !at) return this.afterDeath(away.node, attempt);
          this.d.pulls.pull({ ...v.value, away: { ...away, ...at } }).then(
            (pulled) => {
              this.d.table.localized(id, pulled.slices!);
              resolve(undefined);
            },
            (err: Error) => {
              // The node went (its death, once handled, decides what the object is), or this
              // node has no room for it (this reader's failure, not the object's).
              if (err instanceof ObjectLostError) this.afterDeath(away.node, attempt);
              else resolve(toErrorInfo(err));
            },
          );
        });
      };
      attempt();
    });
    this.pulling.set(id, p);
    void p.then(() => this.pulling.delete(id));
    return p;
  }

  /** Calls `then` once the death of node `nodeId` has been handled (see nodeGone). */
  private afterDeath(nodeId: string, then: () => void): void {
    let list = this.gone.get(nodeId);
    if (!list) this.gone.set(nodeId, (list = []));
    list.push(then);
  }
}
