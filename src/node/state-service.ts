/**
 * The cluster's state as the CLI asks for it (`tsray status`, `tsray list`): rows of the GCS's
 * tables and the nodes' resources, in Ray's words (ALIVE, DEAD, RUNNING, CREATED...).
 */
import type { Gcs } from "../gcs/gcs.js";
import type { Raylet } from "../raylet/raylet.js";
import { TASK_HISTORY, type TaskRow } from "../raylet/task-events.js";
import { readNodeLog, type LogChunk, type LogQuery } from "./node-log.js";

export type Row = Record<string, unknown> & { state: string };

export const LISTABLE = ["nodes", "jobs", "actors", "tasks", "objects", "placement-groups"] as const;
export type Listable = (typeof LISTABLE)[number];

export interface ClusterStatus {
  nodes: Row[];
  total: Record<string, number>;
  available: Record<string, number>;
  pendingDemand: { resources: Record<string, number>; count: number }[];
}

/** One event of Chrome's trace-event format (what Perfetto and chrome://tracing open). */
export interface TraceEvent {
  name: string;
  ph: "X" | "M";
  pid: number;
  tid?: number;
  ts?: number;
  dur?: number;
  cat?: string;
  args?: Record<string, unknown>;
}

/** What `tsray memory` shows: the objects, and the store's use. */
export interface MemorySummary {
  objects: Row[];
  store: { used: number; capacity: number };
  spilledBytes: number;
  onWorkerNodesBytes: number;
}

/** Tasks by state: `ended` counts since the node started, `pending` those not ended now. */
export interface TaskSummary {
  time: number;
  ended: { FINISHED: number; FAILED: number };
  pending: Record<"PENDING_ARGS_AVAIL" | "PENDING_NODE_ASSIGNMENT" | "RUNNING", number>;
  dropped: number;
}

export class StateService {
  constructor(
    private readonly gcs: Gcs,
    private readonly raylet: Raylet,
    /** The node's log, where it has one (a head started in the background). */
    private readonly logFile?: string,
  ) {}

  /**
   * Lines of the node's log: all of them (`nodeId` this node's), or a task's or an actor's (the
   * lines its workers printed while running it). From byte `from` on, for a follower.
   */
  logs(q: { nodeId?: string; taskId?: string; actorId?: string; from?: number }): LogChunk {
    const given = [q.nodeId, q.taskId, q.actorId].filter((x) => x !== undefined).length;
    if (given !== 1) throw new TypeError("logs of what: give one of a node id, a task id or an actor id");
    const here = this.raylet.nodeId;
    if (q.nodeId !== undefined && q.nodeId !== here) {
      throw new RangeError(`node ${q.nodeId} keeps its log on its own machine (this head has only node ${here}'s, and its workers' lines)`);
    }
    if (this.logFile === undefined) {
      throw new RangeError(`node ${here} keeps no log file: an embedded cluster's workers print to its program's output, a head started with --block to its terminal`);
    }
    const tasks = this.raylet.events.rows();
    let query: LogQuery = {};
    if (q.taskId !== undefined) {
      const t = tasks.find((r) => r.task_id === q.taskId);
      if (!t) throw new RangeError(`no task ${q.taskId} (the head keeps the last ${TASK_HISTORY} ended ones)`);
      query = { workers: t.worker_id ? [t.worker_id] : [], name: t.name };
    } else if (q.actorId !== undefined) {
      if (!this.gcs.actors.get(q.actorId)) throw new RangeError(`no actor ${q.actorId}`);
      query = { workers: [...new Set(tasks.filter((r) => r.actor_id === q.actorId && r.worker_id).map((r) => r.worker_id!))] };
    }
    return readNodeLog(this.logFile, { ...query, from: q.from, lines: 1000 });
  }

  status(): ClusterStatus {
    const { total, available } = this.raylet.resourceView();
    return { nodes: this.list("nodes"), total, available, pendingDemand: this.raylet.scheduler.pendingDemand() };
  }

  /**
   * The ended tasks kept, as Chrome trace events: a process per node, a thread per worker (its
   * tasks one after another on it), each task a span with its name, from start to end.
   */
  timeline(): TraceEvent[] {
    const pids = new Map<string, number>();
    const tids = new Map<string, number>();
    const events: TraceEvent[] = [];
    for (const t of this.raylet.events.rows()) {
      if (t.started_at === undefined || t.ended_at === undefined || !t.node_id || !t.worker_id) continue;
      let pid = pids.get(t.node_id);
      if (pid === undefined) {
        pids.set(t.node_id, (pid = pids.size + 1));
        events.push({ name: "process_name", ph: "M", pid, args: { name: `node ${t.node_id}` } });
      }
      let tid = tids.get(t.worker_id);
      if (tid === undefined) {
        tids.set(t.worker_id, (tid = tids.size + 1));
        events.push({ name: "thread_name", ph: "M", pid, tid, args: { name: `worker ${t.worker_id}` } });
      }
      events.push({
        name: t.name, cat: t.type, ph: "X", pid, tid, ts: t.started_at * 1000, dur: Math.max(1, (t.ended_at - t.started_at) * 1000),
        args: { task_id: t.task_id, state: t.state, attempt: t.attempt, ...(t.error_message ? { error: t.error_message } : {}) },
      });
    }
    return events;
  }

