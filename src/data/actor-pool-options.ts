/**
 * A class UDF's pool options (compute { type: "actors" }, the concurrency shorthand,
 * maxRestarts), checked once when the step is made and turned into an ActorPoolSpec, with errors
 * that name the option. Function UDFs go through map-options.ts alone: these options are refused
 * there by name.
 */
import type { ActorPoolSpec } from "./plan.js";
import type { MapOptions } from "./types.js";

const DEFAULT_IN_FLIGHT_PER_ACTOR = 2;

/** Whether `fn` is a class (Ray's callable class) rather than a function. */
export function isUdfClass(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

/** `what`: "mapBatches(Model)", for the errors. */
export function actorPoolSpec(what: string, opts: MapOptions): ActorPoolSpec {
  const { compute, concurrency } = opts;
  if (compute !== undefined && compute.type !== "actors") {
    throw new TypeError(`${what}: a class UDF runs on an actor pool; option compute must be { type: "actors", ... }, got type ${JSON.stringify(compute.type)}`);
  }
  let minSize = 1;
  let maxSize: number | undefined;
  let initialSize: number | undefined;
  let perActor = DEFAULT_IN_FLIGHT_PER_ACTOR;
  if (typeof concurrency === "number") {
    minSize = maxSize = positive(what, "concurrency", concurrency);
  } else if (Array.isArray(concurrency)) {
    if (concurrency.length !== 2 && concurrency.length !== 3) {
      throw new TypeError(`${what} option concurrency must be n, [min, max] or [min, max, initial], got an array of ${concurrency.length}`);
    }
    [minSize, maxSize, initialSize] = concurrency.map((n, i) => positive(what, `concurrency[${i}]`, n)) as [number, number, number?];
  } else if (concurrency !== undefined) {
    throw new TypeError(`${what} option concurrency must be n, [min, max] or [min, max, initial], got ${typeof concurrency}`);
  } else if (compute !== undefined) {
    if (compute.size !== undefined) {
      if (compute.minSize !== undefined || compute.maxSize !== undefined) throw new TypeError(`${what} option compute: give size, or minSize and maxSize, not both`);
      minSize = maxSize = positive(what, "compute.size", compute.size);
    } else {
      minSize = compute.minSize === undefined ? 1 : positive(what, "compute.minSize", compute.minSize);
      maxSize = compute.maxSize === undefined ? undefined : positive(what, "compute.maxSize", compute.maxSize);
    }
    if (compute.initialSize !== undefined) initialSize = positive(what, "compute.initialSize", compute.initialSize);
    if (compute.maxTasksInFlightPerActor !== undefined) perActor = positive(what, "compute.maxTasksInFlightPerActor", compute.maxTasksInFlightPerActor);
  }
  if (maxSize !== undefined && minSize > maxSize) throw new RangeError(`${what}: the pool's minimum size ${minSize} is above its maximum ${maxSize}`);
  if (initialSize !== undefined && (initialSize < minSize || (maxSize !== undefined && initialSize > maxSize))) {
    throw new RangeError(`${what}: the pool's initial size ${initialSize} is outside [${minSize}, ${maxSize ?? "cluster CPUs"}]`);
  }
  const maxRestarts = opts.maxRestarts ?? -1;
  if (!(Number.isInteger(maxRestarts) && maxRestarts >= -1)) throw new RangeError(`${what} option maxRestarts must be an integer >= -1, got ${String(maxRestarts)}`);
  return {
    minSize,
    ...(maxSize !== undefined ? { maxSize } : {}),
    ...(initialSize !== undefined ? { initialSize } : {}),
    maxTasksInFlightPerActor: perActor,
    maxRestarts,
  };
}

function positive(what: string, option: string, n: unknown): number {
  if (!(Number.isInteger(n) && (n as number) > 0)) throw new RangeError(`${what} option ${option} must be a positive integer, got ${String(n)}`);
  return n as number;
}
