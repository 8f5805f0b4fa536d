/**
 * Dataset.writeCsv / writeJson / writeParquet / writeNumpy: runs the plan with a write stage
 * fused at its end (one file per block, written by the block's task; with minRowsPerFile the
 * write is an operator of its own whose tasks get small blocks bundled, and maxRowsPerFile
 * splits a block into several files) and gathers what the tasks wrote. The folder is created if
 * missing; `mode` says what to do when it already holds files, as Ray's SaveMode.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as ray from "tsray";
import { decodeBlock, type StoredBlock } from "../block.js";
import { executePlan } from "../executor.js";
import { tableToRows } from "../from-arrow.js";
import { withStep, type Plan } from "../plan.js";
import type { CsvWriteOptions } from "./format-file.js";
import type { WriteFormat, WriteStage } from "./write-block.js";

export interface WriteOptions {
  /** When the folder already holds files. Default "append" (Ray's SaveMode). */
  mode?: "append" | "overwrite" | "error" | "ignore";
  /** Coalesce or split blocks so that each file holds at least / at most this many rows (the last file may hold fewer). */
  minRowsPerFile?: number;
  maxRowsPerFile?: number;
  /** Write tasks at once. */
  concurrency?: number;
}
/** Files are named "<datasetId>_<index>.<ext>" in the folder, which is created if missing. */
export interface WriteResult { numRows: number; paths: string[] }

const MODES = ["append", "overwrite", "error", "ignore"];

/** What each writer takes beyond WriteOptions. */
const FORMAT_KEYS: Record<WriteFormat, string[]> = { csv: ["delimiter", "header"], json: [], parquet: ["partitionCols"], numpy: ["column"] };
const STAGE_NAMES: Record<WriteFormat, string> = { csv: "WriteCSV", json: "WriteJSON", parquet: "WriteParquet", numpy: "WriteNumpy" };

export type FormatWriteOptions = WriteOptions & { delimiter?: string; header?: boolean; partitionCols?: string[]; column?: string };

export async function writeDataset(plan: Plan, method: string, format: WriteFormat, path: string, opts: FormatWriteOptions): Promise<WriteResult> {
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${method}() options must be an object`);
  const known = ["mode", "minRowsPerFile", "maxRowsPerFile", "concurrency", ...FORMAT_KEYS[format]];
  for (const key of Object.keys(opts)) if (!known.includes(key)) throw new TypeError(`${method}() has no option '${key}'`);
  const { minRowsPerFile, maxRowsPerFile } = rowsPerFile(method, opts);
  const mode = opts.mode ?? "append";
  if (!MODES.includes(mode)) throw new TypeError(`${method}() option mode must be one of ${MODES.join(", ")}, got ${String(mode)}`);
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency > 0)) {
    throw new RangeError(`${method}() option concurrency must be a positive integer, got ${String(opts.concurrency)}`);
  }
  const delimiter = opts.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter.length !== 1 || delimiter === '"' || delimiter === "\n") {
    throw new TypeError(`${method}() option delimiter must be one character (not a quote or newline)`);
  }
  const partitionCols = opts.partitionCols ?? [];
  if (!Array.isArray(partitionCols) || !partitionCols.every((c) => typeof c === "string" && c !== "")) {
    throw new TypeError(`${method}() option partitionCols must be an array of column names`);
  }
  if (format === "numpy" && (typeof opts.column !== "string" || opts.column === "")) {
    throw new TypeError(`${method}() needs the option column: the numeric or tensor column to write`);
  }
  if (typeof path !== "string" || path === "") throw new TypeError(`${method}() takes a folder path`);
  const folder = path.startsWith("file:") ? fileURLToPath(path) : path;
  const existing = await visibleFiles(folder);
  if (existing.length > 0) {
    if (mode === "error") throw new Error(`${method}(): ${folder} already holds files (mode "error")`);
    if (mode === "ignore") return { numRows: 0, paths: [] };
    if (mode === "overwrite") await rm(folder, { recursive: true, force: true });
  }
  await mkdir(folder, { recursive: true });
  const csv: CsvWriteOptions = { delimiter, header: opts.header ?? true };
  const stage: WriteStage = {
    kind: "write", name: STAGE_NAMES[format], format, folder, datasetId: randomBytes(8).toString("hex"), csv, partitionCols,
    ...(opts.column !== undefined ? { column: opts.column } : {}), minRowsPerFile, maxRowsPerFile,
  };
  const writing = withStep(plan, { kind: "map", stage, taskOptions: {}, ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}) });
  const result: WriteResult = { numRows: 0, paths: [] };
  for await (const ref of executePlan(writing)) {
    const block: StoredBlock = await ray.get(ref);
    for (const row of tableToRows(decodeBlock(block))) {
      result.paths.push(row.path as string);
      result.numRows += row.numRows as number;
    }
  }
  return result;
}

function rowsPerFile(method: string, opts: WriteOptions): { minRowsPerFile: number | null; maxRowsPerFile: number | null } {
  for (const key of ["minRowsPerFile", "maxRowsPerFile"] as const) {
    const n = opts[key];
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new RangeError(`${method}() option ${key} must be a positive integer, got ${String(n)}`);
  }
  const min = opts.minRowsPerFile ?? null;
  const max = opts.maxRowsPerFile ?? null;
  if (min !== null && max !== null && min > max) {
    throw new RangeError(`${method}() option minRowsPerFile (${min}) is more than maxRowsPerFile (${max})`);
  }
  return { minRowsPerFile: min, maxRowsPerFile: max };
}

async function visibleFiles(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((name) => !name.startsWith(".") && !name.startsWith("_"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
