/**
 * The all-to-all steps of a plan (Dataset.randomShuffle, repartition, sort, groupby): each needs
 * its whole input before it can make its first output block, so the plan holds one as a source
 * over the plan before it (plan.ts, kind "allToAll").
 */
import type { AggregateFn } from "../types.js";

export type Exchange = ShuffleExchange | RepartitionExchange | SortExchange | AggregateExchange | GroupBlocksExchange;

/** Every row once, in a seeded random order; null seed: a fresh order each run. */
export interface ShuffleExchange { readonly kind: "randomShuffle"; readonly name: string; readonly seed: number | null; readonly numBlocks?: number }

/** numBlocks blocks of nearly equal rows, in order unless shuffle. */
export interface RepartitionExchange { readonly kind: "repartition"; readonly name: string; readonly numBlocks: number; readonly shuffle: boolean }

/** A total order by these keys, each ascending unless descending; nulls last. */
export interface SortExchange { readonly kind: "sort"; readonly name: string; readonly keys: readonly string[]; readonly descending: readonly boolean[] }

/**
 * One row per group of equal keys: the keys, then each aggregation (agg.ts Aggregations, typed
 * by the public AggregateFn so these declarations need nothing internal).
 */
export interface AggregateExchange {
  readonly kind: "aggregate"; readonly name: string; readonly keys: readonly string[];
  readonly aggs: readonly AggregateFn[]; readonly numPartitions?: number;
}

/** One block per group of equal keys, in key order (what mapGroups' UDF gets whole). */
export interface GroupBlocksExchange { readonly kind: "groupBlocks"; readonly name: string; readonly keys: readonly string[] }
