/** Checks of the arguments of Dataset methods, each error naming the method and option. */
import type { BatchFormat, IterBatchesOptions } from "./types.js";

export function checkColumnList(method: string, cols: readonly string[]): string[] {
  if (!Array.isArray(cols) || !cols.every((c) => typeof c === "string")) throw new TypeError(`${method}() takes an array of column names`);
  return [...cols];
}

export interface BatchPlan {
  batchSize: number | null;
  batchFormat: BatchFormat;
  dropLast: boolean;
  prefetchBatches: number;
  /** Rows the local shuffle buffer holds at least; undefined: no local shuffle. */
  localShuffleBufferSize?: number;
  /** The local shuffle's seed; null: a fresh order each pass. */
  localShuffleSeed: number | null;
}

export function checkIterBatchesOptions<F extends BatchFormat>(opts: IterBatchesOptions<F>, method = "iterBatches"): BatchPlan {
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${method}() takes an options object`);
  const known = ["batchSize", "batchFormat", "dropLast", "prefetchBatches", "localShuffleBufferSize", "localShuffleSeed"];
  for (const key of Object.keys(opts)) if (!known.includes(key)) throw new TypeError(`${method}() has no option '${key}'`);
  const batchSize = opts.batchSize === undefined ? 256 : opts.batchSize;
  if (batchSize !== null && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`${method}() option batchSize must be a positive integer or null, got ${String(batchSize)}`);
  }
  const batchFormat = opts.batchFormat ?? "default";
  if (!["default", "numpy", "rows", "arrow"].includes(batchFormat)) throw new TypeError(`${method}() option batchFormat: unknown format ${String(batchFormat)}`);
  const prefetchBatches = opts.prefetchBatches ?? 1;
  if (!(Number.isInteger(prefetchBatches) && prefetchBatches >= 0)) {
    throw new RangeError(`${method}() option prefetchBatches must be a non-negative integer, got ${String(prefetchBatches)}`);
  }
  const { localShuffleBufferSize, localShuffleSeed } = opts;
  if (localShuffleBufferSize !== undefined && !(Number.isInteger(localShuffleBufferSize) && localShuffleBufferSize > 0)) {
    throw new RangeError(`${method}() option localShuffleBufferSize must be a positive integer, got ${String(localShuffleBufferSize)}`);
  }
  if (localShuffleSeed !== undefined) {
    if (!Number.isInteger(localShuffleSeed)) throw new TypeError(`${method}() option localShuffleSeed must be an integer, got ${String(localShuffleSeed)}`);
    if (localShuffleBufferSize === undefined) throw new TypeError(`${method}() option localShuffleSeed needs localShuffleBufferSize (the local shuffle it seeds)`);
  }
  return {
    batchSize, batchFormat, dropLast: opts.dropLast ?? false, prefetchBatches,
    ...(localShuffleBufferSize !== undefined ? { localShuffleBufferSize } : {}), localShuffleSeed: localShuffleSeed ?? null,
  };
}
