/**
 * serve.batch: Ray Serve's @serve.batch as a wrapper (contract: serve.d.ts `batch`). Calls queue
 * into batches; a batch runs `fn` once it holds maxBatchSize calls or batchWaitTimeoutMs passed
 * since its first call, whichever comes first, and at most maxConcurrentBatches batches run at once.
 *
 * What shares a batch: calls on the same batched function with the same `this` (the instance, when
 * it is called as a method) and the same multiplexed model id (read when the call is made), so `fn`
 * always sees one model's items, and getMultiplexedModelId() inside it gives that model. A class
 * field `predict = serve.batch(async (xs) => this.model.run(xs))` makes one batched function, and
 * so one queue, per instance, with `this` the instance (an arrow function keeps it).
 *
 * A batch ready while maxConcurrentBatches batches run waits for a slot, taking more calls until it
 * is full; waiting batches start oldest first. `fn` runs in the first call's request context, its
 * signal aborting only once every call of the batch was cancelled. A call whose request is
 * cancelled (its context's signal aborts) leaves its batch if the batch has not started, and
 * rejects with RequestCancelledError at once either way.
 *
 * setMaxBatchSize applies at once (batches not started fill up to, and start at, the new size);
 * setBatchWaitTimeoutMs applies to the batches opened after it.
 */
import { AsyncResource } from "node:async_hooks";
import { RayServeError, RequestCancelledError } from "./errors.js";
import { currentRequest, getMultiplexedModelId, withRequestContext, type RequestContext } from "./request-context.js";

export interface BatchOptions {
  maxBatchSize?: number; // default 10
  /** Longest wait, from a batch's first call, for it to fill. Default 10. */
  batchWaitTimeoutMs?: number;
  maxConcurrentBatches?: number; // batches of this function running at once; default 1
}

/** One call, one item; resolves to that item's result. */
export interface BatchedFunction<T, R> {
  (item: T): Promise<R>;
  setMaxBatchSize(n: number): void;
  setBatchWaitTimeoutMs(ms: number): void;
}

const OPTIONS = ["maxBatchSize", "batchWaitTimeoutMs", "maxConcurrentBatches"];

function checkPositiveInteger(option: string, n: unknown): number {
  if (typeof n !== "number") throw new TypeError(`serve.batch option ${option} must be a number, got ${typeof n}`);
  if (!(Number.isInteger(n) && n >= 1)) throw new RangeError(`serve.batch option ${option} must be an integer >= 1, got ${String(n)}`);
  return n;
}

function checkTimeout(ms: unknown): number {
  const option = "batchWaitTimeoutMs";
  if (typeof ms !== "number") throw new TypeError(`serve.batch option ${option} must be a number, got ${typeof ms}`);
  if (!(Number.isFinite(ms) && ms >= 0)) throw new RangeError(`serve.batch option ${option} must be a finite number >= 0, got ${String(ms)}`);
  return ms;
}

interface Call<T, R> {
  item: T;
  context: RequestContext | undefined;
  resolve(result: R): void;
  reject(err: unknown): void;
  /** Settled already (cancelled): the batch's result for it is dropped. */
  done: boolean;
  /** Stops listening to the request's signal. */
  detach(): void;
}

/** Calls of one key (this + model id) waiting to run together. */
interface Batch<T, R> {
  thisArg: unknown;
  modelId: string;
  calls: Call<T, R>[];
  /** batchWaitTimeoutMs passed since its first call. */
  due: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** Runs a function in the async context of the batch's first call (its request, if any). */
  runInFirstContext: (fn: () => void) => void;
}

/**
 * Wraps `fn` (items → one result per item, in order) into a function of one item whose concurrent
 * calls are batched; see the module comment.
 */
