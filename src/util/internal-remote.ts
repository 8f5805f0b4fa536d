/**
 * `remote()` for functions and classes that live inside tsray itself (the Pool's chunk runner,
 * the Queue's actor).
 *
 * Why not plain `remote()`: it takes the scope of the target from the first stack frame outside
 * tsray's own folders. A call made at the top level of one of our modules has no such frame
 * (module evaluation is driven by the loader), so it falls back to the driver script and ships
 * the target's *source* with the driver's imports: the worker then lacks our imports. Here the
 * scope is given explicitly as the module that exports the target, which makes a
 * "module-export" descriptor: the worker simply imports our module.
 *
 * TODO(runtime): replace the cast below with an official hook in api/remote.ts (for example
 * an exported `remoteIn(scopeUrl, target, opts)`); see the report that came with this file.
 */
import { get as objectsGet } from "../api/objects.js";
import { ActorClass, RemoteFunction } from "../api/remote.js";
import { describeCallable } from "../core-worker/function-manager/describe.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { ObjectRef } from "../core-worker/object-ref.js";
import type { ActorOptionsInput, TaskOptionsInput } from "../core-worker/task-options.js";
import type { ActorClass as ActorClassType, RemoteFunction as RemoteFunctionType } from "../types.js";

/** What api/remote.ts's RemoteFunction and ActorClass need from their (unexported) Shipped. */
function shippedIn(target: Function, moduleUrl: string): { target: Function; scopeUrl: string; descriptor(): FunctionDescriptor } {
  let desc: FunctionDescriptor | undefined;
  // Described lazily, as remote() does: describing parses the module.
  return { target, scopeUrl: moduleUrl, descriptor: () => (desc ??= describeCallable(target, moduleUrl)) };
}

/** A remote function for `fn`, which must be exported by the module at `moduleUrl`. */
export function internalRemoteFunction<A extends unknown[], R>(
  fn: (...args: A) => R,
  moduleUrl: string,
  opts: TaskOptionsInput = {},
): RemoteFunctionType<A, R> {
  return new RemoteFunction(shippedIn(fn, moduleUrl) as never, opts) as unknown as RemoteFunctionType<A, R>;
}

/** An actor class for `cls`, which must be exported by the module at `moduleUrl`. */
export function internalActorClass<C extends abstract new (...args: any) => any>(
  cls: C,
  moduleUrl: string,
  opts: ActorOptionsInput = {},
): ActorClassType<C> {
  return new ActorClass(shippedIn(cls, moduleUrl) as never, opts) as unknown as ActorClassType<C>;
}

/** api/objects.get with the typed single-ref signature of the public `get` (src/index.ts, which we cannot import: cycle). */
export const getValue = objectsGet as <T>(ref: ObjectRef<T>) => Promise<T>;
