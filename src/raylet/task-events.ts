/**
 * What became of the node's tasks, for the state API, the dashboard, `tsray list tasks`, the
 * timeline and the metrics: each task's state (in Ray's words), where and when it ran, and why it
 * failed. Tasks still to finish are all kept; finished ones are kept up to a bound, oldest going
 * first, and the count of those dropped is said (Ray keeps a bounded history the same way).
 * Recording is a few field writes per state change: it runs on the path of every task.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { DirectRan, TaskSpec } from "../rpc/protocol.js";

export type TaskState = "PENDING_ARGS_AVAIL" | "PENDING_NODE_ASSIGNMENT" | "RUNNING" | "FINISHED" | "FAILED";
export type TaskType = "NORMAL_TASK" | "ACTOR_TASK" | "ACTOR_CREATION_TASK";

/** One task as the state API lists it. Times are milliseconds since the epoch. */
export interface TaskRow {
  task_id: string;
  name: string;
  state: TaskState;
  type: TaskType;
  job_id?: string;
  actor_id?: string;
  node_id?: string;
  worker_id?: string;
  /** How many times it has started (1 on its first run). */
  attempt: number;
  submitted_at: number;
  started_at?: number;
  ended_at?: number;
  /** A failed task's error, with the remote stack of what it threw. */
  error_type?: string;
  error_message?: string;
  error_stack?: string;
}

/** Finished tasks kept for the state API (Ray keeps 100,000 task events per job by default). */
export const TASK_HISTORY = 100_000;

export class TaskEvents {
  private readonly live = new Map<string, TaskRow>();
  /** Finished tasks, oldest first: a ring of TASK_HISTORY rows, `next` the oldest once full. */
  private readonly finished: TaskRow[] = [];
  private next = 0;
  /** Finished tasks no longer kept. */
  dropped = 0;
  /** Tasks finished and failed since the node started (for the metrics' counters). */
  readonly totals = { FINISHED: 0, FAILED: 0 };

  constructor(private readonly limit = TASK_HISTORY) {}

  submitted(spec: TaskSpec): void {
    const row: TaskRow = {
      task_id: spec.taskId,
      name: spec.name,
      state: "PENDING_ARGS_AVAIL",
      type: spec.actor ? "ACTOR_CREATION_TASK" : spec.actorId ? "ACTOR_TASK" : "NORMAL_TASK",
      attempt: 0,
      submitted_at: Date.now(),
    };
    if (spec.jobId !== undefined) row.job_id = spec.jobId;
    const actorId = spec.actor?.actorId ?? spec.actorId;
    if (actorId !== undefined) row.actor_id = actorId;
    this.live.set(spec.taskId, row);
  }

  /** Its arguments are ready: it waits for a worker. */
  queued(taskId: string): void {
    const row = this.live.get(taskId);
    if (row) row.state = "PENDING_NODE_ASSIGNMENT";
  }

  running(taskId: string, nodeId: string, workerId: string): void {
    const row = this.live.get(taskId);
    if (!row) return;
    row.state = "RUNNING";
    row.node_id = nodeId;
    row.worker_id = workerId;
    row.started_at = Date.now();
    row.attempt++;
  }

  /** Sealed with `results`: finished, or failed with the first failure. */
  ended(taskId: string, results: readonly ObjectValue[]): void {
    const row = this.live.get(taskId);
    if (!row) return;
    this.live.delete(taskId);
    endRow(row, results);
    this.record(row);
  }

  /** A direct actor call that ended in worker `workerId` (see core-worker/direct-calls.ts), as its process reported it. */
  ranDirect(call: DirectRan, where: { nodeId: string; workerId: string; jobId?: string }): void {
    const row: TaskRow = {
      task_id: call.taskId, name: call.name, state: "FINISHED", type: "ACTOR_TASK", actor_id: call.actorId,
      node_id: where.nodeId, worker_id: where.workerId, attempt: 1, submitted_at: call.startedAt, started_at: call.startedAt, ended_at: call.endedAt,
    };
    if (where.jobId !== undefined) row.job_id = where.jobId;
    if (call.error) failRow(row, call.error);
    this.record(row);
  }

  private record(row: TaskRow): void {
    this.totals[row.state as "FINISHED" | "FAILED"]++;
    if (this.finished.length < this.limit) this.finished.push(row);
    else {
      this.finished[this.next] = row;
      this.next = (this.next + 1) % this.limit;
      this.dropped++;
    }
  }

  /**
   * Every task kept: those still to finish (in the order submitted), then the finished ones,
   * newest first; a page of the first rows (the dashboard's, `tsray list --limit`) shows what is
   * happening now rather than the oldest history.
   */
  rows(): TaskRow[] {
    const newestFirst = [...this.finished.slice(0, this.next).reverse(), ...this.finished.slice(this.next).reverse()];
    return [...this.live.values(), ...newestFirst];
  }

  /** Tasks still to finish, by state (for the metrics' gauges). */
  pending(): Record<"PENDING_ARGS_AVAIL" | "PENDING_NODE_ASSIGNMENT" | "RUNNING", number> {
    const out = { PENDING_ARGS_AVAIL: 0, PENDING_NODE_ASSIGNMENT: 0, RUNNING: 0 };
    for (const row of this.live.values()) out[row.state as keyof typeof out]++;
    return out;
  }
}

/** Marks `row` ended now with `results`: finished, or failed with the first failure. */
function endRow(row: TaskRow, results: readonly ObjectValue[]): void {
  row.ended_at = Date.now();
  const failure = results.find((r): r is { ok: false; error: ErrorInfo } => !r.ok);
  row.state = "FINISHED";
  if (failure) failRow(row, failure.error);
}

function failRow(row: TaskRow, error: ErrorInfo): void {
  const e = error.cause ?? error;
  row.state = "FAILED";
  row.error_type = e.name;
  row.error_message = error.message;
  if (e.stack) row.error_stack = e.stack;
}
