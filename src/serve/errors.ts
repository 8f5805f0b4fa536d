/** tsray Serve's errors (besides the core's RayTaskError, RayActorError and GetTimeoutError), as Ray Serve names them. */
import { RayError, RayTaskError } from "tsray";

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

/** What user code threw, behind the core's RayTaskError around it (else the error itself). */
export function causeOf(err: unknown): unknown {
  return err instanceof RayTaskError && err.cause instanceof Error ? err.cause : err;
}
