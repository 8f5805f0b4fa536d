/**
 * Grants resources to waiting requests (tasks, actor placements) in arrival order per resource
 * shape: requests that need the same resources queue together, so a queue of a million
 * one-CPU tasks costs one check per grant, not a scan. A request that the node can never
 * satisfy stays pending and the log says why, as in Ray.
 */
import type { ErrorInfo } from "../common/errors.js";
import { Fifo } from "../common/fifo.js";
import { format, shapeKey, type ResourcePool, type ResourceSet } from "./resources.js";

export interface ResourceRequest {
  resources: ResourceSet;
  /** The pool to take from: the node's, or a placement-group bundle's. */
  pool: ResourcePool;
  /** What is waiting, for the log. */
  describe(): string;
  /** Called with the resources taken; return false if the requester went away (they are given back). */
  grant(): boolean;
  /** Called instead when the pool is gone for good (its placement group was removed). */
  fail(error: ErrorInfo): void;
}

export class ResourceScheduler {
  private readonly queues = new Map<string, Fifo<ResourceRequest>>();
  private readonly warned = new Set<string>();
  /** Pools that are gone (removed placement groups' bundles), with why. */
  private readonly gone = new WeakMap<ResourcePool, ErrorInfo>();
  private dispatching = false;

  constructor(
    private readonly warn: (message: string) => void,
    /** Called after each dispatch that left requests waiting (the raylet spills tasks back then). */
    private readonly stillWaiting: () => void = () => {},
  ) {}

  request(req: ResourceRequest): void {
    const gone = this.gone.get(req.pool);
    if (gone) return req.fail(gone);
    if (!req.pool.canEverFit(req.resources)) {
      const key = shapeKey(req.resources);
      if (!this.warned.has(key)) {
        this.warned.add(key);
        this.warn(
          `${req.describe()} needs ${format(req.resources)}, but this node has ${format(req.pool.total)} in all: ` +
            `it stays pending until a node with these resources joins the cluster`,
        );
      }
    }
    const key = `${req.pool.id}|${shapeKey(req.resources)}`;
    let q = this.queues.get(key);
    if (!q) this.queues.set(key, (q = new Fifo()));
    q.push(req);
    this.dispatch();
  }

  /** What waits for resources, by shape: how many requests ask for each ("pending demand"). */
  pendingDemand(): { resources: ResourceSet; count: number }[] {
    const out: { resources: ResourceSet; count: number }[] = [];
    for (const q of this.queues.values()) {
      const first = q.peek();
      if (first) out.push({ resources: first.resources, count: q.length });
    }
    return out;
  }

  /** The pool is gone: what waits for it fails with `error`, and so will later requests. */
  closePool(pool: ResourcePool, error: ErrorInfo): void {
    this.gone.set(pool, error);
    for (const [key, q] of this.queues) {
      if (!key.startsWith(`${pool.id}|`)) continue;
      this.queues.delete(key);
      for (const req of q.takeAll()) req.fail(error);
    }
  }

  /** Drops a waiting request (a cancelled task). */
  withdraw(req: ResourceRequest): boolean {
    const key = `${req.pool.id}|${shapeKey(req.resources)}`;
    return this.queues.get(key)?.remove(req) ?? false;
  }

  pending(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.length;
    return n;
  }

  /** The resources that waiting requests ask for, for `tsray status`. */
  demand(): ResourceSet[] {
    const out: ResourceSet[] = [];
    for (const q of this.queues.values()) if (q.length) out.push(q.peek()!.resources);
    return out;
  }

  /** Grants what fits now. Re-entrant calls (a grant that releases) are folded into the running loop. */
  dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      let progress = true;
      while (progress) {
        progress = false;
        for (const [key, q] of this.queues) {
          while (q.length) {
            const req = q.peek()!;
            if (!req.pool.tryAcquire(req.resources)) break;
            q.shift();
            progress = true;
            if (!req.grant()) req.pool.release(req.resources);
          }
          if (!q.length) this.queues.delete(key);
        }
      }
    } finally {
      this.dispatching = false;
    }
    if (this.queues.size) this.stillWaiting();
  }
}
