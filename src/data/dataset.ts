/**
 * Dataset: a lazy, immutable plan of rows of type R. Transformations return a new Dataset with
 * one more step and run nothing; consumption hands the plan to the streaming executor and reads
 * its blocks as they come (see executor.ts).
 */
import { Schema, Table } from "apache-arrow";
import * as ray from "tsray";
import { blockBytes, concatTables, decodeBlock, type BlockRef, type StoredBlock } from "./block.js";
import { executePlan } from "./executor.js";
import { numRowsOf } from "./block-figures.js";
import { snapshotContext, type DataContext } from "./context.js";
import { executionSummary, formatStats, inheritExecution, type ExecutionStats } from "./execution-stats.js";
import { explainPlan } from "./explain.js";
import { Aggregation } from "./agg.js";
import { ColumnStats } from "./column-stats.js";
import { columnValues, tableToRows } from "./from-arrow.js";
import { columnsStep, mapStep } from "./map-options.js";
import { knownRowCount, withStep, type Plan } from "./plan.js";
import { batchesOf } from "./iter-batches.js";
import { checkZipCounts } from "./zip.js";
import { DatasetIterator, type DataIterator } from "./data-iterator.js";
import { streamingSplit } from "./streaming-split.js";
import { inputFilesOf } from "./read/input-files.js";
import { footerRowCount, footerSchema } from "./read/parquet-footers.js";
import type { Exchange } from "./exchange/exchange.js";
import { checkBlockCount, descendingList, keyList } from "./exchange/key-options.js";
import { GroupedData } from "./grouped-data.js";
import { writeDataset, type WriteOptions, type WriteResult } from "./write/write-dataset.js";
import { checkColumnList, checkIterBatchesOptions } from "./consume-options.js";
import { indexBoundaries, proportionBoundaries, splitBlocks, splitBoundaries, trainTestBoundaries, type Blocks } from "./split.js";
import type {
  AggregateFn, BatchFormat, BatchOf, BatchOutput, BatchResult, Column, ColumnBatch, ColumnName, ElementOf, IterBatchesOptions,
  MapBatchesOptions, MapOptions, MaybePromise, Row, RowOf, Udf,
} from "./types.js";

export class Dataset<R extends object = Row> {
  readonly #plan: Plan;

  /** `context`: the copy a dataset sent to this thread keeps; else a copy of the DataContext as it is now (changing it later does not change this dataset). */
  protected constructor(plan: Plan, context: DataContext = snapshotContext()) {
    this.#plan = { ...plan, context };
  }

  /** @internal The plan of a dataset (to send it: serializers.ts). */
  static planOf(ds: Dataset<any>): Plan {
    return ds.#plan;
  }

  /** @internal A dataset of this plan (the constructor is protected, as in the contract); `context` as the constructor's. */
  static fromPlan<R extends object>(plan: Plan, context?: DataContext): Dataset<R> {
    return new Dataset<R>(plan, context);
  }

  // Transformations: lazy; each returns a new Dataset.

  /** One output row per input row. */
  map<O extends object>(fn: Udf<R, MaybePromise<O>>, opts?: MapOptions): Dataset<O> {
    return this.#then(mapStep("map", fn, opts));
  }

  /** Batches in, batches out; row counts may change. */
  mapBatches<F extends BatchFormat = "default", B extends BatchOutput = BatchOutput>(
    fn: Udf<BatchOf<F, R>, BatchResult<B>>, opts?: MapBatchesOptions<F>): Dataset<RowOf<B>> {
    return this.#then(mapStep("mapBatches", fn, opts));
  }

  /** Zero or more output rows per input row. */
  flatMap<O extends object>(fn: Udf<R, MaybePromise<Iterable<O>> | AsyncIterable<O>>, opts?: MapOptions): Dataset<O> {
    return this.#then(mapStep("flatMap", fn, opts));
  }

