/**
 * Runs an all-to-all step over its whole input (the block refs of the plan before it) and returns
 * its output blocks, in order.
 *
 * randomShuffle, a shuffling repartition and sort run on the cluster as map and reduce tasks
 * (exchange-task.ts); only sort's sampled keys come back to this process. groupby's aggregations
 * run the same way, range-partitioned by key and aggregated in the reduce tasks (a custom one's
 * functions shipped as UDFs are); an aggregation that cannot travel (one of built-in functions
 * such as Math.max) and mapGroups' grouping run here on the whole input (mapGroups' UDF then runs
 * in tasks, one group per block). A repartition without shuffle slices the Arrow data as it is.
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import type { Aggregation } from "../agg.js";
import { takeRows } from "../take-rows.js";
import { concatTables } from "../concat-tables.js";
import { blockBytes, decodeBlock, encodeBlock, type BlockRef, type StoredBlock } from "../block.js";
import { numRowsOf } from "../block-figures.js";
import type { TaskOutput } from "../block-task.js";
import type { DataContext } from "../context.js";
import { randomSeed } from "../seeded-shuffle.js";
import { rowsToTable } from "../to-arrow.js";
import type { Row } from "../types.js";
import { evenSlices } from "./even-slices.js";
import type { Exchange, SortExchange } from "./exchange.js";
import { exchangeTaskModule, mergePartition, partitionBlock, sampleKeys, type MergeSpec, type PartitionSpec } from "./exchange-task.js";
import { aggregateTable, groupIndices } from "./group-rows.js";
import { checkKeyColumns, rowComparator } from "./key-order.js";

const partitionTask = ray.util.remoteExport(exchangeTaskModule, partitionBlock);
const mergeTask = ray.util.remoteExport(exchangeTaskModule, mergePartition);
const sampleTask = ray.util.remoteExport(exchangeTaskModule, sampleKeys);

/** Sampled keys per input block from which sort picks its partition boundaries. */
const SAMPLES_PER_BLOCK = 32;

/**
 * One output block of the step, with its figures: a reduce task's second return (its rows and
 * bytes, and the further blocks of an output larger than targetMaxBlockSize), or known here.
 */
export interface ExchangeOutput { readonly block: BlockRef; readonly output: ray.ObjectRef<TaskOutput> | TaskOutput }

/** What one run of a step submits: its tasks are counted, its reduce tasks see the dataset's context. */
interface Run { readonly context: DataContext; tasks: number }

/** The step's output blocks, in order, and how many tasks it ran. */
export async function runExchange(exchange: Exchange, inputs: readonly BlockRef[], context: DataContext): Promise<{ outputs: ExchangeOutput[]; tasks: number }> {
  const run: Run = { context, tasks: 0 };
  const outputs = await exchangeOutputs(exchange, inputs, run);
  return { outputs, tasks: run.tasks };
}

async function exchangeOutputs(exchange: Exchange, inputs: readonly BlockRef[], run: Run): Promise<ExchangeOutput[]> {
  const blocks = Math.max(1, inputs.length);
  switch (exchange.kind) {
    case "randomShuffle":
      return shuffleBlocks(run, exchange.name, inputs, exchange.numBlocks ?? blocks, exchange.seed ?? randomSeed());
    case "repartition":
      if (exchange.shuffle) return shuffleBlocks(run, exchange.name, inputs, exchange.numBlocks, randomSeed());
      return putTables(sliceEvenly(await wholeInput(inputs), exchange.numBlocks));
    case "sort":
      return sortBlocks(run, exchange, inputs);
    case "aggregate": {
      const aggs = exchange.aggs as readonly Aggregation[];
      const recipes = aggs.map((a) => a.recipe);
      const parts = exchange.numPartitions ?? blocks;
      if (recipes.every((r) => r !== undefined)) {
        // Range-partitioned by the keys, so each group lands whole in one partition, aggregated in its reduce task.
        const ascending = exchange.keys.map(() => false);
        const out = await rangeExchange(run, exchange.name, "groupby", exchange.keys, ascending, parts, inputs, { kind: "aggregate", keys: exchange.keys, aggs: recipes });
        return out ?? putTables([rowsToTable([])]);
      }
      // An aggregation that cannot travel (a custom one of built-in functions) runs here, on the whole input.
      const whole = await wholeInput(inputs);
      checkKeyColumns("groupby", whole, exchange.keys);
      const table = aggregateTable(whole, exchange.keys, aggs);
      return putTables(evenSlices(table.numRows, Math.max(1, Math.min(parts, table.numRows))).map(([s, e]) => table.slice(s, e)));
    }
    case "groupBlocks": {
      const whole = await wholeInput(inputs);
      checkKeyColumns("groupby", whole, exchange.keys);
      return putTables(groupIndices(whole, exchange.keys).map((group) => takeRows(whole, group)));
    }
  }
}

