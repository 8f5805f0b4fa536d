import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ray from "tsray";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

const tmp = clusterAndFolder("tsray-data-read-");

/** Writes files under a fresh folder of the test's; returns its path. */
function folder(name: string, files: Record<string, string | Uint8Array>): string {
  const root = tmp.path(name);
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(join(root, rel, ".."), { recursive: true });
    writeFileSync(join(root, rel), content);
  }
  return root;
}

test("readCsv infers Int64, Float64, Bool and Utf8 columns; empty fields are null but \"\" in Utf8", async () => {
  const root = folder("csv-types", { "a.csv": 'i,f,b,s\n1,1.5,true,x\n-2,,FALSE,"y, ""quoted"""\n3,2e3,,\n' });
  const ds = data.readCsv(root);
  const types = Object.fromEntries((await ds.schema()).fields.map((f) => [f.name, String(f.type)]));
  assert.deepEqual(types, { i: "Int64", f: "Float64", b: "Bool", s: "Utf8" });
  assert.deepEqual(await ds.takeAll(), [
    { i: 1, f: 1.5, b: true, s: "x" },
    { i: -2, f: null, b: false, s: 'y, "quoted"' },
    { i: 3, f: 2000, b: null, s: "" },
  ]);
});

test("a folder is read recursively, a block per file, hidden files skipped, hive folders become columns, includePaths", async () => {
  const root = folder("csv-folder", {
    "year=2024/a.csv": "v\n1\n2\n",
    "year=2025/b.csv": "v\n3\n",
    ".hidden.csv": "v\n100\n",
    "_SUCCESS": "",
  });
  const rows = await data.readCsv(root, { includePaths: true }).takeAll();
  assert.deepEqual(rows, [
    { v: 1, year: "2024", path: join(root, "year=2024/a.csv") },
    { v: 2, year: "2024", path: join(root, "year=2024/a.csv") },
    { v: 3, year: "2025", path: join(root, "year=2025/b.csv") },
  ]);
  assert.equal((await data.readCsv(root).materialize()).numBlocks(), 2);
  assert.equal((await data.readCsv(root, { overrideNumBlocks: 1 }).materialize()).numBlocks(), 1);
  assert.deepEqual(await data.readCsv(root, { partitioning: null }).columns(), ["v"]);
});

test("readCsv fields: quotes around delimiters and newlines, \r and \r\n line ends, non-ASCII text, Int64 beyond 2^53, a trailing delimiter", async () => {
  const root = folder("csv-fields", {
    "a.csv": 'n,s,big\r\n1,"a,b\nc",9007199254740993\r-42,"é ""ü"" 日本",-9223372036854775808\r\n7,plain,0\n',
    "b.csv": "x,y\n1,\n",
  });
  const table = await data.readCsv(join(root, "a.csv")).toArrow();
  assert.deepEqual(table.schema.fields.map((f) => String(f.type)), ["Int64", "Utf8", "Int64"]);
  assert.deepEqual([...table.getChild("n")!.toArray()], [1n, -42n, 7n]);
  assert.deepEqual(table.getChild("s")!.toArray(), ["a,b\nc", 'é "ü" 日本', "plain"]);
  assert.deepEqual([...table.getChild("big")!.toArray()], [9007199254740993n, -9223372036854775808n, 0n]);
  // A column of empty fields alone is Utf8 ("else Utf8"), its fields "".
  assert.deepEqual(await data.readCsv(join(root, "b.csv")).takeAll(), [{ x: 1, y: "" }]);
});

test("readCsv options: delimiter, no header with columnNames, nullValues", async () => {
  const root = folder("csv-options", { "t.tsv": "1\tNA\n2\tb\n" });
  const rows = await data.readCsv(join(root, "t.tsv"), { delimiter: "\t", header: false, columnNames: ["n", "s"], nullValues: ["NA"] }).takeAll();
  assert.deepEqual(rows, [{ n: 1, s: null }, { n: 2, s: "b" }]);
});

test("readJson reads JSON Lines, arrays of objects and single objects; only .json and .jsonl by default", async () => {
  const root = folder("json", {
    "a.jsonl": '{"x": 1, "s": "a"}\n\n{"x": 2, "s": "b"}\n',
    "b.json": '[{"x": 3, "s": "c"}, {"x": 4, "s": "d"}]',
    "c.json": '{"x": 5, "s": "e"}',
    "notes.txt": "not json",
  });
  const rows = await data.readJson(root).takeAll();
  assert.deepEqual(rows, [1, 2, 3, 4, 5].map((x) => ({ x, s: "abcde"[x - 1] })));
  const lines = folder("json-lines", { "data.txt": '{"x": 1}\n{"x": 2}\n' });
  assert.deepEqual(await data.readJson(join(lines, "data.txt"), { lines: true, fileExtensions: ["txt"] }).takeAll(), [{ x: 1 }, { x: 2 }]);
});

