/**
 * One handle call, from the caller's side: DeploymentResponse (unary, awaitable) and
 * DeploymentResponseGenerator (streaming). A call is sent at once: its arguments are resolved
 * (a DeploymentResponse at the top level becomes its result's ObjectRef, which the core resolves
 * before the replica's method runs), the router gives it a replica, and the replica runs it inside
 * the request's context (replica.ts). Cancelling drops a queued call or aborts the running one on
 * its replica; a call made while serving a request is cancelled with that request. A call that
 * never ran on its replica (refused by a stopping replica, or its actor gone first: retry-rule.ts)
 * goes back to the router, first in line, for another replica; a streaming call only until its
 * first values came.
 */
import { randomUUID } from "node:crypto";
import * as ray from "tsray";
import { RequestCancelledError } from "./errors.js";
import { afterFailure, callerError, MAX_ATTEMPTS, refusedAsFull } from "./retry-rule.js";
import { currentRequest } from "./request-context.js";
import { decodeHandleResult, encodeHandleArg } from "./http-result.js";
import { getOnce } from "./get-once.js";
import type { ReplicaAccess } from "./controller-client.js";
import type { Router, Slot } from "./router.js";

/** What a replica is told about the request it serves (its RequestContext, less the signal). */
export interface RequestMeta {
  requestId: string;
  /**
   * Unique per call: what the replica knows the call by (its cancel, its stream, its body).
   * requestId may repeat: a client's x-request-id is taken as it is.
   */
  callId: string;
  route: string;
  appName: string;
  multiplexedModelId: string;
}

/** A streaming call's values as the replica hands them over: what is ready, and whether that is all. */
export interface StreamBatch {
  items: unknown[];
  done: boolean;
}

/** `callId`: a fresh id of the caller's (by default a new one), unique to this call whatever the request id. */
export function newRequestMeta(appName: string, multiplexedModelId = "", route = "", requestId?: string, callId = randomUUID()): RequestMeta {
  return { requestId: requestId ?? callId, callId, route, appName, multiplexedModelId };
}

/**
 * Top-level DeploymentResponses become ObjectRefs: of their first attempt, once sent (a call
 * whose argument was sent again is itself sent again, see nextStep), or with `final`, of their
 * last, once they settled; nested ones are refused (as Ray: top level only).
 */
async function resolveArgs(args: readonly unknown[], final = false): Promise<unknown[]> {
  return Promise.all(args.map((arg) => (arg instanceof DeploymentResponse ? (final ? arg.finalRef() : arg.firstRef()) : encodeHandleArg(arg))));
}

/** An argument that is not sent as it is (see resolveArgs, encodeHandleArg). */
const needsResolving = (arg: unknown): boolean => arg instanceof DeploymentResponse || arg instanceof Request;

export function checkNoNestedResponses(args: readonly unknown[], method: string): void {
  const walk = (value: unknown, where: string, seen: Set<unknown>): void => {
    if (value instanceof DeploymentResponse) throw new TypeError(`${method}.remote(): a DeploymentResponse nested in ${where} cannot be passed; pass it at the top level of the arguments (or await it first)`);
    if (typeof value !== "object" || value === null || seen.has(value) || ArrayBuffer.isView(value)) return;
    const proto = Object.getPrototypeOf(value);
    if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) return;
    seen.add(value);
    for (const [k, v] of Object.entries(value)) walk(v, `${where}.${k}`, seen);
  };
  args.forEach((arg, i) => { if (!(arg instanceof DeploymentResponse)) walk(arg, `argument ${i}`, new Set()); });
}

/** Links a call to the request being served here, if any: cancelled with it. */
function linkToParent(cancel: () => void): () => void {
  const parent = currentRequest();
  if (parent === undefined) return () => {};
  if (parent.signal.aborted) {
    queueMicrotask(cancel);
    return () => {};
  }
  parent.signal.addEventListener("abort", cancel, { once: true });
  return () => parent.signal.removeEventListener("abort", cancel);
}

function failedOn(router: Router, slot: Slot, err: unknown): never {
  if (err instanceof ray.RayActorError) router.markGone(slot.replica.replicaId);
  throw callerError(err);
}

/**
 * After a failed attempt on `slot` (released by then), see retry-rule.ts: "elsewhere" (another
 * replica), "again" (refused by a full replica: to its router again, not counted as an attempt),
 * "resend" (a DeploymentResponse argument failed and was retried meanwhile: again with its new
 * result) or "fail".
 */
