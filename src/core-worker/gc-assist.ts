/**
 * Garbage-collection help for the object store. An ObjectRef is a few bytes of heap standing
 * for megabytes of shared memory, so V8 has no reason to collect it soon; when the arena runs
 * short, the runtime asks for a collection itself and releases what it freed.
 */
import v8 from "node:v8";
import vm from "node:vm";

let collect: (() => void) | undefined;

/**
 * V8's gc(), made available without --expose-gc on the command line. Twice by default: a
 * deserializer's native half is released by the first collection, and only then are the
 * zero-copy views it made collectable; once finds the dead ObjectRefs (half the pause).
 */
export function forceGc(passes = 2): void {
  if (!collect) {
    v8.setFlagsFromString("--expose-gc");
    collect = vm.runInNewContext("gc") as () => void;
  }
  for (let i = 0; i < passes; i++) collect();
}

/** A pause that blocks this thread (a synchronous put waiting for room), without spinning. */
export function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
