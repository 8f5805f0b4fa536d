/**
 * util.ActorPool: Ray's ActorPool. Spreads calls over a fixed set of actors, one call per actor
 * at a time; work submitted while all actors are busy waits here and goes to the first actor
 * that finishes.
 *
 * Unlike Ray's Python version, an actor is handed its next work as soon as its call finishes
 * (each call is watched with `wait`), not only when the caller collects a result; and `map`
 * yields just its own results, leaving earlier unretrieved ones to `getNext`.
 */
import { cancel, wait } from "../api/objects.js";
import { GetTimeoutError } from "../common/errors.js";
import { checkKnownOptions, checkNonNegativeNumber, describe } from "../common/validate.js";
import type { ObjectRef } from "../core-worker/object-ref.js";
import { isActorHandle, isObjectRef } from "../serialization/prepare.js";
import type { ActorHandle, GetOptions } from "../types.js";
import { deadlineOf, Signal } from "./async-tools.js";
import { getValue } from "./internal-remote.js";
import { startProgress, type Progress } from "./progress.js";

type CallFn<T, V, R> = (actor: ActorHandle<T>, value: V) => ObjectRef<R>;

/** One submitted value, from submit until its result is taken. */
interface Work<T> {
  fn: CallFn<T, unknown, unknown>;
  value: unknown;
  ref?: ObjectRef;
  /** fn threw or returned something other than an ObjectRef; surfaces when the result is taken. */
  error?: unknown;
  done: boolean;
  /** The bar of the map that submitted it, advanced when it finishes. */
  progress?: Progress;
}

export class ActorPool<T> {
  readonly #idle: ActorHandle<T>[];
  readonly #all: Set<ActorHandle<T>>;
  /** Submitted, not yet given to an actor (all were busy), oldest first. */
  readonly #pending: Work<T>[] = [];
  /** Submitted and not yet taken, in submission order (a Set keeps insertion order). */
  readonly #outstanding = new Set<Work<T>>();
  /** Finished and not yet taken, in completion order. */
  readonly #finished = new Set<Work<T>>();
  /** Notified whenever a work finishes (and when the pool is disposed). */
  readonly #changed = new Signal();
  #disposed = false;

