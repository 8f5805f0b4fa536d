/**
 * Streamed HTTP request bodies, on the replica: the proxy sends a body that has no length or a
 * large one chunk by chunk (the replica's bodyChunk calls, see proxy-request.ts), and the
 * ingress's Request reads them as they come. A chunk's call answers once the body holds less than
 * HIGH_WATER bytes unread, so a slow reader slows the client down instead of filling memory.
 * Chunks may arrive before their request (calls from one caller can run in any order here):
 * they wait for it, and are dropped if it never comes. Until the request starts, a chunk's call
 * does not answer: the answer says whether the request runs here or was refused (a stopping or
 * full replica), in which case nothing of its body was read and the proxy sends it again, with the
 * request, to another replica (see body-pump.ts).
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
  /** Its request runs here (its Request's stream was made). */
  started: boolean;
  /** Its request was refused here. */
  refused?: true;
  reader?: () => void;
  /** Chunk calls waiting for room, or for the request to start. */
  writers: (() => void)[];
  orphanTimer?: NodeJS.Timeout;
}

/** A chunk call's answer: more wanted, not wanted any more (the request finished), or its request was refused here. */
export type ChunkAnswer = boolean | "refused";

export class RequestBodies {
  readonly #inboxes = new Map<string, Inbox>();
  /** Requests finished or cancelled: their late chunks are refused. */
  readonly #finished = new Set<string>();
  /** Requests refused here before they ran: their chunks go elsewhere. */
  readonly #refused = new Set<string>();

  /**
   * The next chunk of a request's body, or its end (null). Answers once the request runs here and
   * the body has room: true for more, false when the body is not wanted any more (the request
   * finished or was cancelled), "refused" when the request was refused here before it ran.
   */
  async push(requestId: string, chunk: Uint8Array | null): Promise<ChunkAnswer> {
    // Refused before this chunk came: told once (the request may come again, under the same id).
    if (this.#refused.delete(requestId)) return "refused";
    if (this.#finished.has(requestId)) return false;
    const inbox = this.#inbox(requestId, true);
    if (chunk === null) inbox.ended = true;
    else {
      inbox.chunks.push(chunk);
      inbox.bytes += chunk.byteLength;
    }
    inbox.reader?.();
    while ((!inbox.started || inbox.bytes >= HIGH_WATER) && this.#inboxes.get(requestId) === inbox) {
      await new Promise<void>((resume) => inbox.writers.push(resume));
    }
    if (inbox.refused) return "refused";
    return !this.#finished.has(requestId);
  }

  /** The body of a request, as its Request's stream: the request runs here. */
  stream(requestId: string): ReadableStream<Uint8Array> {
    const inbox = this.#inbox(requestId, false);
    inbox.started = true;
    if (inbox.bytes < HIGH_WATER) for (const resume of inbox.writers.splice(0)) resume();
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
    this.#finished.add(requestId);
    setTimeout(() => this.#finished.delete(requestId), ORPHAN_MS).unref();
    const inbox = this.#inboxes.get(requestId);
    if (inbox !== undefined) this.#drop(requestId, inbox);
  }

  /**
   * The request was refused here before it ran: its sender is told, and sends the body elsewhere
   * (the proxy sends one chunk before it knows, so one answer says it: the chunk's call waiting
   * now, or the next one to come).
   */
  refuse(requestId: string): void {
    const inbox = this.#inboxes.get(requestId);
    if (inbox === undefined) {
      this.#refused.add(requestId);
      setTimeout(() => this.#refused.delete(requestId), ORPHAN_MS).unref();
      return;
    }
    inbox.refused = true;
    this.#drop(requestId, inbox);
  }

  #drop(requestId: string, inbox: Inbox): void {
    this.#inboxes.delete(requestId);
    clearTimeout(inbox.orphanTimer);
    for (const resume of inbox.writers.splice(0)) resume();
    inbox.reader?.();
  }

  #inbox(requestId: string, bySender: boolean): Inbox {
    let inbox = this.#inboxes.get(requestId);
    if (inbox === undefined) {
      this.#inboxes.set(requestId, (inbox = { chunks: [], bytes: 0, ended: false, started: false, writers: [] }));
      // Chunks whose request never comes (refused, cancelled before it started) go after a while.
      if (bySender) inbox.orphanTimer = setTimeout(() => this.finish(requestId), ORPHAN_MS).unref();
    } else if (!bySender) {
      clearTimeout(inbox.orphanTimer);
    }
    return inbox;
  }
}