async function nextStep(router: Router, call: CallSlot, slot: Slot, attempt: number, err: unknown, args: readonly unknown[]): Promise<"elsewhere" | "again" | "resend" | "fail"> {
  if (call.isCancelled) return "fail";
  if (refusedAsFull(router, slot.replica.replicaId, err)) return "again";
  if (attempt >= MAX_ATTEMPTS) return "fail";
  const step = await afterFailure(router, slot.replica.replicaId, err, () => ray.get(slot.replica.actor.info.remote()));
  if (call.isCancelled) return "fail";
  if (step !== "arguments") return step;
  const retried = await Promise.all(args.map((arg) => arg instanceof DeploymentResponse && arg.retried()));
  return retried.includes(true) ? "resend" : "fail";
}

/**
 * What a response and a streaming response share: the slot the router gives the call, and its
 * cancellation (dropped from the router's queue if still waiting, else cancelled on its replica;
 * `cancelled` rejects when it is; a parent request's cancellation reaches it).
 */
class CallSlot {
  slot: Slot | undefined;
  /** The slot, when the router had one at once; else `acquired` resolves with it. */
  now: Slot | undefined;
  #acquired: Promise<Slot> | undefined;
  readonly unlink: () => void;
  #withdraw!: () => boolean;
  /** Set once the call is cancelled. */
  #cancelError: RequestCancelledError | undefined;
  #cancelled: Promise<never> | undefined;
  #rejectCancelled: ((err: unknown) => void) | undefined;
  /** Rejects what the call awaits now (see watch). */
  #interrupt: ((err: unknown) => void) | undefined;

  constructor(readonly router: Router, readonly meta: RequestMeta) {
    this.#acquire(false);
    this.unlink = linkToParent(this.cancel);
  }

  get isCancelled(): boolean {
    return this.#cancelError !== undefined;
  }

  get acquired(): Promise<Slot> {
    return this.#acquired ?? Promise.resolve(this.now!);
  }

  /** Rejects once the call is cancelled (made when first asked for: most calls never are). */
  get cancelled(): Promise<never> {
    if (this.#cancelled === undefined) {
      this.#cancelled = this.#cancelError !== undefined ? Promise.reject(this.#cancelError) : new Promise<never>((_, reject) => { this.#rejectCancelled = reject; });
      this.#cancelled.catch(() => {});
    }
    return this.#cancelled;
  }

  /** `p`, unless the call is cancelled first: then the cancellation's error. One at a time. */
  watch<V>(p: Promise<V>): Promise<V> {
    if (this.#cancelError !== undefined) return Promise.reject(this.#cancelError);
    return new Promise<V>((resolve, reject) => {
      this.#interrupt = reject;
      p.then(resolve, reject);
    });
  }

  /** A slot on another replica for a call that never ran on its last one (first in the router's queue). */
  reacquire(): Promise<Slot> {
    this.slot = undefined;
    this.#acquire(true);
    return this.acquired;
  }

  #acquire(retry: boolean): void {
    const a = this.router.acquire(this.meta.multiplexedModelId, retry);
    this.now = a.now;
    this.#acquired = a.slot;
    this.#acquired?.catch(() => {});
    this.#withdraw = a.withdraw;
  }

