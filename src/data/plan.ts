/**
 * The logical plan of a Dataset: a source and the steps after it, as plain immutable data. A
 * Dataset method returns a new plan with one more step; nothing runs until consumption hands
 * the plan to the executor (executor.ts).
 */
import type { Table } from "apache-arrow";
import type { TaskOptions, util } from "tsray";
import type { BlockRef } from "./block.js";
import type { DataContext } from "./context.js";
import type { Exchange } from "./exchange/exchange.js";
import type { ListOptions } from "./read/list-files.js";
import type { FileFormat, FilesInput } from "./read/read-file.js";
import type { BatchFormat } from "./types.js";
import type { WriteStage } from "./write/write-block.js";

export type Source =
  | { readonly kind: "range"; readonly n: number; readonly overrideNumBlocks?: number }
  | { readonly kind: "items"; readonly items: readonly object[]; readonly overrideNumBlocks?: number }
  | { readonly kind: "rangeTensor"; readonly n: number; readonly shape: readonly number[]; readonly overrideNumBlocks?: number }
  /** Tables the driver holds; `name`: the source's operator name (default "FromArrow"). */
  | { readonly kind: "tables"; readonly tables: readonly Table[]; readonly name?: string }
  | FilesSource
  /** The outputs of these plans, one after the other (Dataset.union). */
  | { readonly kind: "union"; readonly plans: readonly Plan[] }
  /** The rows of two plans of equal row count side by side (Dataset.zip, zip.ts). */
  | { readonly kind: "zip"; readonly left: Plan; readonly right: Plan }
  /** Blocks already in the object store (a materialized dataset); numRows unknown for refs a user gave (fromArrowRefs). */
  | { readonly kind: "blocks"; readonly refs: readonly BlockRef[]; readonly numRows?: readonly number[] }
  /** An all-to-all step (shuffle, repartition, sort, groupby) over the whole output of `input`. */
  | { readonly kind: "allToAll"; readonly input: Plan; readonly exchange: Exchange };

/** Files to list at consumption and read in read tasks (read/index.ts). */
export interface FilesSource {
  readonly kind: "files";
  readonly format: FileFormat;
  readonly paths: readonly string[];
  readonly list: ListOptions;
  /** The read tasks' input, but for its files. */
  readonly input: FilesInput;
  readonly taskOptions: TaskOptions;
  readonly concurrency?: number;
  readonly overrideNumBlocks?: number;
  /** Shuffle the files: null for an unseeded order. */
  readonly shuffleSeed?: number | null;
}

export type StageKind = "map" | "mapBatches" | "filter" | "flatMap" | "addColumn";

/** One step as its task receives it: plain data. */
export type StageSpec = UdfStage | ColumnsStage | SampleStage | WriteStage;

/** A UDF step (the UDF shipped by util.shipFunction). */
export interface UdfStage {
  readonly kind: StageKind;
  /** As Ray names operators: "Map(fn)", "MapBatches(fn)", "Filter(fn)", "FlatMap(fn)", or the name option. */
  readonly name: string;
  readonly fn: util.ShippedFunction;
  readonly fnArgs: readonly unknown[];
  /** mapBatches only: rows per call (null: the whole block) and the batch format. */
  readonly batchSize: number | null;
  readonly batchFormat: BatchFormat;
  /** mapBatches only: false gives the UDF copies of typed-array columns instead of views of the block. */
  readonly zeroCopyBatch: boolean;
  /** addColumn only: the column the UDF computes. */
  readonly column?: string;
  /** A class UDF (run on an actor pool): its constructor's arguments. Absent for a function UDF. */
  readonly fnConstructorArgs?: readonly unknown[];
}

/** A step on columns alone, with no UDF. */
export type ColumnsStage =
  | { readonly kind: "selectColumns" | "dropColumns"; readonly name: string; readonly columns: readonly string[] }
  | { readonly kind: "renameColumns"; readonly name: string; readonly names: Readonly<Record<string, string>> };

/** Dataset.randomSample: each row kept with probability `fraction`; seeded per block, so the same seed and blocks give the same rows. */
export interface SampleStage { readonly kind: "randomSample"; readonly name: string; readonly fraction: number; readonly seed: number | null }

export function isColumnsStage(stage: StageSpec): stage is ColumnsStage {
  return stage.kind === "selectColumns" || stage.kind === "dropColumns" || stage.kind === "renameColumns";
}

/** A map-like step with how its tasks run. Neighbouring steps with equal task options and concurrency fuse. */
export interface MapStep {
  readonly kind: "map";
  readonly stage: StageSpec;
  readonly taskOptions: TaskOptions;
  /** Most tasks of this step at once (concurrency / compute.size); undefined: as resources allow. */
  readonly concurrency?: number;
  /** A class UDF's step: the actor pool it runs on (actor-pool.ts); `taskOptions` are then the actors' resources. */
  readonly pool?: ActorPoolSpec;
}
/** An actor pool's size and limits; maxSize undefined: the cluster's CPUs at execution. */
export interface ActorPoolSpec {
  readonly minSize: number;
  readonly maxSize?: number;
  readonly initialSize?: number;
  readonly maxTasksInFlightPerActor: number;
  readonly maxRestarts: number;
}
export interface LimitStep { readonly kind: "limit"; readonly n: number }
export type Step = MapStep | LimitStep;

export interface Plan {
  readonly source: Source;
  readonly steps: readonly Step[];
  /** The DataContext as it was when the plan's Dataset was made; its execution and tasks use it. */
  readonly context?: DataContext;
}

/** Sources read by read tasks (an operator of their own), rather than blocks the driver holds. */
export function isReadSource(source: Source): boolean {
  return source.kind === "range" || source.kind === "rangeTensor" || source.kind === "files";
}

export function withStep(plan: Plan, step: Step): Plan {
  return { ...plan, steps: [...plan.steps, step] };
}

/** Rows of the plan's output known without running anything, if they are. */
export function knownRowCount(plan: Plan): number | undefined {
  if (plan.steps.some((s) => s.kind === "map")) return undefined;
  const limit = Math.min(...plan.steps.map((s) => (s.kind === "limit" ? s.n : Infinity)));
  const rows = sourceRowCount(plan.source);
  return rows === undefined ? undefined : Math.min(rows, limit);
}

function sourceRowCount(source: Source): number | undefined {
  switch (source.kind) {
    case "range": return source.n;
    case "rangeTensor": return source.n;
    case "items": return source.items.length;
    case "tables": return source.tables.reduce((sum, t) => sum + t.numRows, 0);
    case "blocks": return source.numRows?.reduce((sum, n) => sum + n, 0);
    case "files": return undefined;
    case "allToAll": return source.exchange.kind === "aggregate" || source.exchange.kind === "groupBlocks" ? undefined : knownRowCount(source.input);
    case "zip": return knownRowCount(source.left);
    case "union": {
      const counts = source.plans.map(knownRowCount);
      return counts.every((c) => c !== undefined) ? counts.reduce((a, b) => a! + b!, 0) : undefined;
    }
  }
}

export function sourceName(source: Source): string {
  switch (source.kind) {
    case "range": return "ReadRange";
    case "rangeTensor": return "ReadRangeTensor";
    case "items": return "FromItems";
    case "tables": return source.name ?? "FromArrow";
    case "blocks": return "InputBlocks";
    case "files": return { csv: "ReadCSV", json: "ReadJSON", text: "ReadText", binary: "ReadBinary", parquet: "ReadParquet", numpy: "ReadNumpy", images: "ReadImage" }[source.format];
    case "union": return "Union";
    case "zip": return "Zip";
    case "allToAll": return source.exchange.name;
  }
}