  /** Keeps the rows for which fn is true. */
  filter(fn: Udf<R, MaybePromise<boolean>>, opts?: MapOptions): Dataset<R> {
    return this.#then(mapStep("filter", fn, opts));
  }

  /** Adds (or replaces) a column computed from each block as a "numpy" batch; fn returns one value per row. */
  addColumn<N extends string, C extends Column>(
    name: N, fn: Udf<ColumnBatch, MaybePromise<C>>, opts?: MapOptions): Dataset<Omit<R, N> & { [K in N]: ElementOf<C> }> {
    if (typeof name !== "string" || name === "") throw new TypeError("addColumn() takes a column name first");
    return this.#then(mapStep("addColumn", fn, opts, name));
  }

  /** An unknown column rejects the consumption with an error naming it. */
  dropColumns<K extends ColumnName<R>>(cols: readonly K[], opts?: MapOptions): Dataset<Omit<R, K>> {
    return this.#then(columnsStep({ kind: "dropColumns", name: "DropColumns", columns: checkColumnList("dropColumns", cols) }, opts));
  }

  /** Keeps these columns, in this order; an unknown column rejects the consumption with an error naming it. */
  selectColumns<K extends ColumnName<R>>(cols: readonly K[], opts?: MapOptions): Dataset<Pick<R, K>> {
    return this.#then(columnsStep({ kind: "selectColumns", name: "SelectColumns", columns: checkColumnList("selectColumns", cols) }, opts));
  }

  /** Renames columns: { old: new }. The new row type can be given: renameColumns<{ alpha: number }>({ a: "alpha" }). */
  renameColumns<O extends object = Row>(names: Partial<Record<ColumnName<R>, string>>): Dataset<O> {
    if (typeof names !== "object" || names === null) throw new TypeError("renameColumns() takes an object { old: new }");
    for (const [from, to] of Object.entries(names)) {
      if (typeof to !== "string" || to === "") throw new TypeError(`renameColumns(): the new name of '${from}' must be a non-empty string`);
    }
    return this.#then(columnsStep({ kind: "renameColumns", name: "RenameColumns", names: { ...names } as Record<string, string> }));
  }

  /** Keeps each row with probability `fraction`; no shuffle. The same seed and blocks give the same rows. */
  randomSample(fraction: number, opts: { seed?: number } = {}): Dataset<R> {
    if (!(fraction >= 0 && fraction <= 1)) throw new RangeError(`randomSample() takes a fraction in [0, 1], got ${String(fraction)}`);
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new TypeError(`randomSample() option seed must be an integer, got ${String(opts.seed)}`);
    return this.#then({ kind: "map", stage: { kind: "randomSample", name: "RandomSample", fraction, seed: opts.seed ?? null }, taskOptions: {} });
  }

