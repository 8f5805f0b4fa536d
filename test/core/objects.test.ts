import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { embeddedNode } from "../../src/api/lifecycle.js";
import { settledStore } from "../helpers/store.js";

before(() => ray.init({ numCpus: 2, objectStoreMemory: 256 * 2 ** 20 }));
after(() => ray.shutdown());

test("put is synchronous and get returns the value, once or as a list", async () => {
  const a = ray.put({ x: 1 });
  const b = ray.put("two");
  assert.ok(a instanceof ray.ObjectRef);
  assert.match(a.hex(), /^[0-9a-f]+$/);
  assert.deepEqual(await ray.get(a), { x: 1 });
  assert.deepEqual(await ray.get([a, b]), [{ x: 1 }, "two"]);
});

test("structured-clone values round-trip through a task", async () => {
  const echo = ray.remote(function echo(v: unknown) {
    return v;
  });
  const value = {
    map: new Map([[1, "a"]]), set: new Set([1n]), date: new Date(0), re: /x/gi, nan: NaN, negZero: -0, undef: undefined,
    bytes: new Uint8Array([1, 2]), err: new RangeError("r"),
  };
  const out = (await ray.get(echo.remote(value))) as typeof value;
  assert.deepEqual(out.map, value.map);
  assert.deepEqual(out.set, value.set);
  assert.equal(out.date.getTime(), 0);
  assert.equal(out.re.flags, "gi");
  assert.ok(Number.isNaN(out.nan));
  assert.ok(Object.is(out.negZero, -0));
  assert.ok("undef" in out);
  assert.deepEqual([...out.bytes], [1, 2]);
  assert.equal(out.err.name, "RangeError");
});

test("a large typed array is read by a task from shared memory, without a copy", async () => {
  const big = ray.put(new Float64Array(1_000_000).fill(1));
  const inspect = ray.remote(function inspect(xs: Float64Array) {
    return [xs.buffer instanceof SharedArrayBuffer, xs.length, xs[999_999]];
  });
  assert.deepEqual(await ray.get(inspect.remote(big)), [true, 1_000_000, 1]);
  const mine = (await ray.get(big)) as Float64Array;
  assert.ok(mine.buffer instanceof SharedArrayBuffer);
});

test("get with timeoutMs gives GetTimeoutError; a list fails as soon as one member fails", async () => {
  const slow = ray.remote(async function slow() {
    await new Promise(() => {});
  });
  const never = slow.remote();
  await assert.rejects(ray.get(never, { timeoutMs: 50 }), ray.GetTimeoutError);
  const fail = ray.remote(function fail() {
    throw new Error("x");
  });
  await assert.rejects(ray.get([never, fail.remote()]), ray.RayTaskError);
  await ray.cancel(never, { force: true });
});

test("wait returns ready refs in input order, counts failures as ready, honours timeouts", async () => {
  const ident = ray.remote(async function ident(x: number, block: boolean) {
    if (block) await new Promise(() => {});
    return x;
  });
  const fail = ray.remote(function fail() {
    throw new Error("x");
  });
  const blocked = ident.remote(1, true);
  const a = ident.remote(2, false);
  const f = fail.remote();
  const [ready, notReady] = await ray.wait([blocked, a, f], { numReturns: 2 });
  assert.deepEqual(ready.map((r) => r.hex()), [a, f].map((r) => r.hex()));
  assert.deepEqual(notReady.map((r) => r.hex()), [blocked.hex()]);
  const [r2, n2] = await ray.wait([blocked], { timeoutMs: 20 });
  assert.equal(r2.length, 0);
  assert.equal(n2.length, 1);
  await assert.rejects(ray.wait([a], { numReturns: 2 }), RangeError);
  await ray.cancel(blocked, { force: true });
});

test("get and wait reject non-refs with a TypeError", async () => {
  await assert.rejects(ray.get(42 as never), /get\(\) argument must be an ObjectRef/);
  await assert.rejects(ray.get([ray.put(1), "x"] as never), /refs\[1\]/);
  await assert.rejects(ray.wait(["x"] as never), TypeError);
});

test("a long loop of puts and gets never fills the store", async () => {
  // 64 MB each through a 256 MB store: only works if dropped objects are freed.
  for (let i = 0; i < 20; i++) {
    const ref = ray.put(new Float64Array(8 * 2 ** 20).fill(i));
    const v = (await ray.get(ref)) as Float64Array;
    assert.equal(v[0], i);
  }
});

test("live objects beyond the store spill to disk; ObjectStoreFullError for an object larger than the store, or when all live ones are being read", async () => {
  const live = Array.from({ length: 6 }, (_, i) => ray.put(new Float64Array(8 * 2 ** 20).fill(i)));
  assert.deepEqual((await ray.get(live[0])).subarray(0, 2), new Float64Array([0, 0]));
  assert.throws(() => ray.put(new Float64Array(40 * 2 ** 20)), ray.ObjectStoreFullError);
  // Views being read pin their objects: with all of the store read, a put has nowhere to go.
  const reading: Float64Array[] = [];
  await assert.rejects(async () => {
    for (let i = 0; i < 6; i++) reading.push(await ray.get(ray.put(new Float64Array(8 * 2 ** 20))));
  }, ray.ObjectStoreFullError);
  assert.ok(reading.length >= 2);
  // Dropped: the next put collects garbage and reuses their memory, in this same job.
  reading.length = 0;
  live.length = 0;
  assert.doesNotThrow(() => ray.put(new Float64Array(8 * 2 ** 20)));
});

