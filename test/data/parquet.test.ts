import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative } from "node:path";
import { execFileSync } from "node:child_process";
import { Binary, Bool, Float32, Int32, Int8, makeVector, Table, TimestampMillisecond, Uint16, Uint32, Uint64, Utf8, vectorFromArray } from "apache-arrow";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { parquetWriteBuffer } from "hyparquet-writer";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

const tmp = clusterAndFolder("tsray-data-parquet-");

/** Rows of a test file: every type the reader maps, nulls in each nullable column. */
const ROWS = Array.from({ length: 25 }, (_, i) => ({
  i: BigInt(i * 1000),
  f: i % 5 === 0 ? null : i / 4,
  s: i % 7 === 3 ? null : `row ${i}`,
  b: i % 6 === 0 ? null : i % 2 === 0,
  t: i % 8 === 1 ? null : new Date(Date.UTC(2024, 0, 1 + i)),
}));
const EXPECTED = ROWS.map((r) => ({ ...r, i: Number(r.i) }));

/** A Parquet file of ROWS written by hyparquet-writer, in row groups of 10 rows. */
function writeTestFile(path: string): Uint8Array {
  mkdirSync(dirname(path), { recursive: true });
  const bytes = new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: "i", data: new BigInt64Array(ROWS.map((r) => r.i)), type: "INT64", nullable: false },
      { name: "f", data: ROWS.map((r) => r.f), type: "DOUBLE" },
      { name: "s", data: ROWS.map((r) => r.s), type: "STRING" },
      { name: "b", data: ROWS.map((r) => r.b), type: "BOOLEAN" },
      { name: "t", data: ROWS.map((r) => r.t), type: "TIMESTAMP" },
    ],
    rowGroupSize: 10,
  }));
  writeFileSync(path, bytes);
  return bytes;
}

/** A copy of the file with the bytes of these columns' chunks (every row group) overwritten; the footer is left intact. */
function corruptColumns(bytes: Uint8Array, columns: string[], path: string): void {
  const copy = bytes.slice();
  for (const group of parquetMetadata(copy.buffer).row_groups) {
    for (const chunk of group.columns) {
      const meta = chunk.meta_data!;
      if (!columns.includes(meta.path_in_schema[0]!)) continue;
      const start = Number(meta.dictionary_page_offset ?? meta.data_page_offset);
      copy.fill(0xff, start, start + Number(meta.total_compressed_size));
    }
  }
  writeFileSync(path, copy);
}

test("readParquet maps INT64, DOUBLE, strings, booleans and timestamps to Arrow types and keeps nulls; schema and count from the footer", async () => {
  const path = tmp.path("types", "a.parquet");
  writeTestFile(path);
  const ds = data.readParquet(path);
  const types = Object.fromEntries((await ds.schema()).fields.map((f) => [f.name, String(f.type)]));
  assert.deepEqual(types, { i: "Int64", f: "Float64", s: "Utf8", b: "Bool", t: "Timestamp<MILLISECOND>" });
  assert.equal(await ds.count(), 25);
  assert.deepEqual(await ds.takeAll(), EXPECTED);
  const table = await ds.toArrow();
  assert.deepEqual(table.schema.fields.map((f) => String(f.type)), ["Int64", "Float64", "Utf8", "Bool", "Timestamp<MILLISECOND>"]);
  assert.equal(await ds.limit(7).count(), 7);
});

test("columns projects: only those columns are decoded; count() reads footers alone", async () => {
  const good = tmp.path("projection", "good.parquet");
  const bytes = writeTestFile(good);
  // The chunks of f, b and t are garbage in this file: a read of the others never touches them.
  const bad = tmp.path("projection-bad", "bad.parquet");
  mkdirSync(dirname(bad), { recursive: true });
  corruptColumns(bytes, ["f", "b", "t"], bad);
  const projected = data.readParquet(bad, { columns: ["s", "i"] });
  assert.deepEqual(await projected.columns(), ["s", "i"]);
  assert.deepEqual(await projected.takeAll(), EXPECTED.map((r) => ({ s: r.s, i: r.i })));
  await assert.rejects(data.readParquet(bad).takeAll(), (err: Error) => {
    assert.match(err.message, /bad\.parquet, row group 0: malformed Parquet data/);
    return true;
  });
  // Every column chunk garbage: the count comes from the footer without reading any.
  const none = tmp.path("projection-none", "none.parquet");
  mkdirSync(dirname(none), { recursive: true });
  corruptColumns(bytes, ["i", "f", "s", "b", "t"], none);
  assert.equal(await data.readParquet(none).count(), 25);
  assert.equal(await data.readParquet([none, good]).count(), 50);
  assert.deepEqual((await data.readParquet(none, { columns: ["b"] }).schema()).fields.map((f) => f.name), ["b"]);
});

