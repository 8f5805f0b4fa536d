/**
 * A replica: the actor (in a worker process of its own) that hosts one instance of a deployment's
 * class, or its function. Workers import this module by its URL (util.remoteExport), so it imports
 * only what a replica needs.
 *
 * - Start: the constructor loads the user's code and constructs it in the background (loading is
 *   async, a constructor is not); ready() runs init, reconfigure(userConfig) and checkHealth, and
 *   reports the first error, which fails the start (the controller retries).
 * - Requests: handleRequest (a method's result), stream (a generator's values, in batches: see
 *   response.ts) and http (an HTTP request through the ingress's fetch, answered as a stream of a
 *   head and body chunks: see http-result.ts). Each runs inside its RequestContext, whose signal
 *   cancel(callId) aborts. At most maxOngoingRequests run at once; a call past them (several
 *   callers, each of which keeps its own count, filled the replica) is refused before it runs
 *   (ReplicaFullRefusal): its caller sends it to another replica or waits (retry-rule.ts).
 * - Stop: drain() refuses new calls (ReplicaStoppingRefusal: their callers send them to another
 *   replica, retry-rule.ts), waits for the running requests
 *   and for their streams to be read to the end, up to gracefulShutdownTimeoutMs; requests still
 *   running then are cut off (their callers get RequestCutOff, their signals abort); then it calls
 *   the user's shutdown(). The controller then kills the actor, and the process exits.
 * - Multiplexed models: the ids loaded here are reported to the controller (model-reports.ts).
 */
import * as ray from "tsray";
import { RayServeError, RequestCancelledError } from "./errors.js";
import { decodeHandleArg, encodeHandleResult, toHttpParts, type WireRequest } from "./http-result.js";
import { fromWireRequest } from "./lazy-request.js";
import { reportLoadedModels } from "./model-reports.js";
import { RequestBodies, type ChunkAnswer } from "./request-bodies.js";
import { loadedModelIds } from "./multiplexed.js";
import { setReplicaContext, withRequestContext, type RequestContext } from "./request-context.js";
import { LazyAbort } from "./lazy-abort.js";
import { ReplicaFullRefusal, ReplicaStoppingRefusal, RequestCutOff } from "./retry-rule.js";
import type { RequestMeta, StreamBatch } from "./response.js";
import type { JsonValue } from "./options.js";
import "./handle.js"; // registers the handle's serializer before bound arguments are read

/** This module, whose ServeReplica workers import (util.remoteExport). */
export const replicaModule = import.meta.url;

export interface ReplicaInit {
  appName: string;
  deployment: string;
  replicaId: string;
  shipped: ray.util.ShippedFunction;
  isClass: boolean;
  args: unknown[];
  userConfig?: JsonValue;
  maxOngoingRequests: number;
}

type Instance = Record<string, unknown>;
interface Stream {
  items: unknown[];
  done: boolean;
  error?: unknown;
  wake?: () => void;
}

const LIFECYCLE = new Set(["init", "reconfigure", "checkHealth", "shutdown", "constructor"]);
/** After a cut-off, how long drain() still waits for the cut streams' callers to fetch their error. */
const CUT_STREAMS_WAIT_MS = 1000;

export class ServeReplica {
  readonly #init: ReplicaInit;
  readonly #instance: Promise<Instance>;
  #maxOngoing: number;
  #ongoing = 0;
  readonly #aborts = new Map<string, LazyAbort>();
  /** Rejects a running request's call at once (drain()'s cut-off), by call id. */
  readonly #cutters = new Map<string, { requestId: string; cut: (err: Error) => void }>();
  #stopping = false;
  #draining: Promise<void> | undefined;
  readonly #streams = new Map<string, Stream>();
  readonly #bodies = new RequestBodies();
  readonly #earlyCancels = new Set<string>();
  #drained: (() => void) | undefined;
  #stopped!: () => void;
  readonly #stoppedPromise = new Promise<void>((r) => { this.#stopped = r; });

  constructor(init: ReplicaInit) {
    this.#init = init;
    this.#maxOngoing = init.maxOngoingRequests;
    setReplicaContext({ appName: init.appName, deployment: init.deployment, replicaId: init.replicaId });
    reportLoadedModels(init);
    this.#instance = construct(init);
    this.#instance.catch(() => {});
  }

