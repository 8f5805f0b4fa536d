/**
 * The coordinator actor of Dataset.streamingSplit: it runs the dataset's execution and hands its
 * blocks to the n split iterators as they ask, so n consumers (training workers on any node)
 * share ONE streaming execution per epoch, nothing materialized.
 *
 * - An epoch starts once all n iterators have begun it (begin() is a barrier); the next epoch's
 *   start ends the previous execution if some iterator left it early.
 * - Blocks go to whichever split asks (next()), in the executor's order. With `equal`, a split
 *   may take only up to floor(rows produced so far / n) rows: a block beyond that is cut (the
 *   iterator gets the block's ref and a row range to slice, zero-copy, so the actor copies
 *   nothing), and at the end every split has floor(total / n) rows, at most n − 1 rows dropped.
 * - At most a few blocks per split wait unassigned: a split that needs more while the buffer is
 *   full waits for the others to take theirs, so a stalled consumer stalls the rest
 *   (backpressure), and the execution pulls no more blocks than are consumed.
 *
 * Workers import this module by its URL (util.remoteExport). Calls interleave (an async actor
 * with many calls at once): every decision is made synchronously between awaits.
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import type { BlockRef } from "./block.js";
import { Dataset } from "./dataset.js";
import { executePlan } from "./executor.js";

/** What next() gives a split: rows [start, end) of the block `ref`; null at the end of the epoch. */
export interface SplitBlock { readonly ref: BlockRef; readonly start: number; readonly end: number; readonly numRows: number }

interface Buffered { ref: BlockRef; start: number; end: number; numRows: number }

interface Epoch {
  readonly number: number;
  readonly blocks: AsyncGenerator<BlockRef, void, undefined>;
  readonly buffer: Buffered[];
  /** Rows the execution produced so far, and those given to each split. */
  produced: number;
  readonly given: number[];
  /** Splits that left this epoch early. */
  readonly left: Set<number>;
  done: boolean;
  closed: boolean;
  error?: unknown;
  pulling?: Promise<void>;
  /** Calls waiting for the buffer to change. */
  waiters: (() => void)[];
}

/** Unassigned blocks held per split at most, before a split asking for more waits (equal only). */
const BUFFERED_BLOCKS_PER_SPLIT = 2;

export class SplitCoordinator {
  readonly #dataset: Dataset<any>;
  readonly #n: number;
  readonly #equal: boolean;
  /** Passes each split has begun. */
  readonly #begun: number[];
  readonly #epochs = new Map<number, Epoch>();
  /** Barrier waiters per epoch number. */
  readonly #barriers = new Map<number, (() => void)[]>();

  constructor(dataset: Dataset<any>, n: number, equal: boolean) {
    if (!(dataset instanceof Dataset)) throw new TypeError("internal: the split coordinator was not given a Dataset");
    this.#dataset = dataset;
    this.#n = n;
    this.#equal = equal;
    this.#begun = new Array<number>(n).fill(0);
  }