test("row groups: a file of several reads whole, in order; overrideNumBlocks above the files splits them by row group", async () => {
  const path = tmp.path("groups", "g.parquet");
  writeTestFile(path);
  const ds = data.readParquet(path, { overrideNumBlocks: 3 });
  const blocks = await ds.materialize();
  assert.equal(blocks.numBlocks(), 3);
  assert.deepEqual(await blocks.takeAll(), EXPECTED);
  assert.equal((await data.readParquet(path).materialize()).numBlocks(), 1);
});

test("hive folders become string columns, includePaths adds the path; only .parquet files by default", async () => {
  const root = tmp.path("hive");
  writeTestFile(join(root, "year=2024", "a.parquet"));
  writeTestFile(join(root, "year=2025", "b.parquet"));
  writeFileSync(join(root, "year=2025", "notes.txt"), "not parquet");
  const ds = data.readParquet(root, { columns: ["i", "year"], includePaths: true });
  const rows = await ds.takeAll();
  assert.equal(rows.length, 50);
  assert.deepEqual(rows[0], { i: 0, year: "2024", path: join(root, "year=2024", "a.parquet") });
  assert.deepEqual(rows[30], { i: 5000, year: "2025", path: join(root, "year=2025", "b.parquet") });
  assert.deepEqual(await ds.columns(), ["i", "year", "path"]);
  assert.deepEqual(await data.readParquet(root).columns(), ["i", "f", "s", "b", "t", "year"]);
  assert.equal(await data.readParquet(root).count(), 50);
  // Projecting partition columns alone decodes no column of the files, but keeps their rows.
  const years = await data.readParquet(root, { columns: ["year"] }).takeAll();
  assert.deepEqual(years, [...new Array(25).fill({ year: "2024" }), ...new Array(25).fill({ year: "2025" })]);
});

test("bad input: a missing path, a file that is not Parquet and an unknown column are named", async () => {
  await assert.rejects(data.readParquet(tmp.path("nowhere.parquet")).takeAll(), /no such file or folder: .*nowhere\.parquet/);
  const junk = tmp.path("junk", "junk.parquet");
  mkdirSync(dirname(junk), { recursive: true });
  writeFileSync(junk, "this is not a parquet file at all");
  await assert.rejects(data.readParquet(junk).takeAll(), /junk\.parquet: not a readable Parquet file/);
  await assert.rejects(data.readParquet(junk).count(), /junk\.parquet: not a readable Parquet file/);
  const good = tmp.path("unknown", "u.parquet");
  writeTestFile(good);
  await assert.rejects(data.readParquet(good, { columns: ["i", "nope"] }).takeAll(), /u\.parquet has no column 'nope'; its columns are i, f, s, b, t/);
  await assert.rejects(data.readParquet(good, { columns: ["nope"] }).schema(), /no column 'nope'/);
  assert.throws(() => data.readParquet(good, { columns: [] }), TypeError);
});

test("writeParquet: a file per block that readParquet reads back exactly, and hyparquet's own reader too", async () => {
  const out = tmp.path("written");
  const n = 12;
  const source = new Table({
    id: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i) * 10_000_000_000n)),
    x: makeVector(Float64Array.from({ length: n }, (_, i) => i / 3)),
    small: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 4 === 0 ? null : i - 6)), new Int8()),
    u16: vectorFromArray(Array.from({ length: n }, (_, i) => 65_000 + i), new Uint16()),
    i32: vectorFromArray(Array.from({ length: n }, (_, i) => -i * 100_000), new Int32()),
    f32: vectorFromArray(Array.from({ length: n }, (_, i) => i + 0.5), new Float32()),
    u32: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 3 === 1 ? null : 4_294_967_295 - i)), new Uint32()),
    u64: vectorFromArray(Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n), new Uint64()),
    name: vectorFromArray(Array.from({ length: n }, (_, i) => (i % 5 === 2 ? null : `n${i}`)), new Utf8()),
    flag: vectorFromArray(Array.from({ length: n }, (_, i) => i % 3 === 0), new Bool()),
    when: vectorFromArray(Array.from({ length: n }, (_, i) => new Date(Date.UTC(2020, 1, i + 1, 12, 30))), new TimestampMillisecond()),
    blob: vectorFromArray(Array.from({ length: n }, (_, i) => new Uint8Array([i, 255 - i])), new Binary()),
  });
  const ds = data.fromArrow(source).repartition(3);
  const expected = await ds.takeAll();
  const result = await ds.writeParquet(out);
  assert.equal(result.numRows, 12);
  assert.equal(result.paths.length, 3);
  assert.deepEqual(readdirSync(out).sort(), result.paths.map((p) => basename(p)).sort(), "no temporary file left");
  for (const p of result.paths) assert.match(basename(p), /^[0-9a-f]+_\d{6}\.parquet$/);
  const back = data.readParquet(out);
  const sorted = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => (a.x as number) - (b.x as number));
  assert.deepEqual(sorted(await back.takeAll()), expected);
  const types = (await back.toArrow()).schema.fields.map((f) => `${f.name}:${String(f.type)}`);
  assert.deepEqual(types, ["id:Int64", "x:Float64", "small:Int8", "u16:Uint16", "i32:Int32", "f32:Float32", "u32:Uint32", "u64:Uint64", "name:Utf8", "flag:Bool",
    "when:Timestamp<MILLISECOND>", "blob:Binary"]);
  assert.equal(await back.count(), 12);
  // hyparquet reads each file by itself.
  const viaHyparquet: Record<string, unknown>[] = [];
  for (const p of result.paths) {
    const bytes = readFileSync(p);
    const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    viaHyparquet.push(...await parquetReadObjects({ file, columns: ["id", "x", "small", "name", "flag", "when"] }));
  }
  viaHyparquet.sort((a, b) => (a.x as number) - (b.x as number));
  assert.deepEqual(viaHyparquet, expected.map((r) => ({
    id: BigInt(r.id as number), x: r.x, small: r.small, name: r.name, flag: r.flag, when: r.when,
  })));
  await assert.rejects(data.fromItems([{ t: { a: 1 } }]).writeParquet(tmp.path("nested")), /column 't' is of type Struct/);
});

