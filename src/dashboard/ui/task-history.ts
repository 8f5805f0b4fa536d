// The Overview's chart data: tasks by state over time, kept in the page (the head keeps only
// counts, /api/v0/tasks/summary). Polled from the dashboard's start, so the chart has a past
// when the Overview is opened again.
import { getJson, POLL_MS } from "./api";
import type { TaskSummary } from "./types";

/** Ten minutes of points. */
const KEEP = (10 * 60 * 1000) / POLL_MS;

export interface TaskHistory {
  /** Seconds since the epoch. */
  times: number[];
  running: number[];
  pending: number[];
  /** Ended per second over the last interval. */
  finishedRate: number[];
  failedRate: number[];
  latest?: TaskSummary;
}

const history: TaskHistory = { times: [], running: [], pending: [], finishedRate: [], failedRate: [] };
const listeners = new Set<(h: TaskHistory) => void>();
let started = false;

export function followTaskHistory(listener: (h: TaskHistory) => void): () => void {
  listeners.add(listener);
  if (!started) {
    started = true;
    void poll();
  }
  listener(history);
  return () => void listeners.delete(listener);
}

async function poll(): Promise<void> {
  try {
    add(await getJson<TaskSummary>("/api/v0/tasks/summary"));
  } catch {
    // The header says when the head cannot be reached; the chart keeps its past.
  }
  setTimeout(poll, POLL_MS);
}

function add(s: TaskSummary): void {
  const prev = history.latest;
  const seconds = prev ? Math.max(0.001, (s.time - prev.time) / 1000) : 1;
  history.times.push(s.time / 1000);
  history.running.push(s.pending.RUNNING);
  history.pending.push(s.pending.PENDING_ARGS_AVAIL + s.pending.PENDING_NODE_ASSIGNMENT);
  history.finishedRate.push(prev ? Math.max(0, s.ended.FINISHED - prev.ended.FINISHED) / seconds : 0);
  history.failedRate.push(prev ? Math.max(0, s.ended.FAILED - prev.ended.FAILED) / seconds : 0);
  history.latest = s;
  for (const key of ["times", "running", "pending", "finishedRate", "failedRate"] as const) {
    if (history[key].length > KEEP) history[key].shift();
  }
  // A new object each time: the chart redraws when its data is not the same.
  for (const l of listeners) l({ ...history });
}
