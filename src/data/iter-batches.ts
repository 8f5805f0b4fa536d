/**
 * iterBatches over a stream of blocks, for Dataset and DataIterator alike: the local shuffle
 * (if asked), re-cut into batches of batchSize rows (rebatch.ts), formatted, and prepared
 * `prefetchBatches` ahead of the consumer.
 */
import type { Table } from "apache-arrow";
import type { BatchPlan } from "./consume-options.js";
import { tableToColumnBatch, tableToRows } from "./from-arrow.js";
import { locallyShuffled } from "./local-shuffle.js";
import { prefetched } from "./prefetch.js";
import { rebatchTables } from "./rebatch.js";

export function batchesOf(blocks: AsyncIterable<Table>, plan: BatchPlan): AsyncGenerator<unknown, void, undefined> {
  const input = plan.localShuffleBufferSize === undefined ? blocks : locallyShuffled(blocks, plan.localShuffleBufferSize, plan.localShuffleSeed);
  return prefetched(formatted(rebatchTables(input, plan.batchSize, plan.dropLast), plan), plan.prefetchBatches);
}

async function* formatted(tables: AsyncIterable<Table>, plan: BatchPlan): AsyncGenerator<unknown, void, undefined> {
  for await (const table of tables) {
    yield plan.batchFormat === "arrow" ? table : plan.batchFormat === "rows" ? tableToRows(table) : tableToColumnBatch(table);
  }
}
