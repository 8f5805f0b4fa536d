/**
 * Garbage-collection help for the object store. An ObjectRef or a zero-copy view is a few bytes
 * of heap standing for megabytes of shared memory, so V8 has no reason to collect it soon; when
 * the arena runs short, the runtime asks for a collection itself and releases, at once, what it
 * freed.
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

/** A FinalizationRegistry whose callbacks can also be run synchronously, right after a collection. */
export interface SweepableRegistry<T> {
  register(target: object, held: T, token: object): void;
  unregister(token: object): boolean;
  /**
   * Runs now the callbacks of the targets the last collection freed. Finalizers otherwise run in
   * a later turn of the event loop, too late for a synchronous put waiting for room. Without
   * platform support (see below) the callbacks still run, later.
   */
  sweep(): void;
}

type CleanupSome = { cleanupSome?(): void };
let Registry: typeof FinalizationRegistry | undefined;

/**
 * FinalizationRegistry.prototype.cleanupSome is a V8 feature behind a flag; the flag is read when
 * a context is created, so the registry comes from a context made after setting it. Unlike a
 * WeakRef (which V8 keeps alive for the rest of the current job), it lets a collection in the
 * middle of a job free what that same job made and dropped.
 */
export function sweepableRegistry<T>(cleanup: (held: T) => void): SweepableRegistry<T> {
  const registry = new (registryClass())<T>(cleanup) as FinalizationRegistry<T> & CleanupSome;
  return {
    register: (target, held, token) => registry.register(target, held, token),
    unregister: (token) => registry.unregister(token),
    sweep: () => registry.cleanupSome?.(),
  };
}

/** Whether `sweep` runs callbacks synchronously on this platform. */
export function canSweep(): boolean {
  return typeof (registryClass().prototype as CleanupSome).cleanupSome === "function";
}

function registryClass(): typeof FinalizationRegistry {
  if (!Registry) {
    v8.setFlagsFromString("--harmony-weak-refs-with-cleanup-some");
    Registry = vm.runInNewContext("FinalizationRegistry") as typeof FinalizationRegistry;
  }
  return Registry;
}

/**
 * Runs `fn` after the finalizers of the last collection: V8 queues them as a task of their own,
 * which the event loop runs before the second turn from now. Releases of collected refs are then
 * on their way.
 */
export function afterFinalizers(fn: () => void): void {
  setImmediate(() => setImmediate(fn));
}
