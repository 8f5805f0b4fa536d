/** Checks of the arguments of Dataset methods, each error naming the method and option. */
import type { BatchFormat, IterBatchesOptions } from "./types.js";

export function checkColumnList(method: string, cols: readonly string[]): string[] {
  if (!Array.isArray(cols) || !cols.every((c) => typeof c === "string")) throw new TypeError(`${method}() takes an array of column names`);
  return [...cols];
}

export function checkIterBatchesOptions<F extends BatchFormat>(opts: IterBatchesOptions<F>): { batchSize: number | null; batchFormat: BatchFormat; dropLast: boolean } {
  const known = ["batchSize", "batchFormat", "dropLast", "prefetchBatches", "localShuffleBufferSize", "localShuffleSeed"];
  for (const key of Object.keys(opts)) if (!known.includes(key)) throw new TypeError(`iterBatches() has no option '${key}'`);
  if (opts.localShuffleBufferSize !== undefined || opts.localShuffleSeed !== undefined) {
    throw new TypeError("iterBatches(): local shuffling (localShuffleBufferSize, localShuffleSeed) is not supported yet");
  }
  const batchSize = opts.batchSize === undefined ? 256 : opts.batchSize;
  if (batchSize !== null && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`iterBatches() option batchSize must be a positive integer or null, got ${String(batchSize)}`);
  }
  const batchFormat = opts.batchFormat ?? "default";
  if (!["default", "numpy", "rows", "arrow"].includes(batchFormat)) throw new TypeError(`iterBatches() option batchFormat: unknown format ${String(batchFormat)}`);
  return { batchSize, batchFormat, dropLast: opts.dropLast ?? false };
}
