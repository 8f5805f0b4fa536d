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

/** This module, which exports runChunk (for its remote function, see internal-remote.ts). */
export const poolChunkModule = import.meta.url;

/** Chunks of numbers this long travel packed in a Float64Array, both ways; shorter ones are not worth it. */
export const PACKED_MIN_ITEMS = 4096;

/** A chunk's results: numbers come back packed. */
export type ChunkResult = unknown[] | Float64Array;

/**
 * Applies the function `desc` describes to each item of `chunk`, in order. With `star`, each
 * item is an argument list (starmap, apply). A chunk may be a typed array: a numeric chunk then
 * travels as one compact buffer (zero-copy when large) instead of an array of boxed numbers.
 */
export async function runChunk(desc: FunctionDescriptor, chunk: ArrayLike<unknown>, star: boolean): Promise<ChunkResult> {
  const fn = (await loadCallable(desc)) as AnyFn;
  const n = chunk.length;
  // Numbers go back packed (the Pool unpacks them): one buffer instead of a serialized array.
  // Results are written there until one is not a number; then they move to a plain array.
  let packed: Float64Array | undefined = n >= PACKED_MIN_ITEMS ? new Float64Array(n) : undefined;
  let out: unknown[] | undefined = packed ? undefined : new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    let r = star ? fn(...(chunk[i] as unknown[])) : fn(chunk[i]);
    // Await only real thenables: a microtask per item would dominate cheap synchronous functions.
    if (isThenable(r)) r = await r;
    if (packed) {
      if (typeof r === "number") {
        packed[i] = r;
        continue;
      }
      out = Array.from(packed.subarray(0, i));
      out.length = n;
      packed = undefined;
    }
    out![i] = r;
  }
  return packed ?? out!;
}
