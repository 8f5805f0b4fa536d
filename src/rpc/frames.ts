/**
 * Frames on a byte stream (a TCP or TLS socket, or a local socket to a worker process): a
 * 4-byte big-endian length of what follows, a 1-byte kind, then the payload. The reader copes
 * with frames split over chunks and chunks holding many frames, and refuses a frame longer than
 * its limit before buffering any of it: a peer cannot make the node allocate what it announces.
 */
import type { Socket } from "node:net";

export const FrameKind = {
  /** A handshake step: UTF-8 JSON (see handshake.ts). */
  control: 0,
  /** A batch of protocol messages (see socket-channel.ts). */
  batch: 1,
  /** A chunk of a large body the next batch refers to (see socket-channel.ts). */
  body: 2,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const HEADER = 5;

/** A body frame's payload starts with a head of this many bytes, which its receiver reads (see batch-codec.ts). */
export const BODY_HEAD_BYTES = 12;

/** The largest frame once a peer is authenticated: objects move in chunks well below it. */
export const MAX_FRAME_BYTES = 64 * 2 ** 20;

export class FrameTooLargeError extends Error {
  constructor(readonly bytes: number, readonly limit: number) {
    super(`a frame of ${bytes} bytes is over the limit of ${limit}`);
  }
}

/** Writes one frame whose payload is `parts`, joined. False once the socket's buffer is full. */
export function writeFrame(socket: Socket, kind: FrameKind, ...parts: Uint8Array[]): boolean {
  let length = 1;
  for (const p of parts) length += p.byteLength;
  const header = Buffer.allocUnsafe(HEADER);
  header.writeUInt32BE(length, 0);
  header[4] = kind;
  // One write for small frames (one segment on the wire); large parts are not copied.
  if (length < 16 * 1024) return socket.write(Buffer.concat([header, ...parts]));
  socket.write(header);
  let ok = true;
  for (const p of parts) ok = socket.write(p);
  return ok;
}

/**
 * Cuts a byte stream into frames for `onFrame`. Both may change as the connection moves on from
 * its handshake: the limit is raised and the frames go to the channel once the peer is trusted.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /**
   * When set, body frames come here as the pieces of the stream that hold their payload, not
   * joined into one buffer first: the receiver copies them once, into where the body goes.
   */
  onBodyParts?: (parts: Buffer[]) => void;
  /**
   * When set (it takes over from onBodyParts), a body frame's payload goes straight where the
   * receiver says once it has read the frame's head: `onBodyStart` gets the head and the length of
   * what follows and returns where that goes; the bytes are copied there as they come, or written
   * there by the socket itself (see directTarget); `onBodyEnd` says they all arrived.
   */
  onBodyStart?: (head: Buffer, bytes: number) => Uint8Array;
  onBodyEnd?: () => void;
  /** The body payload being filled, and how far. */
  private direct?: { dest: Uint8Array; at: number; end: number };

  constructor(
    public onFrame: (kind: number, payload: Buffer) => void,
    public limit: number,
  ) {}

  /**
   * Where the next bytes of the stream go when they are a body's (a socket may read them there
   * itself, then say so with directWritten); undefined when they are to come through push.
   */
  directTarget(): Uint8Array | undefined {
    const d = this.direct;
    return d && d.dest.subarray(d.at, d.end);
  }

  /** `n` bytes were written at directTarget(). */
  directWritten(n: number): void {
    const d = this.direct!;
    d.at += n;
    if (d.at === d.end) this.endDirect();
  }

  /** Feeds bytes; throws FrameTooLargeError as soon as a header announces too much. */
  push(chunk: Buffer): void {
    const d = this.direct;
    if (d) {
      const n = Math.min(chunk.length, d.end - d.at);
      d.dest.set(n === chunk.length ? chunk : chunk.subarray(0, n), d.at);
      this.directWritten(n);
      if (n === chunk.length) return;
      chunk = chunk.subarray(n);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= HEADER) {
      const head = this.peek(HEADER);
      const length = head.readUInt32BE(0);
      if (length - 1 > this.limit || length === 0) throw new FrameTooLargeError(length - 1, this.limit);
      if (head[4] === FrameKind.body && this.onBodyStart) {
        if (length - 1 < BODY_HEAD_BYTES) throw new RangeError("a body frame is too short");
        if (this.buffered < HEADER + BODY_HEAD_BYTES) return;
        this.take(HEADER);
        const bodyHead = Buffer.from(this.take(BODY_HEAD_BYTES));
        this.startDirect(this.onBodyStart(bodyHead, length - 1 - BODY_HEAD_BYTES), length - 1 - BODY_HEAD_BYTES);
        // The rest of the body is still to come (nothing else is buffered meanwhile).
        if (this.direct) return;
        continue;
      }
      if (this.buffered < 4 + length) return;
      if (head[4] === FrameKind.body && this.onBodyParts) {
        this.take(HEADER);
        this.onBodyParts(this.takeParts(length - 1));
        continue;
      }
      const frame = this.take(4 + length);
      this.onFrame(frame[4], frame.subarray(HEADER));
    }
  }

  /** Fills `dest` with what is buffered of the body, and with the stream's next bytes until it is full. */
  private startDirect(dest: Uint8Array, bytes: number): void {
    let at = 0;
    for (const p of this.takeParts(Math.min(this.buffered, bytes))) {
      dest.set(p, at);
      at += p.length;
    }
    this.direct = { dest, at, end: bytes };
    if (at === bytes) this.endDirect();
  }

  private endDirect(): void {
    this.direct = undefined;
    this.onBodyEnd?.();
  }

  /** The first `n` buffered bytes, joined only when they span chunks (and then only those chunks). */
  private peek(n: number): Buffer {
    if (this.chunks[0].length >= n) return this.chunks[0];
    let k = 0;
    for (let have = 0; have < n; k++) have += this.chunks[k].length;
    this.chunks.splice(0, k, Buffer.concat(this.chunks.slice(0, k)));
    return this.chunks[0];
  }

  /** The first `n` buffered bytes as the pieces of the chunks that hold them, without a copy. */
  private takeParts(n: number): Buffer[] {
    const parts: Buffer[] = [];
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0];
      if (c.length <= n) {
        parts.push(c);
        this.chunks.shift();
        n -= c.length;
      } else {
        parts.push(c.subarray(0, n));
        this.chunks[0] = c.subarray(n);
        n = 0;
      }
    }
    return parts;
  }

  private take(n: number): Buffer {
    const all = this.peek(n);
    const rest = all.subarray(n);
    this.chunks = rest.length ? [rest, ...this.chunks.slice(1)] : this.chunks.slice(1);
    this.buffered -= n;
    return all.subarray(0, n);
  }
}
