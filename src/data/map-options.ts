/**
 * A map-like call's options, checked once and compiled into its plan step: unknown options are
 * refused by name, options that do not fit the UDF (a pool for a function, tasks for a class) are
 * refused rather than ignored, and the rest become the step's task (or actor) options,
 * concurrency and, for a class UDF, its actor pool (actor-pool-options.ts).
 */
import * as ray from "tsray";
import type { TaskOptions } from "tsray";
import { actorPoolSpec, isUdfClass } from "./actor-pool-options.js";
import type { ColumnsStage, MapStep, StageKind } from "./plan.js";
import type { BatchFormat, MapBatchesOptions, MapOptions } from "./types.js";

const RESOURCE_KEYS = ["numCpus", "numGpus", "memory", "resources", "schedulingStrategy", "runtimeEnv", "isolation"] as const;
const EXECUTION_KEYS = [...RESOURCE_KEYS, "compute", "concurrency", "maxRetries", "retryExceptions", "maxRestarts", "name"];
const MAP_KEYS = [...EXECUTION_KEYS, "fnArgs", "fnConstructorArgs"];
const BATCH_KEYS = [...MAP_KEYS, "batchSize", "batchFormat", "zeroCopyBatch"];
const BATCH_FORMATS: readonly BatchFormat[] = ["default", "numpy", "rows", "arrow"];
const OPERATOR_NAMES: Record<StageKind, string> = {
  map: "Map", mapBatches: "MapBatches", filter: "Filter", flatMap: "FlatMap", addColumn: "AddColumn",
};

/** A UDF step. `column`: the column an addColumn UDF computes. */
export function mapStep(kind: StageKind, fn: unknown, opts: MapBatchesOptions = {}, column?: string): MapStep {
  const method = kind;
  if (typeof fn !== "function") throw new TypeError(`${method}() takes a function, got ${fn === null ? "null" : typeof fn}`);
  const isClass = isUdfClass(fn);
  const execution = checkExecutionOptions(method, opts, kind === "mapBatches" ? BATCH_KEYS : MAP_KEYS, isClass);
  if (!isClass) {
    for (const key of ["fnConstructorArgs", "maxRestarts"] as const) {
      if (opts[key] !== undefined) throw new TypeError(`${method}() option ${key} is for class UDFs (run on actor pools); ${fn.name || "this UDF"} is a function`);
    }
  }
  if (opts.fnConstructorArgs !== undefined && !Array.isArray(opts.fnConstructorArgs)) throw new TypeError(`${method}() option fnConstructorArgs must be an array`);
  const batchSize = opts.batchSize ?? null;
  if (batchSize !== null && !(Number.isInteger(batchSize) && batchSize > 0)) {
    throw new RangeError(`${method}() option batchSize must be a positive integer or null, got ${String(batchSize)}`);
  }
  const batchFormat = opts.batchFormat ?? "default";
  if (!BATCH_FORMATS.includes(batchFormat)) {
    throw new TypeError(`${method}() option batchFormat must be one of ${BATCH_FORMATS.join(", ")}, got ${String(batchFormat)}`);
  }
  if (opts.zeroCopyBatch !== undefined && typeof opts.zeroCopyBatch !== "boolean") throw new TypeError(`${method}() option zeroCopyBatch must be a boolean`);
  if (opts.fnArgs !== undefined && !Array.isArray(opts.fnArgs)) throw new TypeError(`${method}() option fnArgs must be an array`);
  return {
    kind: "map",
    stage: {
      kind,
      name: opts.name ?? `${OPERATOR_NAMES[kind]}(${fn.name || "<lambda>"})`,
      // Described now, while the user's frame is on the stack: shipFunction takes the UDF's module from it.
      fn: ray.util.shipFunction(fn),
      fnArgs: opts.fnArgs ?? [],
      batchSize,
      batchFormat,
      zeroCopyBatch: opts.zeroCopyBatch ?? true,
      ...(column !== undefined ? { column } : {}),
      ...(isClass ? { fnConstructorArgs: opts.fnConstructorArgs ?? [] } : {}),
    },
    ...execution,
    ...(isClass ? { pool: actorPoolSpec(`${method}(${fn.name || "<class>"})`, opts) } : {}),
  };
}

/** A step on columns alone (select, drop, rename): no UDF, but resources and concurrency as any map step. */
export function columnsStep(stage: ColumnsStage, opts: MapOptions = {}): MapStep {
  const execution = checkExecutionOptions(stage.kind, opts, EXECUTION_KEYS.filter((k) => k !== "maxRestarts"));
  return { kind: "map", stage: opts.name !== undefined ? { ...stage, name: opts.name } : stage, ...execution };
}

/** `isClass`: a class UDF, whose compute and concurrency make its pool (actor-pool-options.ts) instead. */
function checkExecutionOptions(method: string, opts: MapOptions, known: readonly string[], isClass = false): { taskOptions: TaskOptions; concurrency?: number } {
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${method}() options must be an object`);
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) throw new TypeError(`${method}() has no option '${key}'`);
  }
  if (opts.compute !== undefined && opts.concurrency !== undefined) throw new TypeError(`${method}(): give compute or concurrency, not both`);
  if (isClass) return { taskOptions: taskOptionsOf(opts) };
  if (opts.compute !== undefined && opts.compute.type !== "tasks") {
    throw new TypeError(`${method}() option compute: { type: ${JSON.stringify(opts.compute.type)} } is for class UDFs (Ray's callable classes); a function UDF runs as tasks`);
  }
  if (Array.isArray(opts.concurrency)) {
    throw new TypeError(`${method}() option concurrency: [min, max] autoscales an actor pool, for class UDFs only; a function UDF takes a number`);
  }
  const concurrency = opts.compute?.size ?? opts.concurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && (concurrency as number) > 0)) {
    throw new RangeError(`${method}() option concurrency must be a positive integer for a function UDF, got ${String(concurrency)}`);
  }
  const taskOptions = taskOptionsOf(opts);
  return concurrency !== undefined ? { taskOptions, concurrency: concurrency as number } : { taskOptions };
}

function taskOptionsOf(opts: MapOptions): TaskOptions {
  const taskOptions: TaskOptions = {};
  for (const key of [...RESOURCE_KEYS, "maxRetries", "retryExceptions"] as const) {
    if (opts[key] !== undefined) (taskOptions as Record<string, unknown>)[key] = opts[key];
  }
  return taskOptions;
}