/** Rows dealt at random into `parts` blocks, each block's rows shuffled again: a seeded, global random order. */
function shuffleBlocks(run: Run, name: string, inputs: readonly BlockRef[], parts: number, seed: number): ExchangeOutput[] {
  return exchangeBlocks(run, name, inputs, { kind: "random", parts, seed }, { kind: "shuffle", seed });
}

/** A map task per input block splits it; a reduce task per partition merges the pieces, in block order. */
function exchangeBlocks(run: Run, name: string, inputs: readonly BlockRef[], spec: PartitionSpec, merge: MergeSpec): ExchangeOutput[] {
  const parts = spec.kind === "random" ? spec.parts : spec.boundaries.length + 1;
  const split = partitionTask.options({ numReturns: parts, name: `${name}(map)` });
  // One partition needs no split task: each block is its own piece.
  const pieces = inputs.map((ref, i) => (parts === 1 ? [ref] : (split.remote(ref, spec, i) as unknown as BlockRef[])));
  const reduce = mergeTask.options({ name: `${name}(reduce)`, numReturns: 2 });
  run.tasks += (parts === 1 ? 0 : inputs.length) + parts;
  return Array.from({ length: parts }, (_, p) => {
    const [block, output] = reduce.remote(merge, p, run.context, ...(pieces.map((piece) => piece[p]!) as never[])) as unknown as [BlockRef, ray.ObjectRef<TaskOutput>];
    return { block, output };
  });
}

/** Sort: a range exchange whose reduce tasks sort their partitions; no rows, the input as it is. */
async function sortBlocks(run: Run, exchange: SortExchange, inputs: readonly BlockRef[]): Promise<ExchangeOutput[]> {
  const merge: MergeSpec = { kind: "sort", keys: exchange.keys, descending: exchange.descending };
  const sorted = await rangeExchange(run, exchange.name, "sort", exchange.keys, exchange.descending, Math.max(1, inputs.length), inputs, merge);
  return sorted ?? inputs.map((block) => ({ block, output: { figures: [{ numRows: 0, bytes: 0 }], more: [] } }));
}

/**
 * Sampled range partitioning into `parts` partitions: boundaries from keys sampled by tasks, rows
 * equal to a boundary all on one side of it (so equal keys meet in one partition). Undefined if
 * the input has no rows. `method` names the caller in the error for an unknown key.
 */
async function rangeExchange(run: Run, name: string, method: string, keys: readonly string[], descending: readonly boolean[], parts: number,
  inputs: readonly BlockRef[], merge: MergeSpec): Promise<ExchangeOutput[] | undefined> {
  // Rows from the blocks' figures; only the first block with rows is read here, for its columns.
  const rows = await Promise.all(inputs.map(numRowsOf));
  const first = inputs.find((_, i) => rows[i]! > 0);
  if (first === undefined) return undefined;
  checkKeyColumns(method, decodeBlock(await ray.get(first)), keys);
  const sampler = sampleTask.options({ name: `${name}(sample)` });
  run.tasks += inputs.length;
  const samplesPerBlock = Math.max(SAMPLES_PER_BLOCK, Math.ceil((4 * parts) / inputs.length));
  const sample = (await Promise.all(inputs.map((ref) => ray.get(sampler.remote(ref, keys, samplesPerBlock))))).flat() as Row[];
  sample.sort(rowComparator(keys, descending));
  const boundaries = Array.from({ length: parts - 1 }, (_, i) => sample[Math.floor(((i + 1) * sample.length) / parts)]!);
  return exchangeBlocks(run, name, inputs, { kind: "range", keys, descending, boundaries }, merge);
}

async function wholeInput(inputs: readonly BlockRef[]): Promise<Table> {
  return concatTables(await Promise.all(inputs.map(async (ref) => decodeBlock((await ray.get(ref)) as StoredBlock))));
}

function sliceEvenly(whole: Table, parts: number): Table[] {
  return evenSlices(whole.numRows, parts).map(([start, end]) => whole.slice(start, end));
}

/** Blocks made here (repartition without shuffle, what runs in this process): put, with their figures. */
function putTables(tables: readonly Table[]): ExchangeOutput[] {
  return tables.map((table) => ({ block: ray.put(encodeBlock(table)) as BlockRef, output: { figures: [{ numRows: table.numRows, bytes: blockBytes(table) }], more: [] } }));
}
