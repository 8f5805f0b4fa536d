/**
 * Dataset.writeCsv / writeJson: runs the plan with a write stage fused at its end (one file per
 * block, written by the block's task) and gathers what the tasks wrote. The folder is created if
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

export interface WriteOptions {
  /** When the folder already holds files. Default "append" (Ray's SaveMode). */
  mode?: "append" | "overwrite" | "error" | "ignore";
  minRowsPerFile?: number;
  maxRowsPerFile?: number;
  /** Write tasks at once. */
  concurrency?: number;
}
/** Files are named "<datasetId>_<index>.<ext>" in the folder, which is created if missing. */
export interface WriteResult { numRows: number; paths: string[] }

const MODES = ["append", "overwrite", "error", "ignore"];

export async function writeDataset(plan: Plan, method: string, format: "csv" | "json", path: string, opts: WriteOptions & { delimiter?: string; header?: boolean }): Promise<WriteResult> {
  const known = ["mode", "minRowsPerFile", "maxRowsPerFile", "concurrency", ...(format === "csv" ? ["delimiter", "header"] : [])];
  for (const key of Object.keys(opts)) if (!known.includes(key)) throw new TypeError(`${method}() has no option '${key}'`);
  if (opts.minRowsPerFile !== undefined || opts.maxRowsPerFile !== undefined) {
    throw new TypeError(`${method}(): minRowsPerFile and maxRowsPerFile are not supported yet (a file per block)`);
  }
  const mode = opts.mode ?? "append";
  if (!MODES.includes(mode)) throw new TypeError(`${method}() option mode must be one of ${MODES.join(", ")}, got ${String(mode)}`);
  if (opts.concurrency !== undefined && !(Number.isInteger(opts.concurrency) && opts.concurrency > 0)) {
    throw new RangeError(`${method}() option concurrency must be a positive integer, got ${String(opts.concurrency)}`);
  }
  const delimiter = opts.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter.length !== 1 || delimiter === '"' || delimiter === "\n") {
    throw new TypeError(`${method}() option delimiter must be one character (not a quote or newline)`);
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
  const stage = { kind: "write" as const, name: `Write${format === "csv" ? "CSV" : "JSON"}`, format, folder, datasetId: randomBytes(8).toString("hex"), csv };
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

async function visibleFiles(folder: string): Promise<string[]> {
  try {
    return (await readdir(folder)).filter((name) => !name.startsWith(".") && !name.startsWith("_"));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
