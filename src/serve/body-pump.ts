/**
 * A streamed request body (no length, or a long one), sent by the proxy to the replica that runs
 * its request, chunk by chunk: each once the replica took the one before, so a slow reader slows
 * the client down instead of filling memory (see request-bodies.ts). The first chunk's answer
 * also says whether the request runs there: a replica that refuses a request (stopping, or full
 * with other callers' calls) reads nothing of its body. So the chunks sent are kept until that
 * answer, and when the request goes to another replica they go again, first, to that one. Once a
 * replica took the request, its body can go nowhere else.
 */
import type { IncomingMessage } from "node:http";
import { RayServeError } from "./errors.js";
import type { ChunkAnswer } from "./request-bodies.js";

export type SendChunk = (chunk: Uint8Array | null) => Promise<ChunkAnswer>;

export class BodyPump {
  /** Chunks read from the client, not sent yet (at most one: the client is paused meanwhile). */
  readonly #read: Buffer[] = [];
  #clientDone = false;
  #wake: (() => void) | undefined;
  /** Chunks sent to a replica that has not said yet whether it runs the request (null: the end). */
  #kept: (Uint8Array | null)[] = [];
  /** The replica that runs the request, once one said so. */
  #takenBy: string | undefined;
  #wanted = true;
  #pumping: Promise<void> = Promise.resolve();

  constructor(private readonly req: IncomingMessage, private readonly requestId: string) {
    req.on("data", (chunk: Buffer) => {
      if (!this.#wanted) return;
      req.pause();
      this.#read.push(chunk);
      this.#wake?.();
    });
    // The end, or the client gone (then the request's call is cancelled by its proxy).
    const done = () => {
      this.#clientDone = true;
      this.#wake?.();
    };
    req.once("end", done);
    req.once("close", done);
    req.pause();
  }

  /** Sends the body to `replicaId` (after the replica it went to before refused the request). */
  sendTo(replicaId: string, send: SendChunk): void {
    if (this.#takenBy !== undefined) {
      throw new RayServeError(`request ${this.requestId}: its body was streamed to replica ${this.#takenBy}, which took the request and then failed it; a streamed body cannot be sent again`);
    }
    // The previous replica's answer comes first (a refusal, or its failure).
    this.#pumping = this.#pumping.then(() => this.#pump(replicaId, send));
  }

  async #pump(replicaId: string, send: SendChunk): Promise<void> {
    try {
      for (const chunk of this.#kept) {
        if (!(await this.#sendOne(replicaId, send, chunk))) return;
        if (chunk === null) return;
      }
      for (;;) {
        const chunk = await this.#nextChunk();
        if (chunk === undefined) return; // the client went away
        if (this.#takenBy === undefined) this.#kept.push(chunk);
        if (!(await this.#sendOne(replicaId, send, chunk)) || chunk === null) return;
      }
    } catch {
      // The replica failed: the request's own call says what happened.
    }
  }

  /** The client's next chunk; null at the end; undefined if it went away first. */
  async #nextChunk(): Promise<Uint8Array | null | undefined> {
    while (this.#read.length === 0) {
      if (this.#clientDone) return this.req.complete ? null : undefined;
      this.req.resume();
      await new Promise<void>((wake) => { this.#wake = wake; });
      this.#wake = undefined;
    }
    const chunk = this.#read.shift()!;
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  }

  /** Whether to go on sending to this replica. */
  async #sendOne(replicaId: string, send: SendChunk, chunk: Uint8Array | null): Promise<boolean> {
    const answer = await send(chunk);
    if (answer === "refused") return false;
    if (this.#takenBy === undefined) {
      this.#takenBy = replicaId;
      this.#kept = [];
    }
    if (answer === false) {
      // Not wanted any more (the request finished or was cancelled): the rest is read and dropped.
      this.#wanted = false;
      this.#read.length = 0;
      this.req.resume();
      return false;
    }
    return true;
  }
}
