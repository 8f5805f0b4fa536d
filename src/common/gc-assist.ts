/**
 * Garbage-collection help for the object store. An ObjectRef is a few bytes of heap standing
 * for megabytes of shared memory, so V8 has no reason to collect it soon; when the arena runs
 * short, the runtime asks for a collection itself and releases what it freed.
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/**
 * V8's gc(), made available without --expose-gc on the command line. One collection finds the
 * dead ObjectRefs and zero-copy views (the deserializer never holds a view: see ViewSlot).
 */
export function forceGc(): void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  collect();
}

/**
 * Runs `fn` after the finalizers of the last collection: V8 queues them as a task of their own,
 * which the event loop runs before the second turn from now. Releases of collected refs are then
 * on their way.
 */
export function afterFinalizers(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}
