/**
 * How any process reaches the controller (the detached named actor SERVE_CONTROLLER_ACTOR in
 * namespace "serve"), and the shapes of what it publishes to routers and proxies. Kept apart from
 * controller.ts so that replicas and proxies do not load the controller's code.
 */
import * as ray from "tsray";
import type { ServeController } from "./controller.js";
import type { ServeReplica } from "./replica.js";

export const SERVE_NAMESPACE = "serve";
export const CONTROLLER_NAME = "SERVE_CONTROLLER_ACTOR";

export type ControllerHandle = ray.ActorHandle<ServeController>;
export type ReplicaHandle = ray.ActorHandle<ServeReplica>;

export interface ReplicaAccess {
  readonly replicaId: string;
  readonly actor: ReplicaHandle;
}

/** A deployment's routing state, as the controller publishes it (long poll). */
export interface RoutingUpdate {
  /** Changes whenever anything below does (also across controller restarts). */
  readonly version: string;
  /** Set when calls cannot be served: the deployment was deleted or failed to deploy. */
  readonly unavailable: string | null;
  readonly replicas: (ReplicaAccess & { readonly modelIds?: readonly string[] })[];
  /** Replicas being stopped gracefully (draining): gone for routing, their end not known yet. */
  readonly stopping?: readonly string[];
  /** Replicas recently stopped gracefully, after drain() answered every call that had started (retry-rule.ts). */
  readonly drained?: readonly string[];
  readonly maxOngoingRequests: number;
  readonly maxQueuedRequests: number;
  /** With autoscaling: how often routers report their ongoing requests (controller recordOngoing()); null without. */
  readonly metricsIntervalMs: number | null;
}

/** The route table the proxies serve. */
export interface RouteTable {
  readonly version: string;
  /** Route prefix → the app and its ingress deployment. */
  readonly routes: { prefix: string; appName: string; ingress: string }[];
}

let cached: { handle: ControllerHandle; at: number } | undefined;

/** The controller's handle; rejects if Serve is not running. */
export async function getController(): Promise<ControllerHandle> {
  // Cached briefly: a restarted controller keeps its actor (and handle); a new one after shutdown() does not.
  if (cached !== undefined && Date.now() - cached.at < 1000) return cached.handle;
  const handle = (await ray.getActor(CONTROLLER_NAME, { namespace: SERVE_NAMESPACE })) as ControllerHandle;
  cached = { handle, at: Date.now() };
  return handle;
}

export function forgetController(): void {
  cached = undefined;
}
