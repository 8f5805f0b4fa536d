/**
 * What happens to a call that failed on a replica (Ray Serve retries requests that never reached a
 * replica; a request that started may not be idempotent, so it is never retried):
 *
 * - "again" (see refusedAsFull): the replica refused it, naming itself, before any user code,
 *   because it is full (ReplicaFullRefusal: other callers' calls take its maxOngoingRequests):
 *   the router gives it no calls for a moment and the call goes back to it, first in line, for
 *   another replica or for room, however long that takes (no attempt is counted);
 * - "elsewhere": it never ran there; it goes back to the router, first in line, for another one:
 *   - the replica refused it because it is stopping (replica.ts throws ReplicaStoppingRefusal,
 *     naming itself, before any user code, for calls that arrive once drain() began);
 *   - ActorDiedError from the replica's own death: the core fails a call with it only when the
 *     call never reached the actor's code (submitted after the death was known, or still queued
 *     at the raylet or the worker), while calls sent to the actor's worker fail with a plain
 *     RayActorError;
 *   - a plain RayActorError from a replica the controller stopped gracefully (listed as drained):
 *     drain() answers every call that started, with its result or with RequestCutOff, before the
 *     controller kills the actor, so a call failing with the kill had not started. Whether the
 *     replica was drained or crashed is known once the controller published that it is gone
 *     (Router.fateOf).
 * - "arguments": the error is not this replica's: a DeploymentResponse argument failed (the core
 *   fails a call with its failed dependency's error), e.g. refused by another replica (stopping or
 *   full) or with its actor's death, while this replica lives (it answers a probe). If that argument's call
 *   was retried meanwhile, the call is sent again with its new result (response.ts).
 * - "fail": anything else, e.g. the replica crashed while the call ran: RayActorError, as
 *   serve.d.ts says.
 */
import * as ray from "tsray";
import { RayServeError } from "./errors.js";

/** Thrown by a stopping replica instead of running a call; never reaches users. */
export class ReplicaStoppingRefusal extends Error {
  static readonly NAME = "ServeReplicaStoppingRefusal";
  override readonly name = ReplicaStoppingRefusal.NAME;
  constructor(replicaId: string, deployment: string) {
    super(`${refusalPrefix(replicaId)} of deployment '${deployment}' is stopping`);
  }
}

/**
 * Thrown by a replica whose maxOngoingRequests are all taken (by several callers, each counting
 * only its own calls), instead of running a call; never reaches users: the caller marks it full
 * for a moment and sends the call to another replica, or waits for room (Ray's rejection).
 */
export class ReplicaFullRefusal extends Error {
  static readonly NAME = "ServeReplicaFullRefusal";
  override readonly name = ReplicaFullRefusal.NAME;
  constructor(replicaId: string, deployment: string, maxOngoing: number) {
    super(`${refusalPrefix(replicaId)} of deployment '${deployment}' is full (maxOngoingRequests ${maxOngoing})`);
  }
}

/** Thrown by a stopping replica for a call still running when gracefulShutdownTimeoutMs passed. */
export class RequestCutOff extends Error {
  static readonly NAME = "ServeRequestCutOff";
  override readonly name = RequestCutOff.NAME;
}

/** What the rule needs of a router. */
export interface FailureRouter {
  /** No more calls to this replica. */
  markGone(replicaId: string): void;
  /** Resolves once the controller says how a replica that is gone ended. */
  fateOf(replicaId: string): Promise<"drained" | "died">;
}

/** Most attempts of one call. */
export const MAX_ATTEMPTS = 10;
/** A replica that does not answer a liveness probe within this long is taken for dead. */
const PROBE_MS = 5_000;

export type AfterFailure = "elsewhere" | "arguments" | "fail";

/**
 * Whether `err` is replica `replicaId`'s refusal of a call because it is full: it is then marked
 * so, and the call goes back to its router (no attempt counted: a call may wait for room as long
 * as it takes, as in Ray).
 */
export function refusedAsFull(router: { markFull(replicaId: string): void }, replicaId: string, err: unknown): boolean {
  if (refusedBy(err, ReplicaFullRefusal.NAME, replicaId) !== "this") return false;
  router.markFull(replicaId);
  return true;
}

/**
 * What to do with a call that failed with `err` on replica `replicaId`; `probe` calls the replica
 * (resolves if its actor lives).
 */
export async function afterFailure(router: FailureRouter, replicaId: string, err: unknown, probe: () => Promise<unknown>): Promise<AfterFailure> {
  const stopping = refusedBy(err, ReplicaStoppingRefusal.NAME, replicaId);
  if (stopping === "this") {
    router.markGone(replicaId);
    return "elsewhere";
  }
  // Another replica's refusal (this one's as full is taken by refusedAsFull): an argument's call.
  if (stopping === "another" || refusedBy(err, ReplicaFullRefusal.NAME, replicaId) === "another") return "arguments";
  if (!(err instanceof ray.RayActorError)) return "fail";
  if (await lives(probe)) return "arguments";
  router.markGone(replicaId);
  if (err instanceof ray.ActorDiedError) return "elsewhere";
  return (await router.fateOf(replicaId)) === "drained" ? "elsewhere" : "fail";
}

/** The error the caller gets: a cut-off call's as a RayServeError saying so, others as they are. */
export function callerError(err: unknown): unknown {
  const cut = causeNamed(err, RequestCutOff.NAME);
  return cut === undefined ? err : new RayServeError(cut.message, { cause: err });
}

function refusalPrefix(replicaId: string): string {
  return `replica ${replicaId}`;
}

/** Whether `err` is a refusal of kind `name` (ReplicaStoppingRefusal, ReplicaFullRefusal) by `replicaId` or by another replica. */
function refusedBy(err: unknown, name: string, replicaId: string): "this" | "another" | undefined {
  const refusal = causeNamed(err, name);
  if (refusal === undefined) return undefined;
  return refusal.message.startsWith(refusalPrefix(replicaId)) ? "this" : "another";
}

function causeNamed(err: unknown, name: string): Error | undefined {
  const cause = err instanceof ray.RayTaskError ? (err.cause as Error | undefined) : undefined;
  return cause?.name === name ? cause : undefined;
}

async function lives(probe: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe().then(() => true, (err) => !(err instanceof ray.RayActorError)),
      new Promise<boolean>((r) => { timer = setTimeout(() => r(false), PROBE_MS); }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
