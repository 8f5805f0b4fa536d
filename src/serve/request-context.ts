/**
 * Where replica code runs and which request it serves, kept across awaits (AsyncLocalStorage), as
 * Ray Serve's replica and request contexts. A replica sets its ReplicaContext once when it starts;
 * every request (an HTTP request or a handle call) runs its method inside withRequestContext, so
 * getRequestContext(), getMultiplexedModelId() and the handle calls it makes see it.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { RayServeError } from "./errors.js";

/** The request the calling replica code is serving (see serve.d.ts). */
export interface RequestContext {
  /** The HTTP x-request-id, or the handle call's DeploymentResponse.requestId. */
  requestId: string;
  /** The route prefix the HTTP request matched; "" for handle calls. */
  route: string;
  appName: string;
  multiplexedModelId: string;
  /** Aborts on cancel(), a client disconnect or requestTimeoutMs. */
  signal: AbortSignal;
}

export interface ReplicaContext {
  appName: string;
  deployment: string;
  /** Unique per replica, never reused by a replacement. */
  replicaId: string;
}

const requests = new AsyncLocalStorage<RequestContext>();
let replica: ReplicaContext | undefined;

/** Runs `fn` as serving `context`: what it awaits and calls sees it. */
export function withRequestContext<T>(context: RequestContext, fn: () => T): T {
  return requests.run(context, fn);
}

/** The request being served here, if any (no error outside one: for Serve's own code). */
export function currentRequest(): RequestContext | undefined {
  return requests.getStore();
}

export function getRequestContext(): RequestContext {
  const context = requests.getStore();
  if (context === undefined) throw new RayServeError("getRequestContext() is called outside a request: only replica code serving a request has one");
  return context;
}

/** The current request's multiplexed model id; "" if none (or outside a request). */
export function getMultiplexedModelId(): string {
  return requests.getStore()?.multiplexedModelId ?? "";
}

/** Set once by a replica when it starts. */
export function setReplicaContext(context: ReplicaContext): void {
  replica = context;
}

export function getReplicaContext(): ReplicaContext {
  if (replica === undefined) throw new RayServeError("getReplicaContext() is called outside a replica");
  return replica;
}
