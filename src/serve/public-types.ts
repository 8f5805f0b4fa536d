/**
 * The typed faces of handles, deployments and applications, as serve.d.ts declares them: the
 * implementation classes are untyped (a handle answers any method name at run time), and
 * index.ts gives users these types.
 */
import type { ObjectRef } from "tsray";
import type { Application } from "./deployment.js";
import type { DeploymentResponse, DeploymentResponseGenerator } from "./response.js";
import type { DeploymentOptions } from "./options.js";
import type { HandleOptions } from "./handle.js";

type Fn = (...args: any[]) => any;
export type LifecycleHook = "init" | "reconfigure" | "checkHealth" | "shutdown";

type Bindable<V> = V extends DeploymentHandleBase<infer X>
  ? V | Application<X>
  : V extends readonly unknown[] ? { [K in keyof V]: Bindable<V[K]> } : V;
/** Constructor arguments, where an Application may stand for a DeploymentHandle (also in arrays). */
export type BindArgs<A extends unknown[]> = { [K in keyof A]: Bindable<A[K]> };

export interface TypedDeployment<T, A extends unknown[] = []> {
  readonly name: string;
  bind(...args: BindArgs<A>): Application<T>;
  options(opts: DeploymentOptions): TypedDeployment<T, A>;
}

export type HandleArgs<A extends readonly unknown[]> = {
  [K in keyof A]: A[K] | DeploymentResponse<A[K]> | ObjectRef<A[K]>;
};
export interface HandleMethod<A extends unknown[], R> {
  remote(...args: HandleArgs<A>): DeploymentResponse<Awaited<R>>;
}
export interface StreamingHandleMethod<A extends unknown[], R> {
  remote(...args: HandleArgs<A>): DeploymentResponseGenerator<Yielded<R>>;
}
type Yielded<R> = R extends Generator<infer Y, any, any> | AsyncGenerator<infer Y, any, any> ? Y : never;
type PublicMethods<T> = { [K in keyof T as K extends LifecycleHook ? never : T[K] extends Fn ? K : never]: T[K] };
type GeneratorMethods<T> = { [K in keyof PublicMethods<T> as T[K] extends (...a: any[]) => Generator | AsyncGenerator
  ? K : never]: T[K] };

export interface DeploymentHandleBase<T> {
  readonly __servable?: T;
  readonly deploymentName: string;
  readonly appName: string;
  options(opts: HandleOptions & { stream: true }): StreamingDeploymentHandle<T>;
  options(opts: HandleOptions): DeploymentHandle<T>;
}
type IsAny<T> = 0 extends 1 & T ? true : false;
export type UntypedHandleMethods = HandleMethod<any[], any> & { readonly [method: string]: HandleMethod<any[], any> };
export type UntypedStreamingHandleMethods = StreamingHandleMethod<any[], any> &
  { readonly [method: string]: { remote(...args: any[]): DeploymentResponseGenerator<any> } };
export type DeploymentHandle<T> = DeploymentHandleBase<T> &
  (IsAny<T> extends true
    ? UntypedHandleMethods
    : T extends Fn
      ? HandleMethod<Parameters<T>, ReturnType<T>>
      : { readonly [K in keyof PublicMethods<T>]: T[K] extends (...a: infer A) => infer R ? HandleMethod<A, R> : never });
export type StreamingDeploymentHandle<T> = DeploymentHandleBase<T> &
  (IsAny<T> extends true
    ? UntypedStreamingHandleMethods
    : T extends Fn
      ? StreamingHandleMethod<Parameters<T>, ReturnType<T>>
      : { readonly [K in keyof GeneratorMethods<T>]: T[K] extends (...a: infer A) => infer R
            ? StreamingHandleMethod<A, R> : never });
