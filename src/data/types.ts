/**
 * The public types of tsray/data that this slice builds, as the contract (shared/spec/data.d.ts)
 * spells them: rows, columns, batches, UDFs and the options of map-like steps, iteration and
 * creation.
 */
import type { Table } from "apache-arrow";
import type { ActorOptions, ResourceOptions, TaskOptions } from "tsray";

export type TypedArray =
  | Int8Array | Uint8Array | Uint8ClampedArray | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

/** An n-dimensional array (numpy's ndarray): row-major `data` of `shape`. */
export interface Tensor<T extends TypedArray = TypedArray> { readonly data: T; readonly shape: readonly number[] }

/** The default row type; any object type (interfaces included) can be a Dataset's row type. */
export type Row = Record<string, unknown>;
export type ColumnName<R> = Extract<keyof R, string>;

/** A "numpy" batch column: a typed array if numeric without nulls (Int64 as a Float64Array copy), a Tensor of
 *  shape [rows, ...] for a tensor column, else a plain array (string[], (number | null)[], Tensor[] if ragged...). */
export type Column = TypedArray | Tensor | readonly unknown[];
export type ColumnBatch = Record<string, Column>;

/** "numpy" (= "default"): a ColumnBatch; "rows": an array of rows; "arrow": an apache-arrow Table. */
export type BatchFormat = "default" | "numpy" | "rows" | "arrow";
export type BatchOf<F extends BatchFormat, R> = F extends "rows" ? R[] : F extends "arrow" ? Table : ColumnBatch;
/** A batch UDF may return any of these, whatever format it was given. */
export type BatchOutput = ColumnBatch | object[] | Table;
/** The row type that a batch output type makes. */
export type RowOf<B> = B extends Table ? Row : B extends readonly (infer E)[] ? E : { [K in keyof B]: ElementOf<B[K]> };
export type ElementOf<C> =
  C extends TypedArray ? number : C extends Tensor<infer T> ? Tensor<T> : C extends readonly (infer E)[] ? E : unknown;

export type MaybePromise<T> = T | Promise<T>;
/** One batch, a promise of one, or a generator of several (each is output as soon as it is yielded). */
export type BatchResult<B> = MaybePromise<B> | Generator<B, void, undefined> | AsyncGenerator<B, void, undefined>;

/** A function UDF, run in stateless tasks; `fnArgs` follow the input. The parameter is checked bivariantly, so a
 *  UDF may declare the columns it expects: `(b: { x: Float64Array }) => ...`. */
export type UdfFunction<In, Out> = { bivarianceHack(input: In, ...fnArgs: any[]): Out }["bivarianceHack"];
/** A class UDF (Ray's callable class), run on a pool of actors: each actor constructs it once with
 *  `fnConstructorArgs`, then `call`s it for every row or batch; `close` runs when the pool ends. */
export type UdfClass<In, Out> =
  new (...args: any[]) => { call(input: In, ...fnArgs: any[]): Out; close?(): void | Promise<void> };
export type Udf<In, Out> = UdfFunction<In, Out> | UdfClass<In, Out>;

/** Tasks: at most `size` at once (default: as resources allow). Actors: a pool of `size`, or autoscaling from minSize
 *  to maxSize starting at initialSize (default minSize), each actor given up to maxTasksInFlightPerActor (default 2)
 *  batches at once. Pools end with the execution. */
export type ComputeStrategy =
  | { type: "tasks"; size?: number }
  | { type: "actors"; size?: number; minSize?: number; maxSize?: number; initialSize?: number;
      maxTasksInFlightPerActor?: number };

/** Options of every map-like step. Resources (numCpus, numGpus, memory, ...) are per task or actor. */
export interface MapOptions extends ResourceOptions {
  compute?: ComputeStrategy;
  /** Shorthand for compute: n caps the concurrent tasks of a function UDF, and is a fixed pool of n actors for a
   *  class UDF; [min, max] or [min, max, initial] autoscales a pool (class UDFs only). A class UDF with neither
   *  gets a pool autoscaling from 1 to the cluster's CPUs. Both given: TypeError. */
  concurrency?: number | readonly [min: number, max: number] | readonly [min: number, max: number, initial: number];
  /** Extra arguments after the input; top-level ObjectRefs among them are resolved first. */
  fnArgs?: readonly unknown[];
  /** Constructor arguments of a class UDF; top-level ObjectRefs among them are resolved first. */
  fnConstructorArgs?: readonly unknown[];
  /** Task retries as in tsray (default 3 on worker death; thrown errors only with retryExceptions). */
  maxRetries?: TaskOptions["maxRetries"];
  retryExceptions?: TaskOptions["retryExceptions"];
  /** Restarts of a pool actor (default -1, forever); its in-flight batches go to another actor. */
  maxRestarts?: ActorOptions["maxRestarts"];
  /** Operator name in errors and task names. Default as Ray's, e.g. "MapBatches(fnName)". */
  name?: string;
}

export interface MapBatchesOptions<F extends BatchFormat = BatchFormat> extends MapOptions {
  /** Rows per call; null (default): a whole block per call. */
  batchSize?: number | null;
  batchFormat?: F;
  /** true (default): the batch may be a zero-copy view, which fn must not mutate; false: a copy. */
  zeroCopyBatch?: boolean;
}

export interface IterBatchesOptions<F extends BatchFormat = BatchFormat> {
  /** Rows per batch (default 256); null: one batch per block. */
  batchSize?: number | null;
  batchFormat?: F;
  /** Drop a last batch smaller than batchSize. Default false. */
  dropLast?: boolean;
  prefetchBatches?: number;
  localShuffleBufferSize?: number;
  localShuffleSeed?: number;
}

export interface CreateOptions {
  /** Blocks to make. Default, as Ray: max(min(200, bytes / 1 MiB), 2 × cluster CPUs), at most one per row. */
  overrideNumBlocks?: number;
}

/** An aggregation; `name` is its output column, as in Ray: "count()", "count(x)", "sum(x)", "min(x)", "max(x)", "mean(x)",
 *  "std(x)", "abs_max(x)", "quantile(x)", "unique(x)", or the aliasName given. */
export interface AggregateFn { readonly name: string }
