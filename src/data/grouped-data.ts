/**
 * GroupedData (Dataset.groupby): rows grouped by key, lazily; each method returns a Dataset whose
 * plan groups the whole input at consumption (an all-to-all step) and then aggregates each group
 * or hands it to a UDF.
 */
import * as agg from "./agg.js";
import { Aggregation } from "./agg.js";
import { Dataset } from "./dataset.js";
import { mapStep } from "./map-options.js";
import { withStep, type Plan } from "./plan.js";
import type { AggregateFn, BatchFormat, BatchOf, BatchOutput, BatchResult, ColumnName, MapBatchesOptions, Row, RowOf, Udf } from "./types.js";

export class GroupedData<R extends object, K extends ColumnName<R>> {
  private constructor(private readonly input: Plan, private readonly keys: readonly string[], private readonly numPartitions?: number) {}

  /** @internal */
  static of<R extends object, K extends ColumnName<R>>(input: Plan, keys: readonly string[], numPartitions?: number): GroupedData<R, K> {
    return new GroupedData<R, K>(input, keys, numPartitions);
  }

  /** One row per group (in key order, nulls last): the key columns, then one column per aggregation, named as in Ray. */
  aggregate(...aggs: AggregateFn[]): Dataset<Pick<R, K> & Row> {
    if (!aggs.every((a) => a instanceof Aggregation)) throw new TypeError("aggregate() takes what the agg functions return (agg.sum('x'), ...)");
    const exchange = { kind: "aggregate", name: "Aggregate", keys: this.keys, aggs: aggs as Aggregation[],
      ...(this.numPartitions !== undefined ? { numPartitions: this.numPartitions } : {}) } as const;
    return Dataset.fromPlan({ source: { kind: "allToAll", input: this.input, exchange }, steps: [] });
  }

  count(): Dataset<Pick<R, K> & Record<"count()", number>> {
    return this.aggregate(agg.count()) as never;
  }
  sum<On extends ColumnName<R>>(on: On): Dataset<Pick<R, K> & Record<`sum(${On})`, number>> {
    return this.aggregate(agg.sum(on)) as never;
  }
  min<On extends ColumnName<R>>(on: On): Dataset<Pick<R, K> & Record<`min(${On})`, R[On]>> {
    return this.aggregate(agg.min(on)) as never;
  }
  max<On extends ColumnName<R>>(on: On): Dataset<Pick<R, K> & Record<`max(${On})`, R[On]>> {
    return this.aggregate(agg.max(on)) as never;
  }
  mean<On extends ColumnName<R>>(on: On): Dataset<Pick<R, K> & Record<`mean(${On})`, number>> {
    return this.aggregate(agg.mean(on)) as never;
  }
  std<On extends ColumnName<R>>(on: On, opts: { ddof?: number } = {}): Dataset<Pick<R, K> & Record<`std(${On})`, number>> {
    return this.aggregate(agg.std(on, opts)) as never;
  }

  /** fn gets each group whole as one batch (one block per group, run as a mapBatches task), so a group must fit in a worker's memory. */
  mapGroups<F extends BatchFormat = "default", B extends BatchOutput = BatchOutput>(
    fn: Udf<BatchOf<F, R>, BatchResult<B>>, opts: Omit<MapBatchesOptions<F>, "batchSize"> = {}): Dataset<RowOf<B>> {
    if ((opts as { batchSize?: unknown }).batchSize !== undefined) throw new TypeError("mapGroups() takes no batchSize: each group is one batch");
    // Called at the same depth as Dataset.mapBatches calls it, so the UDF's module is found the same way.
    const step = mapStep("mapBatches", fn, { ...opts, name: opts.name ?? `MapGroups(${fn.name || "<lambda>"})` });
    const grouped: Plan = { source: { kind: "allToAll", input: this.input, exchange: { kind: "groupBlocks", name: "GroupBy", keys: this.keys } }, steps: [] };
    return Dataset.fromPlan(withStep(grouped, step));
  }
}
