/**
 * The items of streaming tasks, between the worker that yields them and the generator that takes
 * them in the task's owner. Each item is held for the owner until its generator takes it; the
 * worker is told what was taken, so that it runs at most its backpressure ahead of the consumer.
 * When the generator is closed (read to the end, broken out of, disposed, collected, or its
 * owner exited), the items it never took are released, later ones are dropped as they come, and
 * the task, if it still runs, is cancelled.
 */
import { objectIdOf } from "../common/ids.js";
import type { ObjectTable, ObjectValue } from "../object-store/object-table.js";

interface Stream {
  owner: string;
  /** The highest index sealed so far. */
  produced: number;
  /** The highest index the generator took. */
  consumed: number;
}

export interface StreamsDeps {
  table: ObjectTable;
  /** Tells the worker running the task that its consumer took item `index`. */
  tellWorker(taskId: string, index: number): void;
  /** Stops the task, if it still runs. */
  cancel(taskId: string): void;
}

export class Streams {
  private readonly open = new Map<string, Stream>();

  constructor(private readonly d: StreamsDeps) {}

  /** `owner` submitted streaming task `taskId`. */
  opened(taskId: string, owner: string): void {
    this.open.set(taskId, { owner, produced: 0, consumed: 0 });
  }

  /** Item `index` arrived: sealed and held for the owner, or dropped if its generator is closed. */
  item(taskId: string, index: number, value: ObjectValue): void {
    const s = this.open.get(taskId);
    if (!s) return this.d.table.discard(value);
    const id = objectIdOf(taskId, index);
    // The generator's ref to the item takes this hold over.
    this.d.table.expect(id, s.owner);
    this.d.table.seal(id, value);
    if (index > s.produced) s.produced = index;
  }

  /** How many items task `taskId` yielded so far (0 once its generator is closed). */
  produced(taskId: string): number {
    return this.open.get(taskId)?.produced ?? 0;
  }

  /** The generator took item `index`. */
  consumed(taskId: string, index: number): void {
    const s = this.open.get(taskId);
    if (!s || index <= s.consumed) return;
    s.consumed = index;
    this.d.tellWorker(taskId, index);
  }

  /** The generator was closed: the items it did not take are released, the task stopped. */
  closed(taskId: string): void {
    const s = this.open.get(taskId);
    if (!s) return;
    this.open.delete(taskId);
    for (let i = s.consumed + 1; i <= s.produced; i++) this.d.table.removeRef(objectIdOf(taskId, i), s.owner);
    // The generator may have waited for one more item than came: that item never will.
    this.d.table.forget(objectIdOf(taskId, s.produced + 1));
    this.d.cancel(taskId);
  }

  /** The owner exited: its generators are gone with it. */
  ownerExited(owner: string): void {
    for (const [taskId, s] of this.open) if (s.owner === owner) this.closed(taskId);
  }
}