  constructor(actors: ActorHandle<T>[]) {
    if (!Array.isArray(actors)) throw new TypeError(`ActorPool() argument actors must be an array of ActorHandles, got ${describe(actors)}`);
    if (actors.length === 0) throw new RangeError("ActorPool() argument actors must not be empty");
    actors.forEach((a, i) => {
      if (!isActorHandle(a)) throw new TypeError(`ActorPool() argument actors[${i}] must be an ActorHandle, got ${describe(a)}`);
    });
    this.#all = new Set(actors);
    if (this.#all.size !== actors.length) throw new RangeError("ActorPool() argument actors contains the same actor twice");
    this.#idle = [...actors];
  }

  /**
   * Calls `fn(actor, value)` for each value and yields the results in the order of `values`.
   * All values are submitted at once; those beyond the number of actors wait for a free one.
   */
  map<V, R>(fn: CallFn<T, V, R>, values: Iterable<V>): AsyncIterable<R> {
    this.#checkOpen("map");
    const { works, progress } = this.#submitAll("ActorPool.map", fn, values);
    const take = (w: Work<T>) => this.#take(w) as Promise<R>;
    return (async function* ordered() {
      try {
        for (const w of works) yield await take(w);
      } finally {
        progress.abandon(); // broken off, or a call failed; after the last result, the bar has already ended
      }
    })();
  }

  /** Like map, but yields each result as soon as it is ready. */
  mapUnordered<V, R>(fn: CallFn<T, V, R>, values: Iterable<V>): AsyncIterable<R> {
    this.#checkOpen("mapUnordered");
    const { works, progress } = this.#submitAll("ActorPool.mapUnordered", fn, values);
    return this.#unordered(new Set(works), progress) as AsyncIterable<R>;
  }

  /** Schedules `fn(actor, value)` on an idle actor, or queues it until one is free. */
  submit<V, R>(fn: CallFn<T, V, R>, value: V): void {
    this.#checkOpen("submit");
    checkFn("ActorPool.submit()", fn);
    this.#submit(fn as CallFn<T, unknown, unknown>, value);
  }

  /** Whether any submitted work's result has not been taken yet. */
  hasNext(): boolean {
    return this.#outstanding.size > 0;
  }

  /**
   * The result of the oldest submitted work not yet taken (submission order). Throws
   * GetTimeoutError if it is not ready within `timeoutMs`; it can then still be taken later.
   * A failed call's error is thrown here, and the work counts as taken.
   */
  async getNext<R = unknown>(opts?: GetOptions): Promise<R> {
    const deadline = checkGetOptions("ActorPool.getNext()", opts);
    this.#checkHasNext("getNext");
    for (;;) {
      this.#checkOpen("getNext");
      // Re-read each round: a concurrent caller may have taken the work we were waiting for.
      const oldest = this.#outstanding.values().next().value;
      if (!oldest) this.#checkHasNext("getNext");
      if (oldest!.done) return this.#take(oldest!) as Promise<R>;
      if (!(await this.#changed.next(deadline))) throw timeout("getNext", opts!.timeoutMs!);
    }
  }

  /** The result of whichever submitted work finishes first (completion order); see getNext. */
  async getNextUnordered<R = unknown>(opts?: GetOptions): Promise<R> {
    const deadline = checkGetOptions("ActorPool.getNextUnordered()", opts);
    this.#checkHasNext("getNextUnordered");
    for (;;) {
      this.#checkOpen("getNextUnordered");
      const first = this.#finished.values().next().value;
      if (first) return this.#take(first) as Promise<R>;
      this.#checkHasNext("getNextUnordered");
      if (!(await this.#changed.next(deadline))) throw timeout("getNextUnordered", opts!.timeoutMs!);
    }
  }

  /** Whether an actor is idle (and no queued work is waiting for one). */
  hasFree(): boolean {
    return this.#idle.length > 0 && this.#pending.length === 0;
  }

  /** Removes an idle actor from the pool and returns it, or undefined if none is idle. */
  popIdle(): ActorHandle<T> | undefined {
    if (!this.hasFree()) return undefined;
    const actor = this.#idle.pop()!;
    this.#all.delete(actor);
    return actor;
  }

  /** Adds an actor to the pool; queued work starts on it at once. */
  push(actor: ActorHandle<T>): void {
    this.#checkOpen("push");
    if (!isActorHandle(actor)) throw new TypeError(`ActorPool.push() argument actor must be an ActorHandle, got ${describe(actor)}`);
    if (this.#all.has(actor)) throw new RangeError("ActorPool.push(): the actor is already in the pool");
    this.#all.add(actor);
    this.#release(actor);
  }

  /**
   * `using pool = new ActorPool(actors)` lets go of the pool's work at the end of the block: work
   * not started is dropped, calls in flight are cancelled, results not taken are released, and
   * waiting or later uses of the pool throw. The actors live on: they are the caller's.
   */
  [Symbol.dispose](): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#pending.length = 0;
    for (const w of this.#outstanding) {
      if (w.ref && !w.done) cancel(w.ref).catch(() => {});
      w.progress?.abandon();
    }
    this.#outstanding.clear();
    this.#finished.clear();
    this.#idle.length = 0;
    this.#all.clear();
    this.#changed.notify();
  }

  // -------------------------------------------------------------------------------------------

  #checkOpen(what?: string): void {
    if (this.#disposed) throw new Error(`ActorPool${what ? `.${what}()` : ""}: the pool was disposed`);
  }

  /** Submits a map's values (all read first: the bar's total is their number) under one progress bar. */
  #submitAll(what: string, fn: Function, values: Iterable<unknown>): { works: Work<T>[]; progress: Progress } {
    checkFn(`${what}()`, fn);
    if (values === null || typeof (values as Iterable<unknown>)?.[Symbol.iterator] !== "function") {
      throw new TypeError(`${what}() argument values must be iterable, got ${describe(values)}`);
    }
    const list = Array.isArray(values) ? values : Array.from(values);
    const progress = startProgress(what, list.length);
    if (list.length === 0) progress.finish();
    const works = list.map((v) => this.#submit(fn as CallFn<T, unknown, unknown>, v, progress));
    return { works, progress };
  }

  #submit(fn: CallFn<T, unknown, unknown>, value: unknown, progress?: Progress): Work<T> {
    const work: Work<T> = { fn, value, done: false, progress };
    this.#outstanding.add(work);
    this.#pending.push(work);
    const actor = this.#idle.pop();
    if (actor) this.#release(actor);
    return work;
  }

  /** Gives `work` to `actor`; false if fn failed before anything ran on the actor (still idle). */
  #start(work: Work<T>, actor: ActorHandle<T>): boolean {
    let ref: unknown;
    try {
      ref = work.fn(actor, work.value);
      if (!isObjectRef(ref)) {
        throw new TypeError(`ActorPool: fn must return the ObjectRef of an actor call (actor.method.remote(...)), got ${describe(ref)}`);
      }
    } catch (err) {
      // Recorded for whoever takes this work, as a failed call's error would be.
      work.error = err;
      this.#finish(work);
      return false;
    }
    work.ref = ref as ObjectRef;
    work.value = undefined; // the actor has it now; do not keep it alive here
    const done = () => {
      this.#finish(work);
      this.#release(actor);
    };
    // wait() settles when the call finishes, successfully or not; it only rejects if the runtime
    // went away or the calling task was cancelled, and then the work is over as well.
    wait([work.ref]).then(done, done);
    return true;
  }

  #finish(work: Work<T>): void {
    work.done = true;
    work.progress?.advance();
    if (this.#outstanding.has(work)) this.#finished.add(work);
    this.#changed.notify();
  }

  /** An actor became free: give it the oldest queued work, else keep it idle. */
  #release(actor: ActorHandle<T>): void {
    if (!this.#all.has(actor)) return; // popped out of the pool meanwhile
    // A loop, not recursion: a long queue of works whose fn throws must not grow the stack.
    for (let next = this.#pending.shift(); next; next = this.#pending.shift()) {
      if (this.#start(next, actor)) return;
    }
    this.#idle.push(actor);
  }

  /** Waits for `work`, removes it from the pool's books and returns its result. */
  async #take(work: Work<T>): Promise<unknown> {
    while (!work.done) {
      this.#checkOpen();
      await this.#changed.next(undefined);
    }
    this.#checkOpen();
    this.#outstanding.delete(work);
    this.#finished.delete(work);
    if (work.ref === undefined) throw work.error;
    return getValue(work.ref);
  }

  async *#unordered(works: Set<Work<T>>, progress: Progress): AsyncGenerator<unknown> {
    try {
      while (works.size > 0) {
        let next: Work<T> | undefined;
        for (const w of this.#finished) {
          if (works.has(w)) {
            next = w;
            break;
          }
        }
        if (!next) {
          this.#checkOpen("mapUnordered");
          await this.#changed.next(undefined);
          continue;
        }
        works.delete(next);
        yield await this.#take(next);
      }
    } finally {
      progress.abandon(); // as in map
    }
  }

  #checkHasNext(what: string): void {
    if (!this.hasNext()) throw new Error(`ActorPool.${what}(): no more results to get (nothing was submitted, or everything was taken)`);
  }
}

function checkFn(what: string, fn: unknown): void {
  if (typeof fn !== "function") throw new TypeError(`${what} argument fn must be a function (actor, value) => ObjectRef, got ${describe(fn)}`);
}

function checkGetOptions(what: string, opts: GetOptions | undefined): number | undefined {
  checkKnownOptions(`${what} options`, opts, ["timeoutMs"]);
  checkNonNegativeNumber(`${what} option timeoutMs`, opts?.timeoutMs);
  return deadlineOf(opts?.timeoutMs);
}

function timeout(what: string, timeoutMs: number): GetTimeoutError {
  return new GetTimeoutError(`ActorPool.${what}() timed out after ${timeoutMs} ms; the result stays available`);
}
