/**
 * Counts, per object id, the live ObjectRef instances (and ActorHandles) of this thread and the
 * zero-copy views it has handed out, and tells the store when a count reaches zero. The store
 * then frees what no thread needs. Messages are batched by the channel.
 *
 * Refs and views that hold shared memory are also kept as WeakRefs, so that when the arena is
 * full a synchronous `put` can collect garbage and release them at once (`sweep`) instead of
 * waiting for finalizers, which only run in a later turn of the event loop.
 */
import type { Channel } from "../rpc/channel.js";
import { sendId, type ToRaylet } from "../rpc/protocol.js";

interface Holder {
  id: string;
  pin: boolean;
  weak?: WeakRef<object>;
  done: boolean;
}

export class ReferenceTracker {
  private readonly counts = new Map<string, number>();
  private readonly pins = new Map<string, number>();
  private readonly shared = new Set<Holder>();
  /** Most refs: the id alone is what a collected ref leaves to release (no holder to allocate). */
  private readonly refs = new FinalizationRegistry<string>((id) => {
    if (!this.closed) this.release(id);
  });
  /** Views and the refs `sweep` may release early, with their state. */
  private readonly holders = new FinalizationRegistry<Holder>((h) => this.drop(h));
  private closed = false;

  constructor(
    private readonly channel: Pick<Channel<ToRaylet, unknown>, "send" | "unsent">,
    /** Told when this thread holds no more refs to `id`. */
    private readonly onLastRef: (id: string) => void,
    /**
     * Keep WeakRefs for `sweep` (the driver, whose puts may wait for room). Worker threads rely
     * on finalizers alone: a WeakRef keeps its target for the rest of the current job, and a
     * thread woken only by port messages may not end that job for a long time.
     */
    private readonly sweepable: boolean,
  ) {}

  /**
   * Counts a new ref instance. `fresh`: the store already counts this thread's hold (a task just
   * submitted, a value just put); otherwise the ref arrived from elsewhere and is announced.
   */
  track(ref: object, id: string, fresh: boolean, holdsSharedMemory = false): void {
    const n = this.counts.get(id) ?? 0;
    this.counts.set(id, n + 1);
    if (n === 0) {
      if (!fresh) sendId(this.channel, "add-ref", id);
    } else if (fresh) {
      // The store counted a second hold for this thread: give it back, one per thread is enough.
      sendId(this.channel, "remove-ref", id);
    }
    if (holdsSharedMemory && this.sweepable) this.register(ref, { id, pin: false, done: false });
    else this.refs.register(ref, id);
  }

  holds(id: string): boolean {
    return this.counts.has(id);
  }

  /** Bytes of the views pinned since the last `sweep` (a worker collects when idle past a threshold). */
  pinnedSinceSweep = 0;

  /** Keeps the object's shared memory pinned while `view` lives. */
  pinView(id: string, view: ArrayBufferView): void {
    this.pinnedSinceSweep += view.byteLength;
    const n = this.pins.get(id) ?? 0;
    this.pins.set(id, n + 1);
    if (n === 0) sendId(this.channel, "pin", id);
    if (this.sweepable) this.register(view, { id, pin: true, done: false });
    else this.holders.register(view, { id, pin: true, done: false });
  }

  /** Releases, now, every shared-memory holder whose target the last GC collected. */
  sweep(): number {
    this.pinnedSinceSweep = 0;
    let released = 0;
    for (const h of this.shared) {
      if (h.weak!.deref() !== undefined) continue;
      this.holders.unregister(h);
      this.drop(h);
      released++;
    }
    return released;
  }

  close(): void {
    this.closed = true;
  }

  /** Tracks a holder of shared memory that `sweep` may release before its finalizer runs. */
  private register(target: object, h: Holder): void {
    h.weak = new WeakRef(target);
    this.shared.add(h);
    this.holders.register(target, h, h);
  }

  private drop(h: Holder): void {
    if (h.done || this.closed) return;
    h.done = true;
    if (h.weak) this.shared.delete(h);
    if (h.pin) this.unpin(h.id);
    else this.release(h.id);
  }

  private release(id: string): void {
    if (!decrement(this.counts, id)) return;
    sendId(this.channel, "remove-ref", id);
    this.onLastRef(id);
  }

  private unpin(id: string): void {
    if (decrement(this.pins, id)) sendId(this.channel, "unpin", id);
  }
}

/** Counts one down; true when that was the last (the entry is then gone). */
function decrement(counts: Map<string, number>, id: string): boolean {
  const n = (counts.get(id) ?? 1) - 1;
  if (n > 0) {
    counts.set(id, n);
    return false;
  }
  counts.delete(id);
  return true;
}
