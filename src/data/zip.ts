/**
 * Dataset.zip: the rows of two datasets of equal row count, side by side. Both run as they
 * stream; each left block is zipped in a task with the rows of the right dataset that line up
 * with it (slices of one or more right blocks), so the output keeps the left blocks and the order
 * of both. Unequal row counts are an error naming both counts: at once when both are known
 * without running anything, else when one side runs out.
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import type { BlockRef } from "./block.js";
import { prefetched } from "./prefetch.js";
import { zipBlock, zipTaskModule, type RowRange } from "./zip-task.js";

const zipTask = ray.util.remoteExport(zipTaskModule, zipBlock);

/** Zip tasks submitted ahead of the consumer. */
const ZIPS_AHEAD = 4;

export function checkZipCounts(left: number | undefined, right: number | undefined): void {
  if (left !== undefined && right !== undefined && left !== right) throw mismatch(left, right);
}

export function zipBlocks(left: AsyncIterable<BlockRef>, right: AsyncIterable<BlockRef>): AsyncGenerator<BlockRef, void, undefined> {
  return prefetched(alignedZips(left, right), ZIPS_AHEAD);
}

interface Piece { ref: BlockRef; start: number; end: number }

async function* alignedZips(left: AsyncIterable<BlockRef>, right: AsyncIterable<BlockRef>): AsyncGenerator<BlockRef, void, undefined> {
  const rights = right[Symbol.asyncIterator]();
  const queue: Piece[] = [];
  let leftRows = 0;
  let rightRows = 0;
  let rightDone = false;
  const lefts = left[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await lefts.next();
      if (next.done) break;
      const rows = await numRows(next.value);
      leftRows += rows;
      if (rows === 0) continue;
      const ranges: RowRange[] = [];
      const refs: BlockRef[] = [];
      let need = rows;
      while (need > 0) {
        if (queue.length === 0) {
          const more = rightDone ? { done: true as const, value: undefined } : await rights.next();
          if (more.done) {
            rightDone = true;
            throw mismatch(leftRows + (await restRows(lefts)), rightRows);
          }
          const n = await numRows(more.value);
          rightRows += n;
          if (n > 0) queue.push({ ref: more.value, start: 0, end: n });
          continue;
        }
        const piece = queue[0]!;
        const take = Math.min(need, piece.end - piece.start);
        ranges.push({ start: piece.start, end: piece.start + take });
        refs.push(piece.ref);
        piece.start += take;
        need -= take;
        if (piece.start === piece.end) queue.shift();
      }
      // Right blocks as top-level arguments: each is resolved (zero-copy) for the task.
      yield zipTask.options({ name: "Zip" }).remote(next.value as never, ranges, ...(refs as never[])) as unknown as BlockRef;
    }
    // Right rows left over (queued ones are counted in rightRows already): more rows on the right.
    const rest = rightDone ? 0 : await restRows(rights);
    if (queue.length > 0 || rest > 0) throw mismatch(leftRows, rightRows + rest);
  } finally {
    await lefts.return?.();
    await rights.return?.();
  }
}

async function numRows(ref: BlockRef): Promise<number> {
  return ((await ray.get(ref)) as Table).numRows;
}

/** The rows of the rest of a stream (to name the count in an error). */
async function restRows(stream: AsyncIterator<BlockRef>): Promise<number> {
  let rows = 0;
  for (let next = await stream.next(); !next.done; next = await stream.next()) rows += await numRows(next.value);
  return rows;
}

function mismatch(left: number, right: number): RangeError {
  return new RangeError(`zip() takes a dataset of the same row count: this one has ${left} rows, the other ${right}`);
}
