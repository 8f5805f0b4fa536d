/**
 * Streamed HTTP request bodies, on the replica: the proxy sends a body that has no length or a
 * large one chunk by chunk (the replica's bodyChunk calls, see proxy-request.ts), and the
 * ingress's Request reads them as they come. A chunk's call answers once the body holds less than
 * HIGH_WATER bytes unread, so a slow reader slows the client down instead of filling memory.
 * Chunks may arrive before their request (calls from one caller can run in any order here):
 * they wait for it, and are dropped if it never comes.
 */
import { RayServeError } from "./errors.js";

/** Unread bytes past which a chunk's call waits for the reader. */
const HIGH_WATER = 4 * 2 ** 20;
/** How long chunks of a request that has not arrived (or is finished) are kept, or remembered. */
const ORPHAN_MS = 60_000;

interface Inbox {
  chunks: Uint8Array[];
  bytes: number;
  ended: boolean;
  reader?: () => void;
  writers: (() => void)[];
  orphanTimer?: NodeJS.Timeout;
}

export class RequestBodies {
  readonly #inboxes = new Map<string, Inbox>();
  /** Requests finished or cancelled: their late chunks are refused. */
  readonly #finished = new Set<string>();

  /**
   * The next chunk of a request's body, or its end (null). False when the body is not wanted any
   * more (the request finished or was cancelled): the proxy stops sending it.
   */
  async push(requestId: string, chunk: Uint8Array | null): Promise<boolean> {
    if (this.#finished.has(requestId)) return false;
    const inbox = this.#inbox(requestId, true);
    if (chunk === null) inbox.ended = true;
    else {
      inbox.chunks.push(chunk);
      inbox.bytes += chunk.byteLength;
    }
    inbox.reader?.();
    while (inbox.bytes >= HIGH_WATER && this.#inboxes.get(requestId) === inbox) {
      await new Promise<void>((resume) => inbox.writers.push(resume));
    }
    return !this.#finished.has(requestId);
  }

  /** The body of a request, as its Request's stream. */
  stream(requestId: string): ReadableStream<Uint8Array> {
    const inbox = this.#inbox(requestId, false);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        while (inbox.chunks.length === 0 && !inbox.ended) {
          if (this.#finished.has(requestId)) return controller.error(new RayServeError(`the body of request ${requestId} was cut off`));
          await new Promise<void>((wake) => { inbox.reader = wake; });
          inbox.reader = undefined;
        }
        const chunk = inbox.chunks.shift();
        if (chunk === undefined) return controller.close();
        inbox.bytes -= chunk.byteLength;
        if (inbox.bytes < HIGH_WATER) for (const resume of inbox.writers.splice(0)) resume();
        controller.enqueue(chunk);
      },
      cancel: () => this.finish(requestId),
    }, { highWaterMark: 0 });
  }

  /** Whether chunks of this request's body are here or awaited. */
  has(requestId: string): boolean {
    return this.#inboxes.has(requestId);
  }

  /** The request finished or was cancelled: what it did not read is dropped, and its sender told. */
  finish(requestId: string): void {
    const inbox = this.#inboxes.get(requestId);
    this.#inboxes.delete(requestId);
    if (inbox !== undefined) {
      clearTimeout(inbox.orphanTimer);
      for (const resume of inbox.writers.splice(0)) resume();
      inbox.reader?.();
    }
    this.#finished.add(requestId);
    setTimeout(() => this.#finished.delete(requestId), ORPHAN_MS).unref();
  }

  #inbox(requestId: string, bySender: boolean): Inbox {
    let inbox = this.#inboxes.get(requestId);
    if (inbox === undefined) {
      this.#inboxes.set(requestId, (inbox = { chunks: [], bytes: 0, ended: false, writers: [] }));
      // Chunks whose request never comes (refused, cancelled before it started) go after a while.
      if (bySender) inbox.orphanTimer = setTimeout(() => this.finish(requestId), ORPHAN_MS).unref();
    } else if (!bySender) {
      clearTimeout(inbox.orphanTimer);
    }
    return inbox;
  }
}
