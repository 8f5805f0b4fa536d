/**
 * The local shuffle of iterBatches (localShuffleBufferSize, localShuffleSeed), as Ray's: rows go
 * through a buffer of at least `bufferSize` rows, and what leaves it is drawn at random from all
 * the buffered rows; at the end the buffer is shuffled out whole. Every row leaves exactly once;
 * the same seed and input blocks give the same order. It shuffles within the reach of the buffer
 * only (a global order needs randomShuffle), and costs no all-to-all step.
 */
import type { Table } from "apache-arrow";
import { concatTables } from "./block.js";
import { mulberry32, randomSeed } from "./seeded-shuffle.js";
import { takeRows } from "./take-rows.js";

export async function* locallyShuffled(blocks: AsyncIterable<Table>, bufferSize: number, seed: number | null): AsyncGenerator<Table> {
  const random = mulberry32(seed ?? randomSeed());
  let buffer: Table[] = [];
  let buffered = 0;
  for await (const block of blocks) {
    if (block.numRows === 0) continue;
    buffer.push(block);
    buffered += block.numRows;
    if (buffered <= bufferSize) continue;
    // Shuffle everything buffered; what is beyond bufferSize leaves, the rest stays for the next blocks to mix with.
    const shuffled = shuffleTable(concatTables(buffer), random);
    yield shuffled.slice(0, buffered - bufferSize);
    buffer = [shuffled.slice(buffered - bufferSize)];
    buffered = bufferSize;
  }
  if (buffered > 0) yield shuffleTable(concatTables(buffer), random);
}

/** The table's rows in a random order (Fisher-Yates over the row indices). */
function shuffleTable(table: Table, random: () => number): Table {
  const order = new Uint32Array(table.numRows);
  for (let i = 0; i < order.length; i++) order[i] = i;
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return takeRows(table, order);
}