  /** Constructed, initialized, configured and healthy: the replica's pid and node. */
  async ready(): Promise<{ pid: number; nodeId: string }> {
    const instance = await this.#instance;
    if (typeof instance.init === "function") await instance.init();
    if (this.#init.userConfig !== undefined) await this.reconfigure(this.#init.userConfig);
    await this.checkHealth();
    return { pid: process.pid, nodeId: ray.getRuntimeContext().nodeId };
  }

  /** Where it runs and the models it holds, for a controller taking it over after a restart (it is running already). */
  async info(): Promise<{ pid: number; nodeId: string; modelIds: string[] }> {
    await this.#instance;
    return { pid: process.pid, nodeId: ray.getRuntimeContext().nodeId, modelIds: loadedModelIds() };
  }

  async reconfigure(userConfig: JsonValue): Promise<void> {
    const instance = await this.#instance;
    if (typeof instance.reconfigure === "function") await instance.reconfigure(userConfig);
  }

  setMaxOngoingRequests(n: number): void {
    this.#maxOngoing = n;
  }

  async checkHealth(): Promise<void> {
    const instance = await this.#instance;
    if (typeof instance.checkHealth === "function") await instance.checkHealth();
  }

  /** Never answers while the replica lives: the controller learns of its death by this call failing. */
  async watch(): Promise<void> {
    await this.#stoppedPromise;
  }

  async handleRequest(meta: RequestMeta, method: string, ...args: unknown[]): Promise<unknown> {
    return this.#serve(meta, async (instance, abort) =>
      encodeHandleResult(await this.#callMethod(instance, method, args.map((arg) => decodeHandleArg(arg, abort)))));
  }

  /** A generator method's values: the first batch now, the rest by next(). */
  async stream(meta: RequestMeta, method: string, ...args: unknown[]): Promise<StreamBatch> {
    this.#startStream(meta, async (instance) => {
      const out = this.#callMethod(instance, method, args);
      if (!isAsyncIterable(out) && !isIterable(out)) throw new TypeError(`${this.#init.deployment}.${method} is called with stream: true but returned ${out === null ? "null" : typeof out}, not a generator`);
      return out as AsyncIterable<unknown> | Iterable<unknown>;
    });
    return this.next(meta.callId);
  }

