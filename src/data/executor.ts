/**
 * The streaming executor: turns a plan into a stream of output block refs, in order.
 *
 * Neighbouring map steps of equal task options fuse into one operator (and into the read task of
 * a range or of files), so a block goes through all of them in one task. Each operator keeps a bounded window
 * of tasks in flight (2 × the cluster's CPUs, or the step's concurrency) and submits the next
 * only when its consumer takes a block and the execution's budget (execution-budget.ts: object
 * store bytes, CPUs) has room: blocks are made as fast as they are consumed, memory stays
 * bounded, and the first rows arrive before the last blocks are made. A task whose output is
 * larger than targetMaxBlockSize returns it as several blocks (block-task.ts). Closing the
 * stream (a `break` in the consumer, an error, a reached limit) cancels the tasks still in
 * flight and submits no more.
 *
 * Each operator reports what it does (tasks started and finished, blocks out with rows and
 * bytes) to its OperatorStats, which the budget, `Dataset.stats()` and the progress lines read.
 *
 * An operator with a class UDF runs on an actor pool (actor-pool.ts) through the same task
 * operator: its inputs are submitted to the pool rather than as tasks. With maxErroredBlocks,
 * the blocks of failed tasks are dropped with a warning (errored-blocks.ts).
 */
import * as ray from "tsray";
import { blockBytes, decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "./block.js";
import { noteFigures, numRowsOf } from "./block-figures.js";
import { snapshotContext, type DataContext } from "./context.js";
import { startDataProgress } from "./data-progress.js";
import { ExecutionBudget, executionLimits } from "./execution-budget.js";
import { ExecutionRecorder, recordExecution, type OperatorStats } from "./execution-stats.js";
import { fuse, type Operator } from "./fusion.js";
import { sourceName, type FilesSource, type Plan, type Source } from "./plan.js";
import { listFiles } from "./read/list-files.js";
import { rowGroupInputs } from "./read/parquet-footers.js";
import type { FilesInput } from "./read/read-file.js";
import type { TaskInput } from "./stage-task.js";
import { blockTaskModule, runBlockTask, type TaskOutput } from "./block-task.js";
import { rowsToTable } from "./to-arrow.js";
import { randomSeed, shuffled } from "./seeded-shuffle.js";
import { runExchange } from "./exchange/run-exchange.js";
import { ActorPool, type ActorPoolOperator } from "./actor-pool.js";
import { erroredBlockBudget, mayDropErroredBlock, type ErroredBlockBudget } from "./errored-blocks.js";
import { warnOfInfeasibleOperators, warnOfPoolsHoldingCpus } from "./resource-check.js";
import { zipBlocks } from "./zip.js";

const blockTask = ray.util.remoteExport(blockTaskModule, runBlockTask);

/** One run of a plan, shared by the plans nested in it (union inputs, all-to-all inputs). */
interface Execution {
  /** The dataset's copy of the DataContext. */
  readonly context: DataContext;
  readonly cpus: number;
  readonly budget: ExecutionBudget;
  readonly recorder: ExecutionRecorder;
  /** Failed blocks this execution may still drop (DataContext.maxErroredBlocks). */
  readonly erroredBlocks: ErroredBlockBudget;
  /** How deeply nested the plan being run is (union and all-to-all inputs are one deeper): the order of the stats. */
  readonly depth: number;
}

/**
 * The plan's output blocks, streamed; see the module comment. An output counts against the
 * budget until the consumer asks for the next one. The consumer's refs (and views) of the
 * outputs keep them in the store until collected: the store has the driver collect garbage
 * when it runs short, and a consumer may keep them (materialize).
 */
export async function* executePlan(plan: Plan): AsyncGenerator<BlockRef, void, undefined> {
  if (!ray.isInitialized()) await ray.init();
  const context = plan.context ?? snapshotContext();
  const limits = await executionLimits(context);
  const recorder = new ExecutionRecorder();
  recordExecution(plan, recorder);
  const exec: Execution = {
    context, cpus: limits.clusterCpu, budget: new ExecutionBudget(limits, recorder), recorder, erroredBlocks: erroredBlockBudget(context.maxErroredBlocks), depth: 0,
  };
  const progress = startDataProgress(context, exec.budget, recorder);
  const consumed = (ref: BlockRef) => exec.budget.release(ref, false);
  let previous: BlockRef | undefined;
  let completed = false;
  try {
    for await (const ref of runPlan(plan, exec)) {
      if (previous) consumed(previous);
      previous = ref;
      yield ref;
    }
    completed = true;
  } finally {
    if (previous) consumed(previous);
    recorder.end();
    progress.end(completed);
  }
}

async function* runPlan(plan: Plan, exec: Execution): AsyncGenerator<BlockRef, void, undefined> {
  const window = Math.max(2, Math.ceil(2 * exec.cpus));
  // Blocks the driver puts (items, tables) count as an operator of their own, first in the stats.
  const putter = plan.source.kind === "items" || plan.source.kind === "tables" ? exec.recorder.operator(sourceName(plan.source), undefined, exec.depth + 0.5) : undefined;
  let stream: AsyncIterable<BlockRef | TaskInput> = sourceInputs(plan.source, exec, putter);
  const operators = fuse(plan);
  const mapOperators = operators.filter((op) => op.kind !== "limit");
  await warnOfInfeasibleOperators(mapOperators);
  warnOfPoolsHoldingCpus(mapOperators, exec.cpus);
  for (const op of operators) {
    if (op.kind === "limit") {
      stream = limitBlocks(stream as AsyncIterable<BlockRef>, op.n, exec);
    } else if (op.kind === "actors") {
      const stats = exec.recorder.operator(op.name, { cpu: op.taskOptions.numCpus ?? 0, gpu: op.taskOptions.numGpus ?? 0 }, exec.depth);
      const minRows = bundleRows(op);
      const inputs = minRows === undefined ? singles(stream) : bundled(stream as AsyncIterable<BlockRef>, minRows);
      stream = actorPoolOperator(op, inputs, exec, stats);
    } else {
      const stats = exec.recorder.operator(op.name, { cpu: op.taskOptions.numCpus ?? 1, gpu: op.taskOptions.numGpus ?? 0 }, exec.depth);
      const tasks = taskFunctions(op, exec.context);
      const { stages } = op;
      const context = exec.context;
      const maxInFlight = Math.min(window, op.concurrency ?? window);
      const minRows = bundleRows(op);
      if (minRows === undefined) {
        stream = taskOperator(stream, (input, index) => submission(
          () => tasks(index).remote(input as never, stages, index, context) as Submitted["outputs"],
          input instanceof ray.ObjectRef ? [input as BlockRef] : [],
        ), maxInFlight, exec, stats);
      } else {
        // Bundled blocks travel as separate top-level arguments, so each is resolved for the task.
        stream = taskOperator(bundled(stream as AsyncIterable<BlockRef>, minRows), ([first, ...more], index) => submission(
          () => tasks(index).remote(first as never, stages, index, context, ...(more as never[])) as Submitted["outputs"],
          [first!, ...more],
        ), maxInFlight, exec, stats);
      }
    }
  }
  yield* stream as AsyncIterable<BlockRef>;
}

/** The task of an operator, by the index of its input: placed by localityWithOutput when that is set. */
function taskFunctions(op: Extract<Operator, { kind: "tasks" }>, context: DataContext) {
  const base = { ...op.taskOptions, name: op.name, numReturns: 2 };
  const locality = context.executionOptions.localityWithOutput;
  if (locality === false || op.taskOptions.schedulingStrategy !== undefined) {
    const task = blockTask.options(base);
    return () => task;
  }
  const nodes = locality === true ? [ray.getRuntimeContext().nodeId] : locality;
  if (nodes.length === 0) {
    const task = blockTask.options(base);
    return () => task;
  }
  // Soft: a node that is gone or full leaves the task to the scheduler. Inputs go round the nodes.
  const tasks = nodes.map((nodeId) => blockTask.options({ ...base, schedulingStrategy: { type: "node_affinity", nodeId, soft: true } }));
  return (index: number) => tasks[index % tasks.length]!;
}

/**
 * Rows a task of this operator should get at least: a mapBatches with a batchSize (or a write with
 * minRowsPerFile) first in an operator fed by blocks (not a read) gets small blocks bundled up to
 * it, as Ray does.
 */
function bundleRows(op: Exclude<Operator, { kind: "limit" }>): number | undefined {
  const first = op.stages[0];
  if (op.isRead || first === undefined) return undefined;
  if (first.kind === "write") return first.minRowsPerFile ?? undefined;
  if (first.kind !== "mapBatches") return undefined;
  return first.batchSize ?? undefined;
}

/** Each input as the arguments of its call: [input]. */
async function* singles<I>(upstream: AsyncIterable<I>): AsyncGenerator<[I]> {
  for await (const input of upstream) yield [input];
}

/** Upstream blocks grouped, in order, until each group holds at least `minRows` rows (the last may hold fewer). */
async function* bundled(upstream: AsyncIterable<BlockRef>, minRows: number): AsyncGenerator<BlockRef[]> {
  let bundle: BlockRef[] = [];
  let rows = 0;
  for await (const ref of upstream) {
    const numRows = await numRowsOf(ref);
    if (numRows === 0) continue;
    bundle.push(ref);
    rows += numRows;
    if (rows >= minRows) {
      yield bundle;
      bundle = [];
      rows = 0;
    }
  }
  if (bundle.length > 0) yield bundle;
}

/**
 * What the first operator reads: range slices for a read task to make, or blocks the driver
 * already holds (items and tables, encoded and put as the stream reaches them).
 */
async function* sourceInputs(source: Source, exec: Execution, putter?: OperatorStats): AsyncGenerator<BlockRef | TaskInput> {
  const { cpus, context } = exec;
  switch (source.kind) {
    case "range":
      for (const [start, end] of splitEvenly(source.n, numBlocksFor(source.n, 8 * source.n, cpus, source.overrideNumBlocks, context))) {
        yield { kind: "range", start, end };
      }
      return;
    case "rangeTensor": {
      const size = source.shape.reduce((a, b) => a * b, 1);
      for (const [start, end] of splitEvenly(source.n, numBlocksFor(source.n, 8 * size * source.n, cpus, source.overrideNumBlocks, context))) {
        yield { kind: "rangeTensor", start, end, shape: source.shape };
      }
      return;
    }
    case "items": {
      const n = source.items.length;
      for (const [start, end] of splitEvenly(n, numBlocksFor(n, 8 * n, cpus, source.overrideNumBlocks, context))) {
        yield putBlock(encodeBlock(rowsToTable(source.items.slice(start, end))), exec, putter!);
      }
      return;
    }
    case "tables":
      for (const table of source.tables) yield putBlock(encodeBlock(table), exec, putter!);
      return;
    case "blocks":
      yield* source.refs;
      return;
    case "files":
      yield* await fileInputs(source);
      return;
    case "union":
      // Each input runs as a plan of its own, one after the other, so the union keeps their order.
      for (const input of source.plans) yield* runPlan(input, { ...exec, depth: exec.depth + 1 });
      return;
    case "zip":
      yield* zipBlocks(executePlan(source.left), executePlan(source.right));
      return;
    case "allToAll": {
      // An all-to-all step holds its whole input before it makes its first output block.
      const inputs: BlockRef[] = [];
      for await (const ref of runPlan(source.input, { ...exec, depth: exec.depth + 1 })) inputs.push(ref);
      const stats = exec.recorder.operator(source.exchange.name, { cpu: 1, gpu: 0 }, exec.depth + 0.5);
      const { outputs, tasks } = await runExchange(source.exchange, inputs, exec.context);
      stats.tasksRan(tasks);
      // Its tasks hold their inputs now; the refs here go with the garbage.
      for (const ref of inputs) exec.budget.release(ref, false);
      let given = 0;
      try {
        for (const { block, output } of outputs) {
          const { figures, more } = output instanceof ray.ObjectRef ? await ray.get(output) : output;
          for (const [i, ref] of [block, ...more].entries()) {
            exec.budget.blockOut(stats, ref, figures[i]!.numRows, figures[i]!.bytes);
            yield ref;
          }
          given++;
        }
      } finally {
        // Closed early (a break, a reached limit, an error): the tasks of the blocks never asked for are cancelled.
        for (const { block } of outputs.slice(given + 1)) ray.cancel(block).catch(() => {});
      }
      return;
    }
  }
}

/** One read input per file, or per group of files when overrideNumBlocks asks for fewer blocks than files. */
async function fileInputs(source: FilesSource): Promise<FilesInput[]> {
  let files = await listFiles(source.paths, source.list);
  if (files.length === 0 && !source.list.ignoreMissingPaths) {
    throw new Error(`no files to read in ${source.paths.join(", ")}${source.list.fileExtensions ? ` with extensions ${source.list.fileExtensions.join(", ")}` : ""}`);
  }
  if (source.shuffleSeed !== undefined) files = shuffled(files, source.shuffleSeed ?? randomSeed());
  // More blocks than files: Parquet files split by row groups (other formats are read whole).
  if (source.format === "parquet" && (source.overrideNumBlocks ?? 0) > files.length) return rowGroupInputs(source, files, source.overrideNumBlocks!);
  const groups = Math.min(files.length, source.overrideNumBlocks ?? files.length);
  return splitEvenly(files.length, groups).map(([start, end]) => ({ ...source.input, files: files.slice(start, end) }));
}

/** A block the driver makes, put in the store and held by the execution like a task's output. */
function putBlock(block: StoredBlock, exec: Execution, op: OperatorStats): BlockRef {
  const ref = ray.put(block) as BlockRef;
  exec.budget.blockOut(op, ref, block.numRows, blockBytes(block));
  return ref;
}

/**
 * Ray's default block count: max(min(readOpMinNumBlocks, bytes / targetMinBlockSize), 2 × CPUs),
 * at most one per row, at least one.
 */
function numBlocksFor(rows: number, bytes: number, cpus: number, override: number | undefined, context: DataContext): number {
  const bySize = Math.floor(bytes / context.targetMinBlockSize);
  const wanted = override ?? Math.max(Math.min(context.readOpMinNumBlocks, bySize), Math.ceil(2 * cpus));
  return Math.max(1, Math.min(wanted, rows));
}

function splitEvenly(n: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < parts; i++) {
    const start = Math.floor((i * n) / parts);
    const end = Math.floor(((i + 1) * n) / parts);
    if (end > start || n === 0) out.push([start, end]);
  }
  return out;
}

