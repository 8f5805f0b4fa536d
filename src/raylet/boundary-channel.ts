/**
 * The raylet's channel to a core worker in another process (a driver connected over TCP, a
 * worker process on a local socket): values leave with their bodies as bytes, and arriving
 * values' bodies are stored in this node's arena (see serialization/wire-value.ts). The rest of
 * the raylet sends and handles messages as for a thread.
 */
import type { SharedArena } from "../object-store/shared-arena.js";
import type { Channel } from "../rpc/channel.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import type { SerializedValue } from "../serialization/serialized-value.js";
import type { Landing } from "../object-store/landing.js";
import { bodiesOf, mapValues, slicesOf, unpinAll, viewsOf } from "../serialization/wire-value.js";

export interface Boundary {
  arena: SharedArena;
  /** Values' bodies that landed in the arena as they arrived are taken as they are. */
  landing?: Landing;
  /** Room for `size` bytes in the arena; throws ObjectStoreFullError when there is none. */
  allocate(size: number): number;
  /** A put whose value found no room: the object is to fail with `error`. */
  putFailed(id: string, error: unknown): void;
}

export class BoundaryChannel implements Channel<FromRaylet, ToRaylet> {
  private readonly copied = (v: SerializedValue) => bodiesOf(v, this.b.arena);

  constructor(private readonly inner: Channel<FromRaylet, ToRaylet>, private readonly b: Boundary) {}

  /**
   * Values leave as bytes: where the inner channel says when they are written, views of the
   * arena (pinned until then), else copies.
   */
  send(msg: FromRaylet): void {
    if (!this.inner.onSent) return this.inner.send(mapValues(msg, this.copied));
    const pinned: number[] = [];
    this.inner.send(mapValues(msg, (v) => viewsOf(v, this.b.arena, pinned)));
    if (pinned.length) this.inner.onSent(() => unpinAll(this.b.arena, pinned));
  }

  /** Nothing to fold into: a value added to a sent message would skip the conversion. */
  unsent(): undefined {
    return undefined;
  }

  flushNow(): void {
    this.inner.flushNow();
  }

  close(): void {
    this.inner.close();
  }

  onMessage(handler: (msg: ToRaylet) => void): void {
    this.inner.onMessage((msg) => {
      const stored = this.store(msg);
      if (stored) handler(stored);
    });
  }

  /** The message with its values in the arena; undefined for a put that found no room. */
  private store(msg: ToRaylet): ToRaylet | undefined {
    try {
      return mapValues(msg, (v) => slicesOf(v, this.b.arena, (size) => this.b.allocate(size), this.b.landing));
    } catch (err) {
      if (msg.t !== "put") throw err;
      this.b.putFailed(msg.id, err);
      return undefined;
    }
  }
}
