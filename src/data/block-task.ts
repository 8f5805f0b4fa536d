/**
 * The task of a task operator: runs the fused stages over one input (stage-task.ts) and returns
 * the output as blocks of at most about `targetMaxBlockSize` bytes, in row order, with their
 * figures (rows, bytes), from which the executor counts rows and bytes without mapping the
 * blocks into its own process.
 *
 * Two returns: the first block, and a small object with the figures and the refs of any further
 * blocks (put here). Most outputs are one block, a plain return owned by the caller; the
 * further blocks of a split output travel as refs nested in the second return.
 *
 * Workers import this module by its URL (util.remoteExport), so it imports only what the task needs.
 */
import * as ray from "tsray";
import { blockBytes, decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "./block.js";
import { withContext, type DataContext } from "./context.js";
import type { StageSpec } from "./plan.js";
import { runStages, type TaskInput } from "./stage-task.js";

/** This module, whose runBlockTask workers import (util.remoteExport). */
export const blockTaskModule = import.meta.url;

/** A block's rows and bytes. */
export interface BlockFigures { readonly numRows: number; readonly bytes: number }

/** A task's second return: the figures of all its blocks, and the refs of the blocks after the first. */
export interface TaskOutput { readonly figures: readonly BlockFigures[]; readonly more: readonly BlockRef[] }

/** `context`: the dataset's copy, current while the stages run (a UDF reading DataContext sees it). */
export async function runBlockTask(input: TaskInput, stages: readonly StageSpec[], blockIndex: number, context: DataContext,
  ...bundledBlocks: StoredBlock[]): Promise<[StoredBlock, TaskOutput]> {
  return blockOutputs(await withContext(context, () => runStages(input, stages, blockIndex, ...bundledBlocks)), context);
}

/** An operator's output for one input (a task's or a pool actor's): the first block, then the figures and the further blocks, put. */
export function blockOutputs(block: StoredBlock, context: DataContext): [StoredBlock, TaskOutput] {
  const [first, ...rest] = splitBlock(block, context.targetMaxBlockSize);
  const figures = [first!, ...rest].map((piece) => ({ numRows: piece.numRows, bytes: blockBytes(piece) }));
  return [first!, { figures, more: rest.map((piece) => ray.put(piece) as BlockRef) }];
}

/** The block cut by rows into nearly equal pieces of at most about `maxBytes` each (one piece if it fits). */
function splitBlock(block: StoredBlock, maxBytes: number): StoredBlock[] {
  const pieces = Math.min(block.numRows, Math.ceil(blockBytes(block) / maxBytes));
  if (pieces <= 1) return [block];
  const table = decodeBlock(block);
  const out: StoredBlock[] = [];
  for (let i = 0; i < pieces; i++) {
    const start = Math.floor((i * table.numRows) / pieces);
    const end = Math.floor(((i + 1) * table.numRows) / pieces);
    out.push(encodeBlock(table.slice(start, end)));
  }
  return out;
}
