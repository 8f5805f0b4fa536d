/**
 * The objects a thread has received and the waits for those it has not: the part of the core
 * worker behind `get` and `wait`. Values come from the raylet, unasked for the returns of tasks
 * this thread submitted (as Ray's owners are sent them), on subscription for the others.
 */
import { fromErrorInfo, GetTimeoutError } from "../common/errors.js";
import type { ObjectValue } from "../object-store/object-table.js";

type Waiter = (value: ObjectValue) => void;

/** How a wait can be interrupted (a cancel of the task that waits). */
export type OnInterrupt = (reject: (err: Error) => void, isDone: () => boolean) => void;

export class ObjectWaits {
  /** Values this thread holds (while it has refs to them, or a wait wants them). */
  readonly values = new Map<string, ObjectValue>();
  private readonly waiters = new Map<string, Waiter | Waiter[]>();
  /** Objects the raylet will send, not arrived yet. */
  private readonly coming = new Set<string>();
  /** How to end each wait in progress with an error (see close). */
  private readonly pending = new Set<(err: Error) => void>();

  constructor(
    /** Asks the raylet for the values of `ids` once sealed. */
    private readonly subscribe: (ids: string[]) => void,
    /** Whether this thread holds a ref to `id` (its value is then kept). */
    private readonly holds: (id: string) => boolean,
  ) {}

  /** The returns of a task just submitted: the raylet sends them when sealed. */
  expect(ids: string[]): void {
    for (let i = 0; i < ids.length; i++) this.coming.add(ids[i]);
  }

  readonly hasWaiters = (): boolean => this.waiters.size > 0;

  arrived(id: string, value: ObjectValue): void {
    this.coming.delete(id);
    const waiters = this.waiters.get(id);
    if (this.holds(id) || waiters) this.values.set(id, value);
    if (waiters) {
      this.waiters.delete(id);
      if (typeof waiters === "function") waiters(value);
      else for (const w of waiters) w(value);
      if (!this.holds(id)) this.values.delete(id);
    }
  }

  /** Resolves once every id has a value here; with `failFast`, rejects at the first failure. */
  all(ids: string[], timeoutMs: number | undefined, failFast: boolean, onInterrupt: OnInterrupt): Promise<void> {
    this.request(ids);
    return new Promise<void>((resolve, reject) => {
      let left = 0;
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        this.pending.delete(settle);
        if (timer) clearTimeout(timer);
        for (const id of ids) this.removeWaiter(id, onValue);
        if (err) reject(err);
        else resolve();
      };
      const onValue: Waiter = (value) => {
        if (failFast && !value.ok) return settle(fromErrorInfo(value.error));
        if (--left === 0) settle();
      };
      for (const id of ids) {
        const v = this.values.get(id);
        if (v) {
          if (failFast && !v.ok) return settle(fromErrorInfo(v.error));
        } else {
          left++;
          this.addWaiter(id, onValue);
        }
      }
      const timer =
        left > 0 && timeoutMs !== undefined
          ? setTimeout(() => settle(new GetTimeoutError(`get timed out after ${timeoutMs} ms waiting for ${left} of ${ids.length} object(s)`)), timeoutMs)
          : undefined;
      if (left === 0) return settle();
      this.pending.add(settle);
      onInterrupt(settle, () => settled);
    });
  }

  /** How many of `ids` have a value here. */
  readyCount(ids: string[]): number {
    let n = 0;
    for (const id of ids) if (this.values.has(id)) n++;
    return n;
  }

  /** Resolves once `numReturns` of `ids` have a value here, or when the timeout passes. */
  some(ids: string[], numReturns: number, timeoutMs: number | undefined, onInterrupt: OnInterrupt): Promise<void> {
    this.request(ids);
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (err?: Error) => {
        if (done) return;
        done = true;
        this.pending.delete(finish);
        if (timer) clearTimeout(timer);
        for (const id of ids) this.removeWaiter(id, onReady);
        if (err) reject(err);
        else resolve();
      };
      const onReady: Waiter = () => {
        if (this.readyCount(ids) >= numReturns) finish();
      };
      const timer = timeoutMs !== undefined ? setTimeout(finish, timeoutMs) : undefined;
      for (const id of ids) if (!this.values.has(id)) this.addWaiter(id, onReady);
      this.pending.add(finish);
      onInterrupt(finish, () => done);
    });
  }

  /** Objects asked for that will never come (the item after a stream's last). */
  forget(id: string): void {
    this.coming.delete(id);
  }

  /** The thread's core worker is closing: every wait in progress rejects with `err()`. */
  close(err: () => Error): void {
    for (const end of [...this.pending]) end(err());
  }

  /** Subscribes to the ids that are neither here nor coming. */
  private request(ids: string[]): void {
    const fresh = ids.filter((id) => !this.coming.has(id) && !this.values.has(id));
    if (!fresh.length) return;
    for (const id of fresh) this.coming.add(id);
    this.subscribe(fresh);
  }

  private addWaiter(id: string, w: Waiter): void {
    const list = this.waiters.get(id);
    if (!list) this.waiters.set(id, w);
    else if (typeof list === "function") this.waiters.set(id, [list, w]);
    else list.push(w);
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
}
