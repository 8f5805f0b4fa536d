/**
 * Dataset.streamingSplit(n): n DataIterators over disjoint parts of one streaming execution per
 * epoch, fed by a coordinator actor (split-coordinator.ts). The iterators share the coordinator,
 * which is created when one is first used or sent to a task or actor (so that splitting needs no
 * running cluster), and ends, as an anonymous actor does, when no iterator holds it any more (or
 * at ray.shutdown()).
 */
import type { Table } from "apache-arrow";
import * as ray from "tsray";
import type { ActorHandle } from "tsray";
import type { Schema } from "apache-arrow";
import { DataIterator } from "./data-iterator.js";
import type { Dataset } from "./dataset.js";
import { SplitCoordinatorActor, type SplitBlock, type SplitCoordinator } from "./split-coordinator.js";
import type { Row } from "./types.js";

type Coordinator = ActorHandle<SplitCoordinator>;

/** The coordinator of one streamingSplit, made on first need. */
export class SplitGroup {
  #actor: Coordinator | undefined;
  constructor(private readonly dataset: Dataset<any> | undefined, private readonly n: number, private readonly equal: boolean, actor?: Coordinator) {
    this.#actor = actor;
  }

  /** The coordinator; the cluster must be running (ensure() starts it). */
  actor(): Coordinator {
    if (!this.#actor) {
      if (!ray.isInitialized()) throw new Error("streamingSplit(): the cluster is not running; call ray.init() first");
      this.#actor = SplitCoordinatorActor.remote(this.dataset! as never, this.n, this.equal) as unknown as Coordinator;
    }
    return this.#actor;
  }

  async ensure(): Promise<Coordinator> {
    if (!ray.isInitialized()) await ray.init();
    return this.actor();
  }

  static of(actor: Coordinator): SplitGroup {
    return new SplitGroup(undefined, 0, false, actor);
  }
}

export class SplitIterator<R extends object = Row> extends DataIterator<R> {
  constructor(readonly group: SplitGroup, readonly index: number, readonly n: number) {
    super();
  }

  /** One epoch: begins it (waiting for the other splits), then asks for blocks one ahead of the consumer. */
  protected async *passBlocks(): AsyncGenerator<Table, void, undefined> {
    const coordinator = await this.group.ensure();
    const epoch = await ray.get(coordinator.begin.remote(this.index));
    let next = coordinator.next.remote(this.index, epoch);
    let complete = false;
    try {
      for (;;) {
        const block: SplitBlock | null = await ray.get(next);
        if (block === null) break;
        next = coordinator.next.remote(this.index, epoch);
        const table: Table = await ray.get(block.ref);
        yield block.start === 0 && block.end === table.numRows ? table : table.slice(block.start, block.end);
      }
      complete = true;
    } finally {
      // Left early: the coordinator stops keeping this split's share for it.
      if (!complete) coordinator.leave.remote(this.index, epoch);
    }
  }

  async schema(): Promise<Schema> {
    const coordinator = await this.group.ensure();
    return (await ray.get(coordinator.schema.remote())).schema;
  }

  protected describe(): string {
    return `DataIterator (split ${this.index} of ${this.n})`;
  }
}

export function streamingSplit<R extends object>(dataset: Dataset<R>, n: number, opts: { equal?: boolean; localityHints?: string[] }): SplitIterator<R>[] {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`streamingSplit() takes a positive integer, got ${String(n)}`);
  if (typeof opts !== "object" || opts === null) throw new TypeError("streamingSplit() takes an options object second");
  for (const key of Object.keys(opts)) if (key !== "equal" && key !== "localityHints") throw new TypeError(`streamingSplit() has no option '${key}'`);
  if (opts.equal !== undefined && typeof opts.equal !== "boolean") throw new TypeError(`streamingSplit() option equal must be a boolean, got ${String(opts.equal)}`);
  const hints = opts.localityHints;
  if (hints !== undefined && (!Array.isArray(hints) || hints.length !== n || !hints.every((h) => typeof h === "string"))) {
    throw new TypeError(`streamingSplit() option localityHints must be ${n} node ids, one per split`);
  }
  const group = new SplitGroup(dataset as Dataset<any>, n, opts.equal ?? false);
  return Array.from({ length: n }, (_, i) => new SplitIterator<R>(group, i, n));
}
