// Values leaving a node carry their large bodies as bytes, and come back into a node's arena as
// slices that workers read zero-copy, without being serialized again on either side.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SharedArena } from "../../src/object-store/shared-arena.js";
import { deserialize, serialize } from "../../src/serialization/serializer.js";
import { bodiesOf, mapValues, slicesOf } from "../../src/serialization/wire-value.js";
import type { ToRaylet } from "../../src/rpc/protocol.js";

const revive = { reviveRef: (id: string) => ({ ref: id }), reviveActor: () => ({}) };
const MB = 2 ** 20;

function sample() {
  const floats = new Float64Array(MB / 8).map((_, i) => i * 0.5);
  const bytes = new Uint8Array(300 * 1024).fill(7);
  const buffer = new ArrayBuffer(200 * 1024);
  new Uint8Array(buffer)[5] = 9;
  return { floats, nested: [bytes, { buffer }], small: new Int32Array([1, 2, 3]), text: "x" };
}

test("a value serialized away from any arena keeps its large bodies apart, and reads back", () => {
  const value = serialize(sample(), { bodies: true });
  assert.equal(value.bodies?.length, 3);
  assert.equal(value.slices, undefined);
  assert.deepEqual(deserialize(value, revive), sample());
});

test("into an arena as slices, read zero-copy there, and out again as bodies", () => {
  const arena = SharedArena.create(16 * MB);
  const away = serialize(sample(), { bodies: true });
  const stored = slicesOf(away, arena, (size) => arena.allocate(size));
  assert.equal(stored.bodies, undefined);
  assert.equal(stored.slices?.length, 3);
  assert.equal(stored.data, away.data, "the structured-clone bytes are not serialized again");
  const views: ArrayBufferView[] = [];
  const read = deserialize(stored, { ...revive, arena, onSharedView: (v) => views.push(v) }) as ReturnType<typeof sample>;
  assert.deepEqual(read, sample());
  assert.ok((read.floats.buffer as ArrayBufferLike) === arena.buffer, "a typed array is a view of the arena");
  assert.equal(views.length, 2);
  const leaving = bodiesOf(stored, arena);
  assert.deepEqual(deserialize(leaving, revive), sample());
});

test("a body that cannot be stored gives back what was allocated before it", () => {
  const arena = SharedArena.create(2 * MB);
  const away = serialize([new Uint8Array(MB), new Uint8Array(MB), new Uint8Array(MB)], { bodies: true });
  const before = arena.used();
  assert.throws(() => slicesOf(away, arena, (size) => {
    const at = arena.allocate(size);
    if (at < 0) throw new RangeError("full");
    return at;
  }), /full/);
  assert.equal(arena.used(), before);
});

test("every value a message carries is converted, and messages without values pass as they are", () => {
  const arena = SharedArena.create(8 * MB);
  const value = serialize(new Float64Array(MB / 8).fill(2), { arena });
  const put: ToRaylet = { t: "put", id: "a".repeat(28), value };
  const out = mapValues(put, (v) => bodiesOf(v, arena)) as Extract<ToRaylet, { t: "put" }>;
  assert.equal(out.value.bodies?.[0].byteLength, MB);
  const done: ToRaylet = { t: "task-done", taskId: "t", ms: 1, results: [{ ok: true, value }, { ok: false, error: { name: "E", message: "m" } as never }] };
  const doneOut = mapValues(done, (v) => bodiesOf(v, arena)) as Extract<ToRaylet, { t: "task-done" }>;
  assert.ok(doneOut.results[0].ok && doneOut.results[0].value.bodies);
  assert.deepEqual(doneOut.results[1], done.results[1]);
  const ref: ToRaylet = { t: "add-ref", ids: ["x"] };
  assert.equal(mapValues(ref, (v) => bodiesOf(v, arena)), ref);
});
