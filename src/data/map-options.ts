/**
 * A map-like call's options, checked once and compiled into its plan step: unknown options are
 * refused by name, options this version does not run yet (actor pools) are refused rather than
 * ignored, and the rest become the step's task options and concurrency.
 */
import * as ray from "tsray";
import type { TaskOptions } from "tsray";
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
  if (/^class[\s{]/.test(Function.prototype.toString.call(fn))) {
    throw new TypeError(`${method}(${fn.name}): class UDFs (run on actor pools) are not supported yet; pass a function`);
  }
  const execution = checkExecutionOptions(method, opts, kind === "mapBatches" ? BATCH_KEYS : MAP_KEYS);
  for (const key of ["fnConstructorArgs", "maxRestarts"] as const) {
    if (opts[key] !== undefined) throw new TypeError(`${method}() option ${key} is for class UDFs on actor pools, which are not supported yet`);
  }
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
    },
    ...execution,
  };
}

/** A step on columns alone (select, drop, rename): no UDF, but resources and concurrency as any map step. */
export function columnsStep(stage: ColumnsStage, opts: MapOptions = {}): MapStep {
  const execution = checkExecutionOptions(stage.kind, opts, EXECUTION_KEYS.filter((k) => k !== "maxRestarts"));
  return { kind: "map", stage: opts.name !== undefined ? { ...stage, name: opts.name } : stage, ...execution };
}

function checkExecutionOptions(method: string, opts: MapOptions, known: readonly string[]): { taskOptions: TaskOptions; concurrency?: number } {
  if (typeof opts !== "object" || opts === null) throw new TypeError(`${method}() options must be an object`);
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) throw new TypeError(`${method}() has no option '${key}'`);
  }
  if (opts.compute !== undefined && opts.concurrency !== undefined) throw new TypeError(`${method}(): give compute or concurrency, not both`);
  if (opts.compute !== undefined && opts.compute.type !== "tasks") {
    throw new TypeError(`${method}() option compute: actor pools are not supported yet; use { type: "tasks" }`);
  }
  const concurrency = opts.compute?.size ?? opts.concurrency;
  if (concurrency !== undefined && !(Number.isInteger(concurrency) && (concurrency as number) > 0)) {
    throw new RangeError(`${method}() option concurrency must be a positive integer for a function UDF, got ${String(concurrency)}`);
  }
  const taskOptions: TaskOptions = {};
  for (const key of [...RESOURCE_KEYS, "maxRetries", "retryExceptions"] as const) {
    if (opts[key] !== undefined) (taskOptions as Record<string, unknown>)[key] = opts[key];
  }
  return concurrency !== undefined ? { taskOptions, concurrency: concurrency as number } : { taskOptions };
}
