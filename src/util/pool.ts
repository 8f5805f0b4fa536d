/**
 * util.Pool: a multiprocessing-style pool (Ray's ray.util.multiprocessing.Pool) backed by
 * tasks instead of processes.
 *
 * Items are cut into chunks and each chunk is one task of `runChunk`, which rebuilds the user's
 * function from its descriptor and applies it to every item of the chunk; results come back
 * per chunk. At most `processes` chunk tasks of the pool run at once (that is what the number
 * of processes bounds in the original); the rest are submitted as earlier ones finish.
 */
import { clusterResources } from "../api/cluster.js";
import { cancel } from "../api/objects.js";
import { RayError } from "../common/errors.js";
import { checkInteger, checkKnownOptions, describe } from "../common/validate.js";
import { callerModuleUrl, describeCallable } from "../core-worker/function-manager/describe.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { ObjectRef } from "../core-worker/object-ref.js";
import { Deferred, Semaphore } from "./async-tools.js";
import type { RemoteFunction } from "../types.js";
import { getValue, internalRemoteFunction } from "./internal-remote.js";
import { PACKED_MIN_ITEMS, poolChunkModule, runChunk, type ChunkResult } from "./pool-chunk.js";
import { noProgress, startProgress, type Progress } from "./progress.js";

const runChunkRemote = internalRemoteFunction(runChunk, poolChunkModule);

/** Chunks per process when the caller gives no chunksize: enough to even out uneven chunks. */
const CHUNKS_PER_PROCESS = 4;

export interface PoolOptions {
  /** Chunk tasks that may run at once. Default: the cluster's CPU count. */
  processes?: number;
}

export interface MapOptions {
  /** Items per task. Default: about items / (processes * 4), so each process gets ~4 chunks. */
  chunksize?: number;
}

/** One call's chunks: their results once cut, and the order in which they finish. */
interface Run {
  chunks: Deferred<Deferred<ChunkResult>[]>;
  items: number;
  /** Items per chunk (the last may have fewer), known once the chunks are cut. */
  chunkSize: number;
  finished: number[];
  onFinish?: () => void;
  /** The call's progress bar: advanced as chunks finish, wiped at the first failure. */
  progress: Progress;
}

/** The typed arrays (every ArrayBufferView but DataView), for their subarray(). */
type TypedArray = ArrayBufferView & { subarray(start: number, end: number): TypedArray };

export class Pool {
  readonly #processes: number | undefined;
  #slots?: Promise<{ processes: number; slots: Semaphore }>;
  #closed = false;
  #terminated = false;
  /** Calls still submitting or running chunks, so close() can wait for them. */
  readonly #active = new Set<Promise<void>>();
  /** Chunk tasks submitted and not finished, so terminate() can stop them. */
  readonly #running = new Set<ObjectRef>();

  constructor(opts?: PoolOptions) {
    checkKnownOptions("Pool options", opts, ["processes"]);
    checkInteger("Pool option processes", opts?.processes, 1);
    this.#processes = opts?.processes;
  }

  /** Applies `fn` to every item; resolves to the results in the order of `items`. */
  async map<T, R>(fn: (x: T) => R, items: Iterable<T>, opts?: MapOptions): Promise<Awaited<R>[]> {
    const run = this.#start("map", fn, items, opts, false);
    return (await collect(run)) as Awaited<R>[];
  }

  /** Like map, but yields results in order as soon as their chunk (and all before it) finished. */
  imap<T, R>(fn: (x: T) => R, items: Iterable<T>, opts?: MapOptions): AsyncIterable<Awaited<R>> {
    const run = this.#start("imap", fn, items, opts, false);
    return (async function* ordered() {
      try {
        for (const chunk of await run.chunks.promise) yield* (await chunk.promise) as Awaited<R>[];
      } finally {
        run.progress.abandon(); // a broken-off iteration; after the last result, the bar has already ended
      }
    })();
  }

  /** Like imap, but yields each chunk's results as soon as that chunk finished. */
  imapUnordered<T, R>(fn: (x: T) => R, items: Iterable<T>, opts?: MapOptions): AsyncIterable<Awaited<R>> {
    const run = this.#start("imapUnordered", fn, items, opts, false);
    return (async function* unordered() {
      try {
        const chunks = await run.chunks.promise;
        for (let k = 0; k < chunks.length; k++) {
          while (run.finished.length <= k) await new Promise<void>((resolve) => (run.onFinish = resolve));
          yield* (await chunks[run.finished[k]].promise) as Awaited<R>[];
        }
      } finally {
        run.progress.abandon(); // as in imap
      }
    })();
  }

