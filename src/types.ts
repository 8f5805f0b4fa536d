/**
 * The public types of the contract (shared/spec/tsray.d.ts) that are interfaces rather than
 * classes: what remote functions, actor classes and handles look like to the type checker.
 */
import type { ObjectRef } from "./core-worker/object-ref.js";
import type { PlacementGroup } from "./api/placement-group.js";

export type Arg<T> = T | ObjectRef<T>;
export type Args<A extends readonly unknown[]> = { [K in keyof A]: Arg<A[K]> };

export interface GetOptions {
  /** Give up after this long with GetTimeoutError. Default: wait forever. */
  timeoutMs?: number;
}
export interface WaitOptions {
  numReturns?: number;
  timeoutMs?: number;
  fetchLocal?: boolean;
}
export interface CancelOptions {
  force?: boolean;
  recursive?: boolean;
}

export interface RuntimeEnv {
  env?: Record<string, string>;
  workingDir?: string;
}

export type SchedulingStrategy =
  | "DEFAULT"
  | "SPREAD"
  | { type: "node_affinity"; nodeId: string; soft: boolean }
  | { type: "placement_group"; placementGroup: PlacementGroup; bundleIndex?: number };

export interface ResourceOptions {
  numCpus?: number;
  numGpus?: number;
  memory?: number;
  resources?: Record<string, number>;
  schedulingStrategy?: SchedulingStrategy;
  runtimeEnv?: RuntimeEnv;
  /**
   * Where the work runs on its node: "thread" (default), a worker thread sharing the node's
   * memory; "process", a worker process of its own (its own pid, cwd and environment; objects
   * copied in and out). A runtimeEnv with `workingDir` implies "process".
   */
  isolation?: "thread" | "process";
}

export interface TaskOptions extends ResourceOptions {
  maxRetries?: number;
  retryExceptions?: boolean | string[];
  numReturns?: number | "streaming";
  name?: string;
  /**
   * Streaming tasks: how many items the task may yield ahead of its consumer before it waits for
   * the consumer to take one (Ray's `_generator_backpressure_num_objects`). Default 16; -1: no limit.
   */
  generatorBackpressureNumObjects?: number;
}

export interface RemoteFunction<A extends unknown[], R> {
  remote(...args: Args<A>): ObjectRef<Awaited<R>>;
  options(opts: TaskOptions & { numReturns: "streaming" }): StreamingRemoteFunction<A, R>;
  options(opts: TaskOptions & { numReturns: number }): MultiReturnRemoteFunction<A, R>;
  options(opts: TaskOptions): RemoteFunction<A, R>;
}
export interface MultiReturnRemoteFunction<A extends unknown[], R> {
  remote(...args: Args<A>): Awaited<R> extends readonly unknown[] ? RefsOf<Awaited<R>> : ObjectRef<unknown>[];
}
type RefsOf<T extends readonly unknown[]> = { -readonly [K in keyof T]: ObjectRef<T[K]> };
export interface StreamingRemoteFunction<A extends unknown[], R> {
  remote(...args: Args<A>): ObjectRefGenerator<Yielded<R>>;
}
type Yielded<R> = R extends Generator<infer Y, any, any> | AsyncGenerator<infer Y, any, any> ? Y : unknown;

export interface ObjectRefGenerator<T> extends AsyncIterableIterator<ObjectRef<T>>, AsyncDisposable, Disposable {
  /** The next reference; throws the task's error once it fails. */
  next(): Promise<IteratorResult<ObjectRef<T>>>;
  /**
   * Closes the generator (what `break` out of `for await` does): the items not taken yet are
   * freed, later ones dropped, and the task, if it still runs, is cancelled.
   */
  return(): Promise<IteratorResult<ObjectRef<T>>>;
}

export interface ActorOptions extends ResourceOptions {
  name?: string;
  namespace?: string;
  lifetime?: "detached";
  getIfExists?: boolean;
  maxRestarts?: number;
  maxTaskRetries?: number;
  maxConcurrency?: number;
}

export interface ActorMethod<A extends unknown[], R> {
  remote(...args: Args<A>): ObjectRef<Awaited<R>>;
  options(opts: { numReturns?: number; name?: string }): ActorMethod<A, R>;
}

type Fn = (...args: any[]) => any;
export type ActorHandle<T> = {
  readonly [K in keyof T as T[K] extends Fn ? K : never]: T[K] extends (...args: infer A) => infer R ? ActorMethod<A, R> : never;
};

export interface ActorClass<C extends abstract new (...args: any) => any> {
  remote(...args: Args<ConstructorParameters<C>>): ActorHandle<InstanceType<C>>;
  options(opts: ActorOptions): ActorClass<C>;
}

export type { PlacementGroup };
