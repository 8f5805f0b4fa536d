/**
 * tsray/serve: the TypeScript port of Ray Serve (contract: shared/spec/serve.d.ts), built on
 * tsray's public API only. Users write `import * as serve from "tsray/serve"`.
 */
export { RayServeError, BackPressureError, RequestCancelledError, DeploymentUnavailableError } from "./errors.js";
export { getRequestContext, getReplicaContext, getMultiplexedModelId } from "./request-context.js";
export type { RequestContext, ReplicaContext } from "./request-context.js";
export { batch } from "./batch.js";
export type { BatchOptions, BatchedFunction } from "./batch.js";
export { multiplexed } from "./multiplexed.js";