  /** At most n rows (the first n: blocks keep their order); upstream work stops once n are produced. */
  limit(n: number): Dataset<R> {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`limit() takes a non-negative integer, got ${String(n)}`);
    return this.#then({ kind: "limit", n });
  }

  /** The rows of this and `others`, this dataset's first (each input keeps its order). */
  union(...others: Dataset<R>[]): Dataset<R> {
    if (!others.every((o) => o instanceof Dataset)) throw new TypeError("union() takes Datasets");
    return new Dataset<R>({ source: { kind: "union", plans: [this.#plan, ...others.map((o) => o.#plan)] }, steps: [] });
  }

  /** Row-wise zip with a dataset of equal row count; clashing columns of `other` get a "_1" suffix (zip.ts). */
  zip<O extends object>(other: Dataset<O>): Dataset<R & O> {
    if (!(other instanceof Dataset)) throw new TypeError("zip() takes a Dataset");
    checkZipCounts(knownRowCount(this.#plan), knownRowCount(other.#plan));
    return new Dataset<R & O>({ source: { kind: "zip", left: this.#plan, right: other.#plan }, steps: [] });
  }

  // All-to-all steps: each holds its whole input at consumption before it yields a block.

  /** numBlocks blocks of nearly equal rows: sliced in order, or (shuffle) rows in a random order. */
  repartition(numBlocks: number, opts: { shuffle?: boolean } = {}): Dataset<R> {
    const n = checkBlockCount("repartition", "numBlocks", numBlocks);
    return this.#exchange({ kind: "repartition", name: "Repartition", numBlocks: n, shuffle: opts.shuffle === true });
  }

  /** A global random order; the same seed and input give the same order. numBlocks: default as many as the input has. */
  randomShuffle(opts: { seed?: number; numBlocks?: number } = {}): Dataset<R> {
    if (opts.seed !== undefined && !Number.isInteger(opts.seed)) throw new TypeError(`randomShuffle() option seed must be an integer, got ${String(opts.seed)}`);
    const numBlocks = opts.numBlocks === undefined ? {} : { numBlocks: checkBlockCount("randomShuffle", "option numBlocks", opts.numBlocks) };
    return this.#exchange({ kind: "randomShuffle", name: "RandomShuffle", seed: opts.seed ?? null, ...numBlocks });
  }

  /** A global, stable sort by these keys; nulls last. An unknown key rejects the consumption with an error naming it. */
  sort(key: ColumnName<R> | readonly ColumnName<R>[], opts: { descending?: boolean | readonly boolean[] } = {}): Dataset<R> {
    const keys = keyList("sort", key);
    return this.#exchange({ kind: "sort", name: "Sort", keys, descending: descendingList(keys, opts.descending) });
  }

  /** Rows grouped by these keys; nothing runs until an aggregation's dataset is consumed. */
  groupby<K extends ColumnName<R>>(key: K | readonly K[], opts: { numPartitions?: number } = {}): GroupedData<R, K> {
    const keys = keyList("groupby", key);
    const numPartitions = opts.numPartitions === undefined ? undefined : checkBlockCount("groupby", "option numPartitions", opts.numPartitions);
    return GroupedData.of<R, K>(this.#plan, keys, numPartitions);
  }

  // Consumption runs the plan. Leaving an iteration early (break, return, throw) ends the execution.

  /** Rows as they stream out of the executor; `for await (const row of ds)` does the same. */
  async *iterRows(): AsyncGenerator<R, void, undefined> {
    for await (const table of this.#tables()) yield* tableToRows(table) as R[];
  }

  [Symbol.asyncIterator](): AsyncIterator<R> {
    return this.iterRows();
  }

  /** Batches of exactly batchSize rows across block boundaries (but the last). */
  async *iterBatches<F extends BatchFormat = "default">(opts: IterBatchesOptions<F> = {}): AsyncGenerator<BatchOf<F, R>, void, undefined> {
    yield* batchesOf(this.#tables(), checkIterBatchesOptions(opts)) as AsyncGenerator<BatchOf<F, R>, void, undefined>;
  }

  /** Up to `limit` (default 20) rows, running only as much of the plan as that needs. */
  async take(limit = 20): Promise<R[]> {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`take() takes a non-negative integer, got ${String(limit)}`);
    const rows: R[] = [];
    if (limit === 0) return rows;
    for await (const row of this.limit(limit).iterRows()) rows.push(row);
    return rows;
  }

  /** The first batch of up to batchSize (default 20) rows. */
  async takeBatch<F extends BatchFormat = "default">(batchSize = 20, opts: { batchFormat?: F } = {}): Promise<BatchOf<F, R>> {
    if (!Number.isInteger(batchSize) || batchSize <= 0) throw new RangeError(`takeBatch() takes a positive integer, got ${String(batchSize)}`);
    const batchFormat = opts.batchFormat ?? ("default" as F);
    for await (const batch of this.limit(batchSize).iterBatches({ batchSize, batchFormat })) return batch;
    return (batchFormat === "rows" ? [] : batchFormat === "arrow" ? new Table() : {}) as BatchOf<F, R>;
  }

  /** All rows; rejects with RangeError if there are more than `limit`. */
  async takeAll(opts: { limit?: number } = {}): Promise<R[]> {
    const limit = opts.limit ?? Infinity;
    const rows: R[] = [];
    for await (const row of this.iterRows()) {
      if (rows.length >= limit) throw new RangeError(`takeAll(): the dataset has more than limit = ${limit} rows`);
      rows.push(row);
    }
    return rows;
  }

  /** Prints up to `limit` (default 20) rows to stdout, one JSON object a line. */
  async show(limit = 20): Promise<void> {
    for (const row of await this.take(limit)) console.log(JSON.stringify(row));
  }

  /** The number of rows, without running anything when the plan's source says it (no map steps). */
  async count(): Promise<number> {
    const known = knownRowCount(this.#plan) ?? await footerRowCount(this.#plan);
    if (known !== undefined) return known;
    let rows = 0;
    for await (const ref of executePlan(this.#plan)) rows += await numRowsOf(ref);
    return rows;
  }

  /** Global aggregates over one column (nulls skipped; std's ddof defaults to 1); null on an empty dataset. */
  async sum(on: ColumnName<R>): Promise<number | null> {
    return (await this.#stats(on, { numeric: true, unique: false })).sum();
  }

  async min<K extends ColumnName<R>>(on: K): Promise<R[K] | null> {
    return (await this.#stats(on, { numeric: false, unique: false })).min as R[K] | null;
  }

  async max<K extends ColumnName<R>>(on: K): Promise<R[K] | null> {
    return (await this.#stats(on, { numeric: false, unique: false })).max as R[K] | null;
  }

  async mean(on: ColumnName<R>): Promise<number | null> {
    return (await this.#stats(on, { numeric: true, unique: false })).mean();
  }

  async std(on: ColumnName<R>, opts: { ddof?: number } = {}): Promise<number | null> {
    const ddof = opts.ddof ?? 1;
    if (!Number.isInteger(ddof) || ddof < 0) throw new RangeError(`std() option ddof must be a non-negative integer, got ${String(ddof)}`);
    return (await this.#stats(on, { numeric: true, unique: false })).std(ddof);
  }

  /** The distinct values of a column, in no particular order. */
  async unique<K extends ColumnName<R>>(column: K): Promise<R[K][]> {
    return (await this.#stats(column, { numeric: false, unique: true })).unique() as R[K][];
  }

  /** One row keyed by the aggregations' names. */
  async aggregate(...aggs: AggregateFn[]): Promise<Row> {
    for (const a of aggs) {
      if (!(a instanceof Aggregation)) throw new TypeError("aggregate() takes what the agg functions return (agg.sum('x'), ...)");
    }
    const accumulators = (await Promise.all((aggs as Aggregation[]).map((a) => a.ready()))).map((a) => [a.name, a.accumulator()] as const);
    for await (const table of this.#tables()) for (const [, acc] of accumulators) acc.add(table);
    return Object.fromEntries(accumulators.map(([name, acc]) => [name, acc.result()]));
  }

  /** From the source where no step changes it, else by running the plan up to its first non-empty block. */
  async schema(): Promise<Schema> {
    const source = this.#plan.source;
    if (this.#plan.steps.every((s) => s.kind === "limit") && source.kind === "tables" && source.tables[0]) return source.tables[0].schema;
    const fromFooter = await footerSchema(this.#plan);
    if (fromFooter) return fromFooter;
    let first: Schema | undefined;
    for await (const table of this.#tables()) {
      first ??= table.schema;
      if (table.numRows > 0) return table.schema;
    }
    return first ?? new Schema([]);
  }

  /** The column names, in schema order. */
  async columns(): Promise<ColumnName<R>[]> {
    return (await this.schema()).fields.map((f) => f.name) as ColumnName<R>[];
  }

  /** Runs the plan and returns its blocks (Arrow tables), kept alive in the object store by these refs. */
  async toArrowRefs(): Promise<ray.ObjectRef<Table>[]> {
    const refs: BlockRef[] = [];
    for await (const ref of executePlan(this.#plan)) refs.push(ref);
    return refs;
  }

  /** Runs the plan fully, keeping every block in the object store. */
  async materialize(): Promise<MaterializedDataset<R>> {
    const refs: BlockRef[] = [];
    const numRows: number[] = [];
    for await (const ref of executePlan(this.#plan)) {
      refs.push(ref);
      numRows.push(await numRowsOf(ref));
    }
    const materialized = MaterializedDataset.ofBlocks<R>(refs, numRows);
    inheritExecution(this.#plan, materialized.#plan);
    return materialized;
  }

  async #splitAt(boundaries: (total: number) => number[]): Promise<MaterializedDataset<R>[]> {
    const parts = await splitBlocks((await this.materialize()).#blocks(), boundaries);
    return parts.map((part) => MaterializedDataset.ofBlocks<R>(part.refs, part.numRows));
  }

  /** The blocks of a materialized plan. */
  #blocks(): Blocks {
    const source = this.#plan.source;
    if (source.kind !== "blocks" || source.numRows === undefined || this.#plan.steps.length > 0) throw new Error("internal: not a materialized dataset");
    return { refs: source.refs, numRows: source.numRows };
  }

  async #stats(column: string, wants: { numeric: boolean; unique: boolean }): Promise<ColumnStats> {
    if (typeof column !== "string") throw new TypeError("an aggregate takes a column name");
    const stats = new ColumnStats(column, wants);
    for await (const table of this.#tables()) {
      if (table.numRows === 0) continue;
      const vector = table.getChild(column);
      if (!vector) throw new Error(`no column '${column}'; the columns are ${table.schema.fields.map((f) => f.name).join(", ") || "(none)"}`);
      stats.add(columnValues(column, vector));
    }
    return stats;
  }

  /** All rows as one Arrow table; rejects with RangeError if there are more than `limit`. */
  async toArrow(opts: { limit?: number } = {}): Promise<Table> {
    const limit = opts.limit ?? Infinity;
    const tables: Table[] = [];
    let rows = 0;
    for await (const table of this.#tables()) {
      rows += table.numRows;
      if (rows > limit) throw new RangeError(`toArrow(): the dataset has more than limit = ${limit} rows`);
      tables.push(table);
    }
    return concatTables(tables);
  }

  /** In-memory bytes of all blocks (their column buffers). */
  async sizeBytes(): Promise<number> {
    let bytes = 0;
    for await (const ref of executePlan(this.#plan)) bytes += blockBytes(await ray.get(ref));
    return bytes;
  }

  /** The files that this dataset reads. */
  async inputFiles(): Promise<string[]> {
    return inputFilesOf(this.#plan);
  }

  /** An iterator to hand to one consumer; each pass over it is one execution. */
  iterator(): DataIterator<R> {
    return new DatasetIterator<R>(this);
  }

  /**
   * n iterators over disjoint parts of ONE streaming execution, for n concurrent consumers; a
   * coordinator actor gives blocks to whichever iterator asks (streaming-split.ts).
   */
  streamingSplit(n: number, opts: { equal?: boolean; localityHints?: string[] } = {}): DataIterator<R>[] {
    return streamingSplit<R>(this, n, opts);
  }

  /** Materializes, then splits into n parts; `equal` gives equal row counts, dropping the remainder. */
  async split(n: number, opts: { equal?: boolean } = {}): Promise<MaterializedDataset<R>[]> {
    return this.#splitAt(splitBoundaries(n, opts.equal ?? false));
  }

  /** Materializes, then splits before each of these (sorted) row indices, like numpy.split. */
  async splitAtIndices(indices: readonly number[]): Promise<MaterializedDataset<R>[]> {
    return this.#splitAt(indexBoundaries(indices));
  }

  /** Materializes, then splits by these fractions (sum < 1); the last part takes the rest. */
  async splitProportionately(proportions: readonly number[]): Promise<MaterializedDataset<R>[]> {
    return this.#splitAt(proportionBoundaries(proportions));
  }

  /** testSize: a fraction in (0, 1) or a row count; shuffle: a randomShuffle (with seed) first. */
  async trainTestSplit(testSize: number, opts: { shuffle?: boolean; seed?: number } = {}):
    Promise<[train: MaterializedDataset<R>, test: MaterializedDataset<R>]> {
    const boundaries = trainTestBoundaries(testSize);
    const input = opts.shuffle ? this.randomShuffle(opts.seed === undefined ? {} : { seed: opts.seed }) : this;
    const [train, test] = await input.#splitAt(boundaries);
    return [train!, test!];
  }

  /** CSV files, one per block, with a header row unless header is false. */
  writeCsv(path: string, opts: WriteOptions & { delimiter?: string; header?: boolean } = {}): Promise<WriteResult> {
    return writeDataset(this.#plan, "writeCsv", "csv", path, opts);
  }

  /** JSON Lines files (".jsonl"), one per block: one object a line. */
  writeJson(path: string, opts: WriteOptions = {}): Promise<WriteResult> {
    return writeDataset(this.#plan, "writeJson", "json", path, opts);
  }

  /** Parquet files, one per block; partitionCols: hive folders col=value/, the columns left out of the files. */
  writeParquet(path: string, opts: WriteOptions & { partitionCols?: ColumnName<R>[] } = {}): Promise<WriteResult> {
    return writeDataset(this.#plan, "writeParquet", "parquet", path, opts);
  }

  /** .npy files holding `column` (numeric or tensor), one per block. */
  writeNumpy(path: string, opts: WriteOptions & { column: ColumnName<R> }): Promise<WriteResult> {
    return writeDataset(this.#plan, "writeNumpy", "numpy", path, opts ?? {});
  }

  /** The logical and the physical plan, fused operators shown as "A->B". */
  explain(): string {
    return explainPlan(this.#plan);
  }

  /** Readable statistics of this dataset's last execution (a materialized one: the execution that made it); "" before any. */
  stats(): string {
    return formatStats(executionSummary(this.#plan));
  }

  /** The same figures, structured; undefined before any execution. */
  statsSummary(): ExecutionStats | undefined {
    return executionSummary(this.#plan);
  }

  #exchange(exchange: Exchange): Dataset<R> {
    return new Dataset<R>({ source: { kind: "allToAll", input: this.#plan, exchange }, steps: [] });
  }

  #then<O extends object>(step: Parameters<typeof withStep>[1]): Dataset<O> {
    return new Dataset<O>(withStep(this.#plan, step));
  }

  /** The output blocks as tables, in order, read as the executor makes them. */
  async *#tables(): AsyncGenerator<Table, void, undefined> {
    for await (const ref of executePlan(this.#plan)) {
      const block: StoredBlock = await ray.get(ref);
      yield decodeBlock(block);
    }
  }
}

/** A dataset whose blocks are all in the object store; consuming it again reruns nothing. */
export class MaterializedDataset<R extends object = Row> extends Dataset<R> {
  readonly #numBlocks: number;

  protected constructor(plan: Plan, context?: DataContext) {
    super(plan, context);
    this.#numBlocks = plan.source.kind === "blocks" ? plan.source.refs.length : 0;
  }

  /** @internal */
  static ofBlocks<R extends object>(refs: readonly BlockRef[], numRows?: readonly number[], context?: DataContext): MaterializedDataset<R> {
    return new MaterializedDataset<R>({ source: { kind: "blocks", refs, ...(numRows ? { numRows } : {}) }, steps: [] }, context);
  }

  /** How many blocks it holds. */
  numBlocks(): number {
    return this.#numBlocks;
  }
}
