/**
 * The task body of every operator: makes one input block (a read) or takes one from the store,
 * runs the fused UDF stages over it in order, and returns the output block.
 *
 * Workers import this module by its URL to run the task (util.remoteExport), so it imports only
 * what the task needs. Between row-wise stages the data stays as JS rows, and between batch
 * stages as an Arrow table: each conversion happens only where the next stage needs the other.
 */
import { int64Range } from "./int64-words.js";
import { makeVector, Table } from "apache-arrow";
import * as ray from "tsray";
import { concatTables, encodeBlock, decodeBlock, isArrowTable, type StoredBlock } from "./block.js";
import { tableToColumnBatch, tableToRows } from "./from-arrow.js";
import { applyColumnsStage, withColumn } from "./column-ops.js";
import { columnsOf, isTensor, tableOfColumns, tensorBatchColumn, type TypedColumn } from "./tensor.js";
import { readFilesBlock, type FilesInput } from "./read/read-file.js";
import { writeBlock } from "./write/write-block.js";
import { isColumnsStage, type ColumnsStage, type SampleStage, type StageSpec, type UdfStage } from "./plan.js";
import { batchOutputToTable, columnBatchToTable, describeValue, rowsToTable } from "./to-arrow.js";
import type { Column, Row } from "./types.js";
import { mulberry32 } from "./seeded-shuffle.js";

/** This module, whose runStages workers import to run a block's task (util.remoteExport). */
export const stageTaskModule = import.meta.url;

/** A read task's input: what block to make. */
export type ReadInput =
  | { readonly kind: "range"; readonly start: number; readonly end: number }
  | { readonly kind: "rangeTensor"; readonly start: number; readonly end: number; readonly shape: readonly number[] }
  | FilesInput;
/** A task's input: a block to make, or one from the store (a top-level ObjectRef argument, resolved). */
export type TaskInput = ReadInput | StoredBlock;

type Data = { rows: Row[]; table?: undefined } | { table: Table; rows?: undefined };
export type AnyUdf = (input: unknown, ...fnArgs: unknown[]) => unknown;

/** `blockIndex`: the block's place in its operator's input, which seeds randomSample; `bundledBlocks`: more input blocks. */
export async function runStages(input: TaskInput, stages: readonly StageSpec[], blockIndex = 0, ...bundledBlocks: StoredBlock[]): Promise<StoredBlock> {
  return runStagesWith(loadFunctionUdf, input, stages, blockIndex, bundledBlocks);
}

/** Gives a stage's UDF as a function; an actor hosting a class UDF gives its instance's `call` (actor-udf-host.ts). */
export type UdfLoader = (stage: UdfStage) => Promise<AnyUdf>;

/** runStages, with the UDFs given by `loadUdf`. */
export async function runStagesWith(loadUdf: UdfLoader, input: TaskInput, stages: readonly StageSpec[], blockIndex: number, bundledBlocks: readonly StoredBlock[]): Promise<StoredBlock> {
  const first = isArrowTable(input) ? decodeBlock(input) : await readBlock(input as ReadInput);
  // Blocks bundled for a mapBatches batchSize are one input: their rows in order.
  let data: Data = { table: bundledBlocks.length === 0 ? first : concatTables([first, ...bundledBlocks.map(decodeBlock)]) };
  for (const [position, stage] of stages.entries()) {
    if (stage.kind === "randomSample") data = sample(stage, data, seededRandom(stage.seed, blockIndex, position));
    else if (stage.kind === "write") data = { rows: await writeBlock(stage, data.table ?? rowsToTable(data.rows!), blockIndex) };
    else data = await runStage(stage, data, loadUdf);
  }
  return encodeBlock(data.table ?? rowsToTable(data.rows));
}

async function readBlock(input: ReadInput): Promise<Table> {
  if (input.kind === "files") return readFilesBlock(input);
  if (input.kind === "rangeTensor") {
    // Rows of Float64 tensors of `shape`, each filled with its row index.
    const size = input.shape.reduce((a, b) => a * b, 1);
    const data = new Float64Array((input.end - input.start) * size);
    for (let r = 0; r < input.end - input.start; r++) data.fill(input.start + r, r * size, (r + 1) * size);
    return tableOfColumns([["data", tensorBatchColumn("data", { data, shape: [input.end - input.start, ...input.shape] })]]);
  }
  return new Table({ id: makeVector(int64Range(input.start, input.end)) });
}

/** Keeps each row with probability `fraction`: rows are filtered as rows, tables cut into the runs of kept rows (types kept). */
function sample(stage: SampleStage, data: Data, random: () => number): Data {
  if (data.rows) return { rows: data.rows.filter(() => random() < stage.fraction) };
  const table = data.table!;
  const runs: Table[] = [];
  let runStart = -1;
  for (let i = 0; i <= table.numRows; i++) {
    const keep = i < table.numRows && random() < stage.fraction;
    if (keep && runStart < 0) runStart = i;
    if (!keep && runStart >= 0) {
      runs.push(table.slice(runStart, i));
      runStart = -1;
    }
  }
  return { table: runs.length > 0 ? concatTables(runs) : table.slice(0, 0) };
}

/** mulberry32 seeded by (seed, block, stage): reproducible per block; unseeded: Math.random. */
function seededRandom(seed: number | null, blockIndex: number, position: number): () => number {
  if (seed === null) return Math.random;
  return mulberry32(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(blockIndex + 1, 0xc2b2ae35) ^ Math.imul(position + 1, 0x27d4eb2f));
}

