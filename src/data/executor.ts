/**
 * The streaming executor: turns a plan into a stream of output block refs, in order.
 *
 * Neighbouring map steps of equal task options fuse into one operator (and into the read task of
 * a range or of files), so a block goes through all of them in one task. Each operator keeps a bounded window
 * of tasks in flight (2 × the cluster's CPUs, or the step's concurrency) and submits the next
 * only when its consumer takes a block: blocks are made as fast as they are consumed, memory
 * stays bounded, and the first rows arrive before the last blocks are made. Closing the stream
 * (a `break` in the consumer, an error, a reached limit) cancels the tasks still in flight and
 * submits no more. An operator with a class UDF runs on an actor pool instead (actor-pool.ts), with
 * the same order and backpressure; with maxErroredBlocks, failed blocks are dropped (errored-blocks.ts).
 */
import * as ray from "tsray";
import { decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "./block.js";
import { fuse, type Operator } from "./fusion.js";
import type { FilesSource, Plan, Source } from "./plan.js";
import { listFiles } from "./read/list-files.js";
import { rowGroupInputs } from "./read/parquet-footers.js";
import type { FilesInput } from "./read/read-file.js";
import { runStages, stageTaskModule, type TaskInput } from "./stage-task.js";
import { rowsToTable } from "./to-arrow.js";
import { randomSeed, shuffled } from "./seeded-shuffle.js";
import { runExchange } from "./exchange/run-exchange.js";
import { runActorPool } from "./actor-pool.js";
import { droppingErroredBlocks, erroredBlockBudget } from "./errored-blocks.js";
import { warnOfInfeasibleOperators, warnOfPoolsHoldingCpus } from "./resource-check.js";
import { zipBlocks } from "./zip.js";

const runStagesTask = ray.util.remoteExport(stageTaskModule, runStages);

/** The plan's output blocks, streamed; see the module comment. */
export async function* executePlan(plan: Plan): AsyncGenerator<BlockRef, void, undefined> {
  if (!ray.isInitialized()) await ray.init();
  const cpus = (await ray.clusterResources()).CPU ?? 1;
  const window = Math.max(2, Math.ceil(2 * cpus));
  let stream: AsyncIterable<BlockRef | TaskInput> = sourceInputs(plan.source, cpus);
  const operators = fuse(plan);
  const mapOperators = operators.filter((op) => op.kind !== "limit");
  await warnOfInfeasibleOperators(mapOperators);
  warnOfPoolsHoldingCpus(mapOperators, cpus);
  // Merge with DataContext: `plan.maxErroredBlocks ?? DataContext.getCurrent().maxErroredBlocks` (the dataset's context).
  const erroredBlocks = erroredBlockBudget(plan.maxErroredBlocks ?? 0);
  for (const op of operators) {
    if (op.kind === "limit") {
      stream = limitBlocks(stream as AsyncIterable<BlockRef>, op.n);
      continue;
    }
    if (op.kind === "actors") {
      const minRows = bundleRows(op);
      const inputs = minRows === undefined ? singles(stream) : bundled(stream as AsyncIterable<BlockRef>, minRows);
      stream = runActorPool(op, inputs, cpus);
    } else {
      const task = runStagesTask.options({ ...op.taskOptions, name: op.name });
      const stages = op.stages;
      const maxInFlight = Math.min(window, op.concurrency ?? window);
      const minRows = bundleRows(op);
      if (minRows === undefined) {
        stream = windowed(stream, (input, index) => task.remote(input as never, stages, index) as BlockRef, maxInFlight);
      } else {
        // Bundled blocks travel as separate top-level arguments, so each is resolved for the task.
        stream = windowed(bundled(stream as AsyncIterable<BlockRef>, minRows),
          ([first, ...more], index) => task.remote(first as never, stages, index, ...(more as never[])) as BlockRef, maxInFlight);
      }
    }
    if (erroredBlocks.limit !== 0) stream = droppingErroredBlocks(stream as AsyncIterable<BlockRef>, op.name, erroredBlocks);
  }
  yield* stream as AsyncIterable<BlockRef>;
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
    const block: StoredBlock = await ray.get(ref);
    if (block.numRows === 0) continue;
    bundle.push(ref);
    rows += block.numRows;
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
async function* sourceInputs(source: Source, cpus: number): AsyncGenerator<BlockRef | TaskInput> {
  switch (source.kind) {
    case "range":
      for (const [start, end] of splitEvenly(source.n, numBlocksFor(source.n, 8 * source.n, cpus, source.overrideNumBlocks))) {
        yield { kind: "range", start, end };
      }
      return;
    case "rangeTensor": {
      const size = source.shape.reduce((a, b) => a * b, 1);
      for (const [start, end] of splitEvenly(source.n, numBlocksFor(source.n, 8 * size * source.n, cpus, source.overrideNumBlocks))) {
        yield { kind: "rangeTensor", start, end, shape: source.shape };
      }
      return;
    }
    case "items": {
      const n = source.items.length;
      for (const [start, end] of splitEvenly(n, numBlocksFor(n, 8 * n, cpus, source.overrideNumBlocks))) {
        yield ray.put(encodeBlock(rowsToTable(source.items.slice(start, end)))) as BlockRef;
      }
      return;
    }
    case "tables":
      for (const table of source.tables) yield ray.put(encodeBlock(table)) as BlockRef;
      return;
    case "blocks":
      yield* source.refs;
      return;
    case "files":
      yield* await fileInputs(source);
      return;
    case "union":
      // Each input runs as a plan of its own, one after the other, so the union keeps their order.
      for (const input of source.plans) yield* executePlan(input);
      return;
    case "zip":
      yield* zipBlocks(executePlan(source.left), executePlan(source.right));
      return;
    case "allToAll": {
      // An all-to-all step holds its whole input before it makes its first output block.
      const inputs: BlockRef[] = [];
      for await (const ref of executePlan(source.input)) inputs.push(ref);
      yield* await runExchange(source.exchange, inputs);
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

/** Ray's default block count: max(min(200, bytes / 1 MiB), 2 × CPUs), at most one per row, at least one. */
function numBlocksFor(rows: number, bytes: number, cpus: number, override: number | undefined): number {
  const wanted = override ?? Math.max(Math.min(200, Math.floor(bytes / (1024 * 1024))), Math.ceil(2 * cpus));
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

/**
 * Submits a task per input (with the input's index in the stream), at most `maxInFlight` ahead of the consumer, and yields their
 * results in input order. Early close: the tasks still in flight are cancelled.
 */
async function* windowed<I>(upstream: AsyncIterable<I>, submit: (input: I, index: number) => BlockRef, maxInFlight: number): AsyncGenerator<BlockRef> {
  let submitted = 0;
  const inputs = upstream[Symbol.asyncIterator]();
  const inFlight: BlockRef[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < maxInFlight) {
        const next = await inputs.next();
        if (next.done) exhausted = true;
        else inFlight.push(submit(next.value, submitted++));
      }
      const ref = inFlight.shift();
      if (ref === undefined) return;
      yield ref;
    }
  } finally {
    for (const ref of inFlight) ray.cancel(ref).catch(() => {});
    if (!exhausted) await inputs.return?.();
  }
}

/** The first `n` rows of the stream: counts rows as blocks arrive, slices the last one, then closes upstream. */
async function* limitBlocks(upstream: AsyncIterable<BlockRef>, n: number): AsyncGenerator<BlockRef> {
  let left = n;
  if (left <= 0) return;
  for await (const ref of upstream) {
    const block: StoredBlock = await ray.get(ref);
    if (block.numRows <= left) {
      left -= block.numRows;
      yield ref;
    } else {
      yield ray.put(encodeBlock(decodeBlock(block).slice(0, left))) as BlockRef;
      left = 0;
    }
    if (left === 0) return;
  }
}
