/**
 * Placement groups on this node: each bundle reserves its resources from the node, and tasks
 * and actors scheduled into a bundle take from that reservation. On one node PACK, SPREAD and
 * STRICT_PACK all place every bundle here; STRICT_SPREAD with more than one bundle needs more
 * nodes and stays pending, with a log line saying so.
 */
import { RayError, type ErrorInfo } from "../common/errors.js";
import type { ResourceRequest, ResourceScheduler } from "./resource-scheduler.js";
import { format, ResourcePool, type ResourceSet } from "./resources.js";

export type PlacementStrategy = "PACK" | "SPREAD" | "STRICT_PACK" | "STRICT_SPREAD";

interface Group {
  id: string;
  name?: string;
  strategy: PlacementStrategy;
  bundles: ResourcePool[];
  reserved: number;
  isReserved: boolean[];
  removed: boolean;
  /** The node's reservations of its bundles, while they wait for resources. */
  requests: ResourceRequest[];
  readyWaiters: { resolve(): void; reject(err: Error): void }[];
}

export class PlacementGroups {
  private readonly groups = new Map<string, Group>();

  constructor(
    private readonly node: ResourcePool,
    private readonly scheduler: ResourceScheduler,
    private readonly warn: (message: string) => void,
  ) {}

  create(id: string, bundles: ResourceSet[], strategy: PlacementStrategy, name?: string): string {
    const g: Group = { id, name, strategy, bundles: [], reserved: 0, isReserved: bundles.map(() => false), removed: false, requests: [], readyWaiters: [] };
    for (const b of bundles) {
      const pool = new ResourcePool(b);
      // Nothing is available in a bundle until the node has reserved it.
      for (const k in b) pool.available[k] = 0;
      g.bundles.push(pool);
    }
    this.groups.set(id, g);
    if (strategy === "STRICT_SPREAD" && bundles.length > 1) {
      this.warn(`placement group ${name ?? id} (STRICT_SPREAD, ${bundles.length} bundles) needs ${bundles.length} nodes and this cluster has 1: it stays pending`);
      return id;
    }
    g.bundles.forEach((pool, i) => {
      const req: ResourceRequest = {
        resources: pool.total,
        pool: this.node,
        describe: () => `placement group ${name ?? id} bundle ${i}`,
        grant: () => {
          if (g.removed) return false;
          for (const k in pool.total) pool.available[k] += pool.total[k];
          g.isReserved[i] = true;
          if (++g.reserved === g.bundles.length) {
            for (const w of g.readyWaiters) w.resolve();
            g.readyWaiters = [];
          }
          this.scheduler.dispatch();
          return true;
        },
        fail: () => {},
      };
      g.requests.push(req);
      this.scheduler.request(req);
    });
    return id;
  }

  /** Resolves once every bundle is reserved; rejects if the group is removed first. */
  ready(id: string): Promise<void> {
    const g = this.groups.get(id);
    if (!g || g.removed) return Promise.reject(new RayError(`placement group ${id} does not exist or was removed`));
    if (g.reserved === g.bundles.length) return Promise.resolve();
    return new Promise((resolve, reject) => g.readyWaiters.push({ resolve, reject }));
  }

  /**
   * Removes the group: the node gets its reservations back, `ready()` waiters and the tasks and
   * actors still waiting for one of its bundles fail. Tasks already running in a bundle finish
   * and give their resources back to the bundle, which is gone.
   */
  remove(id: string): void {
    const g = this.groups.get(id);
    if (!g || g.removed) return;
    g.removed = true;
    this.groups.delete(id);
    const what = `placement group ${g.name ?? id} was removed`;
    for (const w of g.readyWaiters) w.reject(new RayError(`${what} before all its bundles were reserved`));
    g.readyWaiters = [];
    for (const req of g.requests) this.scheduler.withdraw(req);
    const error: ErrorInfo = { code: "RAY_ERROR", name: "RayError", message: `${what}: work scheduled into it cannot run` };
    g.bundles.forEach((pool, i) => {
      if (g.isReserved[i]) this.node.release(pool.total);
      this.scheduler.closePool(pool, error);
    });
    this.scheduler.dispatch();
  }

  /** The pool a task in bundle `index` (-1: any) takes from, or why there is none. */
  poolFor(id: string, index: number, need: ResourceSet): ResourcePool | ErrorInfo {
    const g = this.groups.get(id);
    if (!g) return { code: "RAY_ERROR", name: "RayError", message: `placement group ${id} does not exist or was removed` };
    if (index >= g.bundles.length) {
      return { code: "RAY_ERROR", name: "RayError", message: `bundleIndex ${index} is out of range: placement group ${g.name ?? id} has ${g.bundles.length} bundle(s)` };
    }
    if (index >= 0) return g.bundles[index];
    return g.bundles.find((b) => b.canEverFit(need)) ?? g.bundles[0];
  }

  list(): { id: string; name?: string; strategy: PlacementStrategy; state: string; bundles: string[] }[] {
    return [...this.groups.values()].map((g) => ({
      id: g.id, name: g.name, strategy: g.strategy,
      state: g.reserved === g.bundles.length ? "CREATED" : "PENDING",
      bundles: g.bundles.map((b) => format(b.total)),
    }));
  }
}