  /** Split `split` begins its next pass: resolves with the epoch's number once all n have begun it. */
  async begin(split: number): Promise<number> {
    const epoch = ++this.#begun[split]!;
    if (this.#begun.every((b) => b >= epoch)) {
      if (!this.#epochs.has(epoch)) this.#start(epoch);
      for (const wake of this.#barriers.get(epoch) ?? []) wake();
      this.#barriers.delete(epoch);
    } else {
      await new Promise<void>((resolve) => {
        const waiting = this.#barriers.get(epoch) ?? [];
        waiting.push(resolve);
        this.#barriers.set(epoch, waiting);
      });
    }
    return epoch;
  }

  /** The next block of split `split` in epoch `number`; null once the epoch has no more for it. */
  async next(split: number, number: number): Promise<SplitBlock | null> {
    const epoch = this.#epochs.get(number);
    // An epoch that a later one ended: nothing more of it.
    if (!epoch && number < Math.min(...this.#begun)) return null;
    if (!epoch) throw new Error(`internal: split ${split} asked for epoch ${number}, which has not begun`);
    for (;;) {
      if (epoch.error !== undefined) throw epoch.error;
      if (epoch.closed) return null;
      const block = this.#take(epoch, split);
      if (block) return block;
      if (epoch.done) return this.#finish(epoch);
      if (this.#equal && epoch.buffer.length >= BUFFERED_BLOCKS_PER_SPLIT * this.#n && !this.#dropForLeft(epoch)) await this.#changed(epoch);
      else await this.#pull(epoch);
    }
  }

  /**
   * Split `split` left epoch `number` early (its consumer broke out of the pass): its share from
   * now on is dropped, so that the others, under `equal`, do not wait for it to take it.
   */
  leave(split: number, number: number): void {
    const epoch = this.#epochs.get(number);
    if (!epoch || epoch.left.has(split)) return;
    epoch.left.add(split);
    this.#dropForLeft(epoch);
    this.#wake(epoch);
  }

  /** The dataset's schema, as an empty table (a Schema alone does not travel). */
  async schema(): Promise<Table> {
    const { Table: TableClass } = await import("apache-arrow");
    return new TableClass(await this.#dataset.schema());
  }

  /** Gives the buffered rows that splits which left may still take to them, that is, drops them; true if any. */
  #dropForLeft(epoch: Epoch): boolean {
    let dropped = false;
    for (const split of epoch.left) while (this.#take(epoch, split)) dropped = true;
    return dropped;
  }

  #start(number: number): void {
    // A new epoch ends the one before, should an iterator have left it early: its tasks are cancelled.
    for (const [old, epoch] of this.#epochs) {
      if (old < number) this.#close(epoch);
    }
    this.#epochs.set(number, {
      number, blocks: executePlan(Dataset.planOf(this.#dataset)), buffer: [], produced: 0,
      given: new Array<number>(this.#n).fill(0), left: new Set(), done: false, closed: false, waiters: [],
    });
  }

  /** Rows for `split` from the buffer, if it may have any now (see the module comment). */
  #take(epoch: Epoch, split: number): SplitBlock | undefined {
    const first = epoch.buffer[0];
    if (!first) return undefined;
    let rows = first.end - first.start;
    if (this.#equal) {
      const allowance = Math.floor(epoch.produced / this.#n) - epoch.given[split]!;
      if (allowance <= 0) return undefined;
      rows = Math.min(rows, allowance);
    }
    const block: SplitBlock = { ref: first.ref, start: first.start, end: first.start + rows, numRows: first.numRows };
    first.start += rows;
    if (first.start === first.end) epoch.buffer.shift();
    epoch.given[split]! += rows;
    this.#wake(epoch);
    return block;
  }

  /** The epoch's end for one split: once the execution is done and none is buffered, nothing to keep. */
  #finish(epoch: Epoch): null {
    if (this.#equal) {
      const target = Math.floor(epoch.produced / this.#n);
      // Every split has its target (or will get it from the buffer): what is left is the remainder, dropped.
      if (epoch.given.every((g) => g >= target)) epoch.buffer.length = 0;
    }
    return null;
  }

  /** Takes one more block from the execution (one pull at a time: concurrent callers share it). */
  #pull(epoch: Epoch): Promise<void> {
    epoch.pulling ??= (async () => {
      try {
        const next = await epoch.blocks.next();
        if (next.done) {
          epoch.done = true;
        } else {
          const table: Table = await ray.get(next.value);
          if (table.numRows > 0) {
            epoch.buffer.push({ ref: next.value, start: 0, end: table.numRows, numRows: table.numRows });
            epoch.produced += table.numRows;
          }
        }
      } catch (err) {
        epoch.error = err;
      } finally {
        epoch.pulling = undefined;
        this.#wake(epoch);
      }
    })();
    return epoch.pulling;
  }

  #changed(epoch: Epoch): Promise<void> {
    return new Promise((resolve) => epoch.waiters.push(resolve));
  }

  #wake(epoch: Epoch): void {
    const waiters = epoch.waiters.splice(0);
    for (const wake of waiters) wake();
  }

  #close(epoch: Epoch): void {
    if (epoch.closed) return;
    epoch.closed = true;
    epoch.buffer.length = 0;
    this.#wake(epoch);
    void epoch.blocks.return().catch(() => {});
    this.#epochs.delete(epoch.number);
  }
}

/** The coordinator as an actor class: no CPU of its own (it only hands out refs), many calls at once (begin() waits). */
export const SplitCoordinatorActor = ray.util.remoteExport(import.meta.url, SplitCoordinator, { numCpus: 0, maxConcurrency: 1000 });
