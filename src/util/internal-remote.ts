/**
 * `remote()` for functions and classes that live inside tsray itself (the Pool's chunk runner,
 * the Queue's actor), typed as the public API types them. Each is given with the module that
 * exports it under its name (see remoteIn), which workers import.
 */
import { get as objectsGet } from "../api/objects.js";
import { remoteIn } from "../api/remote.js";
import type { ObjectRef } from "../core-worker/object-ref.js";
import type { ActorClass as ActorClassType, ActorOptions, RemoteFunction as RemoteFunctionType, TaskOptions } from "../types.js";

/** A remote function for `fn`, which must be exported by the module at `moduleUrl`. */
export function internalRemoteFunction<A extends unknown[], R>(
  fn: (...args: A) => R,
  moduleUrl: string,
  opts: TaskOptions = {},
): RemoteFunctionType<A, R> {
  return remoteIn(moduleUrl, fn, opts) as unknown as RemoteFunctionType<A, R>;
}

/** An actor class for `cls`, which must be exported by the module at `moduleUrl`. */
export function internalActorClass<C extends abstract new (...args: any) => any>(
  cls: C,
  moduleUrl: string,
  opts: ActorOptions = {},
): ActorClassType<C> {
  return remoteIn(moduleUrl, cls, opts) as unknown as ActorClassType<C>;
}

/** api/objects.get with the typed single-ref signature of the public `get` (src/index.ts, which we cannot import: cycle). */
export const getValue = objectsGet as <T>(ref: ObjectRef<T>) => Promise<T>;