/** What a task (or a pool actor's call) returns: its first block, and its figures with any further blocks. */
type Outputs = [first: BlockRef, more: ray.ObjectRef<TaskOutput>];

/** A task's outputs (a pool's once an actor takes the input) and the blocks it was given, freed when it ends. */
interface Submitted {
  outputs: Outputs | Promise<Outputs>;
  inputs: BlockRef[];
  /** Runs the task again (its output found the store full); how many times it has been. */
  resubmit: () => Submitted["outputs"];
  storeFullRetries: number;
}

function submission(run: () => Submitted["outputs"], inputs: BlockRef[]): Submitted {
  return { outputs: run(), inputs, resubmit: run, storeFullRetries: 0 };
}

/** An operator with a class UDF: the task operator over inputs submitted to the operator's actor pool, which ends with it. */
async function* actorPoolOperator(op: ActorPoolOperator, inputs: AsyncIterable<readonly unknown[]>, exec: Execution, stats: OperatorStats): AsyncGenerator<BlockRef> {
  const pool = new ActorPool(op, exec.cpus, exec.context, stats);
  let completed = false;
  try {
    yield* taskOperator(endingWith(inputs, () => pool.inputsDone()), (args, index) => submission(
      () => pool.submit(args, index),
      args.filter((arg): arg is BlockRef => arg instanceof ray.ObjectRef),
    ), pool.window, exec, stats);
    completed = true;
    await pool.closeAll();
  } finally {
    await pool.killAll(!completed);
  }
}

