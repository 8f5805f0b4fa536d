/**
 * The objects a thread has received and the waits for those it has not: the part of the core
 * worker behind `get` and `wait`. Values come from the raylet, unasked for the returns of tasks
 * this thread submitted (as Ray's owners are sent them), on subscription for the others.
 *
 * Each wait is an object of the Wait class below, and the loops over a wait's ids are methods
 * that do nothing else. A get of 20,000 refs runs such a loop long enough for V8 to compile it
 * while it runs (on-stack replacement), before the code after it has ever run; later gets then
 * entered that compiled loop, reached the code after it and fell back to the interpreter, every
 * time: a thousand deoptimizations of a tenth of a millisecond in a program's first few thousand
 * round trips. With nothing after the loop, nothing is left for them to fall on.
 */
import { fromErrorInfo, GetTimeoutError } from "../common/errors.js";
import type { ObjectValue } from "../object-store/object-table.js";

type Waiter = (value: ObjectValue, id: string) => void;

/**
 * What waiters are told of an object sealed in the store whose value was not sent (see
 * `sealed`): enough for a wait, while a get asks for the value.
 */
const AT_STORE: ObjectValue = { ok: true, value: { prim: null } };

/** How a wait can be interrupted (a cancel of the task that waits); returns what forgets it. */
export type OnInterrupt = (reject: (err: Error) => void) => (() => void) | undefined;

export class ObjectWaits {
  /** Values this thread holds (while it has refs to them, or a wait wants them). */
  readonly values = new Map<string, ObjectValue>();
  private readonly waiters = new Map<string, Waiter | Waiter[]>();
  /** Objects the raylet will send, not arrived yet. */
  private readonly coming = new Set<string>();
  /**
   * Large objects this thread holds that the raylet said are sealed, without sending them (see
   * `sealed`): ready, and fetched by the first get that wants them.
   */
  private readonly atStore = new Set<string>();
  /** Waits in progress (see close). */
  private readonly pending = new Set<Wait>();

  constructor(
    /** Asks the raylet for the values of `ids` once sealed (`ready`: only to hear that large ones are). */
    private readonly subscribe: (ids: string[], ready?: true) => void,
    /** Whether this thread holds a ref to `id` (its value is then kept). */
    private readonly holds: (id: string) => boolean,
  ) {}

  /** The returns of a task just submitted: the raylet sends them when sealed. */
  expect(ids: string[]): void {
    for (let i = 0; i < ids.length; i++) this.coming.add(ids[i]);
  }

  readonly hasWaiters = (): boolean => this.waiters.size > 0;

  /**
   * Objects sealed in the store whose values were not sent (large returns of tasks this thread
   * submitted): a wait in progress fetches them now, else the first get that wants one does.
   */
  sealed(ids: string[]): void {
    for (const id of ids) {
      this.coming.delete(id);
      const waiters = this.waiters.get(id);
      if (this.holds(id) || waiters) this.atStore.add(id);
      if (typeof waiters === "function") waiters(AT_STORE, id);
      else if (waiters) for (const w of [...waiters]) w(AT_STORE, id);
    }
  }

  /** @internal For Wait: a get wants the value of an object sealed in the store. */
  fetch(id: string): void {
    this.request([id], false);
  }

  /** Whether the object is sealed, as far as this thread knows (its value here or not). */
  isReady(id: string): boolean {
    return this.values.has(id) || this.atStore.has(id);
  }

  /** Forgets a large value this thread no longer reads: the next get asks the store for it again. */
  stash(id: string): void {
    const v = this.values.get(id);
    if (!v?.ok || !v.value.slices) return;
    this.values.delete(id);
    if (this.holds(id)) this.atStore.add(id);
  }

  /** This thread holds no more refs to `id`. */
  drop(id: string): void {
    this.values.delete(id);
    this.atStore.delete(id);
  }

  arrived(id: string, value: ObjectValue): void {
    this.coming.delete(id);
    this.atStore.delete(id);
    const waiters = this.waiters.get(id);
    if (this.holds(id) || waiters) this.values.set(id, value);
    if (waiters) {
      this.waiters.delete(id);
      if (typeof waiters === "function") waiters(value, id);
      else for (const w of waiters) w(value, id);
      if (!this.holds(id)) this.values.delete(id);
    }
  }

  /** Resolves once every id has a value here; with `failFast`, rejects at the first failure. */
  all(ids: string[], timeoutMs: number | undefined, failFast: boolean, onInterrupt: OnInterrupt): Promise<void> {
    this.request(ids, false);
    return new Wait(this, ids, failFast ? -1 : ids.length, true, timeoutMs, onInterrupt).promise;
  }

  /** Resolves once `numReturns` of `ids` have a value here, or when the timeout passes. */
  some(ids: string[], numReturns: number, timeoutMs: number | undefined, onInterrupt: OnInterrupt): Promise<void> {
    this.request(ids, true);
    return new Wait(this, ids, numReturns, false, timeoutMs, onInterrupt).promise;
  }

  /** How many of `ids` have a value here. */
  readyCount(ids: string[]): number {
    let n = 0;
    for (const id of ids) if (this.isReady(id)) n++;
    return n;
  }