  /**
   * HTTP requests of one proxy (see http-calls.ts): answers once one of them has something to
   * send, with what each has by then; one with nothing yet (or whose only news is its error)
   * comes back empty and not done, for its caller to ask next(). Requests and answers without
   * bytes travel as JSON strings (asJsonIfBodiless).
   */
  async httpMany(requests: string | [RequestMeta, WireRequest][]): Promise<string | StreamBatch[]> {
    const list = typeof requests === "string" ? (JSON.parse(requests) as [RequestMeta, WireRequest][]) : requests;
    const streams = list.map(([meta, wire]) => this.#startHttp(meta, wire));
    if (!streams.some(hasNews)) await new Promise<void>((wake) => { for (const stream of streams) stream.wake = wake; });
    // What is produced in the same turn comes in the same answer.
    await new Promise((r) => setImmediate(r));
    const batches = list.map(([meta]) => this.#take(meta.callId, true));
    return batches.every((batch) => batch.items.every((item) => !(item instanceof Uint8Array))) ? JSON.stringify(batches) : batches;
  }

  /**
   * The next chunk of a streamed request body (null: its end); answers once the request runs here
   * and the body has room for more: false when it is not wanted any more, "refused" when the
   * request was refused here (see request-bodies.ts).
   */
  bodyChunk(callId: string, chunk: Uint8Array | null): Promise<ChunkAnswer> {
    return this.#bodies.push(callId, chunk);
  }

  /** The values of a stream produced since the last call, once there is at least one (or its end). */
  async next(callId: string): Promise<StreamBatch> {
    const stream = this.#streams.get(callId);
    if (stream === undefined) throw new RayServeError(`no stream ${callId} on this replica (finished or cancelled)`);
    if (!hasNews(stream)) {
      await new Promise<void>((r) => { stream.wake = r; });
      // What is produced in the same turn comes in the same batch.
      await new Promise((r) => setImmediate(r));
    }
    return this.#take(callId, false);
  }

  /** Whether the call runs here now: taken, not refused (see DeploymentResponse.toObjectRef). */
  runs(callId: string): boolean {
    return this.#aborts.has(callId);
  }

  cancel(callId: string): void {
    if (this.#bodies.has(callId)) this.#bodies.finish(callId);
    const abort = this.#aborts.get(callId);
    if (abort !== undefined) abort.abort(new RayServeError(`request ${callId} was cancelled`));
    else this.#cancelledEarly(callId);
    const stream = this.#streams.get(callId);
    if (stream !== undefined) {
      stream.done = true;
      this.#streams.delete(callId);
      stream.wake?.();
      this.#checkDrained();
    }
  }

  /**
   * Stops taking work (new calls are refused), waits for the running
   * requests and their streams (at most timeoutMs), cuts off what still runs, then calls the
   * user's shutdown(). Every call that started has its answer before this resolves. Asked again
   * (by a restarted controller), it is the same drain.
   */
  drain(timeoutMs: number): Promise<void> {
    this.#draining ??= this.#drain(timeoutMs);
    return this.#draining;
  }

  async #drain(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    await this.#untilIdle(timeoutMs);
    if (this.#ongoing > 0 || this.#streams.size > 0) {
      for (const [callId, { requestId, cut }] of [...this.#cutters]) {
        const err = new RequestCutOff(`request ${requestId} was cut off: it still ran on replica ${this.#init.replicaId} of deployment '${this.#init.deployment}' (application '${this.#init.appName}') when the replica stopped, after gracefulShutdownTimeoutMs (${timeoutMs} ms)`);
        this.#aborts.get(callId)?.abort(err);
        cut(err);
      }
      await this.#untilIdle(CUT_STREAMS_WAIT_MS);
    }
    try {
      const instance = await this.#instance;
      if (typeof instance.shutdown === "function") await instance.shutdown();
    } finally {
      this.#stopped();
    }
  }

  /**
   * What a stream has now; its end, or its error (thrown, unless `keepError`: then an empty
   * batch, the error kept for the next call).
   */
  #take(callId: string, keepError: boolean): StreamBatch {
    const stream = this.#streams.get(callId);
    if (stream === undefined) return { items: [], done: true }; // cancelled meanwhile
    const items = stream.items.splice(0);
    if (!stream.done) return { items, done: false };
    if (stream.error === undefined) {
      this.#ended(callId);
      return { items, done: true };
    }
    // Give the values first; the error comes with the next call.
    if (items.length > 0 || keepError) return { items, done: false };
    this.#ended(callId);
    throw stream.error;
  }

  #startHttp(meta: RequestMeta, wire: WireRequest): Stream {
    return this.#startStream(meta, async (instance, abort) => {
      const request = fromWireRequest(wire, abort, wire.bodyStreamed ? this.#bodies.stream(meta.callId) : undefined);
      const fetch = this.#init.isClass ? instance.fetch : instance.__call__;
      if (typeof fetch !== "function") return toHttpParts(new Response(`deployment '${this.#init.deployment}' has no fetch(request) method: it cannot serve HTTP`, { status: 501 }));
      return toHttpParts(await fetch.call(instance, request));
    }, wire.bodyStreamed ? (err) => this.#endBody(meta.callId, err) : undefined);
  }

  /** A streamed body's request ended: refused before it ran (its body goes elsewhere), or not. */
  #endBody(callId: string, err: unknown): void {
    if (err instanceof ReplicaStoppingRefusal || err instanceof ReplicaFullRefusal) this.#bodies.refuse(callId);
    else this.#bodies.finish(callId);
  }

