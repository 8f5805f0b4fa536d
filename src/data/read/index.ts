/**
 * The file readers: readCsv, readJson, readText, readBinaryFiles, readParquet, readNumpy,
 * readImages. Each checks its options and
 * returns a lazy Dataset; the files are listed and read (one read task per file, or per group of
 * files with overrideNumBlocks) when it is consumed.
 */
import type { TaskOptions } from "tsray";
import { Dataset } from "../dataset.js";
import type { FilesSource } from "../plan.js";
import type { Row, Tensor } from "../types.js";
import type { ImageMode } from "./read-image.js";
import type { FileFormat, FilesInput } from "./read-file.js";

type Paths = string | readonly string[];

/** Options of every file read (the contract's ReadOptions). */
export interface ReadOptions {
  numCpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  /** Fewer than the files: files grouped into that many read tasks (a file is never split yet). */
  overrideNumBlocks?: number;
  /** Read tasks at once. */
  concurrency?: number;
  /** Adds a "path" column: each row's file. */
  includePaths?: boolean;
  /** Only files with these extensions. Default per format: ["json", "jsonl"] for JSON, ["parquet"], ["npy"],
   *  ["png", "jpg", "jpeg"] for images, none for CSV, text and binary. */
  fileExtensions?: string[];
  /** Skip missing paths instead of rejecting. */
  ignoreMissingPaths?: boolean;
  /** Read the files in random order. */
  shuffle?: "files" | { type: "files"; seed: number };
  /** "hive": folders named key=value add columns (default for CSV, JSON and Parquet); null: none (default for text,
   *  binary, .npy and images). */
  partitioning?: "hive" | null;
}

const READ_KEYS = ["numCpus", "memory", "resources", "overrideNumBlocks", "concurrency", "includePaths", "fileExtensions",
  "ignoreMissingPaths", "shuffle", "partitioning"];

/** Types inferred per column: all integers Int64, numbers Float64, true/false Bool, else Utf8. */
export function readCsv<R extends object = Row>(paths: Paths,
  opts: ReadOptions & { delimiter?: string; header?: boolean; columnNames?: string[]; nullValues?: string[] } = {}): Dataset<R> {
  const extra = ["delimiter", "header", "columnNames", "nullValues"];
  const delimiter = opts.delimiter ?? ",";
  if (typeof delimiter !== "string" || delimiter.length !== 1 || delimiter === '"' || delimiter === "\n") {
    throw new TypeError(`readCsv() option delimiter must be one character (not a quote or newline), got ${JSON.stringify(delimiter)}`);
  }
  if (opts.columnNames !== undefined && !(Array.isArray(opts.columnNames) && opts.columnNames.every((n) => typeof n === "string"))) {
    throw new TypeError("readCsv() option columnNames must be an array of strings");
  }
  const csv = { delimiter, header: opts.header ?? true, columnNames: opts.columnNames ?? null, nullValues: opts.nullValues ?? [] };
  return filesDataset("readCsv", "csv", paths, opts, extra, null, "hive", { csv });
}

/** JSON Lines (".jsonl" or lines: true), else files holding an array of objects or one object. */
export function readJson<R extends object = Row>(paths: Paths, opts: ReadOptions & { lines?: boolean } = {}): Dataset<R> {
  return filesDataset("readJson", "json", paths, opts, ["lines"], ["json", "jsonl"], "hive", { json: { lines: opts.lines ?? null } });
}

/** A row { text } per line; empty lines dropped unless dropEmptyLines is false. */
export function readText(paths: Paths, opts: ReadOptions & { encoding?: string; dropEmptyLines?: boolean } = {}):
  Dataset<{ text: string; path?: string }> {
  const encoding = opts.encoding ?? "utf-8";
  try {
    new TextDecoder(encoding);
  } catch {
    throw new RangeError(`readText() option encoding: unknown encoding ${JSON.stringify(encoding)}`);
  }
  const text = { encoding, dropEmptyLines: opts.dropEmptyLines ?? true };
  return filesDataset("readText", "text", paths, opts, ["encoding", "dropEmptyLines"], null, null, { text });
}

/** A row { bytes } per file. */
export function readBinaryFiles(paths: Paths, opts: ReadOptions = {}): Dataset<{ bytes: Uint8Array; path?: string }> {
  return filesDataset("readBinaryFiles", "binary", paths, opts, [], null, null, {});
}

