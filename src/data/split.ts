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

/** Row boundaries of n parts: as even as possible, or (equal) floor(total / n) rows each, the rest dropped. */
export function evenBoundaries(total: number, n: number, equal: boolean): number[] {
  if (equal) {
    const each = Math.floor(total / n);
    return Array.from({ length: n + 1 }, (_, i) => i * each);
  }
  return Array.from({ length: n + 1 }, (_, i) => Math.floor((i * total) / n));
}

/** Boundaries before each index (clamped to the rows), as numpy.split does. */
export function indexBoundaries(total: number, indices: readonly number[]): number[] {
  return [0, ...indices.map((i) => Math.min(i, total)), total];
}

/** Boundaries for these proportions of the rows (sum below 1); the last part takes the rest. */
export function proportionBoundaries(total: number, proportions: readonly number[]): number[] {
  let cumulative = 0;
  return [0, ...proportions.map((p) => Math.floor(total * (cumulative += p))), total];
}