  /** Resolves once no request runs and every stream was read to its end, or after ms. */
  async #untilIdle(ms: number): Promise<void> {
    if (this.#ongoing === 0 && this.#streams.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((r) => { this.#drained = r; }),
      new Promise<void>((r) => { timer = setTimeout(r, ms); }),
    ]);
    clearTimeout(timer);
    this.#drained = undefined;
  }

  /** A stream read to its end: gone, and perhaps the last thing a drain waited for. */
  #ended(callId: string): void {
    this.#streams.delete(callId);
    this.#checkDrained();
  }

  #checkDrained(): void {
    if (this.#ongoing === 0 && this.#streams.size === 0) this.#drained?.();
  }

  #callMethod(instance: Instance, method: string, args: unknown[]): unknown {
    const fn = this.#init.isClass ? instance[method] : method === "__call__" ? instance.__call__ : undefined;
    if (typeof fn !== "function" || LIFECYCLE.has(method)) {
      throw new TypeError(`deployment '${this.#init.deployment}' has no method '${method}'${this.#init.isClass ? "" : " (a function deployment is called as handle.remote(...))"}`);
    }
    return fn.apply(instance, args);
  }

  /** A cancel that overtook its request (calls from one caller may run in any order here): remembered a while. */
  #cancelledEarly(callId: string): void {
    this.#earlyCancels.add(callId);
    setTimeout(() => this.#earlyCancels.delete(callId), 60_000).unref();
  }

  async #serve<T>(meta: RequestMeta, run: (instance: Instance, abort: LazyAbort) => Promise<T>): Promise<T> {
    // Stopping, or full (other callers took its slots): the caller sends it to another replica,
    // or waits (nothing of it ran here). No call waits in a replica's own queue, where its
    // replica's death would fail it.
    if (this.#stopping) throw new ReplicaStoppingRefusal(this.#init.replicaId, this.#init.deployment);
    if (this.#ongoing >= this.#maxOngoing) throw new ReplicaFullRefusal(this.#init.replicaId, this.#init.deployment, this.#maxOngoing);
    const abort = new LazyAbort();
    // Cancelled before it started: it never runs.
    if (this.#earlyCancels.delete(meta.callId)) throw new RequestCancelledError(`request ${meta.requestId} was cancelled before it started`);
    this.#aborts.set(meta.callId, abort);
    this.#ongoing++;
    try {
      try {
        const instance = await this.#instance;
        // Settles with the request, or at once when drain() cuts it off.
        return await new Promise<T>((resolve, reject) => {
          this.#cutters.set(meta.callId, { requestId: meta.requestId, cut: reject });
          const context: RequestContext = {
            requestId: meta.requestId, route: meta.route, appName: meta.appName, multiplexedModelId: meta.multiplexedModelId,
            get signal() { return abort.signal; },
          };
          withRequestContext(context, () => run(instance, abort)).then(resolve, reject);
        });
      } finally {
        this.#cutters.delete(meta.callId);
        this.#ongoing--;
        this.#checkDrained();
      }
    } finally {
      this.#aborts.delete(meta.callId);
    }
  }

  /** `ended`: told when the stream ended, with its error if it failed. */
  #startStream(meta: RequestMeta, open: (instance: Instance, abort: LazyAbort) => Promise<AsyncIterable<unknown> | Iterable<unknown>>, ended?: (err: unknown) => void): Stream {
    const stream: Stream = { items: [], done: false };
    this.#streams.set(meta.callId, stream);
    const push = (item: unknown) => {
      stream.items.push(item);
      stream.wake?.();
      stream.wake = undefined;
    };
    void this.#serve(meta, async (instance, abort) => {
      const source = await open(instance, abort);
      // A whole result (see toHttpParts): all of it at once.
      if (Array.isArray(source)) {
        if (!stream.done) source.forEach(push);
        return;
      }
      for await (const item of source as AsyncIterable<unknown>) {
        if (stream.done) break; // cancelled
        push(item);
      }
    }).then(
      () => { stream.done = true; },
      (err) => { stream.done = true; stream.error = err; },
    ).finally(() => {
      ended?.(stream.error);
      stream.wake?.();
      stream.wake = undefined;
    });
    return stream;
  }
}

async function construct(init: ReplicaInit): Promise<Instance> {
  const target = (await ray.util.loadFunction(init.shipped)) as unknown as (new (...args: unknown[]) => Instance) & ((...args: unknown[]) => unknown);
  if (!init.isClass) return { __call__: target };
  return new target(...init.args);
}

function hasNews(stream: Stream): boolean {
  return stream.items.length > 0 || stream.done;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function";
}
function isIterable(value: unknown): value is Iterable<unknown> {
  return typeof value === "object" && value !== null && typeof (value as Iterable<unknown>)[Symbol.iterator] === "function";
}
