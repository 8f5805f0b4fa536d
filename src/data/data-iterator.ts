/**
 * DataIterator: a repeatable source of rows for one consumer (a training worker), which can be
 * sent to a task or actor. Each pass over it (iterRows or iterBatches to the end) is one
 * execution, an epoch. Two kinds: a Dataset's own (Dataset.iterator(): each pass runs the
 * dataset), and one of streamingSplit's n (streaming-split.ts: each pass takes this split's
 * blocks of one shared execution). Both batch as Dataset.iterBatches does (iter-batches.ts).
 */
import { Schema, type Table } from "apache-arrow";
import { checkIterBatchesOptions } from "./consume-options.js";
import { tableToRows } from "./from-arrow.js";
import { batchesOf } from "./iter-batches.js";
import type { BatchFormat, BatchOf, IterBatchesOptions, Row } from "./types.js";
import type { Dataset } from "./dataset.js";

/** Figures of one pass, for stats(). */
interface PassStats { rows: number; blocks: number; wallTimeMs: number; waitMs: number; complete: boolean }

export abstract class DataIterator<R extends object = Row> {
  #passes: PassStats[] = [];

  /** The blocks of one pass, as tables. */
  protected abstract passBlocks(): AsyncIterable<Table>;
  /** The schema of the rows. */
  abstract schema(): Promise<Schema>;
  /** What stats() calls this iterator. */
  protected abstract describe(): string;

  /** Rows; each full pass is one epoch. */
  async *iterRows(): AsyncGenerator<R, void, undefined> {
    for await (const table of this.#pass()) yield* tableToRows(table) as R[];
  }

  [Symbol.asyncIterator](): AsyncIterator<R> {
    return this.iterRows();
  }

  /** Batches as Dataset.iterBatches makes them; each full pass is one epoch. */
  iterBatches<F extends BatchFormat = "default">(opts: IterBatchesOptions<F> = {}): AsyncGenerator<BatchOf<F, R>, void, undefined> {
    const plan = checkIterBatchesOptions(opts);
    return batchesOf(this.#pass(), plan) as AsyncGenerator<BatchOf<F, R>, void, undefined>;
  }

  /** Readable statistics of the passes so far (in this process). */
  stats(): string {
    if (this.#passes.length === 0) return "";
    const lines = [`${this.describe()}: ${this.#passes.length} pass${this.#passes.length === 1 ? "" : "es"}`];
    this.#passes.forEach((p, i) => {
      lines.push(`  pass ${i + 1}${p.complete ? "" : " (left early)"}: ${p.rows} rows in ${p.blocks} blocks, ${p.wallTimeMs.toFixed(1)} ms, ` +
        `${p.waitMs.toFixed(1)} ms waiting for blocks`);
    });
    return lines.join("\n");
  }

  /** One pass, timed: how long the consumer waited for blocks, against the whole. */
  async *#pass(): AsyncGenerator<Table, void, undefined> {
    const started = performance.now();
    const stats: PassStats = { rows: 0, blocks: 0, wallTimeMs: 0, waitMs: 0, complete: false };
    this.#passes.push(stats);
    const blocks = this.passBlocks()[Symbol.asyncIterator]();
    try {
      for (;;) {
        const asked = performance.now();
        const next = await blocks.next();
        stats.waitMs += performance.now() - asked;
        if (next.done) break;
        stats.rows += next.value.numRows;
        stats.blocks++;
        yield next.value;
      }
      stats.complete = true;
    } finally {
      stats.wallTimeMs = performance.now() - started;
      if (!stats.complete) await blocks.return?.();
    }
  }
}

/** Dataset.iterator(): each pass runs the dataset. */
export class DatasetIterator<R extends object = Row> extends DataIterator<R> {
  constructor(readonly dataset: Dataset<R>) {
    super();
  }

  protected passBlocks(): AsyncIterable<Table> {
    return this.dataset.iterBatches({ batchSize: null, batchFormat: "arrow", prefetchBatches: 0 });
  }

  schema(): Promise<Schema> {
    return this.dataset.schema();
  }

  protected describe(): string {
    return "DataIterator";
  }
}


