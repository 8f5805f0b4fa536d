/**
 * Which node's resources a task or actor takes, among the nodes of the cluster (Ray's policies):
 * - DEFAULT, hybrid: this node while it is less than half used and has room; else the node with
 *   room now that has copies of the most of the task's large arguments (locality: they need not
 *   be sent); else the least used node with room now; else, when none has room, the least used
 *   node that could ever fit it (it waits there);
 * - SPREAD: the nodes that could fit it, in turn;
 * - node affinity: that node; `soft` falls back to DEFAULT when it is gone or cannot fit.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { TaskSpec } from "../rpc/protocol.js";
import { fits, type ResourcePool } from "./resources.js";

const PACK_UNTIL = 0.5;

export class NodeChoice {
  private spreadNext = 0;

  /**
   * `local`: this raylet's node, `localId` its id; `pools`: every live node's, local first;
   * `argBytes`: the bytes of a task's large arguments each other node has a copy of, by node id.
   */
  constructor(
    private readonly local: ResourcePool,
    private readonly localId: string,
    private readonly pools: () => ResourcePool[],
    private readonly argBytes: (spec: TaskSpec) => Map<string, number> = () => new Map(),
  ) {}

  choose(spec: TaskSpec): ResourcePool | ErrorInfo {
    const s = spec.scheduling;
    const need = spec.resources;
    if (s?.type === "node_affinity") {
      const pool = this.pools().find((p) => (p.nodeId ?? this.localId) === s.nodeId);
      if (pool && (pool.canEverFit(need) || !s.soft)) return pool;
      if (!s.soft) return { code: "RAY_ERROR", name: "RayError", message: `task ${spec.name} must run on node ${s.nodeId}, which is not in the cluster` };
      return this.hybrid(spec);
    }
    if (s?.type === "SPREAD") return this.spread(need);
    return this.hybrid(spec);
  }

  private hybrid(spec: TaskSpec): ResourcePool {
    const need = spec.resources;
    const local = this.local;
    if (local.canEverFit(need) && fits(need, local.available) && local.utilization() < PACK_UNTIL) return local;
    const feasible = this.pools().filter((p) => p.canEverFit(need));
    const withRoom = feasible.filter((p) => fits(need, p.available));
    const near = mostArgBytes(withRoom, this.argBytes(spec));
    if (near) return near;
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

/** The pool whose node has copies of the most argument bytes, if any has some. */
function mostArgBytes(pools: ResourcePool[], bytes: Map<string, number>): ResourcePool | undefined {
  let best: ResourcePool | undefined;
  let most = 0;
  for (const p of pools) {
    const b = p.nodeId === undefined ? 0 : (bytes.get(p.nodeId) ?? 0);
    if (b > most) [best, most] = [p, b];
  }
  return best;
}

function leastUsed(pools: ResourcePool[]): ResourcePool | undefined {
  let best: ResourcePool | undefined;
  for (const p of pools) if (!best || p.utilization() < best.utilization()) best = p;
  return best;
}
