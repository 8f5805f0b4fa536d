/**
 * A batch of messages as bytes for a socket: V8's serialization of the messages' wire form, with
 * every byte array of 1 MiB or more (a large value's body, a long serialized value) taken out
 * and sent ahead as body frames of at most 8 MiB. So no frame outgrows the limit whatever the
 * size of an object, and the bytes of a body are never copied into the batch.
 *
 * Body frame payload: u32 index of the body in its batch (its top bit set for the body of a
 * value, which the receiver may land in its object store), f64 total bytes, then the chunk.
 */
import { valueBodies } from "../serialization/serialized-value.js";
import { BODY_HEAD_BYTES } from "./frames.js";
import v8 from "node:v8";

/** Byte arrays at least this long travel as bodies. */
export const SIDE_BODY_MIN = 2 ** 20;
const CHUNK = 8 * 2 ** 20;
/** The largest body a peer may announce (it is allocated whole when its first chunk arrives). */
export const MAX_BODY_BYTES = 2 ** 34;

/** The top bit of a body frame's index: the body of a value. */
const VALUE_BODY = 0x80000000;

const INLINE = 0;
const SIDE_UINT8 = 1;
const SIDE_BUFFER = 2;

type DefaultHost = { _writeHostObject(view: ArrayBufferView): void; _readHostObject(): unknown };

class BatchSerializer extends v8.DefaultSerializer {
  readonly bodies: Uint8Array[] = [];
  _writeHostObject(view: ArrayBufferView): void {
    if (view.byteLength >= SIDE_BODY_MIN && view instanceof Uint8Array) {
      this.writeUint32(Buffer.isBuffer(view) ? SIDE_BUFFER : SIDE_UINT8);
      this.writeUint32(this.bodies.push(view) - 1);
      return;
    }
    this.writeUint32(INLINE);
    (v8.DefaultSerializer.prototype as unknown as DefaultHost)._writeHostObject.call(this, view);
  }
}

class BatchDeserializer extends v8.DefaultDeserializer {
  constructor(data: Buffer, private readonly bodies: Uint8Array[]) {
    super(data);
  }
  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === INLINE) return (v8.DefaultDeserializer.prototype as unknown as DefaultHost)._readHostObject.call(this);
    const body = this.bodies[this.readUint32()];
    if (!body) throw new RangeError("a batch refers to a body that did not arrive");
    return tag === SIDE_BUFFER ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  }
}

/** The batch's bytes and the bodies to send ahead of it, as body-frame payloads. */
export function encodeBatch(wire: unknown[]): { batch: Buffer; bodyFrames: Uint8Array[][] } {
  const ser = new BatchSerializer();
  ser.writeHeader();
  ser.writeValue(wire);
  const bodyFrames = ser.bodies.map((body, index) => {
    const frames: Uint8Array[][] = [];
    const tag = valueBodies.has(body) ? (index | VALUE_BODY) >>> 0 : index;
    for (let at = 0; at < body.byteLength; at += CHUNK) {
      const head = Buffer.allocUnsafe(BODY_HEAD_BYTES);
      head.writeUInt32BE(tag, 0);
      head.writeDoubleBE(body.byteLength, 4);
      frames.push([head, body.subarray(at, Math.min(at + CHUNK, body.byteLength))]);
    }
    return frames;
  });
  return { batch: ser.releaseBuffer(), bodyFrames: bodyFrames.flat() };
}

/** Reassembles the bodies of the next batch from body frames; then reads the batch. */
export class BatchDecoder {
  private bodies: Uint8Array[] = [];
  private filling?: { body: Uint8Array; at: number; chunk: number };

  /** `place`: memory for a value's body to land in (the node's arena), when it has room. */
  constructor(private readonly place: (size: number) => Uint8Array | undefined = () => undefined) {}

  /**
   * Takes one body frame's payload, whole or as the pieces it came in; throws RangeError on one
   * that does not fit its announcement.
   */
  body(payload: Buffer | Buffer[]): void {
    const parts = Array.isArray(payload) ? payload : [payload];
    let size = 0;
    for (const p of parts) size += p.length;
    if (size < BODY_HEAD_BYTES) throw new RangeError("a body frame is too short");
    const head = parts[0].length >= BODY_HEAD_BYTES ? parts[0] : Buffer.concat(parts, BODY_HEAD_BYTES);
    const target = this.chunkTarget(head, size - BODY_HEAD_BYTES);
    // Each piece copied once, straight to where the body goes; the head skipped.
    let skip = BODY_HEAD_BYTES;
    let at = 0;
    for (const p of parts) {
      const piece = skip ? p.subarray(Math.min(skip, p.length)) : p;
      skip -= Math.min(skip, p.length);
      target.set(piece, at);
      at += piece.length;
    }
    this.chunkWritten();
  }

  /**
   * Where the chunk a body frame carries goes (`head`: the frame's head; `bytes`: the chunk's
   * length), for a reader that puts it there itself; then chunkWritten. Throws RangeError on a
   * frame that does not fit its announcement.
   */
  chunkTarget(head: Buffer, bytes: number): Uint8Array {
    const tag = head.readUInt32BE(0);
    const index = tag & ~VALUE_BODY;
    const total = head.readDoubleBE(4);
    if (!this.filling) {
      if (index !== this.bodies.length) throw new RangeError(`body ${index} arrived where body ${this.bodies.length} was due`);
      if (!Number.isInteger(total) || total < 0 || total > MAX_BODY_BYTES) throw new RangeError(`a body of ${total} bytes was announced`);
      // Not zeroed: every byte is written by the chunks before the body is used.
      this.filling = { body: ((tag & VALUE_BODY) !== 0 && this.place(total)) || Buffer.allocUnsafeSlow(total), at: 0, chunk: 0 };
    }
    const f = this.filling;
    if (f.at + bytes > f.body.byteLength || total !== f.body.byteLength) throw new RangeError("a body frame goes past its body");
    f.chunk = bytes;
    return f.body.subarray(f.at, f.at + bytes);
  }

  /** The chunk chunkTarget gave a place to is there. */
  chunkWritten(): void {
    const f = this.filling!;
    f.at += f.chunk;
    f.chunk = 0;
    if (f.at === f.body.byteLength) {
      this.bodies.push(f.body);
      this.filling = undefined;
    }
  }

  /** The batch's wire messages, with the bodies that came ahead of it. */
  batch(payload: Buffer): unknown[] {
    if (this.filling) throw new RangeError("a batch arrived before its body was complete");
    const bodies = this.bodies;
    this.bodies = [];
    const des = new BatchDeserializer(payload, bodies);
    des.readHeader();
    const wire = des.readValue();
    if (!Array.isArray(wire)) throw new TypeError("a batch is not a list");
    return wire;
  }
}
