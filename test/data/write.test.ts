import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import * as data from "tsray/data";
import { clusterAndFolder } from "../helpers/data-tests.js";

const tmp = clusterAndFolder("tsray-data-write-");

test("writeCsv writes a file per block that readCsv reads back; quoting and nulls as CSV has them", async () => {
  const out = tmp.path("csv");
  const rows = [{ n: 1, s: "plain", b: true }, { n: 2.5, s: 'with, comma and "quotes"', b: false }, { n: 3, s: null, b: null }];
  const result = await data.fromItems(rows, { overrideNumBlocks: 2 }).writeCsv(out);
  assert.equal(result.numRows, 3);
  assert.equal(result.paths.length, 2);
  assert.deepEqual(readdirSync(out).sort(), result.paths.map((p) => basename(p)).sort(), "no temporary file left");
  for (const p of result.paths) assert.match(basename(p), /^[0-9a-f]+_\d+\.csv$/);
  assert.equal(readFileSync(result.paths[0]!, "utf8"), "n,s,b\n1,plain,true\n");
  const back = await data.readCsv(out).takeAll();
  assert.deepEqual(back.sort((a, b) => (a.n as number) - (b.n as number)), [
    { n: 1, s: "plain", b: true }, { n: 2.5, s: 'with, comma and "quotes"', b: false }, { n: 3, s: "", b: null },
  ]);
});

test("writeJson writes JSON Lines that readJson reads back; the write fuses with the maps before it", async () => {
  const out = tmp.path("json");
  const ds = data.range(10, { overrideNumBlocks: 3 }).map((r) => ({ id: r.id, sq: r.id * r.id, tags: [r.id, r.id + 1] }));
  const result = await ds.writeJson(out);
  assert.equal(result.numRows, 10);
  assert.equal(result.paths.length, 3);
  assert.ok(result.paths.every((p) => p.endsWith(".jsonl")));
  const back = (await data.readJson(out).takeAll()).sort((a, b) => (a.id as number) - (b.id as number));
  assert.deepEqual(back, Array.from({ length: 10 }, (_, i) => ({ id: i, sq: i * i, tags: [i, i + 1] })));
});

test("write modes: append adds files, overwrite replaces them, error refuses, ignore does nothing", async () => {
  const out = tmp.path("modes");
  mkdirSync(out);
  writeFileSync(join(out, "old.csv"), "v\n0\n");
  const ds = data.fromItems([{ v: 1 }], { overrideNumBlocks: 1 });
  await ds.writeCsv(out);
  assert.equal(readdirSync(out).length, 2);
  await assert.rejects(ds.writeCsv(out, { mode: "error" }), /already holds files/);
  assert.deepEqual(await ds.writeCsv(out, { mode: "ignore" }), { numRows: 0, paths: [] });
  await ds.writeCsv(out, { mode: "overwrite" });
  assert.equal(readdirSync(out).length, 1);
  assert.deepEqual(await data.readCsv(out).takeAll(), [{ v: 1 }]);
  await assert.rejects(ds.writeCsv(out, { maxRowsPerFile: 0 }), RangeError);
  await assert.rejects(ds.writeCsv(out, { mode: "bogus" as never }), TypeError);
});

test("a CSV without a header, with another delimiter; an empty dataset writes no file", async () => {
  const out = tmp.path("tsv");
  const { paths } = await data.fromItems([{ a: 1, b: "x" }], { overrideNumBlocks: 1 }).writeCsv(out, { delimiter: "\t", header: false });
  assert.equal(readFileSync(paths[0]!, "utf8"), "1\tx\n");
  assert.deepEqual(await data.range(5).filter(() => false).writeJson(tmp.path("empty")), { numRows: 0, paths: [] });
});

test("maxRowsPerFile splits a big block into files of at most that many rows, named <id>_<block>_<part>", async () => {
  const out = tmp.path("max-rows");
  const result = await data.range(10, { overrideNumBlocks: 1 }).writeCsv(out, { maxRowsPerFile: 4 });
  assert.equal(result.numRows, 10);
  assert.equal(result.paths.length, 3);
  const counts = result.paths.map((p) => readFileSync(p, "utf8").trim().split("\n").length - 1);
  assert.ok(counts.every((n) => n <= 4), `rows per file: ${counts.join(", ")}`);
  assert.equal(counts.reduce((a, b) => a + b, 0), 10);
  for (const p of result.paths) assert.match(basename(p), /^[0-9a-f]+_000000_\d{6}\.csv$/);
  const back = (await data.readCsv(out).takeAll()).map((r) => r.id).sort((a, b) => (a as number) - (b as number));
  assert.deepEqual(back, Array.from({ length: 10 }, (_, i) => i));
});

test("minRowsPerFile coalesces small blocks: every file but the last holds at least that many rows, in order", async () => {
  const out = tmp.path("min-rows");
  const result = await data.range(20, { overrideNumBlocks: 10 }).writeJson(out, { minRowsPerFile: 5 });
  assert.equal(result.numRows, 20);
  const files = result.paths.map((p) => readFileSync(p, "utf8").trim().split("\n").map((l) => JSON.parse(l).id as number));
  assert.ok(files.length < 10, `${files.length} files from 10 blocks`);
  assert.ok(files.slice(0, -1).every((ids) => ids.length >= 5), `rows per file: ${files.map((f) => f.length).join(", ")}`);
  assert.deepEqual(files.flat(), Array.from({ length: 20 }, (_, i) => i));
  // Both: coalesced up to the minimum, then no file above the maximum.
  const both = await data.range(30, { overrideNumBlocks: 15 }).writeParquet(tmp.path("min-max-rows"), { minRowsPerFile: 4, maxRowsPerFile: 6 });
  const counts = await Promise.all(both.paths.map((p) => data.readParquet(p).count()));
  assert.equal(counts.reduce((a, b) => a + b, 0), 30);
  assert.ok(counts.every((n) => n <= 6) && counts.slice(0, -1).every((n) => n >= 4), `rows per file: ${counts.join(", ")}`);
  await assert.rejects(data.range(3).writeCsv(tmp.path("min-above-max"), { minRowsPerFile: 5, maxRowsPerFile: 2 }), /minRowsPerFile \(5\) is more than maxRowsPerFile \(2\)/);
});
