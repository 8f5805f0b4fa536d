/**
 * Counts, per object id, what this thread has that keeps the object alive: ObjectRef instances,
 * ActorHandles, and the zero-copy views of its memory it has handed out. The store is told when
 * the first of them appears (add-ref) and when the last is gone (remove-ref); it records the
 * hold under this thread's worker id. Views are also counted apart: when the last one is gone
 * while refs remain, the store is told that this thread reads the object no more (it may spill).
 * Messages are batched by the channel.
 *
 * What holds shared memory (views, refs to objects with large bodies) is tracked in a registry
 * that can be swept synchronously: when the arena is full, a synchronous `put` collects garbage
 * and releases at once what the collection freed (`sweep`), instead of waiting for finalizers,
 * which run in a later turn of the event loop.
 */
import { sweepableRegistry } from "../common/gc-assist.js";
import type { Channel } from "../rpc/channel.js";
import { sendId, type ToRaylet } from "../rpc/protocol.js";

export class ReferenceTracker {
  private readonly counts = new Map<string, number>();
  /** Refs to small objects and actor handles: released when collected. */
  private readonly refs = new FinalizationRegistry<string>((id) => this.release(id));
  /** Refs that hold shared memory: released when collected, or at once by `sweep`. */
  private readonly shared = sweepableRegistry<string>((id) => this.release(id));
  /** Zero-copy views, the same way; and how many of each object's are alive. */
  private readonly views = sweepableRegistry<string>((id) => this.releaseView(id));
  private readonly viewCounts = new Map<string, number>();
  private closed = false;
  /** Objects the node has never heard of (see direct-calls.ts): their last release is not sent. */
  isLocal?: (id: string) => boolean;

  constructor(
    private readonly channel: Pick<Channel<ToRaylet, unknown>, "send" | "unsent">,
    /** Told when this thread holds no more refs to `id`. */
    private readonly onLastRef: (id: string) => void,
    /** Told when the last view of `id`'s memory is gone while refs to it remain. */
    private readonly onViewsGone: (id: string) => void = () => {},
  ) {}

  /**
   * Counts a new ref instance. `fresh`: the store already records this thread's hold (a task
   * just submitted, a value just put); otherwise the ref arrived from elsewhere and is announced.
   */
  track(ref: object, id: string, fresh: boolean, holdsSharedMemory = false): void {
    if (this.retain(id) && !fresh) sendId(this.channel, "add-ref", id);
    if (holdsSharedMemory) this.shared.register(ref, id, ref);
    else this.refs.register(ref, id, ref);
  }

  /** Keeps the object's shared memory held while `view` lives. */
  trackView(id: string, view: ArrayBufferView): void {
    this.viewBytesSinceSweep += view.byteLength;
    if (this.retain(id)) sendId(this.channel, "add-ref", id);
    this.viewCounts.set(id, (this.viewCounts.get(id) ?? 0) + 1);
    this.views.register(view, id, view);
  }

  /** Whether a view of the object's memory made here is alive. */
  viewing(id: string): boolean {
    return this.viewCounts.has(id);
  }

  /** A ref was disposed: its part of the hold ends now rather than when it is collected. */
  untrack(ref: object, id: string): void {
    if (this.shared.unregister(ref) || this.refs.unregister(ref)) this.release(id);
  }

  holds(id: string): boolean {
    return this.counts.has(id);
  }

  /** Bytes of the views handed out since the last `sweep` (a worker collects when idle past a threshold). */
  viewBytesSinceSweep = 0;

  /** Releases, now, every shared-memory holder that the last collection freed. */
  sweep(): void {
    this.viewBytesSinceSweep = 0;
    this.shared.sweep();
    this.views.sweep();
  }

  close(): void {
    this.closed = true;
  }

  /** Counts one more instance of `id`; true when it is the first. */
  private retain(id: string): boolean {
    const n = this.counts.get(id) ?? 0;
    this.counts.set(id, n + 1);
    return n === 0;
  }

  private releaseView(id: string): void {
    const n = (this.viewCounts.get(id) ?? 1) - 1;
    if (n > 0) this.viewCounts.set(id, n);
    else this.viewCounts.delete(id);
    this.release(id);
    if (n <= 0 && !this.closed && this.counts.has(id)) this.onViewsGone(id);
  }

  private release(id: string): void {
    if (this.closed) return;
    const n = (this.counts.get(id) ?? 1) - 1;
    if (n > 0) {
      this.counts.set(id, n);
      return;
    }
    this.counts.delete(id);
    if (!this.isLocal?.(id)) sendId(this.channel, "remove-ref", id);
    this.onLastRef(id);
  }
}
