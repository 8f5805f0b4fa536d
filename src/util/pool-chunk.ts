/**
 * The task body behind util.Pool: runs the user's function over one chunk of items.
 *
 * Kept in a module of its own with few imports, because workers import it (by its URL, through
 * a "module-export" descriptor) to run the task: they should not load the whole Pool for it.
 */
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import { loadCallable } from "../core-worker/function-manager/load.js";
import { isThenable } from "./async-tools.js";

type AnyFn = (...args: unknown[]) => unknown;

/** A chunk's results: numbers come back packed. */
export type ChunkResult = unknown[] | Float64Array;

/**
 * Applies the function `desc` describes to each item of `chunk`, in order. With `star`, each
 * item is an argument list (starmap, apply). A chunk may be a typed array: a numeric chunk then
 * travels as one compact buffer (zero-copy when large) instead of an array of boxed numbers.
 */
export async function runChunk(desc: FunctionDescriptor, chunk: ArrayLike<unknown>, star: boolean): Promise<ChunkResult> {
  const fn = (await loadCallable(desc)) as AnyFn;
  const out = new Array<unknown>(chunk.length);
  let numeric = chunk.length >= 4096;
  for (let i = 0; i < chunk.length; i++) {
    let r = star ? fn(...(chunk[i] as unknown[])) : fn(chunk[i]);
    // Await only real thenables: a microtask per item would dominate cheap synchronous functions.
    if (isThenable(r)) r = await r;
    out[i] = r;
    if (numeric && typeof r !== "number") numeric = false;
  }
  // Numbers go back packed (the Pool unpacks them): one buffer instead of a serialized array.
  return numeric ? Float64Array.from(out as number[]) : out;
}
