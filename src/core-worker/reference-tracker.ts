/**
 * Counts, per object id, what this thread has that keeps the object alive: ObjectRef instances,
 * ActorHandles, and the zero-copy views of its memory it has handed out. The store is told when
 * the first of them appears (add-ref) and when the last is gone (remove-ref); it records the
 * hold under this thread's worker id. Messages are batched by the channel.
 *
 * Refs and views that hold shared memory are also kept as WeakRefs, so that when the arena is
 * full a synchronous `put` can collect garbage and release them at once (`sweep`) instead of
 * waiting for finalizers, which only run in a later turn of the event loop.
 */
import type { Channel } from "../rpc/channel.js";
import { sendId, type ToRaylet } from "../rpc/protocol.js";

interface Holder {
  id: string;
  /** Set for the holders `sweep` may release (see `sweepable`). */
  weak?: WeakRef<object>;
  done: boolean;
}

export class ReferenceTracker {
  private readonly counts = new Map<string, number>();
  private readonly shared = new Set<Holder>();
  /** Most refs: the id alone is what a collected ref leaves to release (no holder to allocate). */
  private readonly refs = new FinalizationRegistry<string>((id) => this.release(id));
  /** Views, and the refs `sweep` may release early, with their state. */
  private readonly holders = new FinalizationRegistry<Holder>((h) => this.drop(h));
  /** Targets tracked with a Holder, to find it again on dispose. */
  private readonly holderOf = new WeakMap<object, Holder>();
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
   * Counts a new ref instance. `fresh`: the store already records this thread's hold (a task
   * just submitted, a value just put); otherwise the ref arrived from elsewhere and is announced.
   */
  track(ref: object, id: string, fresh: boolean, holdsSharedMemory = false): void {
    if (this.retain(id) && !fresh) sendId(this.channel, "add-ref", id);
    if (holdsSharedMemory && this.sweepable) this.register(ref, id);
    else this.refs.register(ref, id, ref);
  }

  /** Keeps the object's shared memory held while `view` lives (the thread holds a ref to it now). */
  trackView(id: string, view: ArrayBufferView): void {
    this.pinnedSinceSweep += view.byteLength;
    if (this.retain(id)) sendId(this.channel, "add-ref", id);
    if (this.sweepable) this.register(view, id);
    else this.holders.register(view, { id, done: false });
  }

  /** A ref was disposed: its part of the hold ends now rather than when it is collected. */
  untrack(ref: object, id: string): void {
    const h = this.holderOf.get(ref);
    if (h) {
      this.holders.unregister(h);
      this.drop(h);
    } else if (this.refs.unregister(ref)) this.release(id);
  }

  holds(id: string): boolean {
    return this.counts.has(id);
  }

  /** Bytes of the views handed out since the last `sweep` (a worker collects when idle past a threshold). */
  pinnedSinceSweep = 0;

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

  /** Counts one more instance of `id`; true when it is the first. */
  private retain(id: string): boolean {
    const n = this.counts.get(id) ?? 0;
    this.counts.set(id, n + 1);
    return n === 0;
  }

  /** Tracks a holder of shared memory that `sweep` may release before its finalizer runs. */
  private register(target: object, id: string): void {
    const h: Holder = { id, weak: new WeakRef(target), done: false };
    this.shared.add(h);
    this.holderOf.set(target, h);
    this.holders.register(target, h, h);
  }

  private drop(h: Holder): void {
    if (h.done) return;
    h.done = true;
    this.shared.delete(h);
    this.release(h.id);
  }

  private release(id: string): void {
    if (this.closed) return;
    const n = (this.counts.get(id) ?? 1) - 1;
    if (n > 0) {
      this.counts.set(id, n);
      return;
    }
    this.counts.delete(id);
    sendId(this.channel, "remove-ref", id);
    this.onLastRef(id);
  }
}
