/**
 * The actor behind util.Queue: a bounded FIFO with waiting getters and putters.
 *
 * Its methods are async and the actor runs with a high maxConcurrency, so a get that waits for
 * an item does not stop the put that brings it. Timeouts are kept here, not by the caller: a
 * caller that gave up locally would leave a waiter behind that swallows a later item.
 * Items travel boxed (`[item]`) both ways, so an ObjectRef put into the queue comes out as the
 * same ObjectRef instead of being resolved as a top-level task argument would be.
 *
 * Kept apart from queue.ts with no runtime imports: the actor's worker imports this module.
 */
import { Fifo } from "../common/fifo.js";

type Box = [unknown];

interface Waiter<T> {
  settle(value: T): void;
  timer?: NodeJS.Timeout;
}

interface Putter extends Waiter<boolean> {
  box: Box;
}

/** This module, which exports QueueActor (for its actor class, see internal-remote.ts). */
export const queueActorModule = import.meta.url;

export class QueueActor {
  private readonly items = new Fifo<Box>();
  private readonly getters = new Fifo<Waiter<Box | null>>();
  private readonly putters = new Fifo<Putter>();

  /** `maxsize` <= 0: unbounded (checked by the Queue that creates the actor). */
  constructor(private readonly maxsize: number) {}

  size(): number {
    return this.items.length;
  }

  empty(): boolean {
    return this.items.length === 0;
  }

  full(): boolean {
    return this.maxsize > 0 && this.items.length >= this.maxsize;
  }

  /** True once the item is in the queue; false when it is full and `block` is off or time ran out. */
  async put(box: Box, block: boolean, timeoutMs: number | null): Promise<boolean> {
    // A waiting getter means the queue is empty: hand the item straight over.
    const getter = this.getters.shift();
    if (getter) {
      getter.settle(box);
      return true;
    }
    if (!this.full()) {
      this.items.push(box);
      return true;
    }
    if (!block) return false;
    return this.#park(this.putters, { box, settle: () => {} }, false, timeoutMs);
  }

  /** The boxed item, or null when empty and `block` is off or time ran out. */
  async get(block: boolean, timeoutMs: number | null): Promise<Box | null> {
    const box = this.items.shift();
    if (box) {
      this.#admitPutter();
      return box;
    }
    // An unbounded or zero-length wait would still leave nothing to hand over: no putter can be
    // waiting while the queue is empty.
    if (!block) return null;
    return this.#park(this.getters, { settle: () => {} }, null, timeoutMs);
  }

  // The helpers below are #private so they are not on the prototype, hence not actor methods.

  /** Room was made: the oldest waiting putter's item goes in. */
  #admitPutter(): void {
    const putter = this.putters.shift();
    if (!putter) return;
    this.items.push(putter.box);
    putter.settle(true);
  }

  /** Waits in `fifo` until settled by the other side, or resolves `onTimeout` after timeoutMs. */
  #park<T, W extends Waiter<T>>(fifo: Fifo<W>, waiter: W, onTimeout: T, timeoutMs: number | null): Promise<T> {
    return new Promise<T>((resolve) => {
      waiter.settle = (value: T) => {
        if (waiter.timer) clearTimeout(waiter.timer);
        resolve(value);
      };
      if (timeoutMs !== null) {
        waiter.timer = setTimeout(() => {
          fifo.remove(waiter);
          resolve(onTimeout);
        }, timeoutMs);
      }
      fifo.push(waiter);
    });
  }
}
