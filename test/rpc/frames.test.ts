// Frames cut back out of a byte stream however the stream was split into chunks.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { BODY_HEAD_BYTES, FrameReader, FrameTooLargeError } from "../../src/rpc/frames.js";

/** The bytes of frames as writeFrame puts them on the wire. */
function wire(frames: [number, Uint8Array][]): Buffer {
  return Buffer.concat(frames.map(([kind, payload]) => {
    const head = Buffer.alloc(5);
    head.writeUInt32BE(payload.length + 1, 0);
    head[4] = kind;
    return Buffer.concat([head, payload]);
  }));
}

for (const bodyParts of [false, true]) test(`any split of a stream into chunks gives back the frames sent, in order${bodyParts ? " (body frames as their pieces)" : ""}`, () => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.uint8Array({ maxLength: 300 })), { maxLength: 20 }),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 30 }),
    (frames, cuts) => {
      const bytes = wire(frames);
      const got: [number, Uint8Array][] = [];
      const reader = new FrameReader((kind, payload) => got.push([kind, new Uint8Array(payload)]), 1024);
      if (bodyParts) reader.onBodyParts = (parts) => got.push([2, new Uint8Array(Buffer.concat(parts))]);
      for (let at = 0, k = 0; at < bytes.length; k++) {
        const n = cuts[k % cuts.length];
        reader.push(bytes.subarray(at, at + n));
        at += n;
      }
      assert.deepEqual(got, frames.map(([k, p]) => [k, new Uint8Array(p)]));
    },
  ));
});

test("body frames read in place: their payload lands where the receiver says, whether pushed or read straight there, and other frames come as before", () => {
  fc.assert(fc.property(
    // Body frames (kind 2) start with their 12-byte head; any other kind is a whole frame.
    fc.array(fc.oneof(
      fc.tuple(fc.constant(2), fc.uint8Array({ minLength: BODY_HEAD_BYTES, maxLength: 300 })),
      fc.tuple(fc.integer({ min: 0, max: 1 }), fc.uint8Array({ maxLength: 300 })),
    ), { maxLength: 20 }),
    fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 30 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 10 }),
    (frames, cuts, readInPlace) => {
      const bytes = wire(frames);
      const got: [number, Uint8Array][] = [];
      const reader = new FrameReader((kind, payload) => got.push([kind, new Uint8Array(payload)]), 1024);
      let landing: { head: Buffer; body: Uint8Array } | undefined;
      reader.onBodyStart = (head, n) => ((landing = { head, body: new Uint8Array(n) }), landing.body);
      reader.onBodyEnd = () => got.push([2, new Uint8Array(Buffer.concat([landing!.head, landing!.body]))]);
      for (let at = 0, k = 0; at < bytes.length; k++) {
        const n = cuts[k % cuts.length];
        const target = reader.directTarget();
        if (target && readInPlace[k % readInPlace.length]) {
          // As a socket reading into the target: at most what is left of the body.
          const m = Math.min(n, target.length, bytes.length - at);
          target.set(bytes.subarray(at, at + m));
          reader.directWritten(m);
          at += m;
        } else {
          reader.push(bytes.subarray(at, at + n));
          at += n;
        }
      }
      assert.deepEqual(got, frames.map(([k, p]) => [k, new Uint8Array(p)]));
    },
  ));
});

test("a header announcing more than the limit is refused before its payload arrives", () => {
  const reader = new FrameReader(() => assert.fail("no frame"), 100);
  assert.throws(() => reader.push(Buffer.from([0, 0, 0, 102, 1])), FrameTooLargeError);
});
