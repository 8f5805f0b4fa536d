/**
 * The state API on the dashboard's port, with Ray's `/api/v0` routes as the model (what the
 * dashboard's pages and `tsray list|timeline|memory --address URL` read):
 *
 *   GET /api/v0/KIND        KIND: nodes, jobs, actors, tasks, objects, placement_groups; the
 *                           rows as `tsray list` shows them, filtered (filter_keys,
 *                           filter_predicates "=" or "!=", filter_values: case-insensitive),
 *                           then paged (offset, limit: 100 by default), as
 *                           { result, msg, data: { result: { total, num_after_truncation, num_filtered, result } } }
 *   GET /api/v0/tasks/timeline   the ended tasks kept, as Chrome trace events
 *   GET /api/v0/tasks/summary    tasks by state: ended since the node started, not ended now
 *                                (counts only, cheap to poll: the Overview's chart)
 *   GET /api/v0/memory           the objects and the store's use (tsray memory)
 *   GET /api/cluster_status      nodes, resources used and total, pending demand (tsray status)
 *   GET /api/v0/logs?task_id=|actor_id=|node_id=[&from=BYTE]   { lines, next }: a task's, an
 *                           actor's or the node's lines of its log (tsray logs; `next` to follow)
 *   GET /api/v0/cluster          the cluster's address, its head and version (the dashboard's header)
 *   GET /metrics                 the metrics, in Prometheus' text format
 */
import { HttpError, sendJson, type Routes } from "./http-server.js";
import { LISTABLE, type Listable, type StateService } from "../node/state-service.js";

const DEFAULT_LIMIT = 100;

/** What the dashboard's header says of the cluster. */
export interface ClusterInfo {
  /** Where drivers and nodes connect: the head's HOST:PORT. */
  address: string;
  head_node_id: string;
  version: string;
  started_at: number;
}

export function stateRoutes(state: StateService, metrics: () => string, info: ClusterInfo): Routes {
  return (req, res, url) => {
    if (req.method !== "GET") return false;
    const path = url.pathname.replace(/\/+$/, "");
    if (path === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      res.end(metrics());
      return true;
    }
    if (path === "/api/cluster_status") return answer(res, state.status());
    if (path === "/api/v0/cluster") return answer(res, info);
    if (path === "/api/v0/tasks/timeline") return answer(res, state.timeline());
    if (path === "/api/v0/tasks/summary") return answer(res, state.taskSummary());
    if (path === "/api/v0/memory") return answer(res, state.memory());
    if (path === "/api/v0/logs") {
      const q = url.searchParams;
      const from = q.get("from") === null ? undefined : count(q, "from", 0);
      const pick = (k: string) => q.get(k) ?? undefined;
      try {
        return answer(res, state.logs({ taskId: pick("task_id"), actorId: pick("actor_id"), nodeId: pick("node_id"), from }));
      } catch (err) {
        throw new HttpError(err instanceof TypeError ? 400 : 404, (err as Error).message);
      }
    }
    const kind = /^\/api\/v0\/(\w+)$/.exec(path)?.[1]?.replace(/_/g, "-");
    if (kind === undefined) return false;
    if (!LISTABLE.includes(kind as Listable)) throw new HttpError(404, `no state of kind '${kind}' (kinds: ${LISTABLE.map((k) => k.replace(/-/g, "_")).join(", ")})`);
    return answer(res, page(state.rawList(kind as Listable), url.searchParams));
  };
}

function answer(res: Parameters<Routes>[1], value: unknown): true {
  sendJson(res, 200, value);
  return true;
}

/** Filters the raw rows, then shapes only those of the page asked for. */
function page({ rows, shape }: ReturnType<StateService["rawList"]>, q: URLSearchParams) {
  const keys = q.getAll("filter_keys");
  const predicates = q.getAll("filter_predicates");
  const values = q.getAll("filter_values");
  if (keys.length !== values.length || (predicates.length && predicates.length !== keys.length)) {
    throw new HttpError(400, "filter_keys, filter_predicates and filter_values must come in equal numbers");
  }
  const filters = keys.map((key, i) => {
    const p = predicates[i] ?? "=";
    if (p !== "=" && p !== "!=") throw new HttpError(400, `filter_predicates are = or !=, got '${p}'`);
    return { key, equal: p === "=", value: values[i].toLowerCase() };
  });
  const filtered = rows.filter((r) => filters.every((f) => (String(r[f.key] ?? "").toLowerCase() === f.value) === f.equal));
  const offset = count(q, "offset", 0);
  const limit = count(q, "limit", DEFAULT_LIMIT);
  const result = filtered.slice(offset, offset + limit).map(shape);
  return {
    result: true, msg: "",
    data: { result: { total: rows.length, num_filtered: rows.length - filtered.length, num_after_truncation: result.length, result } },
  };
}

function count(q: URLSearchParams, name: string, fallback: number): number {
  const raw = q.get(name);
  if (raw === null) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new HttpError(400, `${name} must be a whole number, got '${raw}'`);
  return n;
}
