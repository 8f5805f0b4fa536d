/**
 * Dataset: a lazy, immutable plan of rows of type R. Transformations return a new Dataset with
 * one more step and run nothing; consumption hands the plan to the streaming executor and reads
 * its blocks as they come (see executor.ts).
 */
import { Schema, type Table } from "apache-arrow";
import * as ray from "tsray";
import { decodeBlock, type BlockRef, type StoredBlock } from "./block.js";
import { executePlan } from "./executor.js";
import { tableToColumnBatch, tableToRows } from "./from-arrow.js";
import { mapStep } from "./map-options.js";
import { knownRowCount, withStep, type Plan } from "./plan.js";
import { rebatchTables } from "./rebatch.js";
import type {
  BatchFormat, BatchOf, BatchOutput, BatchResult, ColumnName, IterBatchesOptions, MapBatchesOptions, MapOptions,
  MaybePromise, Row, RowOf, Udf,
} from "./types.js";

export class Dataset<R extends object = Row> {
  readonly #plan: Plan;

  protected constructor(plan: Plan) {
    this.#plan = plan;
  }

  /** @internal A dataset of this plan (the constructor is protected, as in the contract). */
  static fromPlan<R extends object>(plan: Plan): Dataset<R> {
    return new Dataset<R>(plan);
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

  /** At most n rows (the first n: blocks keep their order); upstream work stops once n are produced. */
  limit(n: number): Dataset<R> {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`limit() takes a non-negative integer, got ${String(n)}`);
    return this.#then({ kind: "limit", n });
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
    const { batchSize, batchFormat, dropLast } = checkIterBatchesOptions(opts);
    for await (const table of rebatchTables(this.#tables(), batchSize, dropLast)) {
      yield (batchFormat === "arrow" ? table : batchFormat === "rows" ? tableToRows(table) : tableToColumnBatch(table)) as BatchOf<F, R>;
    }
  }

  /** Up to `limit` (default 20) rows, running only as much of the plan as that needs. */
  async take(limit = 20): Promise<R[]> {
    if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`take() takes a non-negative integer, got ${String(limit)}`);
    const rows: R[] = [];
    if (limit === 0) return rows;
    for await (const row of this.limit(limit).iterRows()) rows.push(row);
    return rows;
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
    const known = knownRowCount(this.#plan);
    if (known !== undefined) return known;
    let rows = 0;
    for await (const ref of executePlan(this.#plan)) rows += (await ray.get(ref)).numRows;
    return rows;
  }

  /** From the source where no step changes it, else by running the plan up to its first non-empty block. */
  async schema(): Promise<Schema> {
    const source = this.#plan.source;
    if (this.#plan.steps.every((s) => s.kind === "limit") && source.kind === "tables" && source.tables[0]) return source.tables[0].schema;
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

  /** Runs the plan fully, keeping every block in the object store. */
  async materialize(): Promise<MaterializedDataset<R>> {
    const refs: BlockRef[] = [];
    const numRows: number[] = [];
    for await (const ref of executePlan(this.#plan)) {
      refs.push(ref);
      numRows.push((await ray.get(ref)).numRows);
    }
    return MaterializedDataset.ofBlocks<R>(refs, numRows);
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

  protected constructor(plan: Plan) {
    super(plan);
    this.#numBlocks = plan.source.kind === "blocks" ? plan.source.refs.length : 0;
  }

  /** @internal */
  static ofBlocks<R extends object>(refs: readonly BlockRef[], numRows: readonly number[]): MaterializedDataset<R> {
    return new MaterializedDataset<R>({ source: { kind: "blocks", refs, numRows }, steps: [] });
  }

  /** How many blocks it holds. */
  numBlocks(): number {
    return this.#numBlocks;
  }
}

function checkIterBatchesOptions<F extends BatchFormat>(opts: IterBatchesOptions<F>): { batchSize: number | null; batchFormat: BatchFormat; dropLast: boolean } {
  const known = ["batchSize", "batchFormat", "dropLast", "prefetchBatches", "localShuffleBufferSize", "localShuffleSeed"];
  for (const key of Object.keys(opts)) if (!known.includes(key)) throw new TypeError(`iterBatches() has no option '${key}'`);
  if (opts.localShuffleBufferSize !== undefined || opts.localShuffleSeed !== undefined) {
    throw new TypeError("iterBatches(): local shuffling (localShuffleBufferSize, localShuffleSeed) is not supported yet");
  }
  const batchSize = opts.batchSize === undefined ? 256 : opts.batchSize;
  if (batchSize !== null && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`iterBatches() option batchSize must be a positive integer or null, got ${String(batchSize)}`);
  }
  const batchFormat = opts.batchFormat ?? "default";
  if (!["default", "numpy", "rows", "arrow"].includes(batchFormat)) throw new TypeError(`iterBatches() option batchFormat: unknown format ${String(batchFormat)}`);
  return { batchSize, batchFormat, dropLast: opts.dropLast ?? false };
}