  /** Objects asked for that will never come (the item after a stream's last). */
  forget(id: string): void {
    this.coming.delete(id);
  }

  /** The thread's core worker is closing: every wait in progress rejects with `err()`. */
  close(err: () => Error): void {
    for (const w of [...this.pending]) w.end(err());
  }

  /** @internal For Wait: the first failed value of `ids` here, if any. */
  firstFailure(ids: string[]): ObjectValue | undefined {
    for (const id of ids) {
      const v = this.values.get(id);
      if (v && !v.ok) return v;
    }
    return undefined;
  }

  /** @internal For Wait: `w` waits for each id not here yet; returns how many. */
  waitFor(ids: string[], w: Waiter, valuesNeeded: boolean): number {
    let missing = 0;
    for (const id of ids) if (valuesNeeded ? !this.values.has(id) : !this.isReady(id)) missing += this.addWaiter(id, w);
    return missing;
  }

  /** @internal For Wait. */
  stopWaiting(ids: string[], w: Waiter): void {
    for (const id of ids) this.removeWaiter(id, w);
  }

  private addWaiter(id: string, w: Waiter): 1 {
    const list = this.waiters.get(id);
    if (!list) this.waiters.set(id, w);
    else if (typeof list === "function") this.waiters.set(id, [list, w]);
    else list.push(w);
    return 1;
  }

  private removeWaiter(id: string, w: Waiter): void {
    const list = this.waiters.get(id);
    if (!list) return;
    if (list === w) return void this.waiters.delete(id);
    if (typeof list === "function") return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (!list.length) this.waiters.delete(id);
  }

  /** @internal For Wait. */
  track(w: Wait, waiting: boolean): void {
    if (waiting) this.pending.add(w);
    else this.pending.delete(w);
  }

  /** Subscribes to the ids that are neither here nor coming (`ready`: a wait, which needs no large values). */
  private request(ids: string[], ready: boolean): void {
    const fresh = ids.filter((id) => !this.coming.has(id) && !this.values.has(id) && !(ready && this.atStore.has(id)));
    if (!fresh.length) return;
    for (const id of fresh) this.coming.add(id);
    if (ready) this.subscribe(fresh, true);
    else this.subscribe(fresh);
  }
}

/**
 * One get or wait. `need` values must arrive; -1 means all of them, failing at the first failed
 * one (get), else that many, failed or not (wait). A timeout ends a get with GetTimeoutError and
 * a wait with what is ready.
 */
class Wait {
  readonly promise: Promise<void>;
  private resolve!: () => void;
  private reject!: (err: Error) => void;
  private readonly failFast: boolean;
  /** Values still to come. */
  private left = 0;
  private settled = false;
  private timer?: NodeJS.Timeout;
  private forgetInterrupt?: () => void;
  // Functions handed out (to the waiters' lists, to the interrupt hook) only call methods: the
  // methods hold the loops, and their code is shared by every wait.
  private readonly onValue: Waiter = (value, id) => (value === AT_STORE ? this.atStore(id) : this.arrived(value));
  private readonly interrupt = (err: Error): void => this.end(err);

  constructor(
    private readonly waits: ObjectWaits,
    private readonly ids: string[],
    need: number,
    /** A get: the values must be here. A wait: knowing that they are sealed is enough. */
    private readonly valuesNeeded: boolean,
    timeoutMs: number | undefined,
    onInterrupt: OnInterrupt,
  ) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.failFast = need < 0;
    const failed = this.failFast ? waits.firstFailure(ids) : undefined;
    if (failed && !failed.ok) {
      this.settled = true;
      this.reject(fromErrorInfo(failed.error));
      return;
    }
    const missing = waits.waitFor(ids, this.onValue, valuesNeeded);
    this.left = this.failFast ? missing : need - (ids.length - missing);
    if (this.left <= 0) {
      this.end();
      return;
    }
    if (timeoutMs !== undefined) this.timer = setTimeout(() => this.timedOut(timeoutMs), timeoutMs);
    waits.track(this, true);
    this.forgetInterrupt = onInterrupt(this.interrupt);
  }

  /** Ends the wait: resolved, or rejected with `err`. */
  end(err?: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.waits.track(this, false);
    this.forgetInterrupt?.();
    if (this.timer) clearTimeout(this.timer);
    this.waits.stopWaiting(this.ids, this.onValue);
    if (err) this.reject(err);
    else this.resolve();
  }

  /** The object is sealed in the store: a wait counts it (and waits no more for it), a get fetches it. */
  private atStore(id: string): void {
    if (this.valuesNeeded) return this.waits.fetch(id);
    this.waits.stopWaiting([id], this.onValue);
    this.arrived(AT_STORE);
  }

  private arrived(value: ObjectValue): void {
    if (this.failFast && !value.ok) return this.end(fromErrorInfo(value.error));
    if (--this.left <= 0) this.end();
  }

  private timedOut(timeoutMs: number): void {
    if (!this.failFast) return this.end();
    this.end(new GetTimeoutError(`get timed out after ${timeoutMs} ms waiting for ${this.left} of ${this.ids.length} object(s)`));
  }
}
