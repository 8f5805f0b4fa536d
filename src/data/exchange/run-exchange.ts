/**
 * Runs an all-to-all step over its whole input (the block refs of the plan before it) and returns
 * its output blocks, in order.
 *
 * randomShuffle, a shuffling repartition and sort run on the cluster as map and reduce tasks
 * (exchange-task.ts); only sort's sampled keys come back to this process. groupby runs here, on the
 * whole input: its aggregations are closures that do not travel to workers (mapGroups' UDF then
 * runs in tasks, one group per block). A repartition without shuffle slices the Arrow data as it is.
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import { concatTables, decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "../block.js";
import { randomSeed } from "../seeded-shuffle.js";
import { rowsToTable } from "../to-arrow.js";
import type { Row } from "../types.js";
import { evenSlices } from "./even-slices.js";
import type { Exchange, SortExchange } from "./exchange.js";
import { exchangeTaskModule, mergePartition, partitionBlock, sampleKeys, type MergeSpec, type PartitionSpec } from "./exchange-task.js";
import { aggregateGroups, groupRows } from "./group-rows.js";
import { checkKeyColumns, rowComparator } from "./key-order.js";

const partitionTask = ray.util.remoteExport(exchangeTaskModule, partitionBlock);
const mergeTask = ray.util.remoteExport(exchangeTaskModule, mergePartition);
const sampleTask = ray.util.remoteExport(exchangeTaskModule, sampleKeys);

/** Sampled keys per input block from which sort picks its partition boundaries. */
const SAMPLES_PER_BLOCK = 32;

export async function runExchange(exchange: Exchange, inputs: readonly BlockRef[]): Promise<BlockRef[]> {
  const blocks = Math.max(1, inputs.length);
  switch (exchange.kind) {
    case "randomShuffle":
      return exchangeBlocks(exchange.name, inputs, { kind: "random", parts: exchange.numBlocks ?? blocks, seed: exchange.seed ?? randomSeed() });
    case "repartition":
      if (exchange.shuffle) return exchangeBlocks(exchange.name, inputs, { kind: "random", parts: exchange.numBlocks, seed: randomSeed() });
      return putTables(sliceEvenly(await wholeInput(inputs), exchange.numBlocks));
    case "sort":
      return sortBlocks(exchange, inputs);
    case "aggregate": {
      const whole = await wholeInput(inputs);
      checkKeyColumns("groupby", whole, exchange.keys);
      const rows = aggregateGroups(whole, exchange.keys, exchange.aggs);
      if (rows.length === 0) return putTables([whole.slice(0, 0)]);
      return putTables(evenSlices(rows.length, Math.min(exchange.numPartitions ?? blocks, rows.length)).map(([s, e]) => rowsToTable(rows.slice(s, e))));
    }
    case "groupBlocks": {
      const whole = await wholeInput(inputs);
      checkKeyColumns("groupby", whole, exchange.keys);
      return putTables(groupRows(whole, exchange.keys).map((group) => rowsToTable(group)));
    }
  }
}

/** A map task per input block splits it; a reduce task per partition merges the pieces, in block order. */
function exchangeBlocks(name: string, inputs: readonly BlockRef[], spec: PartitionSpec, merge?: MergeSpec): BlockRef[] {
  const parts = spec.kind === "random" ? spec.parts : spec.boundaries.length + 1;
  const split = partitionTask.options({ numReturns: parts, name: `${name}(map)` });
  // One partition needs no split: each block is its own piece (and a one-return task would return no array).
  const pieces = inputs.map((ref, i) => (parts === 1 ? [ref] : (split.remote(ref, spec, i) as unknown as BlockRef[])));
  const mergeSpec: MergeSpec = merge ?? { kind: "shuffle", seed: (spec as { seed: number }).seed };
  const reduce = mergeTask.options({ name: `${name}(reduce)` });
  return Array.from({ length: parts }, (_, p) => reduce.remote(mergeSpec, p, ...(pieces.map((piece) => piece[p]!) as never[])) as BlockRef);
}

/** Sampled range partitioning: boundaries from sampled keys, a partition per input block, each sorted in its reduce task. */
async function sortBlocks(exchange: SortExchange, inputs: readonly BlockRef[]): Promise<BlockRef[]> {
  const stored: StoredBlock[] = await Promise.all(inputs.map((ref) => ray.get(ref)));
  const first = stored.find((b) => b.numRows > 0);
  if (first === undefined) return [...inputs];
  checkKeyColumns("sort", decodeBlock(first), exchange.keys);
  const sample = (await Promise.all(inputs.map((ref) => ray.get(sampleTask.options({ name: `${exchange.name}(sample)` })
    .remote(ref, exchange.keys, SAMPLES_PER_BLOCK))))).flat() as Row[];
  const compare = rowComparator(exchange.keys, exchange.descending);
  sample.sort(compare);
  const parts = inputs.length;
  const boundaries = Array.from({ length: parts - 1 }, (_, i) => sample[Math.floor(((i + 1) * sample.length) / parts)]!);
  return exchangeBlocks(exchange.name, inputs, { kind: "range", keys: exchange.keys, descending: exchange.descending, boundaries },
    { kind: "sort", keys: exchange.keys, descending: exchange.descending });
}

async function wholeInput(inputs: readonly BlockRef[]): Promise<Table> {
  return concatTables(await Promise.all(inputs.map(async (ref) => decodeBlock((await ray.get(ref)) as StoredBlock))));
}

function sliceEvenly(whole: Table, parts: number): Table[] {
  return evenSlices(whole.numRows, parts).map(([start, end]) => whole.slice(start, end));
}

function putTables(tables: readonly Table[]): BlockRef[] {
  return tables.map((t) => ray.put(encodeBlock(t)) as BlockRef);
}
