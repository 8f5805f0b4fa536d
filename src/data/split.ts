/**
 * Splitting materialized blocks by row ranges (split, splitAtIndices, splitProportionately,
 * trainTestSplit): a block wholly inside a range is shared as it is; a block a boundary cuts is
 * sliced into a new block. Pure arithmetic first (boundaries), then the slicing.
 */
import * as ray from "tsray";
import { decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "./block.js";

export interface Blocks { refs: readonly BlockRef[]; numRows: readonly number[] }

/** The blocks holding rows [start, end) of `blocks`. */
export async function rowRange(blocks: Blocks, start: number, end: number): Promise<Blocks> {
  const refs: BlockRef[] = [];
  const numRows: number[] = [];
  let offset = 0;
  for (let i = 0; i < blocks.refs.length; i++) {
    const rows = blocks.numRows[i]!;
    const from = Math.max(start, offset) - offset;
    const to = Math.min(end, offset + rows) - offset;
    offset += rows;
    if (to <= from) continue;
    if (from === 0 && to === rows) {
      refs.push(blocks.refs[i]!);
    } else {
      const block: StoredBlock = await ray.get(blocks.refs[i]!);
      refs.push(ray.put(encodeBlock(decodeBlock(block).slice(from, to))) as BlockRef);
    }
    numRows.push(to - from);
  }
  return { refs, numRows };
}

/** The parts of `blocks` between consecutive boundaries, given the total row count. */
export async function splitBlocks(blocks: Blocks, boundaries: (total: number) => number[]): Promise<Blocks[]> {
  const cuts = boundaries(blocks.numRows.reduce((a, b) => a + b, 0));
  const parts: Blocks[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) parts.push(await rowRange(blocks, cuts[i]!, cuts[i + 1]!));
  return parts;
}

// Boundaries: each checks its arguments at once and returns a function of the total row count.

/** n parts: as even as possible, or (equal) floor(total / n) rows each, the rest dropped. */
export function splitBoundaries(n: number, equal: boolean): (total: number) => number[] {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`split() takes a positive integer, got ${String(n)}`);
  return (total) => Array.from({ length: n + 1 }, (_, i) => (equal ? i * Math.floor(total / n) : Math.floor((i * total) / n)));
}

/** Before each index (clamped to the rows), as numpy.split does. */
export function indexBoundaries(indices: readonly number[]): (total: number) => number[] {
  if (!Array.isArray(indices) || !indices.every((i, k) => Number.isInteger(i) && i >= 0 && (k === 0 || i >= indices[k - 1]!))) {
    throw new RangeError("splitAtIndices() takes sorted non-negative integer indices");
  }
  return (total) => [0, ...indices.map((i) => Math.min(i, total)), total];
}

/** These proportions of the rows (sum below 1); the last part takes the rest. */
export function proportionBoundaries(proportions: readonly number[]): (total: number) => number[] {
  const sum = proportions.reduce((a, b) => a + b, 0);
  if (proportions.length === 0 || !proportions.every((p) => p > 0) || !(sum < 1)) {
    throw new RangeError(`splitProportionately() takes positive proportions that sum to less than 1, got [${proportions.join(", ")}]`);
  }
  return (total) => {
    let cumulative = 0;
    return [0, ...proportions.map((p) => Math.floor(total * (cumulative += p))), total];
  };
}

/** Train, then test: testSize a fraction in (0, 1) (Ray's split_proportionately([1 - testSize])) or a row count. */
export function trainTestBoundaries(testSize: number): (total: number) => number[] {
  if (!(testSize > 0) || (testSize >= 1 && !Number.isInteger(testSize))) {
    throw new RangeError(`trainTestSplit() takes a fraction in (0, 1) or a positive row count, got ${String(testSize)}`);
  }
  return (total) => {
    const test = testSize < 1 ? total - Math.floor(total * (1 - testSize)) : testSize;
    if (test > total) throw new RangeError(`trainTestSplit(): testSize ${testSize} is more than the ${total} rows`);
    return [0, total - test, total];
  };
}
