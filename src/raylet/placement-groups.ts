/**
 * Placement groups: each bundle reserves its resources from a node, and tasks and actors
 * scheduled into a bundle take from that reservation, on that node. Bundles are given nodes
 * when the group is created: PACK puts them all on one node that could hold them all (else
 * spreads them), STRICT_PACK only on such a node, SPREAD on different nodes where it can,
 * STRICT_SPREAD on different nodes or not at all: a group that cannot be placed stays pending,
 * with a log line saying why.
 */
import { RayError, type ErrorInfo } from "../common/errors.js";
import type { ResourceRequest, ResourceScheduler } from "./resource-scheduler.js";
import { add, fits, format, ResourcePool, type ResourceSet } from "./resources.js";

export type PlacementStrategy = "PACK" | "SPREAD" | "STRICT_PACK" | "STRICT_SPREAD";

interface Group {
  id: string;
  name?: string;
  strategy: PlacementStrategy;
  bundles: ResourcePool[];
  /** The node each bundle reserves its resources from. */
  hosts: ResourcePool[];
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
    /** Every live node's resources, this node's first. */
    private readonly nodes: () => ResourcePool[],
    private readonly scheduler: ResourceScheduler,
    private readonly warn: (message: string) => void,
  ) {}

  create(id: string, bundles: ResourceSet[], strategy: PlacementStrategy, name?: string): string {
    const g: Group = { id, name, strategy, bundles: [], hosts: [], reserved: 0, isReserved: bundles.map(() => false), removed: false, requests: [], readyWaiters: [] };
    const hosts = placeBundles(this.nodes(), bundles, strategy);
    bundles.forEach((b, i) => {
      const host = hosts?.[i] ?? this.nodes()[0];
      const pool = new ResourcePool(b, host.nodeId);
      // Nothing is available in a bundle until its node has reserved it.
      for (const k in b) pool.available[k] = 0;
      g.bundles.push(pool);
      g.hosts.push(host);
    });
    this.groups.set(id, g);
    if (!hosts) {
      const nodes = this.nodes().length;
      this.warn(`placement group ${name ?? id} (${strategy}, ${bundles.length} bundles) cannot be placed on this cluster's ${nodes} node${nodes > 1 ? "s" : ""}: it stays pending`);
      return id;
    }
    g.bundles.forEach((pool, i) => {
      const req: ResourceRequest = {
        resources: pool.total,
        pool: g.hosts[i],
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

  has(id: string): boolean {
    return this.groups.has(id);
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
      if (g.isReserved[i]) g.hosts[i].release(pool.total);
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

/** A node for each bundle as the strategy says, or undefined when the cluster cannot place them. */
function placeBundles(nodes: ResourcePool[], bundles: ResourceSet[], strategy: PlacementStrategy): ResourcePool[] | undefined {
  if (strategy === "PACK" || strategy === "STRICT_PACK") {
    const all: ResourceSet = {};
    for (const b of bundles) add(all, b);
    const one = nodes.find((n) => fits(all, n.available)) ?? nodes.find((n) => n.canEverFit(all));
    if (one) return bundles.map(() => one);
    if (strategy === "STRICT_PACK") return undefined;
  }
  // Different nodes where it can (STRICT_SPREAD: or none): each bundle on the least loaded
  // node not used yet that could hold it, preferring nodes with room now.
  const used = new Set<ResourcePool>();
  const out: ResourcePool[] = [];
  for (const b of bundles) {
    const fresh = nodes.filter((n) => !used.has(n) && n.canEverFit(b));
    const candidates = fresh.length || strategy === "STRICT_SPREAD" ? fresh : nodes.filter((n) => n.canEverFit(b));
    const pick = candidates.find((n) => fits(b, n.available)) ?? candidates[0];
    if (!pick) return undefined;
    used.add(pick);
    out.push(pick);
  }
  return out;
}
