/**
 * What one execution did, per operator and in all (the contract's ExecutionStats), counted as
 * the executor reports it: an operator's tasks started and finished, and each block it output
 * with its rows and bytes. The same counters feed the progress lines (data-progress.ts) and the
 * backpressure (execution-budget.ts) while the execution runs; `Dataset.stats()` prints them
 * after it.
 */
import type { Plan } from "./plan.js";

/** Figures of one execution (the contract's ExecutionStats). */
export interface ExecutionStats {
  wallTimeMs: number;
  /** Most object store bytes held by this execution's blocks at any one time. */
  peakObjectStoreBytes: number;
  /** One per operator; fused ones are named "A->B". */
  operators: { name: string; numTasks: number; numActors: number; numBlocksOut: number; numRowsOut: number;
    bytesOut: number; wallTimeMs: number }[];
}

/** One operator's counters, live while it runs. */
export class OperatorStats {
  numTasks = 0;
  numActors = 0;
  numBlocksOut = 0;
  numRowsOut = 0;
  bytesOut = 0;
  /** Tasks submitted whose outputs have not all been read yet. */
  active = 0;
  /** Tasks whose outputs have all been read. */
  finished = 0;
  /** Its outputs still held in the store, waiting for the next operator or the consumer. */
  queuedBlocks = 0;
  /** It has inputs and room in its window, but the budget holds it back. */
  backpressured = false;
  #startedAt: number | undefined;
  #endedAt: number | undefined;

  constructor(readonly name: string, readonly taskResources: { cpu: number; gpu: number }) {}

  taskStarted(): void {
    this.#startedAt ??= performance.now();
    this.numTasks++;
    this.active++;
  }

  /** Tasks run on the operator's behalf that it does not follow one by one (an all-to-all step's map and reduce tasks). */
  tasksRan(n: number): void {
    this.#startedAt ??= performance.now();
    this.numTasks += n;
    this.finished += n;
  }

  taskFinished(): void {
    this.active--;
    this.finished++;
    this.#endedAt = performance.now();
  }

  blockOut(rows: number, bytes: number): void {
    this.#startedAt ??= performance.now();
    this.numBlocksOut++;
    this.numRowsOut += rows;
    this.bytesOut += bytes;
    this.queuedBlocks++;
    this.#endedAt = performance.now();
  }

  /** Output bytes per task so far: what a task in flight is expected to add to the store. */
  bytesPerTask(): number {
    return this.finished === 0 ? (this.numBlocksOut === 0 ? 0 : this.bytesOut / this.numBlocksOut) : this.bytesOut / this.finished;
  }

  /** From its first task (or block) to its last output. */
  wallTimeMs(): number {
    if (this.#startedAt === undefined) return 0;
    return (this.#endedAt ?? performance.now()) - this.#startedAt;
  }
}

/** All operators of one execution (nested plans of unions and all-to-all inputs included), and its peak store use. */
export class ExecutionRecorder {
  readonly operators: OperatorStats[] = [];
  readonly #startedAt = performance.now();
  #endedAt: number | undefined;
  peakObjectStoreBytes = 0;

  readonly #depths: number[] = [];

  /**
   * A new operator. `depth`: how deep in the plan it is (a nested plan's operators, and a plan's
   * source, run before the operators after them), so that the list is in the order data flows
   * through it, whatever the order the executor set the operators up in.
   */
  operator(name: string, taskResources = { cpu: 0, gpu: 0 }, depth = 0): OperatorStats {
    const op = new OperatorStats(name, taskResources);
    let at = this.#depths.findIndex((d) => d < depth);
    if (at < 0) at = this.operators.length;
    this.operators.splice(at, 0, op);
    this.#depths.splice(at, 0, depth);
    return op;
  }

  rowsOut(): number {
    return this.operators.at(-1)?.numRowsOut ?? 0;
  }

  end(): void {
    this.#endedAt ??= performance.now();
  }

  wallTimeMs(): number {
    return (this.#endedAt ?? performance.now()) - this.#startedAt;
  }

  summary(): ExecutionStats {
    return {
      wallTimeMs: this.wallTimeMs(),
      peakObjectStoreBytes: this.peakObjectStoreBytes,
      operators: this.operators.map((op) => ({
        name: op.name, numTasks: op.numTasks, numActors: op.numActors, numBlocksOut: op.numBlocksOut,
        numRowsOut: op.numRowsOut, bytesOut: op.bytesOut, wallTimeMs: op.wallTimeMs(),
      })),
    };
  }
}

/** The last execution of each plan (a Dataset's plan is its own object, so: of each Dataset). */
const lastExecution = new WeakMap<Plan, ExecutionRecorder>();

export function recordExecution(plan: Plan, recorder: ExecutionRecorder): void {
  lastExecution.set(plan, recorder);
}

/** A materialized dataset's stats are those of the execution that made its blocks. */
export function inheritExecution(from: Plan, to: Plan): void {
  const recorder = lastExecution.get(from);
  if (recorder) lastExecution.set(to, recorder);
}

export function executionSummary(plan: Plan): ExecutionStats | undefined {
  return lastExecution.get(plan)?.summary();
}

/** Dataset.stats(): the summary, readably; "" before any execution. */
export function formatStats(stats: ExecutionStats | undefined): string {
  if (!stats) return "";
  const lines = stats.operators.map((op, i) =>
    `Operator ${i + 1} ${op.name}: ${op.numTasks} tasks, ${op.numActors} actors, ${op.numBlocksOut} blocks out, ` +
    `${op.numRowsOut} rows out, ${formatBytes(op.bytesOut)} out, ${formatMs(op.wallTimeMs)} wall time`);
  lines.push(`Dataset: ${formatMs(stats.wallTimeMs)} wall time, peak object store use ${formatBytes(stats.peakObjectStoreBytes)}`);
  return lines.join("\n");
}

export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

function formatMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`;
}
