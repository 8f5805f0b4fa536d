/**
 * Where large values arriving from another process land: straight in the node's arena as their
 * bytes come off a socket, rather than in a buffer of their own that is then copied in. The
 * value that carries a body takes its region (`take`); what a connection landed and no value
 * took (a message dropped, a connection cut mid-body) is freed once that connection's batch is
 * handled (`sweep`).
 */
import type { SharedArena } from "./shared-arena.js";

export class Landing {
  /** Regions landed and not taken yet: their size, and the connection that landed them. */
  private readonly waiting = new Map<number, { size: number; by: object }>();

  constructor(readonly arena: SharedArena) {}

  /** Room for a body of `size` bytes arriving on connection `by`, if the arena has it now (it never waits). */
  place(size: number, by: object): Uint8Array | undefined {
    const offset = this.arena.allocate(size);
    if (offset < 0) return undefined;
    this.arena.claim(offset, size);
    this.waiting.set(offset, { size, by });
    return new Uint8Array(this.arena.buffer, offset, size);
  }

  /** The region of a body that landed here, for the value that carries it; undefined for any other body. */
  take(body: Uint8Array): { offset: number; size: number } | undefined {
    if (body.buffer !== this.arena.buffer || !this.waiting.delete(body.byteOffset)) return undefined;
    return { offset: body.byteOffset, size: body.byteLength };
  }

  /** Frees what connection `by` landed and no value took. */
  sweep(by: object): void {
    for (const [offset, w] of this.waiting) {
      if (w.by !== by) continue;
      this.waiting.delete(offset);
      this.arena.free(offset, w.size);
    }
  }
}