/** Decodes only `columns` (an unknown one rejects the consumption naming it); count() and schema() read footers only. */
export function readParquet<R extends object = Row>(paths: Paths, opts: ReadOptions & { columns?: string[] } = {}): Dataset<R> {
  const columns = opts.columns;
  if (columns !== undefined && !(Array.isArray(columns) && columns.length > 0 && columns.every((c) => typeof c === "string" && c !== ""))) {
    throw new TypeError("readParquet() option columns must be a non-empty array of column names");
  }
  return filesDataset("readParquet", "parquet", paths, opts, ["columns"], ["parquet"], "hive", { parquet: { columns: columns ? [...columns] : null } });
}

/** .npy files: rows { data } along each array's first axis (numbers for 1-D arrays, Tensors for n-D). */
export function readNumpy(paths: Paths, opts: ReadOptions = {}): Dataset<{ data: number | Tensor; path?: string }> {
  return filesDataset("readNumpy", "numpy", paths, opts, [], ["npy"], null, {});
}

/** PNG and JPEG: a row { image } per file, an HxWxC Uint8 Tensor, resized to `size` and converted to `mode` if given. */
export function readImages(paths: Paths, opts: ReadOptions & { size?: readonly [height: number, width: number]; mode?: ImageMode } = {}):
  Dataset<{ image: Tensor<Uint8Array>; path?: string }> {
  const { size, mode } = opts;
  if (size !== undefined && !(Array.isArray(size) && size.length === 2 && size.every((d) => Number.isInteger(d) && d > 0))) {
    throw new TypeError(`readImages() option size must be [height, width] of positive integers, got ${JSON.stringify(size)}`);
  }
  if (mode !== undefined && !["L", "RGB", "RGBA"].includes(mode)) {
    throw new TypeError(`readImages() option mode must be "L", "RGB" or "RGBA", got ${JSON.stringify(mode)}`);
  }
  const images = { size: size ? [size[0], size[1]] as const : null, mode: mode ?? null };
  return filesDataset("readImages", "images", paths, opts, ["size", "mode"], ["png", "jpg", "jpeg"], null, { images });
}

function filesDataset<R extends object>(method: string, format: FileFormat, paths: Paths, opts: ReadOptions, extraKeys: string[],
  defaultExtensions: string[] | null, defaultPartitioning: "hive" | null, formatOptions: Partial<FilesInput>): Dataset<R> {
  const list = typeof paths === "string" ? [paths] : paths;
  if (!Array.isArray(list) || list.length === 0 || !list.every((p) => typeof p === "string" && p !== "")) {
    throw new TypeError(`${method}() takes a path or a non-empty array of paths`);
  }
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${method}() options must be an object`);
  for (const key of Object.keys(opts)) if (![...READ_KEYS, ...extraKeys].includes(key)) throw new TypeError(`${method}() has no option '${key}'`);
  for (const key of ["overrideNumBlocks", "concurrency"] as const) {
    const n = opts[key];
    if (n !== undefined && !(Number.isInteger(n) && n > 0)) throw new RangeError(`${method}() option ${key} must be a positive integer, got ${String(n)}`);
  }
  const partitioning = opts.partitioning === undefined ? defaultPartitioning : opts.partitioning;
  if (partitioning !== null && partitioning !== "hive") throw new TypeError(`${method}() option partitioning must be "hive" or null`);
  const shuffle = opts.shuffle;
  if (shuffle !== undefined && shuffle !== "files" && !(typeof shuffle === "object" && shuffle?.type === "files" && Number.isInteger(shuffle.seed))) {
    throw new TypeError(`${method}() option shuffle must be "files" or { type: "files", seed: <integer> }`);
  }
  const taskOptions: TaskOptions = {};
  if (opts.numCpus !== undefined) taskOptions.numCpus = opts.numCpus;
  if (opts.memory !== undefined) taskOptions.memory = opts.memory;
  if (opts.resources !== undefined) taskOptions.resources = opts.resources;
  const source: FilesSource = {
    kind: "files",
    format,
    paths: [...list],
    list: { fileExtensions: opts.fileExtensions ?? defaultExtensions, ignoreMissingPaths: opts.ignoreMissingPaths ?? false, hive: partitioning === "hive" },
    input: { kind: "files", format, files: [], includePaths: opts.includePaths ?? false, ...formatOptions },
    taskOptions,
    ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}),
    ...(opts.overrideNumBlocks !== undefined ? { overrideNumBlocks: opts.overrideNumBlocks } : {}),
    ...(shuffle !== undefined ? { shuffleSeed: shuffle === "files" ? null : shuffle.seed } : {}),
  };
  return Dataset.fromPlan<R>({ source, steps: [] });
}
