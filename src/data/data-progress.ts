/**
 * Progress of an execution on stderr (DataContext.enableProgressBars): a global line (CPUs, GPUs
 * where the cluster has some, and object store bytes in use against the execution's limits, rows out) and, with
 * enableOperatorProgressBars, one line per operator (tasks active, output blocks queued for the
 * next operator, rows out, "[backpressure]" while the budget holds it back).
 *
 * On a terminal the lines are redrawn in place ten times a second and stay as they were at the
 * end; elsewhere (a log file, a pipe) they are printed every 5 s at most and once at the end.
 * Each line's text is tsray's progress-bar line (util/progress-line.ts, as Pool's bars): the
 * operator's state as its label, rows as the count, a bar when the total is known.
 *
 * The lines read the counters that the executor keeps anyway (execution-stats.ts,
 * execution-budget.ts); nothing here is on the executor's path.
 */
import { formatProgressLine } from "../util/progress-line.js";
import type { DataContext } from "./context.js";
import type { ExecutionBudget } from "./execution-budget.js";
import { formatBytes, type ExecutionRecorder } from "./execution-stats.js";

export interface DataProgress {
  /** The execution ended (completed or not): the lines are drawn or printed one last time. */
  end(completed: boolean): void;
}

const noProgress: DataProgress = { end() {} };
const REDRAW_EVERY_MS = 100;
const PRINT_EVERY_MS = 5000;
const CLEAR_TO_END = "\x1b[K";

/** Where the lines go: process.stderr, or a stand-in. */
export interface ProgressOutput {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(text: string): unknown;
}

export function startDataProgress(context: DataContext, budget: ExecutionBudget, recorder: ExecutionRecorder,
  output: ProgressOutput = process.stderr, totalRows?: number): DataProgress {
  if (!context.enableProgressBars) return noProgress;
  const lines = new ProgressLines(context, budget, recorder, output, totalRows);
  const timer = setInterval(() => lines.tick(true), output.isTTY ? REDRAW_EVERY_MS : PRINT_EVERY_MS).unref();
  return {
    end() {
      clearInterval(timer);
      lines.tick(false);
    },
  };
}

class ProgressLines {
  readonly #startedAt = performance.now();
  /** Lines drawn in place on a terminal, to go back up over at the next redraw. */
  #drawn = 0;
  /** Off a terminal: the counters the last lines printed showed. */
  #printedState: string | undefined;

  constructor(private readonly context: DataContext, private readonly budget: ExecutionBudget,
    private readonly recorder: ExecutionRecorder, private readonly output: ProgressOutput, private readonly totalRows?: number) {}

  /** `periodic`: a timer's tick, which off a terminal prints only if something moved since the last lines. */
  tick(periodic: boolean): void {
    const text = this.lines();
    if (!this.output.isTTY) {
      // An execution that stalls (or whose consumer dropped it without closing it) does not fill a log with the same lines.
      const state = this.recorder.operators.map((op) => `${op.numTasks}/${op.active}/${op.queuedBlocks}/${op.numRowsOut}/${op.backpressured}`).join(" ");
      if (periodic && state === this.#printedState) return;
      this.#printedState = state;
      this.output.write(text.map((line) => `${line}\n`).join(""));
      return;
    }
    // Back to the first line drawn, then each line over the old one.
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F` : "";
    this.output.write(up + text.map((line) => `\r${line}${CLEAR_TO_END}\n`).join(""));
    this.#drawn = text.length;
  }

  lines(): string[] {
    // A pseudo-terminal may report 0 columns (no size set): then the usual 80. Off a terminal, lines are not cut.
    const columns = this.output.isTTY ? this.output.columns || 80 : 1000;
    const elapsedMs = performance.now() - this.#startedAt;
    const { limits } = this.budget;
    // Tasks beyond the cluster's CPUs wait in its queue: they use none yet.
    const reserved = this.budget.reserved();
    const cpu = Math.min(reserved.cpu, limits.cpu ?? limits.clusterCpu);
    const gpu = Math.min(reserved.gpu, limits.gpu ?? limits.clusterGpu);
    // GPUs only where there are some: the line fits a terminal of 80 columns.
    const gpuLimit = limits.gpu ?? limits.clusterGpu;
    const gpus = gpuLimit > 0 ? ` GPU ${fmt(gpu)}/${fmt(gpuLimit)},` : "";
    const store = `store ${formatBytes(this.budget.usedBytes())}/${formatBytes(limits.objectStoreMemory)}`;
    const label = `Running Dataset: CPU ${fmt(cpu)}/${fmt(limits.cpu ?? limits.clusterCpu)},${gpus} ${store}, rows`;
    const lines = [formatProgressLine({ label, done: this.recorder.rowsOut(), total: this.totalRows, elapsedMs }, columns)];
    if (!this.context.enableOperatorProgressBars) return lines;
    for (const op of this.recorder.operators) {
      const state = `${op.active} active, ${op.queuedBlocks} queued${op.backpressured ? " [backpressure]" : ""}`;
      lines.push(formatProgressLine({ label: `- ${op.name}: ${state}, rows`, done: op.numRowsOut, elapsedMs: op.wallTimeMs() }, columns));
    }
    return lines;
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}
