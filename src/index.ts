/**
 * tsray: Ray for TypeScript.
 *
 * ```ts
 * import * as ray from "tsray";
 *
 * await ray.init();
 * const square = ray.remote((x: number) => x * x);
 * console.log(await ray.get([1, 2, 3].map((x) => square.remote(x)))); // [1, 4, 9]
 * await ray.shutdown();
 * ```
 *
 * The contract of this module is `shared/spec/tsray.d.ts`; see README.md for a tour.
 */
// Refs, generators and pools are disposable (`using`): users' projects get the declarations of
// Symbol.dispose and Disposable even when their target or lib predates them.
/// <reference lib="esnext.disposable" preserve="true" />
import type {
  ActorClass as ActorClassType, ActorHandle as ActorHandleType, RemoteFunction as RemoteFunctionType,
  ActorOptions, TaskOptions, Args, GetOptions, WaitOptions, CancelOptions, ObjectRefGenerator,
} from "./types.js";
import * as objects from "./api/objects.js";
import * as actors from "./api/actors.js";
import { remote as remoteImpl } from "./api/remote.js";
import { ObjectRef } from "./core-worker/object-ref.js";

export { ObjectRef };
export { init, isInitialized, shutdown } from "./api/lifecycle.js";
export type { InitOptions, ClusterInfo } from "./api/lifecycle.js";
export { nodes, clusterResources, availableResources, getRuntimeContext } from "./api/cluster.js";
export type { NodeInfo, RuntimeContext } from "./api/cluster.js";
export {
  RayError, RayTaskError, RayActorError, ActorDiedError, WorkerCrashedError, NodeDiedError, ObjectLostError,
  GetTimeoutError, TaskCancelledError, OutOfMemoryError, ObjectStoreFullError, RaySystemError,
} from "./common/errors.js";
export type * from "./types.js";
export * as util from "./util/index.js";

/** Stores a value in the object store and returns its reference. Synchronous, like Ray's. */
export function put<T>(value: T): ObjectRef<T> {
  return objects.put(value);
}

export function get<T>(ref: ObjectRef<T>, opts?: GetOptions): Promise<T>;
export function get<T extends readonly ObjectRef<unknown>[]>(
  refs: T,
  opts?: GetOptions,
): Promise<{ -readonly [K in keyof T]: T[K] extends ObjectRef<infer V> ? V : never }>;
export function get(refs: ObjectRef | readonly ObjectRef[], opts?: GetOptions): Promise<unknown> {
  return objects.get(refs, opts);
}

export function wait<T>(refs: readonly ObjectRef<T>[], opts?: WaitOptions): Promise<[ready: ObjectRef<T>[], notReady: ObjectRef<T>[]]> {
  return objects.wait(refs, opts);
}

export function cancel(ref: ObjectRef<unknown>, opts?: CancelOptions): Promise<void> {
  return objects.cancel(ref, opts);
}

export function getActor<T = any>(name: string, opts?: { namespace?: string }): Promise<ActorHandleType<T>> {
  return actors.getActor(name, opts) as Promise<ActorHandleType<T>>;
}

export function kill(actor: ActorHandleType<any>, opts?: { noRestart?: boolean }): Promise<void> {
  return actors.kill(actor as object, opts);
}

export function remote<C extends abstract new (...args: any) => any>(cls: C): ActorClassType<C>;
export function remote<A extends unknown[], R>(fn: (...args: A) => R): RemoteFunctionType<A, R>;
export function remote(opts: ActorOptions & TaskOptions): {
  <C extends abstract new (...args: any) => any>(cls: C): ActorClassType<C>;
  <A extends unknown[], R>(fn: (...args: A) => R): RemoteFunctionType<A, R>;
};
export function remote(x: unknown): unknown {
  return remoteImpl(x as never);
}

export type { Args, ObjectRefGenerator };
