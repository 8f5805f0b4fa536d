/**
 * The streaming executor: turns a plan into a stream of output block refs, in order.
 *
 * Neighbouring map steps of equal task options fuse into one operator (and into the read of a
 * range), so a block goes through all of them in one task. Each operator keeps a bounded window
 * of tasks in flight (2 × the cluster's CPUs, or the step's concurrency) and submits the next
 * only when its consumer takes a block: blocks are made as fast as they are consumed, memory
 * stays bounded, and the first rows arrive before the last blocks are made. Closing the stream
 * (a `break` in the consumer, an error, a reached limit) cancels the tasks still in flight and
 * submits no more.
 */
import * as ray from "tsray";
import type { TaskOptions } from "tsray";
import { decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "./block.js";
import { sourceName, type MapStep, type Plan, type Source, type StageSpec } from "./plan.js";
import { runStages, stageTaskModule, type ReadInput } from "./stage-task.js";
import { rowsToTable } from "./to-arrow.js";

const runStagesTask = ray.util.remoteExport(stageTaskModule, runStages);

/** Operators as the executor runs them; names as Ray shows fused ones: "ReadRange->Map(f)". */
type Operator =
  | { kind: "tasks"; name: string; stages: StageSpec[]; taskOptions: TaskOptions; concurrency?: number }
  | { kind: "limit"; n: number };

/** The plan's output blocks, streamed; see the module comment. */
export async function* executePlan(plan: Plan): AsyncGenerator<BlockRef, void, undefined> {
  if (!ray.isInitialized()) await ray.init();
  const cpus = (await ray.clusterResources()).CPU ?? 1;
  const window = Math.max(2, Math.ceil(2 * cpus));
  const operators = fuse(plan);
  let stream: AsyncIterable<BlockRef | ReadInput> = sourceInputs(plan.source, cpus);
  let first = true;
  for (const op of operators) {
    if (op.kind === "limit") {
      stream = limitBlocks(first ? readAll(stream) : (stream as AsyncIterable<BlockRef>), op.n);
    } else {
      const task = runStagesTask.options({ ...op.taskOptions, name: op.name });
      const stages = op.stages;
      stream = windowed(stream, (input) => task.remote(input as never, stages) as BlockRef, Math.min(window, op.concurrency ?? window));
    }
    first = false;
  }
  yield* first ? readAll(stream) : (stream as AsyncIterable<BlockRef>);
}

/** The operators of a plan: map steps fused while their options agree; a range read fused with the maps after it. */
function fuse(plan: Plan): Operator[] {
  const ops: Operator[] = [];
  let current: Extract<Operator, { kind: "tasks" }> | undefined;
  const readFuses = plan.source.kind === "range";
  for (const step of plan.steps) {
    if (step.kind === "limit") {
      ops.push(step);
      current = undefined;
      continue;
    }
    if (current && sameExecution(current, step)) {
      current.stages.push(step.stage);
      current.name += `->${step.stage.name}`;
      continue;
    }
    const prefix = ops.length === 0 && readFuses ? `${sourceName(plan.source)}->` : "";
    current = { kind: "tasks", name: prefix + step.stage.name, stages: [step.stage], taskOptions: step.taskOptions, concurrency: step.concurrency };
    ops.push(current);
  }
  return ops;
}

function sameExecution(op: Extract<Operator, { kind: "tasks" }>, step: MapStep): boolean {
  return op.concurrency === step.concurrency && JSON.stringify(op.taskOptions) === JSON.stringify(step.taskOptions);
}

/**
 * What the first operator reads: range slices for a read task to make, or blocks the driver
 * already holds (items and tables, encoded and put as the stream reaches them).
 */
async function* sourceInputs(source: Source, cpus: number): AsyncGenerator<BlockRef | ReadInput> {
  switch (source.kind) {
    case "range":
      for (const [start, end] of splitEvenly(source.n, numBlocksFor(source.n, 8 * source.n, cpus, source.overrideNumBlocks))) {
        yield { kind: "range", start, end };
      }
      return;
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
  }
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

/** Read inputs that reach the output or a limit with no task in between become blocks here. */
async function* readAll(stream: AsyncIterable<BlockRef | ReadInput>): AsyncGenerator<BlockRef> {
  for await (const input of stream) {
    yield isReadInput(input) ? (runStagesTask.options({ name: "ReadRange" }).remote(input, []) as BlockRef) : input;
  }
}

function isReadInput(input: BlockRef | ReadInput): input is ReadInput {
  return !(input instanceof ray.ObjectRef);
}

/**
 * Submits a task per input, at most `maxInFlight` ahead of the consumer, and yields their
 * results in input order. Early close: the tasks still in flight are cancelled.
 */
async function* windowed<I>(upstream: AsyncIterable<I>, submit: (input: I) => BlockRef, maxInFlight: number): AsyncGenerator<BlockRef> {
  const inputs = upstream[Symbol.asyncIterator]();
  const inFlight: BlockRef[] = [];
  let exhausted = false;
  try {
    for (;;) {
      while (!exhausted && inFlight.length < maxInFlight) {
        const next = await inputs.next();
        if (next.done) exhausted = true;
        else inFlight.push(submit(next.value));
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
