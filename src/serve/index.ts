/**
 * tsray/serve: the TypeScript port of Ray Serve (contract: shared/spec/serve.d.ts), built on
 * tsray's public API only. Users write `import * as serve from "tsray/serve"`. The functions are
 * re-exported here with the contract's types (the implementations are untyped where a handle
 * answers any method name).
 */
import * as api from "./api.js";
import type { ServeDeployConfig } from "./config.js";
import * as deployApi from "./deploy.js";
import { deployment as makeDeployment, type Application } from "./deployment.js";
import type { DeploymentOptions } from "./options.js";
import type { DeploymentHandle, TypedDeployment } from "./public-types.js";

export { RayServeError, BackPressureError, RequestCancelledError, DeploymentUnavailableError } from "./errors.js";
export { getRequestContext, getReplicaContext, getMultiplexedModelId } from "./request-context.js";
export type { RequestContext, ReplicaContext } from "./request-context.js";
export { batch } from "./batch.js";
export type { BatchOptions, BatchedFunction } from "./batch.js";
export { multiplexed } from "./multiplexed.js";
export { Application } from "./deployment.js";
export type { DeploymentOptions, AutoscalingConfig, JsonValue } from "./options.js";
export { DeploymentResponse, DeploymentResponseGenerator } from "./response.js";
export type { HandleOptions } from "./handle.js";
export type { RunOptions } from "./api.js";
export type { ServeDeployConfig } from "./config.js";
export type { StartOptions } from "./proxy.js";
export type { ServeStatus, ApplicationStatus, ApplicationStatusOverview, ProxyStatus } from "./controller.js";
export type { DeploymentStatus, DeploymentStatusOverview, ReplicaDetails } from "./deployment-state.js";
export type {
  DeploymentHandle, StreamingDeploymentHandle, DeploymentHandleBase, HandleMethod, StreamingHandleMethod, BindArgs,
  TypedDeployment as Deployment,
} from "./public-types.js";

type Fn = (...args: any[]) => any;

export function deployment<C extends abstract new (...args: any) => any>(cls: C, opts?: DeploymentOptions): TypedDeployment<InstanceType<C>, ConstructorParameters<C>>;
export function deployment<F extends Fn>(fn: F, opts?: DeploymentOptions): TypedDeployment<F, []>;
export function deployment(target: Function, opts?: DeploymentOptions): unknown {
  return makeDeployment(target, opts);
}

export const start = api.start;
export const status = api.status;
export const deleteApp = api.deleteApp;
export { deleteApp as delete };
export const shutdown = api.shutdown;
export const run = api.run as <T>(app: Application<T>, opts?: api.RunOptions) => Promise<DeploymentHandle<T>>;
export const getAppHandle = api.getAppHandle as unknown as <T = any>(appName: string) => Promise<DeploymentHandle<T>>;
export const getDeploymentHandle = api.getDeploymentHandle as unknown as <T = any>(name: string, appName?: string) => Promise<DeploymentHandle<T>>;
/** Declarative and idempotent: afterwards exactly the config's applications run (see deploy.ts). */
export const deploy: (config: ServeDeployConfig) => Promise<void> = deployApi.deploy;
