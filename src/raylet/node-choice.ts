/**
 * Which node's resources a task or actor takes, among the nodes of the cluster (Ray's policies):
 * - DEFAULT, hybrid: this node while it is less than half used and has room; else the least used
 *   node with room now; else, when none has room, the least used node that could ever fit it
 *   (it waits there);
 * - SPREAD: the nodes that could fit it, in turn;
 * - node affinity: that node; `soft` falls back to DEFAULT when it is gone or cannot fit.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { TaskSpec } from "../rpc/protocol.js";
import { fits, type ResourcePool } from "./resources.js";

const PACK_UNTIL = 0.5;

export class NodeChoice {
  private spreadNext = 0;

  /** `local`: this raylet's node, `localId` its id; `pools`: every live node's, local first. */
  constructor(
    private readonly local: ResourcePool,
    private readonly localId: string,
    private readonly pools: () => ResourcePool[],
  ) {}

  choose(spec: TaskSpec): ResourcePool | ErrorInfo {
    const s = spec.scheduling;
    const need = spec.resources;
    if (s?.type === "node_affinity") {
      const pool = this.pools().find((p) => (p.nodeId ?? this.localId) === s.nodeId);
      if (pool && (pool.canEverFit(need) || !s.soft)) return pool;
      if (!s.soft) return { code: "RAY_ERROR", name: "RayError", message: `task ${spec.name} must run on node ${s.nodeId}, which is not in the cluster` };
      return this.hybrid(need);
    }
    if (s?.type === "SPREAD") return this.spread(need);
    return this.hybrid(need);
  }

  private hybrid(need: Record<string, number>): ResourcePool {
    const local = this.local;
    if (local.canEverFit(need) && fits(need, local.available) && local.utilization() < PACK_UNTIL) return local;
    const feasible = this.pools().filter((p) => p.canEverFit(need));
    const withRoom = feasible.filter((p) => fits(need, p.available));
    const pick = leastUsed(withRoom) ?? (local.canEverFit(need) ? local : leastUsed(feasible));
    // Nothing anywhere could ever run it: it waits on this node, whose log says why.
    return pick ?? local;
  }

  private spread(need: Record<string, number>): ResourcePool {
    const feasible = this.pools().filter((p) => p.canEverFit(need));
    if (!feasible.length) return this.local;
    const withRoom = feasible.filter((p) => fits(need, p.available));
    const from = withRoom.length ? withRoom : feasible;
    return from[this.spreadNext++ % from.length];
  }
}

function leastUsed(pools: ResourcePool[]): ResourcePool | undefined {
  let best: ResourcePool | undefined;
  for (const p of pools) if (!best || p.utilization() < best.utilization()) best = p;
  return best;
}