/** The upstream's items, then `atEnd()` once it is exhausted. */
async function* endingWith<I>(upstream: AsyncIterable<I>, atEnd: () => void): AsyncGenerator<I> {
  yield* upstream;
  atEnd();
}

/**
 * Times a task whose output found the object store full runs again. The budget keeps this
 * execution's own blocks under its limit, but blocks that the consumer has dropped stay in the
 * store until the driver's garbage collection releases its views of them; a worker's put waits
 * for that only briefly. By the time its error arrives here the collection has run.
 */
const STORE_FULL_RETRIES = 3;

/**
 * A task operator: submits a task per input (with the input's index in the stream) while
 * it has fewer than `maxInFlight` in flight and the budget has room, and yields their blocks in
 * input order, as the consumer asks for them. Early close: the tasks still in flight are cancelled.
 */
async function* taskOperator<I>(upstream: AsyncIterable<I>, submit: (input: I, index: number) => Submitted, maxInFlight: number,
  exec: Execution, op: OperatorStats): AsyncGenerator<BlockRef> {
  let submitted = 0;
  const inputs = upstream[Symbol.asyncIterator]();
  const inFlight: Submitted[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < maxInFlight) {
        op.backpressured = !exec.budget.mayStart(op);
        if (op.backpressured) break;
        const next = await inputs.next();
        if (next.done) exhausted = true;
        else {
          inFlight.push(submit(next.value, submitted++));
          op.taskStarted();
        }
      }
      const head = inFlight[0];
      if (head === undefined) return;
      const [first, outputRef] = await head.outputs;
      let output: TaskOutput | undefined;
      try {
        output = await ray.get(outputRef);
      } catch (err) {
        if ((err as Error).name === "ObjectStoreFullError" && head.storeFullRetries < STORE_FULL_RETRIES) {
          head.storeFullRetries++;
          head.outputs = head.resubmit();
          continue;
        }
        if (!mayDropErroredBlock(exec.erroredBlocks, err, op.name)) throw err;
      }
      inFlight.shift();
      op.taskFinished();
      for (const ref of head.inputs) exec.budget.release(ref, true);
      if (output === undefined) continue; // a failed block, dropped
      const { figures, more } = output;
      const blocks = [first, ...more];
      for (const [i, ref] of blocks.entries()) exec.budget.blockOut(op, ref, figures[i]!.numRows, figures[i]!.bytes);
      // The blocks are held from now on, yielded as the consumer asks for them.
      yield* blocks;
    }
  } finally {
    op.backpressured = false;
    for (const { outputs } of inFlight) {
      Promise.resolve(outputs).then(([first]) => ray.cancel(first)).catch(() => {});
      op.taskFinished(); // cancelled: it ends here
    }
    if (!exhausted) await inputs.return?.();
  }
}

/** The first `n` rows of the stream: counts rows as blocks arrive, slices the last one, then closes upstream. */
async function* limitBlocks(upstream: AsyncIterable<BlockRef>, n: number, exec: Execution): AsyncGenerator<BlockRef> {
  let left = n;
  if (left <= 0) return;
  for await (const ref of upstream) {
    const numRows = await numRowsOf(ref);
    if (numRows <= left) {
      left -= numRows;
      yield ref;
    } else {
      const block: StoredBlock = await ray.get(ref);
      const sliced = encodeBlock(decodeBlock(block).slice(0, left));
      exec.budget.release(ref, false);
      const slicedRef = ray.put(sliced) as BlockRef;
      noteFigures(slicedRef, { numRows: sliced.numRows, bytes: blockBytes(sliced) });
      yield slicedRef;
      left = 0;
    }
    if (left === 0) return;
  }
}
