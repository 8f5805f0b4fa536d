/** Small promise plumbing shared by ActorPool, Queue and Pool. */

/** A promise with its resolve/reject exposed, for results that arrive from a callback. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  reject!: (err: unknown) => void;
  settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = (v) => {
        this.settled = true;
        resolve(v);
      };
      this.reject = (e) => {
        this.settled = true;
        reject(e);
      };
    });
    // A rejection nobody awaits (an abandoned iterator, a sibling chunk that already failed
    // the whole map) must not crash the process as an unhandled rejection.
    this.promise.catch(() => {});
  }
}

/**
 * Wakes every current waiter when something changed; waiters re-check their condition.
 * Used instead of per-item callbacks so that concurrent consumers race fairly and safely.
 */
export class Signal {
  private waiters = new Set<() => void>();

  notify(): void {
    const ws = this.waiters;
    this.waiters = new Set();
    for (const w of ws) w();
  }

  /** Resolves true at the next notify, false if `deadline` (a Date.now() value) passes first. */
  next(deadline: number | undefined): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        if (timer) clearTimeout(timer);
        resolve(true);
      };
      this.waiters.add(wake);
      if (deadline !== undefined) {
        timer = setTimeout(() => {
          this.waiters.delete(wake);
          resolve(false);
        }, Math.max(0, deadline - Date.now()));
      }
    });
  }
}

/** Counts free slots; `acquire` waits in FIFO order when there are none. */
export class Semaphore {
  private readonly queue: (() => void)[] = [];
  constructor(private free: number) {}

  acquire(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next();
    else this.free++;
  }
}

export function deadlineOf(timeoutMs: number | undefined): number | undefined {
  return timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
}

export function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (typeof x === "object" || typeof x === "function") && x !== null && typeof (x as { then?: unknown }).then === "function";
}