  /**
   * How many tasks are in each state, cheaply (no row is copied): the ended since the node
   * started, those not ended now, and the ended no longer kept (what the Overview's chart polls).
   */
  taskSummary(): TaskSummary {
    const { totals, dropped } = this.raylet.events;
    return { time: Date.now(), ended: { ...totals }, pending: this.raylet.events.pending(), dropped };
  }

  memory(): MemorySummary {
    const objects = this.raylet.objects();
    const sum = (state: string) => objects.filter((o) => o.state === state).reduce((n, o) => n + o.size_bytes, 0);
    return { objects, store: this.raylet.storeUse(), spilledBytes: sum("SPILLED"), onWorkerNodesBytes: sum("ON_NODE") };
  }

  /**
   * The rows of `kind` before they are shaped, and how to shape one: the state API filters the
   * raw rows and shapes only the page it answers, so a list of 100,000 tasks polled every two
   * seconds costs a filter, not 100,000 new objects. Raw fields read as the shaped ones do
   * (absent is ""), but for the tasks' computed duration_ms.
   */
  rawList(kind: Listable): { rows: readonly Record<string, unknown>[]; shape: (row: Record<string, unknown>) => Row } {
    if (kind === "tasks") return { rows: this.raylet.events.rows() as unknown as Record<string, unknown>[], shape: (t) => taskRow(t as unknown as TaskRow) };
    return { rows: this.list(kind), shape: (r) => r as Row };
  }

  list(kind: Listable): Row[] {
    switch (kind) {
      case "nodes": {
        // What the raylet knows of the live nodes now: free resources, workers, the store's use.
        const stats = new Map(this.raylet.nodeStats().map((n) => [n.nodeId, n]));
        return this.gcs.nodes().map((n) => {
          const now = n.alive ? stats.get(n.nodeId) : undefined;
          return {
            node_id: n.nodeId, node_ip: n.address, is_head_node: n.isHead, state: n.alive ? "ALIVE" : "DEAD", resources_total: n.resources,
            resources_available: now?.available ?? {}, num_workers: now?.workers ?? 0,
            object_store_used_bytes: now?.store?.used ?? null, object_store_capacity_bytes: now?.store?.capacity ?? null,
            // What the node's process and each of its workers use (see metrics/usage.ts).
            cpu_percent: now?.usage?.cpuPercent ?? null, rss_bytes: now?.usage?.rssBytes ?? null,
            memory_used_bytes: now?.usage?.memoryUsedBytes ?? null, memory_total_bytes: now?.usage?.memoryTotalBytes ?? null,
            workers: (now?.usage?.workers ?? []).map((w) => ({ worker_id: w.workerId, pid: w.pid ?? null, cpu_percent: w.cpuPercent, rss_bytes: w.rssBytes ?? null })),
          };
        });
      }
      case "jobs":
        return this.gcs.jobs().map((j) => ({
          job_id: j.jobId, state: j.status, status: j.status, entrypoint: j.entrypoint ?? "", namespace: j.namespace, start_time: j.startTime, end_time: j.endTime,
        }));
      case "actors": {
        const head = this.raylet.nodeId;
        return this.gcs.actors.list().map((a) => {
          const where = a.state === "DEAD" ? undefined : this.raylet.actors.placement(a.data.actorId);
          return {
            actor_id: a.data.actorId, class_name: a.data.className, state: a.state, name: a.name ?? "", namespace: a.namespace, detached: a.detached,
            node_id: where?.workerId ? (where.nodeId ?? head) : "", worker_id: where?.workerId ?? "", pid: where?.pid ?? null,
            num_restarts: where?.restarts ?? 0, death_cause: a.deathCause ?? "",
          };
        });
      }
      case "tasks":
        return this.raylet.events.rows().map(taskRow);
      case "objects":
        return this.raylet.objects();
      case "placement-groups":
        return this.raylet.placementGroups.list().map((g) => ({
          placement_group_id: g.id, name: g.name ?? "", state: g.state, strategy: g.strategy, bundles: g.bundles,
        }));
    }
  }
}

function taskRow(t: TaskRow): Row {
  return {
    task_id: t.task_id, name: t.name, state: t.state, type: t.type, job_id: t.job_id ?? "", actor_id: t.actor_id ?? "",
    node_id: t.node_id ?? "", worker_id: t.worker_id ?? "", attempt: t.attempt,
    duration_ms: t.started_at !== undefined && t.ended_at !== undefined ? t.ended_at - t.started_at : null,
    error_type: t.error_type ?? "", error_message: t.error_message ?? "", error_stack: t.error_stack ?? "",
    submitted_at: t.submitted_at, started_at: t.started_at ?? null, ended_at: t.ended_at ?? null,
  };
}
