// The all-to-all steps move rows without changing their columns' types: an Int64 column stays
// Int64 (its values beyond 2^53 intact, read as "arrow" batches), Float32 stays Float32, strings,
// booleans, dates, binaries, lists and tensors keep their types, and a column that is all null in
// some blocks (typed Null there) takes the type the other blocks give it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { makeVector, Type, vectorFromArray, Table, type Schema } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

const typeIds = (schema: Schema) => Object.fromEntries(schema.fields.map((f) => [f.name, Type[f.type.typeId]]));

/** Six blocks of rows of every kind of column, with nulls, and ids from 2^60 up (not exact as numbers). */
function blocks(): Table[] {
  const big = 2n ** 60n;
  return Array.from({ length: 6 }, (_, b) => {
    const n = 40;
    const id = BigInt64Array.from({ length: n }, (_, i) => big + BigInt(b * n + i));
    return new Table({
      id: makeVector(id),
      key: makeVector(Int32Array.from({ length: n }, (_, i) => (b * 7 + i * 3) % 11)),
      f32: makeVector(Float32Array.from({ length: n }, (_, i) => i / 4)),
      name: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 0 ? null : `row-${b}-${i}`))),
      flag: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 7 === 0 ? null : i % 2 === 0))),
      bytes: vectorFromArray(Array.from({ length: n }, (_, i) => new Uint8Array([b, i]))),
      list: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 9 === 0 ? null : [i, i + 1]))),
      struct: vectorFromArray(Array.from({ length: n }, (_, i) => ({ a: i, s: `s${b}` }))),
    });
  });
}

/** Each row of an "arrow" table as a string that keeps every value exact (bigints included). */
function rowKeys(table: Table): string[] {
  const out: string[] = [];
  for (let i = 0; i < table.numRows; i++) {
    out.push(JSON.stringify(table.schema.fields.map((f) => {
      const v = table.getChild(f.name)!.get(i);
      return v === null ? null : typeof v === "bigint" ? `${v}n` : ArrayBuffer.isView(v) ? [...(v as Uint8Array)] : typeof v === "object" && "toJSON" in v ? JSON.stringify(v) : typeof v === "object" ? [...(v as Iterable<unknown>)] : v;
    })));
  }
  return out;
}

async function allArrow(ds: data.Dataset): Promise<Table> {
  const tables: Table[] = [];
  for await (const t of ds.iterBatches({ batchSize: null, batchFormat: "arrow" })) tables.push(t);
  return tables.reduce((a, b) => a.concat(b));
}

test("randomShuffle, sort, repartition and mapGroups keep every column's type and every value exactly", async () => {
  const input = blocks();
  const expected = input.flatMap(rowKeys).sort();
  const ds = data.fromArrow(input);
  const before = typeIds(input[0]!.schema);
  for (const [what, out] of [
    ["randomShuffle", ds.randomShuffle({ seed: 5 })],
    ["repartition(shuffle)", ds.repartition(4, { shuffle: true })],
    ["sort", ds.sort("key")],
    ["sort desc on Int64", ds.sort("id", { descending: true })],
  ] as const) {
    const table = await allArrow(out);
    assert.deepEqual(typeIds(table.schema), before, what);
    assert.deepEqual(rowKeys(table).sort(), expected, what);
  }
  const sorted = await allArrow(ds.sort("id", { descending: true }));
  const ids = sorted.getChild("id")!.toArray() as BigInt64Array;
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1]! > ids[i]!, `ids descending at ${i}`);
  // mapGroups: each group whole, with its types.
  const seen: string[] = [];
  const grouped = await ds.groupby("key").mapGroups((t: Table) => new Table({ idType: makeVector(new Int32Array(t.numRows).fill(t.schema.fields[0]!.type.typeId)) }), { batchFormat: "arrow" }).takeAll();
  for (const row of grouped) seen.push(String(row.idType));
  assert.equal(seen.length, 6 * 40);
  assert.ok(seen.every((t) => t === String(Type.Int)), "every group's id column is Int64 in mapGroups");
});

test("a column all null in some blocks takes the other blocks' type through a shuffle and a sort", async () => {
  const items = [
    ...Array.from({ length: 30 }, (_, i) => ({ i, note: null as string | null })),
    ...Array.from({ length: 30 }, (_, i) => ({ i: 30 + i, note: `n${i}` })),
  ];
  const ds = data.fromItems(items, { overrideNumBlocks: 4 });
  for (const out of [ds.randomShuffle({ seed: 1 }), ds.sort("i"), ds.repartition(3)]) {
    const rows = await out.takeAll();
    assert.deepEqual(rows.slice().sort((a, b) => a.i - b.i), items);
    assert.equal(Type[(await out.schema()).fields.find((f) => f.name === "note")!.type.typeId], "Utf8");
  }
});

test("a tensor column keeps its shape and element type through a shuffle", async () => {
  const ds = data.fromNumpy({ data: Float32Array.from({ length: 60 }, (_, i) => i), shape: [20, 3] });
  const rows = await ds.randomShuffle({ seed: 2 }).takeAll();
  assert.equal(rows.length, 20);
  for (const row of rows) {
    const t = row.data as data.Tensor;
    assert.ok(t.data instanceof Float32Array);
    assert.deepEqual(t.shape, [3]);
    assert.equal(Number(t.data[1]), Number(t.data[0]) + 1);
    assert.equal(Number(t.data[0]) % 3, 0);
  }
  const firsts = rows.map((r) => Number((r.data as data.Tensor).data[0])).sort((a, b) => a - b);
  assert.deepEqual(firsts, Array.from({ length: 20 }, (_, i) => i * 3));
});

test("slices of tables (offsets into their buffers) shuffle and sort right: nulls, booleans, strings, Int64, tensors", async () => {
  const whole = blocks()[2]!;
  const parts = [whole.slice(3, 17), whole.slice(17, 33)];
  const expected = parts.flatMap(rowKeys).sort();
  for (const out of [data.fromArrow(parts).randomShuffle({ seed: 9 }), data.fromArrow(parts).sort("key"), data.fromArrow(parts).repartition(3, { shuffle: true })]) {
    assert.deepEqual(rowKeys(await allArrow(out)).sort(), expected);
  }
  const tensors = data.fromNumpy({ data: Float64Array.from({ length: 40 }, (_, i) => i), shape: [20, 2] });
  const sliced = (await tensors.materialize()).limit(13);
  const rows = await sliced.randomShuffle({ seed: 4 }).takeAll();
  assert.deepEqual(rows.map((r) => Array.from((r.data as data.Tensor).data)).sort((a, b) => a[0]! - b[0]!),
    Array.from({ length: 13 }, (_, i) => [2 * i, 2 * i + 1]));
});