/** A function UDF, loaded in the worker. (A class UDF's stage never runs in a task: fusion gives it an actor pool.) */
export async function loadFunctionUdf(stage: UdfStage): Promise<AnyUdf> {
  if (stage.fnConstructorArgs !== undefined) throw new Error(`internal: ${stage.name} is a class UDF, which runs on an actor pool, not in a task`);
  return (await ray.util.loadFunction(stage.fn)) as unknown as AnyUdf;
}

async function runStage(stage: UdfStage | ColumnsStage, data: Data, loadUdf: UdfLoader): Promise<Data> {
  const table = () => data.table ?? rowsToTable(data.rows!);
  if (isColumnsStage(stage)) return { table: applyColumnsStage(stage, table()) };
  const fn = await loadUdf(stage);
  const fnArgs = await resolveTopLevelRefs(stage.fnArgs);
  const rows = () => data.rows ?? tableToRows(data.table!);
  switch (stage.kind) {
    case "map": {
      const out: Row[] = [];
      for (const row of rows()) out.push(checkRow(stage, await fn(row, ...fnArgs)));
      return { rows: out };
    }
    case "filter": {
      const out: Row[] = [];
      for (const row of rows()) if (await fn(row, ...fnArgs)) out.push(row);
      // A block that keeps no row keeps its schema, if it had one.
      return out.length === 0 && data.table ? { table: data.table.slice(0, 0) } : { rows: out };
    }
    case "flatMap": {
      const out: Row[] = [];
      for (const row of rows()) {
        const many = await fn(row, ...fnArgs);
        if (!isIterable(many)) throw new TypeError(`${stage.name} returned ${describeValue(many)}; a flatMap UDF returns an iterable of rows`);
        for await (const one of many as AsyncIterable<unknown>) out.push(checkRow(stage, one));
      }
      return { rows: out };
    }
    case "mapBatches":
      return { table: await runBatches(stage, fn, fnArgs, data) };
    case "addColumn":
      return { table: await addColumn(stage, fn, fnArgs, table()) };
  }
}

/** addColumn: the UDF gets the block as a "numpy" batch and returns one value per row. */
async function addColumn(stage: UdfStage, fn: AnyUdf, fnArgs: unknown[], table: Table): Promise<Table> {
  const column = stage.column!;
  const values = await fn(formatBatch(stage, table), ...fnArgs);
  if (!(Array.isArray(values) || ArrayBuffer.isView(values) || isTensor(values))) {
    throw new TypeError(`${stage.name} returned ${describeValue(values)}; an addColumn UDF returns a column: a typed array or an array, one value per row`);
  }
  const [[, typed]] = columnsOf(columnBatchToTable({ [column]: values as Column })) as [[string, TypedColumn]];
  if (typed.vector.length !== table.numRows) {
    throw new RangeError(`${stage.name} returned ${typed.vector.length} values for a batch of ${table.numRows} rows; an addColumn UDF returns one value per row`);
  }
  return withColumn(table, column, typed);
}

async function runBatches(stage: UdfStage, fn: AnyUdf, fnArgs: unknown[], data: Data): Promise<Table> {
  const outputs: Table[] = [];
  const total = data.rows?.length ?? data.table!.numRows;
  const size = stage.batchSize ?? Math.max(total, 1);
  // A table is needed to slice and format batches, except for "rows" batches made from rows.
  const table = stage.batchFormat === "rows" && data.rows ? undefined : (data.table ?? rowsToTable(data.rows!));
  for (let start = 0; start < total; start += size) {
    const end = Math.min(start + size, total);
    const batch = table ? formatBatch(stage, table.slice(start, end)) : data.rows!.slice(start, end);
    const result = fn(batch, ...fnArgs);
    if (isGenerator(result)) {
      for await (const one of result) outputs.push(batchOutputToTable(one, stage.name));
    } else {
      outputs.push(batchOutputToTable(await result, stage.name));
    }
  }
  return concatTables(outputs);
}

function formatBatch(stage: UdfStage, table: Table): unknown {
  switch (stage.batchFormat) {
    case "arrow": return table;
    case "rows": return tableToRows(table);
    default: {
      const batch = tableToColumnBatch(table);
      // Numeric columns are views of the block's bytes, which may be the object store's shared
      // memory: a UDF that wants to write into its batch asks for copies.
      if (!stage.zeroCopyBatch) for (const [name, column] of Object.entries(batch)) if (ArrayBuffer.isView(column)) batch[name] = column.slice();
      return batch;
    }
  }
}

function checkRow(stage: UdfStage, value: unknown): Row {
  if (typeof value !== "object" || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw new TypeError(`${stage.name} returned ${describeValue(value)}; it must return a row, an object of columns ({ column: value })`);
  }
  return value as Row;
}

async function resolveTopLevelRefs(args: readonly unknown[]): Promise<unknown[]> {
  return Promise.all(args.map((arg) => (arg instanceof ray.ObjectRef ? ray.get(arg) : arg)));
}

function isIterable(value: unknown): value is Iterable<unknown> | AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && (Symbol.iterator in value || Symbol.asyncIterator in value);
}

function isGenerator(value: unknown): value is Generator<unknown> | AsyncGenerator<unknown> {
  return isIterable(value) && typeof (value as { next?: unknown }).next === "function" && !Array.isArray(value);
}
