/**
 * tsray/data: streaming datasets on Apache Arrow, the TypeScript port of Ray Data.
 *
 * ```ts
 * import * as ray from "tsray";
 * import * as data from "tsray/data";
 *
 * await ray.init();
 * const ds = data.range(1000).map((r) => ({ x: r.id * 2 })).filter((r) => r.x % 3 === 0);
 * console.log(await ds.count()); // 334
 * await ray.shutdown();
 * ```
 *
 * The contract is shared/spec/data.d.ts. Built so far: creation (range, rangeTensor, fromItems,
 * fromNumpy, fromArrow,
 * readCsv, readJson, readText, readBinaryFiles, readParquet, readNumpy, readImages);
 * map, mapBatches, flatMap, filter, addColumn, selectColumns, dropColumns, renameColumns, limit,
 * union, randomSample; the all-to-all steps randomShuffle, repartition, sort, groupby (GroupedData);
 * consumption (iterRows, iterBatches, take, takeAll, takeBatch, show, count, schema, columns,
 * sum, min, max, mean, std, unique, aggregate with agg.*, toArrow, sizeBytes, inputFiles, materialize, split,
 * splitAtIndices, splitProportionately, trainTestSplit, explain, stats, statsSummary); writes (writeCsv, writeJson,
 * writeParquet, writeNumpy); zip, fromArrowRefs, toArrowRefs, iterator and streamingSplit (DataIterator),
 * iterBatches' prefetch and local shuffle; Datasets and DataIterators passed to tasks and actors (serializers.ts);
 * class UDFs on actor pools (actor-pool.ts), resources, retries and maxErroredBlocks per UDF;
 * DataContext (block sizes and counts, resource limits with backpressure in object store bytes, locality,
 * progress lines on stderr).
 * Built on tsray's public API only (the progress lines reuse the text of tsray's progress bars).
 */
import "./serializers.js";
export { Dataset, MaterializedDataset } from "./dataset.js";
export type { DataIterator } from "./data-iterator.js";
export { GroupedData } from "./grouped-data.js";
export { DataContext } from "./context.js";
export type { ExecutionOptions, ExecutionResources } from "./context.js";
export type { ExecutionStats } from "./execution-stats.js";
export * as agg from "./agg.js";
export { range, rangeTensor, fromItems, fromNumpy, fromArrow } from "./create.js";
export { fromArrowRefs } from "./from-arrow-refs.js";
export { readCsv, readJson, readText, readBinaryFiles, readParquet, readNumpy, readImages } from "./read/index.js";
export type { ReadOptions } from "./read/index.js";
export type { WriteOptions, WriteResult } from "./write/write-dataset.js";
export type {
  AggregateFn, TypedArray, Tensor, Row, ColumnName, Column, ColumnBatch, BatchFormat, BatchOf, BatchOutput, RowOf, BatchResult,
  UdfFunction, UdfClass, Udf, ComputeStrategy, MapOptions, MapBatchesOptions, IterBatchesOptions, CreateOptions,
} from "./types.js";