export function batch<T, R>(fn: (items: T[]) => R[] | Promise<R[]>, opts: BatchOptions = {}): BatchedFunction<T, Awaited<R>> {
  if (typeof fn !== "function") throw new TypeError(`serve.batch takes the function to batch, got ${typeof fn}`);
  if (typeof opts !== "object" || opts === null) throw new TypeError("serve.batch takes an options object as its second argument");
  for (const key of Object.keys(opts)) {
    if (!OPTIONS.includes(key)) throw new TypeError(`serve.batch has no option '${key}' (options: ${OPTIONS.join(", ")})`);
  }
  let maxBatchSize = opts.maxBatchSize === undefined ? 10 : checkPositiveInteger("maxBatchSize", opts.maxBatchSize);
  let waitMs = opts.batchWaitTimeoutMs === undefined ? 10 : checkTimeout(opts.batchWaitTimeoutMs);
  const maxConcurrentBatches = opts.maxConcurrentBatches === undefined ? 1 : checkPositiveInteger("maxConcurrentBatches", opts.maxConcurrentBatches);
  const name = fn.name ? `serve.batch function ${fn.name}` : "the serve.batch function";

  /** Batches not started, oldest first. */
  const waiting: Batch<T, Awaited<R>>[] = [];
  /** Per `this`, per model id: the batch new calls join (it has room and has not started). */
  const open = new Map<unknown, Map<string, Batch<T, Awaited<R>>>>();
  let running = 0;

  const closeForJoining = (b: Batch<T, Awaited<R>>): void => {
    const byModel = open.get(b.thisArg);
    if (byModel?.get(b.modelId) === b) {
      byModel.delete(b.modelId);
      if (byModel.size === 0) open.delete(b.thisArg);
    }
  };

  const openBatch = (thisArg: unknown, modelId: string): Batch<T, Awaited<R>> => {
    const b: Batch<T, Awaited<R>> = {
      thisArg, modelId, calls: [], due: false, timer: undefined, runInFirstContext: AsyncResource.bind((run: () => void) => run()),
    };
    b.timer = setTimeout(() => {
      b.timer = undefined;
      b.due = true;
      pump();
    }, waitMs);
    waiting.push(b);
    let byModel = open.get(thisArg);
    if (byModel === undefined) open.set(thisArg, (byModel = new Map()));
    byModel.set(modelId, b);
    return b;
  };

  /** Starts ready batches, oldest first, while slots are free. */
  const pump = (): void => {
    while (running < maxConcurrentBatches) {
      const i = waiting.findIndex((b) => b.due || b.calls.length >= maxBatchSize);
      if (i < 0) return;
      const b = waiting[i];
      if (b.calls.length > maxBatchSize) {
        // maxBatchSize shrank: the first calls run now, the rest stay as this (as old, as due) batch.
        start(b, b.calls.splice(0, maxBatchSize));
      } else {
        waiting.splice(i, 1);
        closeForJoining(b);
        if (b.timer !== undefined) clearTimeout(b.timer);
        start(b, b.calls);
      }
    }
  };

  const start = (b: Batch<T, Awaited<R>>, calls: Call<T, Awaited<R>>[]): void => {
    running++;
    b.runInFirstContext(() => {
      const first = currentRequest();
      const run = () => runBatch(b.thisArg, calls).finally(() => {
        running--;
        pump();
      });
      if (first === undefined) void run();
      else void withRequestContext({ ...first, signal: allAborted(calls) }, run);
    });
  };

  const runBatch = async (thisArg: unknown, calls: Call<T, Awaited<R>>[]): Promise<void> => {
    let results: unknown;
    try {
      results = await (fn as (this: unknown, items: T[]) => R[] | Promise<R[]>).call(thisArg, calls.map((c) => c.item));
      if (!Array.isArray(results)) {
        throw new RayServeError(`${name} must return an array with one result per item; for a batch of ${calls.length} it returned ${describe(results)}`);
      }
      if (results.length !== calls.length) {
        throw new RayServeError(`${name} must return one result per item, in order; for a batch of ${calls.length} items it returned ${results.length} results`);
      }
    } catch (err) {
      for (const call of calls) settle(call, () => call.reject(err));
      return;
    }
    calls.forEach((call, i) => settle(call, () => call.resolve((results as Awaited<R>[])[i])));
  };

  /** Settles a call once; a cancelled call has settled already. */
  const settle = (call: Call<T, Awaited<R>>, how: () => void): void => {
    if (call.done) return;
    call.done = true;
    call.detach();
    how();
  };

  const cancel = (call: Call<T, Awaited<R>>, b: Batch<T, Awaited<R>>): void => {
    if (call.done) return;
    const i = b.calls.indexOf(call);
    if (i >= 0 && waiting.includes(b)) {
      b.calls.splice(i, 1);
      if (b.calls.length === 0) {
        waiting.splice(waiting.indexOf(b), 1);
        closeForJoining(b);
        if (b.timer !== undefined) clearTimeout(b.timer);
      }
    }
    settle(call, () => call.reject(new RequestCancelledError(`the request was cancelled while its call to ${name} waited for its result`)));
  };

  const batched = function (this: unknown, item: T): Promise<Awaited<R>> {
    const context = currentRequest();
    if (context?.signal.aborted) {
      return Promise.reject(new RequestCancelledError(`the request was cancelled before its call to ${name}`));
    }
    const modelId = getMultiplexedModelId();
    const b = open.get(this)?.get(modelId) ?? openBatch(this, modelId);
    return new Promise<Awaited<R>>((resolve, reject) => {
      const call: Call<T, Awaited<R>> = { item, context, resolve, reject, done: false, detach: () => {} };
      if (context !== undefined) {
        const onAbort = () => cancel(call, b);
        context.signal.addEventListener("abort", onAbort, { once: true });
        call.detach = () => context.signal.removeEventListener("abort", onAbort);
      }
      b.calls.push(call);
      if (b.calls.length >= maxBatchSize) closeForJoining(b);
      pump();
    });
  } as BatchedFunction<T, Awaited<R>>;

  batched.setMaxBatchSize = (n: number): void => {
    maxBatchSize = checkPositiveInteger("maxBatchSize", n);
    // Open batches at or past the new size take no more calls; smaller ones may fill further.
    for (const b of [...waiting]) if (b.calls.length >= maxBatchSize) closeForJoining(b);
    pump();
  };
  batched.setBatchWaitTimeoutMs = (ms: number): void => {
    waitMs = checkTimeout(ms);
  };
  return batched;
}

/** Aborts once every call's request was cancelled (never if a call has no request). */
function allAborted(calls: Call<unknown, unknown>[]): AbortSignal {
  const controller = new AbortController();
  const signals = calls.map((c) => c.context?.signal);
  if (signals.some((s) => s === undefined)) return controller.signal;
  const check = () => {
    if (signals.every((s) => s!.aborted)) controller.abort(new RequestCancelledError("every request of this batch was cancelled"));
  };
  for (const s of signals) s!.addEventListener("abort", check, { once: true });
  check();
  return controller.signal;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return `a ${value.constructor?.name ?? "object"}`;
  return typeof value;
}
