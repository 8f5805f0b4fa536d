/**
 * Functions as values, for libraries built on the public API (tsray Data's UDFs; later Tune's
 * trainables, Train's loops). A plain function cannot be sent to a task, and a library's own
 * task bodies are not in its user's scope, so the core gives two public ways through:
 *
 * - `shipFunction(fn)` describes a user's function as plain data that tasks and actors can
 *   receive; `loadFunction` rebuilds it inside the worker. It is described exactly as
 *   `remote(fn)` would describe it (by source with its module's imports, or by module), from the
 *   first stack frame outside tsray, so a library inside tsray calling it on its user's behalf
 *   describes the user's function in the user's module. A closure over a local variable fails
 *   when it runs with the same ReferenceError naming the variable as a remote function's.
 * - `remoteExport(moduleUrl, fn)` makes a remote function or actor class of a function or class
 *   that the module at `moduleUrl` (its `import.meta.url`) exports under its own name: workers
 *   import that module, whoever called.
 */
import { remoteIn } from "../api/remote.js";
import { callerModuleUrl, describeCallable } from "../core-worker/function-manager/describe.js";
import { isFunctionDescriptor, type FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import { loadCallable } from "../core-worker/function-manager/load.js";
import type { ActorClass, ActorOptions, RemoteFunction, TaskOptions } from "../types.js";

const SHIPPED = "tsray.shipped-function";

/** A function described as plain data (structured-clone safe); `F` is its type once loaded. */
export interface ShippedFunction<F extends Function = Function> {
  readonly kind: typeof SHIPPED;
  readonly name: string;
  /** Opaque to callers: what a worker needs to rebuild the function. */
  readonly descriptor: unknown;
  /** Type-only: never set. */
  readonly __type?: F;
}

export function shipFunction<F extends Function>(fn: F): ShippedFunction<F> {
  if (typeof fn !== "function") throw new TypeError(`shipFunction() takes a function or class, got ${fn === null ? "null" : typeof fn}`);
  return { kind: SHIPPED, name: fn.name, descriptor: describeCallable(fn, callerModuleUrl()) };
}

export function isShippedFunction(value: unknown): value is ShippedFunction {
  return typeof value === "object" && value !== null && (value as { kind?: unknown }).kind === SHIPPED &&
    isFunctionDescriptor((value as { descriptor?: unknown }).descriptor);
}

/** Rebuilds a shipped function in this thread (cached: loading the same one again is cheap). */
export async function loadFunction<F extends Function>(shipped: ShippedFunction<F>): Promise<F> {
  if (!isShippedFunction(shipped)) throw new TypeError("loadFunction() takes what shipFunction() returned");
  return (await loadCallable(shipped.descriptor as FunctionDescriptor)) as unknown as F;
}

export function remoteExport<C extends abstract new (...args: any) => any>(moduleUrl: string, cls: C, opts?: ActorOptions): ActorClass<C>;
export function remoteExport<A extends unknown[], R>(moduleUrl: string, fn: (...args: A) => R, opts?: TaskOptions): RemoteFunction<A, R>;
export function remoteExport(moduleUrl: string, target: Function, opts: ActorOptions & TaskOptions = {}): unknown {
  if (typeof moduleUrl !== "string" || !/^(file|data):/.test(moduleUrl)) {
    throw new TypeError(`remoteExport() takes the exporting module's URL (import.meta.url) first, got ${String(moduleUrl)}`);
  }
  if (typeof target !== "function" || !target.name) throw new TypeError("remoteExport() takes a named, exported function or class");
  return remoteIn(moduleUrl, target, opts);
}
