import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { tableFromArrays, type Schema, type Table } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

const typeOf = async (ds: { schema(): Promise<Schema> }) =>
  Object.fromEntries((await ds.schema()).fields.map((f) => [f.name, String(f.type)]));

test("JS → Arrow: number Float64, bigint Int64, boolean Bool, string Utf8, Uint8Array Binary, Date Timestamp, all-null Null", async () => {
  const items = [
    { n: 1.5, big: 7n, ok: true, s: "a", bytes: new Uint8Array([1, 2]), at: new Date(1000), none: null },
    { n: -2, big: -(2n ** 40n), ok: false, s: "b", bytes: new Uint8Array([]), at: new Date(0), none: null },
  ];
  const ds = data.fromItems(items, { overrideNumBlocks: 1 });
  assert.deepEqual(await typeOf(ds), {
    n: "Float64", big: "Int64", ok: "Bool", s: "Utf8", bytes: "Binary", at: "Timestamp<MILLISECOND>", none: "Null",
  });
  // Arrow → JS: Int64 back as numbers, Timestamp as Date, Binary as Uint8Array.
  const rows = await ds.takeAll();
  assert.deepEqual(rows.map((r) => ({ ...r, bytes: [...r.bytes] })), [
    { n: 1.5, big: 7, ok: true, s: "a", bytes: [1, 2], at: new Date(1000), none: null },
    { n: -2, big: -(2 ** 40), ok: false, s: "b", bytes: [], at: new Date(0), none: null },
  ]);
});

test("nulls and missing values: null in rows; a numpy column with nulls is a plain array", async () => {
  const ds = data.fromItems([{ x: 1, s: "a" }, { x: null }, { s: "c", x: 3 }], { overrideNumBlocks: 1 });
  assert.deepEqual(await ds.takeAll(), [{ x: 1, s: "a" }, { x: null, s: null }, { x: 3, s: "c" }]);
  const [batch] = await collect(ds.iterBatches({ batchSize: null }));
  assert.deepEqual(batch, { x: [1, null, 3], s: ["a", null, "c"] });
});

test("nested values: arrays become lists, objects structs, and come back as arrays and objects", async () => {
  const rows = await data.fromItems([{ v: [1, 2], p: { a: 1, b: "x" } }, { v: [3], p: { a: 2, b: "y" } }], { overrideNumBlocks: 1 }).takeAll();
  assert.deepEqual(rows, [{ v: [1, 2], p: { a: 1, b: "x" } }, { v: [3], p: { a: 2, b: "y" } }]);
});

test("an item that is not a plain object becomes { item }", async () => {
  assert.deepEqual(await data.fromItems([1, 2]).takeAll(), [{ item: 1 }, { item: 2 }]);
  assert.deepEqual(await data.fromItems(["a"]).takeAll(), [{ item: "a" }]);
  assert.deepEqual(await data.fromItems([[1, 2]]).takeAll(), [{ item: [1, 2] }]);
});

test("Int64 beyond ±(2^53−1) is a RangeError naming the column, and passes through arrow batches intact", async () => {
  const big = 2n ** 60n;
  const ds = data.fromItems([{ id: 1n, huge: big }]);
  await assert.rejects(ds.takeAll(), (err: unknown) => err instanceof RangeError && /column 'huge'/.test(err.message));
  const [table] = await collect(ds.iterBatches({ batchFormat: "arrow" }));
  assert.equal((table as Table).getChild("huge")!.get(0), big);
  const asNumpy = ds.mapBatches((b: data.ColumnBatch) => b);
  await assert.rejects(asNumpy.count(), (err: unknown) => err instanceof ray.RayTaskError && /column 'huge'/.test(String(err.message)));
});

test("typed array columns keep their element type through blocks and numpy batches", async () => {
  const ds = data.range(4, { overrideNumBlocks: 1 }).mapBatches((b: { id: Float64Array }) => ({
    f32: Float32Array.from(b.id), i8: Int8Array.from(b.id), u16: Uint16Array.from(b.id), i64: BigInt64Array.from(b.id, (v) => BigInt(v)),
  }));
  assert.deepEqual(await typeOf(ds), { f32: "Float32", i8: "Int8", u16: "Uint16", i64: "Int64" });
  const [batch] = (await collect(ds.iterBatches({ batchSize: null }))) as data.ColumnBatch[];
  assert.ok(batch!.f32 instanceof Float32Array && batch!.i8 instanceof Int8Array && batch!.u16 instanceof Uint16Array);
  assert.ok(batch!.i64 instanceof Float64Array, "Int64 comes as a Float64Array copy");
  assert.deepEqual([...(batch!.i64 as Float64Array)], [0, 1, 2, 3]);
});

test("a batch UDF's wrong output is a clear error", async () => {
  await assert.rejects(data.range(3).mapBatches(() => 5 as never).count(), /returned a number .* a batch UDF returns/);
  await assert.rejects(data.range(3, { overrideNumBlocks: 1 }).mapBatches(() => ({ a: [1, 2], b: [1] })).count(), /column 'b' of a batch has 1 values/);
  await assert.rejects(data.fromItems([{ a: 1 }, { a: "x" }], { overrideNumBlocks: 1 }).map((r) => r).count(), /column 'a' mixes number and string/);
});

test("an Arrow table's schema and values survive the trip through the object store", async () => {
  const table = tableFromArrays({ f: new Float32Array([1, 2, 3]), s: ["x", "y", "z"] });
  const ds = data.fromArrow(table).mapBatches((t: Table) => t, { batchFormat: "arrow" });
  assert.deepEqual(await typeOf(ds), { f: "Float32", s: "Dictionary<Int32, Utf8>" });
  assert.deepEqual(await ds.takeAll(), [{ f: 1, s: "x" }, { f: 2, s: "y" }, { f: 3, s: "z" }]);
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}