test("writeParquet: tensor columns come back as Tensors and list columns as lists; hyparquet reads both as lists", async () => {
  const out = tmp.path("tensors");
  const ds = data.rangeTensor(5, { shape: [2, 3], overrideNumBlocks: 1 }).map((r) => ({ ...r, tags: [r.data.data[0]!, -1] }));
  const { paths } = await ds.writeParquet(out);
  const back = data.readParquet(out);
  const schema = await back.schema();
  assert.deepEqual(schema.fields.map((f) => [f.name, String(f.type)]), [["data", "FixedSizeList[6]<Float64>"], ["tags", "List<Float64>"]]);
  const rows = await back.takeAll();
  assert.deepEqual(rows.map((r) => [(r.data as data.Tensor).shape, [...(r.data as data.Tensor).data as Float64Array], r.tags]),
    Array.from({ length: 5 }, (_, i) => [[2, 3], new Array(6).fill(i), [i, -1]]));
  const bytes = readFileSync(paths[0]!);
  const viaHyparquet = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) });
  assert.deepEqual(viaHyparquet[2], { data: new Array(6).fill(2), tags: [2, -1] });
});

test("writeParquet partitionCols: hive folders col=value/, the columns left out of the files; readParquet gives them back", async () => {
  const out = tmp.path("partitioned");
  const rows = Array.from({ length: 20 }, (_, i) => ({ v: i, country: i % 3 === 0 ? "fr" : "de", kind: i % 2 === 0 ? "a b" : "c" }));
  const result = await data.fromItems(rows, { overrideNumBlocks: 2 }).writeParquet(out, { partitionCols: ["country", "kind"] });
  assert.equal(result.numRows, 20);
  const folders = [...new Set(result.paths.map((p) => dirname(relative(out, p))))].sort();
  assert.deepEqual(folders, ["country=de/kind=a%20b", "country=de/kind=c", "country=fr/kind=a%20b", "country=fr/kind=c"]);
  for (const p of result.paths) {
    const bytes = readFileSync(p);
    const columns = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).schema.slice(1).map((e) => e.name);
    assert.deepEqual(columns, ["v"]);
  }
  const back = (await data.readParquet(out).takeAll()).sort((a, b) => (a.v as number) - (b.v as number));
  assert.deepEqual(back, rows);
  await assert.rejects(data.fromItems(rows).writeParquet(tmp.path("bad-partition"), { partitionCols: ["nope" as never] }), /no partition column 'nope'/);
});

test("a Parquet file tsray writes is read by pyarrow, when python3 has it (skipped otherwise)", async (t) => {
  try {
    execFileSync("python3", ["-c", "import pyarrow"], { stdio: "ignore" });
  } catch {
    t.skip("python3 with pyarrow is not installed");
    return;
  }
  const out = tmp.path("for-pyarrow");
  const { paths } = await data.fromItems([{ a: 1.5, s: "x", n: null }, { a: 2, s: null, n: null }], { overrideNumBlocks: 1 }).writeParquet(out);
  const printed = execFileSync("python3", ["-c", "import pyarrow.parquet as pq, sys; print(pq.read_table(sys.argv[1]).to_pylist())", paths[0]!], { encoding: "utf8" });
  assert.equal(printed.trim(), "[{'a': 1.5, 's': 'x', 'n': None}, {'a': 2.0, 's': None, 'n': None}]");
});
