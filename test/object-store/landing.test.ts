// Bodies of values arriving over a socket land straight in the arena: the value that carries one
// takes its region; what a connection landed and nothing took is freed with its batch. A region
// being written out to a socket (pinned) is freed only once written, however often it is freed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Landing } from "../../src/object-store/landing.js";
import { SharedArena } from "../../src/object-store/shared-arena.js";
import { slicesOf } from "../../src/serialization/wire-value.js";

const MB = 2 ** 20;

test("a landed body is taken by its value without a copy; untaken ones are freed by their connection's sweep only", () => {
  const arena = SharedArena.create(16 * MB);
  const landing = new Landing(arena);
  const a = {};
  const b = {};
  const taken = landing.place(MB, a)!;
  const dropped = landing.place(MB, a)!;
  const otherConnection = landing.place(MB, b)!;
  taken.fill(5);
  const value = slicesOf({ bodies: [taken] }, arena, () => assert.fail("no allocation: the body landed"), landing);
  assert.deepEqual(value.slices, [{ offset: taken.byteOffset, size: MB }]);
  const used = arena.used();
  landing.sweep(a);
  assert.equal(arena.used(), used - MB, "the body nobody took is freed");
  assert.ok(landing.take(otherConnection), "another connection's body is not swept with this one's");
  assert.equal(landing.take(dropped), undefined);
  // A body that did not land here (a buffer of its own) is copied in as before.
  const copied = slicesOf({ bodies: [new Uint8Array(MB).fill(9)] }, arena, (size) => arena.allocate(size), landing);
  assert.equal(new Uint8Array(arena.buffer, copied.slices![0].offset, 1)[0], 9);
});

test("a pinned region is freed when the last pin goes, not before", () => {
  const arena = SharedArena.create(4 * MB);
  const offset = arena.allocate(MB);
  arena.pin(offset);
  arena.pin(offset);
  const used = arena.used();
  arena.free(offset, MB);
  assert.equal(arena.used(), used, "still being written");
  arena.unpin(offset);
  assert.equal(arena.used(), used);
  arena.unpin(offset);
  assert.equal(arena.used(), used - MB);
});
