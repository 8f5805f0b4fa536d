/**
 * The value of an ObjectRef that nothing else will read (an internal call's result): the ref is
 * given up as soon as the value is here. Left to garbage collection, each call's result would stay
 * in the node's store, and its ref survive young-generation collections (a ref is watched by a
 * FinalizationRegistry), until the next full collection: at thousands of requests a second, that
 * is most of the proxy's collection work.
 */
import * as ray from "tsray";

export async function getOnce<T>(ref: ray.ObjectRef<T>): Promise<T> {
  try {
    return await ray.get(ref);
  } finally {
    ref[Symbol.dispose]();
  }
}