  /** Like map, with each item an argument list: `fn(...item)`. */
  async starmap<A extends unknown[], R>(fn: (...args: A) => R, items: Iterable<A>): Promise<Awaited<R>[]> {
    const run = this.#start("starmap", fn, items, undefined, true);
    return (await collect(run)) as Awaited<R>[];
  }

  /** Runs `fn(...args)` in one task and resolves to its result. */
  async apply<A extends unknown[], R>(fn: (...args: A) => R, args: A): Promise<Awaited<R>> {
    if (!Array.isArray(args)) throw new TypeError(`Pool.apply() argument args must be an array of arguments, got ${describe(args)}`);
    const run = this.#start("apply", fn, [args], { chunksize: 1 }, true);
    const [chunk] = await run.chunks.promise;
    const [result] = await chunk.promise;
    return result as Awaited<R>;
  }

  /** Accepts no more calls; resolves once the calls already made have finished. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#active]);
  }

  /**
   * Stops now, as multiprocessing's terminate(): no more chunks start, the running ones are
   * cancelled (their threads stopped), and calls not finished reject. Resolves once nothing of
   * the pool runs.
   */
  async terminate(): Promise<void> {
    this.#closed = true;
    this.#terminated = true;
    for (const ref of this.#running) cancel(ref, { force: true }).catch(() => {});
    await Promise.allSettled([...this.#active]);
  }

  /** `await using pool = new Pool()` terminates it at the end of the block, as Python's `with Pool() as p:` does. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.terminate();
  }

  // -------------------------------------------------------------------------------------------

  /**
   * Checks the input, describes `fn` and cuts the items into chunks, synchronously: describing
   * must happen while the user's frame is still on the stack (it names fn's module). Then
   * submits the chunks in the background, at most `processes` at a time across the pool.
   */
  #start(what: string, fn: Function, items: Iterable<unknown>, opts: MapOptions | undefined, star: boolean): Run {
    const where = `Pool.${what}()`;
    if (this.#closed) throw new Error(`${where}: the pool is closed`);
    if (typeof fn !== "function") throw new TypeError(`${where} argument fn must be a function, got ${describe(fn)}`);
    if (items === null || typeof (items as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`${where} argument items must be iterable, got ${describe(items)}`);
    }
    checkKnownOptions(`${where} options`, opts, ["chunksize"]);
    checkInteger(`${where} option chunksize`, opts?.chunksize, 1);
    const list = toList(items);
    if (star) {
      for (let i = 0; i < list.length; i++) {
        if (!Array.isArray(list[i])) throw new TypeError(`${where} argument items[${i}] must be an array of arguments, got ${describe(list[i])}`);
      }
    }
    const desc = describeCallable(fn, callerModuleUrl());
    // One task is not long work: apply shows no bar.
    const progress = what === "apply" ? noProgress : startProgress(fn.name ? `Pool.${what}(${fn.name})` : `Pool.${what}`, list.length);
    const run: Run = { chunks: new Deferred(), items: list.length, chunkSize: 0, finished: [], progress };
    const submitting = this.#submitChunks(`${where.slice(0, -2)}(${fn.name || "anonymous"})`, desc, list, opts?.chunksize, star, run);
    this.#active.add(submitting);
    void submitting.finally(() => this.#active.delete(submitting));
    return run;
  }

  /**
   * Cuts the chunks (the default size needs `processes`, which may take a request to the
   * cluster), then submits them, each once a pool-wide slot is free. Settles once every chunk
   * has; never rejects: errors travel in the chunks' results.
   */
  async #submitChunks(name: string, desc: FunctionDescriptor, list: ArrayLike<unknown>, chunksize: number | undefined, star: boolean, run: Run): Promise<void> {
    let results: Deferred<ChunkResult>[] = [];
    let next = 0; // the first chunk not submitted yet
    const finish = (i: number) => {
      run.finished.push(i);
      run.onFinish?.();
    };
    /** Fails every chunk not submitted yet: after a failed chunk, nothing more of the call runs. */
    const failRest = (error: unknown) => {
      for (; next < results.length; next++) {
        results[next].reject(error);
        finish(next);
      }
    };
    try {
      const { processes, slots } = await this.#slotsReady();
      const size = (run.chunkSize = chunksize ?? Math.max(1, Math.ceil(list.length / (processes * CHUNKS_PER_PROCESS))));
      results = Array.from({ length: Math.ceil(list.length / size) }, () => new Deferred<ChunkResult>());
      run.chunks.resolve(results);
      const task = runChunkRemote.options({ name });
      let failure: { error: unknown } | undefined;
      // Each chunk is cut just before it is submitted: the first starts without waiting for the rest.
      while (next < results.length) {
        await slots.acquire();
        let ref: ObjectRef<ChunkResult> | undefined;
        try {
          if (this.#terminated) failure ??= { error: new RayError(`${name}: the pool was terminated`) };
          if (failure) throw failure.error;
          const first = next * size;
          ref = submitChunk(task, desc, chunkOf(list, first, first + size, star), star, name, first);
        } finally {
          if (!ref) slots.release();
        }
        const i = next++;
        const running = ref;
        this.#running.add(running);
        // The bar is told first: its last line is written before the caller sees the result or the error.
        getValue(ref).then(
          (value) => {
            run.progress.advance(Math.min(size, list.length - i * size));
            results[i].resolve(value);
          },
          (error: unknown) => {
            failure ??= { error };
            run.progress.abandon();
            results[i].reject(error);
          },
        ).finally(() => {
          this.#running.delete(running);
          slots.release();
          finish(i);
        });
      }
    } catch (error) {
      // A failed chunk, or a chunk that could not be submitted (not initialized, an item that
      // cannot be serialized): the chunks not submitted yet fail with that error.
      run.progress.abandon();
      if (!run.chunks.settled) run.chunks.reject(error);
      failRest(error);
    }
    await Promise.allSettled(results.map((d) => d.promise));
    run.progress.finish(); // no items at all; otherwise the last chunk has ended the bar already
  }

  /**
   * `processes` (resolving the default from the cluster once) and the pool-wide slots: chunks
   * submitted and not finished. When the cluster's CPUs are no more than `processes`, they bound
   * the chunks that run at once by themselves, and a second chunk per process waits at the node,
   * ready to start when one finishes (rather than after a round trip through this thread).
   */
  #slotsReady(): Promise<{ processes: number; slots: Semaphore }> {
    return (this.#slots ??= (async () => {
      const cpus = Math.max(1, Math.floor((await clusterResources()).CPU ?? 1));
      const processes = this.#processes ?? cpus;
      return { processes, slots: new Semaphore(processes >= cpus ? 2 * processes : processes) };
    })().catch((err: unknown) => {
      this.#slots = undefined; // e.g. not initialized yet: ask again next time
      throw err;
    }));
  }
}

/** Submits one chunk; an item that cannot be sent is reported against the user's items, not runChunk's args. */
function submitChunk(
  task: RemoteFunction<Parameters<typeof runChunk>, ChunkResult>, desc: FunctionDescriptor, chunk: ArrayLike<unknown>, star: boolean, name: string, first: number,
): ObjectRef<ChunkResult> {
  try {
    return task.remote(desc, chunk, star);
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    const where = /^args\[1\]\[(\d+)\]/.exec(err.message);
    const item = where ? `items[${first + Number(where[1])}]${err.message.slice(where[0].length)}` : err.message;
    throw new TypeError(`${name}: ${item}`, { cause: err });
  }
}

/** Items as something indexable; a typed array stays one (its chunks then stay compact). */
function toList(items: Iterable<unknown>): ArrayLike<unknown> {
  if (Array.isArray(items)) return items;
  if (ArrayBuffer.isView(items) && !(items instanceof DataView)) return items as unknown as ArrayLike<unknown>;
  return Array.from(items);
}

/**
 * Items [start, end) as one task's chunk. A typed array's chunk is a view (serializing a view
 * writes only its own bytes); plain numbers travel packed, as one buffer (in shared memory when
 * large) rather than as an array of boxed numbers (not worth it for small chunks).
 */
function chunkOf(list: ArrayLike<unknown>, start: number, end: number, star: boolean): ArrayLike<unknown> {
  if (ArrayBuffer.isView(list)) return (list as unknown as TypedArray).subarray(start, end) as unknown as ArrayLike<unknown>;
  const items = list as unknown[];
  end = Math.min(end, items.length);
  if (star || end - start < PACKED_MIN_ITEMS) return items.slice(start, end);
  const packed = new Float64Array(end - start);
  for (let i = start; i < end; i++) {
    const x = items[i];
    if (typeof x !== "number") return items.slice(start, end);
    packed[i - start] = x;
  }
  return packed;
}

/**
 * All results of a run, in order; rejects at the first failed chunk. Each chunk's results are
 * copied into place as soon as it finishes, while later chunks still run. A chunk of numeric
 * results comes back packed in a Float64Array (see runChunk): unpacked here.
 */
async function collect(run: Run): Promise<unknown[]> {
  const chunks = await run.chunks.promise;
  const out = new Array<unknown>(run.items);
  const place = (values: ChunkResult, at: number) => {
    for (let i = 0; i < values.length; i++) out[at + i] = values[i];
  };
  await Promise.all(chunks.map((c, k) => c.promise.then((values) => place(values, k * run.chunkSize))));
  return out;
}
