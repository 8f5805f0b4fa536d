/**
 * When a call that failed on a replica goes to another one instead (Ray Serve retries requests
 * that never reached a replica; a request that started may not be idempotent, so it is never
 * retried):
 *
 * - the replica refused it because it is stopping (replica.ts throws ReplicaStoppingRefusal before
 *   any user code, for calls that arrive or still wait for a slot once drain() began);
 * - ActorDiedError: the core fails a call with it only when the call never reached the actor's
 *   code (submitted after the death was known, or still queued at the raylet or the worker), while
 *   calls sent to the actor's worker fail with a plain RayActorError;
 * - a plain RayActorError from a replica the controller stopped gracefully (it lists such
 *   replicas as `drained`): drain() answers every call that started, with its result or with
 *   RequestCutOff, before the controller kills the actor, so a call failing with the kill had
 *   not started. Whether the replica was drained or crashed is known once the controller
 *   published that it is gone (Router.fateOf).
 *
 * A call whose replica crashed (SIGKILL, a thrown error taking the process down) while it ran, or
 * while it waited in that replica's own queue for a slot, fails with RayActorError (serve.d.ts).
 */
import * as ray from "tsray";
import { RayServeError } from "./errors.js";

/** Thrown by a stopping replica instead of running a call; never reaches users. */
export class ReplicaStoppingRefusal extends Error {
  static readonly NAME = "ServeReplicaStoppingRefusal";
  override readonly name = ReplicaStoppingRefusal.NAME;
}

/** Thrown by a stopping replica for a call still running when gracefulShutdownTimeoutMs passed. */
export class RequestCutOff extends Error {
  static readonly NAME = "ServeRequestCutOff";
  override readonly name = RequestCutOff.NAME;
}

/** What retry-rule needs of a router. */
export interface FailureRouter {
  /** No more calls to this replica. */
  markGone(replicaId: string): void;
  /** Resolves once the controller says how a replica that is gone ended. */
  fateOf(replicaId: string): Promise<"drained" | "died">;
}

/** Most attempts of one call (each on a replica that then refused it or was gone). */
export const MAX_ATTEMPTS = 10;

/** True when a call that failed with `err` on `replicaId` never ran there and may go to another replica. */
export async function mayRetryElsewhere(router: FailureRouter, replicaId: string, err: unknown): Promise<boolean> {
  if (causeNamed(err, ReplicaStoppingRefusal.NAME)) {
    router.markGone(replicaId);
    return true;
  }
  if (!(err instanceof ray.RayActorError)) return false;
  router.markGone(replicaId);
  if (err instanceof ray.ActorDiedError) return true;
  return (await router.fateOf(replicaId)) === "drained";
}

/** The error the caller gets: a cut-off call's as a RayServeError saying so, others as they are. */
export function callerError(err: unknown): unknown {
  if (!causeNamed(err, RequestCutOff.NAME)) return err;
  return new RayServeError(((err as ray.RayTaskError).cause as Error).message, { cause: err });
}

function causeNamed(err: unknown, name: string): boolean {
  return err instanceof ray.RayTaskError && (err.cause as Error | undefined)?.name === name;
}
