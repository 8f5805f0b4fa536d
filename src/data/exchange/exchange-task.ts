/**
 * The task bodies of the all-to-all steps that run on the cluster (randomShuffle, shuffling
 * repartition, sort): a map task per input block splits it into partitions, and a reduce task per
 * partition merges that partition's pieces from every block. The consuming process only picks the
 * partitioning (a seed, or sort boundaries from sampled keys) and wires the refs.
 *
 * Workers import this module by its URL (util.remoteExport), so it imports only what the tasks need.
 */
import { decodeBlock, encodeBlock, type StoredBlock } from "../block.js";
import { blockOutputs, type TaskOutput } from "../block-task.js";
import type { DataContext } from "../context.js";
import { shuffled } from "../seeded-shuffle.js";
import type { Row } from "../types.js";
import { fromRecipe } from "../agg.js";
import type { AggRecipe } from "../agg-recipe.js";
import { aggregateTable } from "./group-rows.js";
import { keyRows, rowComparator } from "./key-order.js";
import { takeRows } from "../take-rows.js";
import { concatTables } from "../concat-tables.js";

/** This module, whose functions workers import to run the exchange tasks. */
export const exchangeTaskModule = import.meta.url;

/** How a map task splits its block: at random (seeded per block), or by key ranges between sorted boundaries. */
export type PartitionSpec =
  | { readonly kind: "random"; readonly parts: number; readonly seed: number }
  | { readonly kind: "range"; readonly keys: readonly string[]; readonly descending: readonly boolean[]; readonly boundaries: readonly Row[] };

/** How a reduce task merges its pieces (given in input block order): shuffled (seeded per partition) or stably sorted. */
export type MergeSpec =
  | { readonly kind: "shuffle"; readonly seed: number }
  | { readonly kind: "sort"; readonly keys: readonly string[]; readonly descending: readonly boolean[] }
  /** groupby's built-in aggregations, as recipes: one output row per group of the partition. */
  | { readonly kind: "aggregate"; readonly keys: readonly string[]; readonly aggs: readonly AggRecipe[] };

/** Up to `count` rows of the key columns, spread evenly over the block: what sort's boundaries are picked from. */
export function sampleKeys(block: StoredBlock, keys: readonly string[], count: number): Row[] {
  const table = decodeBlock(block);
  if (table.numRows === 0) return [];
  const rows = keyRows(table, keys);
  const step = Math.max(1, rows.length / count);
  const out: Row[] = [];
  for (let at = step / 2; at < rows.length; at += step) out.push(rows[Math.floor(at)]!);
  return out;
}

/** The block's rows split into partitions (one returned object each), each piece keeping the rows' block order and column types. */
export function partitionBlock(block: StoredBlock, spec: PartitionSpec, blockIndex: number): StoredBlock[] {
  const table = decodeBlock(block);
  const parts = spec.kind === "random" ? spec.parts : spec.boundaries.length + 1;
  const pieces: number[][] = Array.from({ length: parts }, () => []);
  if (spec.kind === "random") {
    // A seeded shuffle of the row indices, dealt round-robin: pieces of nearly equal size, the same for the same seed and block.
    const order = shuffled(Array.from({ length: table.numRows }, (_, i) => i), mixSeed(spec.seed, blockIndex));
    order.forEach((row, i) => pieces[i % parts]!.push(row));
  } else {
    const compare = rowComparator(spec.keys, spec.descending);
    keyRows(table, spec.keys).forEach((keys, row) => pieces[upperBound(spec.boundaries, keys, compare)]!.push(row));
  }
  return pieces.map((piece) => encodeBlock(takeRows(table, piece)));
}

/** One partition: its pieces from every block, merged; returned as a block task's output is (block-task.ts). */
export async function mergePartition(spec: MergeSpec, partIndex: number, context: DataContext, ...pieces: StoredBlock[]): Promise<[StoredBlock, TaskOutput]> {
  return blockOutputs(await merged(spec, partIndex, pieces), context);
}

async function merged(spec: MergeSpec, partIndex: number, pieces: readonly StoredBlock[]): Promise<StoredBlock> {
  // A piece whose column is all null may be typed Null: unified with the others' type first.
  const merged = concatTables(pieces.map(decodeBlock));
  if (spec.kind === "aggregate") return encodeBlock(aggregateTable(merged, spec.keys, await Promise.all(spec.aggs.map(fromRecipe))));
  if (merged.numRows === 0) return encodeBlock(merged);
  const rows = Array.from({ length: merged.numRows }, (_, i) => i);
  if (spec.kind === "shuffle") return encodeBlock(takeRows(merged, shuffled(rows, mixSeed(spec.seed, partIndex))));
  // Array.prototype.sort is stable: equal keys keep their input order, so the output is deterministic.
  const keys = keyRows(merged, spec.keys);
  const compare = rowComparator(spec.keys, spec.descending);
  return encodeBlock(takeRows(merged, rows.sort((a, b) => compare(keys[a]!, keys[b]!))));
}

/** The index of the first boundary greater than the row: rows equal to a boundary go after it, all to one partition. */
function upperBound(boundaries: readonly Row[], row: Row, compare: (a: Row, b: Row) => number): number {
  let lo = 0;
  let hi = boundaries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(boundaries[mid]!, row) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A seed of its own for each block or partition, derived from the step's seed. */
function mixSeed(seed: number, index: number): number {
  return (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(index + 1, 0xc2b2ae35)) >>> 0;
}