test("a large typed array passed by value reaches the task, and its copy is freed with the task", async () => {
  const len = ray.remote(function len(x: Float64Array) {
    return [x.length, x.buffer instanceof SharedArrayBuffer];
  });
  assert.deepEqual(await ray.get(len.remote(new Float64Array(12_800))), [12_800, true]);
  for (let i = 0; i < 10; i++) await ray.get(len.remote(new Float64Array(8 * 2 ** 20)));
});

test("a value holding one large array twice gets one shared view, twice; refs inside stay refs", async () => {
  const big = new Float64Array(2 ** 17).fill(2);
  const inner = ray.put("inner");
  const echo = ray.remote(function echo(v: unknown) {
    return v;
  });
  for (const v of [await ray.get(ray.put({ a: big, b: big, r1: inner, r2: inner })), await ray.get(echo.remote({ a: big, b: [big], r1: inner, r2: [inner] }))]) {
    const o = v as { a: Float64Array; b: Float64Array | Float64Array[]; r1: ray.ObjectRef; r2: ray.ObjectRef | ray.ObjectRef[] };
    assert.ok(o.a.buffer instanceof SharedArrayBuffer);
    assert.equal(Array.isArray(o.b) ? o.b[0] : o.b, o.a);
    assert.equal(o.a[5], 2);
    const r2 = Array.isArray(o.r2) ? o.r2[0] : o.r2;
    assert.ok(o.r1 instanceof ray.ObjectRef && r2 instanceof ray.ObjectRef);
    assert.equal(r2.hex(), o.r1.hex());
    assert.equal(await ray.get(r2), "inner");
  }
});

test("using a ref frees its object at the end of the block, without waiting for a collection", async () => {
  const node = embeddedNode()!;
  await settledStore(0);
  const echo = ray.remote(function echo(v: unknown) {
    return v;
  });
  let during: number;
  {
    using ref = ray.put(new Float64Array(2 ** 20));
    during = node.arena.used();
    assert.ok(during >= 8 * 2 ** 20);
    assert.equal(await ray.get(echo.remote(ref.hex())), ref.hex());
  }
  await Promise.resolve(); // the release travels with this turn's messages
  assert.equal(node.arena.used(), during - 8 * 2 ** 20);

  const gone = ray.put("x");
  gone[Symbol.dispose]();
  gone[Symbol.dispose](); // twice is harmless
  await assert.rejects(ray.get(gone), /get\(\) argument is ObjectRef\([0-9a-f]+\), which was disposed/);
  assert.throws(() => echo.remote(gone), /args\[0\] is ObjectRef\([0-9a-f]+\), which was disposed/);
  assert.throws(() => echo.remote({ inner: [gone] }), /args\[0\]\.inner\[0\] is ObjectRef\([0-9a-f]+\), which was disposed/);
});

test("a large ArrayBuffer lives in the store, bounded by its size, and comes back as an ArrayBuffer of its own", async () => {
  const buf = new ArrayBuffer(4 * 2 ** 20);
  new Uint8Array(buf).fill(7, 0, 16);
  using ref = ray.put({ a: buf, b: buf });
  new Uint8Array(buf)[0] = 9; // put copied it
  const back = (await ray.get(ref)) as { a: ArrayBuffer; b: ArrayBuffer };
  assert.ok(back.a instanceof ArrayBuffer);
  assert.equal(back.a.byteLength, 4 * 2 ** 20);
  assert.equal(back.b, back.a);
  assert.equal(new Uint8Array(back.a)[0], 7);
  new Uint8Array(back.a)[1] = 1; // the reader's own copy
  assert.equal(new Uint8Array(((await ray.get(ref)) as { a: ArrayBuffer }).a)[1], 7);

  const inspect = ray.remote(function inspect(b: ArrayBuffer) {
    return [b instanceof ArrayBuffer, b.byteLength, new Uint8Array(b)[5]];
  });
  assert.deepEqual(await ray.get(inspect.remote(buf)), [true, 4 * 2 ** 20, 7]);

  assert.throws(() => ray.put(new ArrayBuffer(300 * 2 ** 20)), ray.ObjectStoreFullError);

  // A SharedArrayBuffer is the caller's shared memory: passed as it is, not copied.
  const sab = new SharedArrayBuffer(1024);
  const write = ray.remote(function write(s: SharedArrayBuffer) {
    new Int32Array(s)[0] = 42;
  });
  await ray.get(write.remote(sab));
  assert.equal(new Int32Array(sab)[0], 42);
});
