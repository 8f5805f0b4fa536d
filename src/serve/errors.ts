/** tsray Serve's errors (besides the core's RayTaskError, RayActorError and GetTimeoutError), as Ray Serve names them. */
import { RayError } from "tsray";

export class RayServeError extends RayError {
  static override readonly code: string = "RAY_SERVE_ERROR";
}
/** maxQueuedRequests was reached; over HTTP: 503. */
export class BackPressureError extends RayServeError {
  static override readonly code: string = "SERVE_BACK_PRESSURE";
}
/** Cancelled: by cancel(), a client disconnect or a request timeout. */
export class RequestCancelledError extends RayServeError {
  static override readonly code: string = "SERVE_REQUEST_CANCELLED";
}
/** The deployment was deleted, failed to deploy, or has no replica and cannot start one. */
export class DeploymentUnavailableError extends RayServeError {
  static override readonly code: string = "SERVE_DEPLOYMENT_UNAVAILABLE";
}
