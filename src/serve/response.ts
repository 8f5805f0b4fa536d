/**
 * One handle call, from the caller's side: DeploymentResponse (unary, awaitable) and
 * DeploymentResponseGenerator (streaming). A call is sent at once: its arguments are resolved
 * (a DeploymentResponse at the top level becomes its result's ObjectRef, which the core resolves
 * before the replica's method runs), the router gives it a replica, and the replica runs it inside
 * the request's context (replica.ts). Cancelling drops a queued call or aborts the running one on
 * its replica; a call made while serving a request is cancelled with that request.
 */
import { randomUUID } from "node:crypto";
import * as ray from "tsray";
import { RequestCancelledError } from "./errors.js";
import { currentRequest } from "./request-context.js";
import { decodeHandleResult, encodeHandleArg } from "./http-result.js";
import { getOnce } from "./get-once.js";
import type { ReplicaAccess } from "./controller-client.js";
import type { Router, Slot } from "./router.js";

/** What a replica is told about the request it serves (its RequestContext, less the signal). */
export interface RequestMeta {
  requestId: string;
  route: string;
  appName: string;
  multiplexedModelId: string;
}

/** A streaming call's values as the replica hands them over: what is ready, and whether that is all. */
export interface StreamBatch {
  items: unknown[];
  done: boolean;
}

export function newRequestMeta(appName: string, multiplexedModelId = "", route = "", requestId: string = randomUUID()): RequestMeta {
  return { requestId, route, appName, multiplexedModelId };
}

/** Top-level DeploymentResponses become ObjectRefs; nested ones are refused (as Ray: top level only). */
async function resolveArgs(args: readonly unknown[]): Promise<unknown[]> {
  return Promise.all(args.map((arg) => (arg instanceof DeploymentResponse ? arg.toObjectRef() : encodeHandleArg(arg))));
}

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
  if (err instanceof ray.RayActorError) router.markDead(slot.replica.replicaId);
  throw err;
}

/**
 * What a response and a streaming response share: the slot the router gives the call, and its
 * cancellation (dropped from the router's queue if still waiting, else cancelled on its replica;
 * `cancelled` rejects when it is; a parent request's cancellation reaches it).
 */
class CallSlot {
  isCancelled = false;
  slot: Slot | undefined;
  readonly acquired: Promise<Slot>;
  readonly cancelled: Promise<never>;
  readonly unlink: () => void;
  readonly #withdraw: () => boolean;
  #rejectCancelled!: (err: unknown) => void;

  constructor(router: Router, readonly requestId: string) {
    this.cancelled = new Promise<never>((_, reject) => { this.#rejectCancelled = reject; });
    this.cancelled.catch(() => {});
    const { slot, withdraw } = router.acquire();
    this.acquired = slot;
    this.acquired.catch(() => {});
    this.#withdraw = withdraw;
    this.unlink = linkToParent(this.cancel);
  }

  readonly cancel = (): void => {
    if (this.isCancelled) return;
    this.isCancelled = true;
    this.#rejectCancelled(new RequestCancelledError(`request ${this.requestId} was cancelled`));
    if (!this.#withdraw() && this.slot !== undefined) this.cancelOnReplica();
  };

  cancelOnReplica(): void {
    void ray.get(this.slot!.replica.actor.cancel.remote(this.requestId)).catch(() => {});
  }
}

export class DeploymentResponse<T = unknown> implements PromiseLike<T> {
  declare private readonly __value?: T;
  readonly requestId: string;
  readonly #result: Promise<T>;
  readonly #ref: Promise<ray.ObjectRef<T>>;
  readonly #cancel: () => void;

  /** @internal */
  constructor(router: Router, meta: RequestMeta, method: string, args: readonly unknown[]) {
    this.requestId = meta.requestId;
    const call = new CallSlot(router, meta.requestId);
    this.#cancel = call.cancel;
    this.#ref = (async () => {
      const resolved = await resolveArgs(args);
      const slot = (call.slot = await call.acquired);
      if (call.isCancelled) {
        slot.release();
        throw new RequestCancelledError(`request ${meta.requestId} was cancelled`);
      }
      return slot.replica.actor.handleRequest.remote(meta, method, ...resolved) as unknown as ray.ObjectRef<T>;
    })();
    const refPromise = this.#ref;
    const running = (async () => {
      const ref = await refPromise;
      try {
        return decodeHandleResult(await ray.get(ref)) as T;
      } catch (err) {
        return failedOn(router, call.slot!, err);
      } finally {
        call.slot!.release();
        call.unlink();
      }
    })();
    this.#result = Promise.race([running, call.cancelled]);
    this.#ref.catch(() => {});
    this.#result.catch(() => {});
    running.catch(() => {});
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

  async toObjectRef(): Promise<ray.ObjectRef<T>> {
    return this.#ref;
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
    const call = (this.#call = new CallSlot(router, meta.requestId));
    let finished = false;
    const race = <V>(p: Promise<V>) => Promise.race([p, call.cancelled]);
    this.#batches = (async function* batches() {
      try {
        const resolved = await race(resolveArgs(args));
        const slot = (call.slot = await race(call.acquired));
        let batch: StreamBatch;
        try {
          batch = await race(start(slot.replica, resolved));
          for (;;) {
            if (call.isCancelled) await call.cancelled;
            // A batch may come empty (a replica answering several requests at once, see http-calls.ts).
            if (batch.items.length > 0 || batch.done) {
              finished = batch.done;
              yield batch;
            }
            if (batch.done) return;
            batch = await race(getOnce(slot.replica.actor.next.remote(meta.requestId)));
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
    })();
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
