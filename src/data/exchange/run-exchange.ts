/**
 * Runs an all-to-all step over its whole input (the block refs of the plan before it) and returns
 * its output blocks, in order. Rows move between blocks as JS rows (from-arrow / to-arrow), except
 * for a repartition without shuffle, which slices the Arrow data as it is.
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import { concatTables, decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "../block.js";
import { tableToRows } from "../from-arrow.js";
import { randomSeed, shuffled } from "../seeded-shuffle.js";
import { rowsToTable } from "../to-arrow.js";
import type { Row } from "../types.js";
import { evenSlices } from "./even-slices.js";
import type { Exchange } from "./exchange.js";
import { aggregateGroups, groupRows } from "./group-rows.js";
import { checkKeyColumns, rowComparator } from "./key-order.js";

export async function runExchange(exchange: Exchange, inputs: readonly BlockRef[]): Promise<BlockRef[]> {
  const tables = await Promise.all(inputs.map(async (ref) => decodeBlock((await ray.get(ref)) as StoredBlock)));
  const whole = concatTables(tables);
  const inputBlocks = Math.max(1, inputs.length);
  return outputTables(exchange, whole, inputBlocks).map((t) => ray.put(encodeBlock(t)) as BlockRef);
}

function outputTables(exchange: Exchange, whole: Table, inputBlocks: number): Table[] {
  switch (exchange.kind) {
    case "randomShuffle":
      return rowBlocks(shuffled(tableToRows(whole), exchange.seed ?? randomSeed()), exchange.numBlocks ?? inputBlocks, whole);
    case "repartition":
      if (exchange.shuffle) return rowBlocks(shuffled(tableToRows(whole), randomSeed()), exchange.numBlocks, whole);
      return evenSlices(whole.numRows, exchange.numBlocks).map(([start, end]) => whole.slice(start, end));
    case "sort":
      checkKeyColumns("sort", whole, exchange.keys);
      // Array.prototype.sort is stable, so equal keys keep their input order: the same input, the same output.
      return rowBlocks(tableToRows(whole).sort(rowComparator(exchange.keys, exchange.descending)), inputBlocks, whole);
    case "aggregate": {
      checkKeyColumns("groupby", whole, exchange.keys);
      const rows = aggregateGroups(whole, exchange.keys, exchange.aggs);
      return rowBlocks(rows, Math.min(exchange.numPartitions ?? inputBlocks, Math.max(1, rows.length)), undefined);
    }
    case "groupBlocks":
      checkKeyColumns("groupby", whole, exchange.keys);
      return groupRows(whole, exchange.keys).map((group) => rowsToTable(group));
  }
}

/**
 * Rows in `parts` nearly equal blocks. An empty result keeps the input's schema (`like`) so its
 * columns are still known downstream.
 */
function rowBlocks(rows: readonly Row[], parts: number, like: Table | undefined): Table[] {
  if (rows.length === 0) return [like ? like.slice(0, 0) : rowsToTable([])];
  return evenSlices(rows.length, parts).map(([start, end]) => rowsToTable(rows.slice(start, end)));
}
