/**
 * Rows and bytes of the blocks an execution made, as their tasks reported them (block-task.ts),
 * so that counting rows (count(), limit, batch bundling) need not fetch the blocks.
 */
import * as ray from "tsray";
import type { BlockRef, StoredBlock } from "./block.js";
import type { BlockFigures } from "./block-task.js";

const figures = new WeakMap<BlockRef, BlockFigures>();

export function noteFigures(ref: BlockRef, f: BlockFigures): void {
  figures.set(ref, f);
}

/** The block's rows: as its task reported them, else read from the block. */
export async function numRowsOf(ref: BlockRef): Promise<number> {
  const known = figures.get(ref);
  if (known) return known.numRows;
  const block: StoredBlock = await ray.get(ref);
  return block.numRows;
}
