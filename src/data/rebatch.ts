/**
 * Re-cuts a stream of blocks into batches of exactly `batchSize` rows (across block
 * boundaries; the last may be smaller, or dropped with dropLast), or one batch per block when
 * batchSize is null.
 */
import type { Table } from "apache-arrow";
import { concatTables } from "./block.js";

export async function* rebatchTables(blocks: AsyncIterable<Table>, batchSize: number | null, dropLast: boolean): AsyncGenerator<Table> {
  if (batchSize === null) {
    for await (const block of blocks) if (block.numRows > 0) yield block;
    return;
  }
  let pending: Table[] = [];
  let pendingRows = 0;
  for await (const block of blocks) {
    let offset = 0;
    while (offset < block.numRows) {
      const take = Math.min(batchSize - pendingRows, block.numRows - offset);
      pending.push(block.slice(offset, offset + take));
      pendingRows += take;
      offset += take;
      if (pendingRows === batchSize) {
        yield concatTables(pending);
        pending = [];
        pendingRows = 0;
      }
    }
  }
  if (pendingRows > 0 && !dropLast) yield concatTables(pending);
}