  readonly cancel = (): void => {
    if (this.isCancelled) return;
    const err = (this.#cancelError = new RequestCancelledError(`request ${this.meta.requestId} was cancelled`));
    this.#rejectCancelled?.(err);
    this.#interrupt?.(err);
    if (!this.#withdraw() && this.slot !== undefined) this.cancelOnReplica();
  };

  cancelOnReplica(): void {
    void ray.get(this.slot!.replica.actor.cancel.remote(this.meta.callId)).catch(() => {});
  }
}

/** One sending of a handle call: its result's reference, and the replica it went to. */
interface Attempt<T> {
  ref: ray.ObjectRef<T>;
  replica: ReplicaAccess;
}

export class DeploymentResponse<T = unknown> implements PromiseLike<T> {
  declare private readonly __value?: T;
  readonly requestId: string;
  readonly #callId: string;
  readonly #result: Promise<T>;
  readonly #first: Promise<Attempt<T>>;
  /** The attempt sent last; replaced when the call is sent again (see nextStep). */
  #attempt: Promise<Attempt<T>>;
  /** The reference of the attempt a replica took (ran, or runs), once known (see toObjectRef). */
  readonly #taken: Promise<ray.ObjectRef<T>>;
  readonly #take: (ref: ray.ObjectRef<T>) => void;
  #probing = false;
  /** Told when the call is sent again. */
  readonly #onSentAgain: (() => void)[] = [];
  readonly #settled: Promise<void>;
  readonly #cancel: () => void;

  /** @internal */
  constructor(router: Router, meta: RequestMeta, method: string, args: readonly unknown[]) {
    this.requestId = meta.requestId;
    this.#callId = meta.callId;
    const call = new CallSlot(router, meta);
    this.#cancel = call.cancel;
    let take!: (ref: ray.ObjectRef<T>) => void;
    let cannotTake!: (err: unknown) => void;
    this.#taken = new Promise((resolve, reject) => { take = resolve; cannotTake = reject; });
    this.#take = take;
    let resolvedArgs = resolveArgs(args);
    resolvedArgs.catch(() => {});
    const send = async (acquired: Promise<Slot>): Promise<Attempt<T>> => {
      const resolved = await resolvedArgs;
      const slot = (call.slot = await acquired);
      if (call.isCancelled) {
        slot.release();
        throw new RequestCancelledError(`request ${meta.requestId} was cancelled`);
      }
      return { ref: slot.replica.actor.handleRequest.remote(meta, method, ...resolved) as unknown as ray.ObjectRef<T>, replica: slot.replica };
    };
    const first = (this.#first = this.#attempt = send(call.acquired));
    const running = (async () => {
      let { ref } = await first;
      for (let attempt = 1; ; attempt++) {
        const slot = call.slot!;
        try {
          const value = await ray.get(ref);
          slot.release();
          take(ref);
          return decodeHandleResult(value) as T;
        } catch (err) {
          slot.release();
          const step = await nextStep(router, call, slot, attempt, err, args);
          if (step === "fail") {
            take(ref); // it ran and failed, or failed for good: its ref says so
            throw callerError(err);
          }
          if (step === "again") attempt--;
          if (step === "resend") resolvedArgs = resolveArgs(args, true);
        }
        const next = (this.#attempt = send(call.reacquire()));
        for (const told of this.#onSentAgain.splice(0)) told();
        ({ ref } = await next);
      }
    })();
    running.catch((err) => cannotTake(err));
    this.#settled = running.then(() => {}, () => {});
    running.finally(() => call.unlink()).catch(() => {});
    this.#result = Promise.race([running, call.cancelled]);
    first.catch(() => {});
    this.#taken.catch(() => {});
    this.#result.catch(() => {});
  }

  then<R1 = T, R2 = never>(onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null): Promise<R1 | R2> {
    return this.#result.then(onfulfilled, onrejected);
  }

  async result(opts: { timeoutMs?: number } = {}): Promise<T> {
    const { timeoutMs } = opts;
    if (timeoutMs === undefined) return this.#result;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0)) throw new RangeError(`result() option timeoutMs must be a number >= 0, got ${String(timeoutMs)}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ray.GetTimeoutError(`request ${this.requestId} did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([this.#result, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  cancel(): void {
    this.#cancel();
  }

  /**
   * The reference of the attempt a replica took: once one runs the call (which it asks that
   * replica), or once an attempt settled otherwise than refused. A replica that refuses a call
   * (stopping, or full with other callers' calls) does so before running it, and the call is sent
   * again: the first attempt's reference would only hold the refusal.
   */
  async toObjectRef(): Promise<ray.ObjectRef<T>> {
    if (!this.#probing) {
      this.#probing = true;
      void this.#probe();
    }
    return this.#taken;
  }

  /** Asks each attempt's replica whether it runs the call, until one does or the call settled. */
  async #probe(): Promise<void> {
    for (let settled = false; !settled; ) {
      const sent = this.#attempt;
      // The call settles (taken then by the running loop, or failed), or is sent again.
      const moved = Promise.race([this.#settled.then(() => true), new Promise<false>((r) => this.#onSentAgain.push(() => r(false)))]);
      let attempt: Attempt<T>;
      try {
        attempt = await sent;
      } catch {
        return; // never sent: #taken rejects with why
      }
      if (await ray.get(attempt.replica.actor.runs.remote(this.#callId)).catch(() => false)) {
        if (this.#attempt === sent) this.#take(attempt.ref);
        return;
      }
      // Not running there: refused (sent again), finished (settled), or not there yet.
      settled = await moved;
    }
  }

  /** @internal The reference of its first attempt, once sent (for calls that take it as an argument). */
  async firstRef(): Promise<ray.ObjectRef<T>> {
    return (await this.#first).ref;
  }

  /** @internal Settled, and sent more than once (a replica refused it or was gone first). */
  async retried(): Promise<boolean> {
    await this.#settled;
    return (await this.#attempt) !== (await this.#first);
  }

  /** @internal The reference of its last attempt, once it settled (for calls that took it as an argument). */
  async finalRef(): Promise<ray.ObjectRef<T>> {
    await this.#settled;
    return (await this.#attempt).ref;
  }
}

/**
 * A streamed call's batches: its first call (sent again elsewhere while nothing came back, see
 * nextStep), then next() until done. A function of the module, not a closure per call: V8 gives
 * each generator function made at run time a hidden class of its own, kept in the old generation,
 * which then keeps the call's whole graph (the HTTP request and response with it) alive through
 * young-generation collections until the next full one.
 */
async function* streamBatches(router: Router, call: CallSlot, start: (replica: ReplicaAccess, args: unknown[]) => Promise<StreamBatch>, args: readonly unknown[]): AsyncGenerator<StreamBatch> {
  const meta = call.meta;
  let finished = false;
  try {
    // Without DeploymentResponse arguments and with a replica free (an HTTP request, mostly), nothing to wait for.
    let resolved = args.some(needsResolving) ? await call.watch(resolveArgs(args)) : (args as unknown[]);
    let slot = (call.slot = call.now ?? (await call.watch(call.acquired)));
    let batch: StreamBatch;
    // Until the first values came, the call may not have run: then it goes to another replica.
    for (let attempt = 1; ; attempt++) {
      try {
        batch = await call.watch(start(slot.replica, resolved));
        // An empty first batch (one of several requests a replica answered at once, see
        // http-calls.ts): its first values, or its error (a refusal, say), come with next().
        while (batch.items.length === 0 && !batch.done) batch = await call.watch(getOnce(slot.replica.actor.next.remote(meta.callId)));
        break;
      } catch (err) {
        if (err instanceof RequestCancelledError && call.isCancelled) throw err;
        const failed = slot;
        failed.release();
        call.slot = undefined;
        const step = await nextStep(router, call, failed, attempt, err, args);
        if (step === "fail") {
          finished = true;
          throw callerError(err);
        }
        if (step === "again") attempt--;
        if (step === "resend") resolved = await call.watch(resolveArgs(args, true));
        slot = (call.slot = await call.watch(call.reacquire()));
      }
    }
    try {
      for (;;) {
        if (call.isCancelled) await call.cancelled;
        finished = batch.done;
        yield batch;
        if (batch.done) return;
        batch = await call.watch(getOnce(slot.replica.actor.next.remote(meta.callId)));
      }
    } catch (err) {
      finished = true;
      return failedOn(router, slot, err);
    }
  } finally {
    // Left early (break) or failed: the replica stops the generator.
    if (call.slot !== undefined && !call.isCancelled && !finished) call.cancelOnReplica();
    call.slot?.release();
    call.unlink();
  }
}

/**
 * A streaming call: the replica runs the generator, buffering what it yields; the first call
 * brings what is ready, and `next(requestId)` calls the rest (each answering once something is).
 */
export class DeploymentResponseGenerator<Y = unknown> implements AsyncIterable<Y> {
  readonly requestId: string;
  readonly #batches: AsyncGenerator<StreamBatch>;
  readonly #call: CallSlot;

  /** @internal `start` makes the first call on the replica given. */
  constructor(router: Router, meta: RequestMeta, start: (replica: ReplicaAccess, args: unknown[]) => Promise<StreamBatch>, args: readonly unknown[]) {
    this.requestId = meta.requestId;
    this.#call = new CallSlot(router, meta);
    this.#batches = streamBatches(router, this.#call, start, args);
  }

  /**
   * @internal The values as the replica hands them over, a batch at a time: the HTTP proxy
   * answers a response that came whole in its first batch with one write.
   */
  batches(): AsyncGenerator<StreamBatch> {
    return this.#batches;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Y> {
    for await (const batch of this.#batches) {
      for (const item of batch.items) {
        if (this.#call.isCancelled) await this.#call.cancelled;
        yield item as Y;
      }
    }
  }

  cancel(): void {
    this.#call.cancel();
  }
}