test("readJson types columns of integers Int64 and of other numbers Float64; files of differing types in one block unify", async () => {
  const root = folder("json-types", {
    "a.jsonl": '{"n": 1, "f": 1.5, "m": 1, "big": 9007199254740991}\n{"n": 2, "f": 2, "m": null, "big": 1}\n',
    "b.jsonl": '{"n": 3, "f": 3.25, "m": 2.5, "big": 2}\n',
  });
  const types = (schema: { fields: { name: string; type: unknown }[] }) => Object.fromEntries(schema.fields.map((f) => [f.name, String(f.type)]));
  assert.deepEqual(types(await data.readJson(join(root, "a.jsonl")).schema()), { n: "Int64", f: "Float64", m: "Int64", big: "Int64" });
  // Both files in one read task: m is Int64 in one, Float64 in the other, so Float64 in the block.
  const one = data.readJson(root, { overrideNumBlocks: 1 });
  assert.deepEqual(types(await one.schema()), { n: "Int64", f: "Float64", m: "Float64", big: "Int64" });
  assert.deepEqual(await one.takeAll(), [
    { n: 1, f: 1.5, m: 1, big: 9007199254740991 }, { n: 2, f: 2, m: null, big: 1 }, { n: 3, f: 3.25, m: 2.5, big: 2 },
  ]);
  // Two blocks of differing types still sort and sum as numbers.
  assert.deepEqual((await data.readJson(root).sort("m").takeAll()).map((r) => r.m), [1, 2.5, null]);
  assert.equal(await data.readJson(root).sum("m"), 3.5);
  // A column of strings in one file and numbers in another cannot be one column: named.
  const clash = folder("json-clash", { "a.jsonl": '{"v": 1}\n', "b.jsonl": '{"v": "one"}\n' });
  await assert.rejects(data.readJson(clash, { overrideNumBlocks: 1 }).takeAll(), /column 'v' is Int64 in some rows and Utf8 in others/);
});

test("readText gives a row per line; readBinaryFiles a row per file", async () => {
  const root = folder("text", { "a.txt": "first\n\nsecond\r\nthird\n" });
  assert.deepEqual((await data.readText(root).takeAll()).map((r) => r.text), ["first", "second", "third"]);
  assert.deepEqual((await data.readText(root, { dropEmptyLines: false }).takeAll()).map((r) => r.text), ["first", "", "second", "third"]);
  const bin = folder("binary", { "x.bin": new Uint8Array([1, 2, 3]), "y.bin": new Uint8Array([]) });
  const rows = await data.readBinaryFiles(bin, { includePaths: true }).takeAll();
  assert.deepEqual(rows.map((r) => [[...r.bytes], r.path]), [[[1, 2, 3], join(bin, "x.bin")], [[], join(bin, "y.bin")]]);
});

test("reads are lazy and fuse with the maps after them", async () => {
  const root = folder("lazy", { "a.csv": "v\n1\n2\n3\n" });
  const ds = data.readCsv(join(root, "missing-until-consumed.csv")).map((r) => ({ w: (r.v as number) * 10 }));
  writeFileSync(join(root, "missing-until-consumed.csv"), "v\n4\n");
  assert.deepEqual(await ds.takeAll(), [{ w: 40 }]);
  assert.equal(await data.readCsv(root, { shuffle: { type: "files", seed: 7 } }).filter((r) => (r.v as number) > 1).count(), 3); // 2, 3 and 4
});

test("bad input is named: a missing path, a malformed file with its line, unknown options", async () => {
  await assert.rejects(data.readCsv(tmp.path("nope")).count(), /no such file or folder: .*nope/);
  assert.equal(await data.readCsv(tmp.path("nope"), { ignoreMissingPaths: true }).count(), 0);
  const bad = folder("bad", { "ragged.csv": "a,b\n1,2\n3\n", "broken.jsonl": '{"x": 1}\n{"x": \n', "open.csv": 'a\n"never closed\n' });
  await assert.rejects(data.readCsv(join(bad, "ragged.csv")).count(), (err: unknown) =>
    err instanceof ray.RayTaskError && /ragged\.csv:3: 1 fields where the header has 2/.test(err.message));
  await assert.rejects(data.readJson(join(bad, "broken.jsonl")).count(), /broken\.jsonl:2: malformed JSON/);
  await assert.rejects(data.readCsv(join(bad, "open.csv")).count(), /open\.csv:2: a quoted field is not closed/);
  assert.throws(() => data.readCsv(bad, { bogus: true } as never), /readCsv\(\) has no option 'bogus'/);
  assert.throws(() => data.readCsv(bad, { delimiter: ";;" }), TypeError);
});
