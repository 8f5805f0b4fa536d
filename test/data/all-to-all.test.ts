// The all-to-all steps (randomShuffle, repartition, sort, groupby), each checked against a plain
// JavaScript computation on the same seeded random rows, spread over several blocks, with nulls.
import { mulberry32 } from "../../src/data/seeded-shuffle.js";
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { isMainThread } from "node:worker_threads";
import * as ray from "tsray";
import * as data from "tsray/data";
import { agg } from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

interface Item { id: number; g: string | null; k: number; x: number | null }

/** The test's rows are the same every run. */
const generator = mulberry32;

function randomItems(n: number, seed: number): Item[] {
  const random = generator(seed);
  return Array.from({ length: n }, (_, id) => ({
    id,
    g: random() < 0.1 ? null : ["a", "b", "c", "d"][Math.floor(random() * 4)]!,
    k: Math.floor(random() * 7),
    // Large offset, small spread: a naive sum of squares would lose the std.
    x: random() < 0.15 ? null : 1e6 + random() * 10,
  }));
}

const items = randomItems(500, 42);
const ids = (rows: readonly { id: number }[]) => rows.map((r) => r.id);

test("randomShuffle keeps every row once; the same seed gives the same order, another seed another", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 6 });
  const first = await ds.randomShuffle({ seed: 7 }).takeAll();
  const again = await ds.randomShuffle({ seed: 7 }).takeAll();
  const other = await ds.randomShuffle({ seed: 8 }).takeAll();
  assert.deepEqual(ids(first).slice().sort((a, b) => a - b), ids(items));
  assert.deepEqual(first, again);
  assert.notDeepEqual(ids(first), ids(other));
  assert.notDeepEqual(ids(first), ids(items));
  assert.deepEqual(first.find((r) => r.id === 3), items[3]);
  const blocks = await ds.randomShuffle({ seed: 1, numBlocks: 4 }).materialize();
  assert.equal(blocks.numBlocks(), 4);
  assert.equal(await blocks.count(), items.length);
});

test("randomShuffle after a map step, and a map step after it", async () => {
  const rows = await data.range(100, { overrideNumBlocks: 5 }).map((r) => ({ id: r.id * 2 })).randomShuffle({ seed: 3 })
    .map((r) => ({ id: r.id + 1 })).takeAll();
  assert.deepEqual(ids(rows).sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i * 2 + 1));
});

test("repartition gives exactly numBlocks blocks of nearly equal rows, in order unless shuffled", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 3 });
  for (const n of [1, 4, 7, 11]) {
    const parts = await ds.repartition(n).materialize();
    assert.equal(parts.numBlocks(), n);
    assert.deepEqual(await parts.takeAll(), items);
  }
  const shuffled = await ds.repartition(5, { shuffle: true }).materialize();
  assert.equal(shuffled.numBlocks(), 5);
  assert.deepEqual(ids(await shuffled.takeAll()).sort((a, b) => a - b), ids(items));
  assert.throws(() => ds.repartition(0), RangeError);
});

/** The order the contract asks of sort: by each key in turn, nulls last either way. */
function jsSort(rows: readonly Item[], keys: (keyof Item)[], descending: boolean[]): Item[] {
  return rows.slice().sort((a, b) => {
    for (let i = 0; i < keys.length; i++) {
      const x = a[keys[i]!];
      const y = b[keys[i]!];
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return (x < y ? -1 : 1) * (descending[i] ? -1 : 1);
    }
    return 0;
  });
}

test("sort: a total order across blocks by one key or several, ascending or descending, nulls last", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 6 }).randomShuffle({ seed: 11 });
  const shuffledRows = await ds.takeAll();
  const byX = await ds.sort("x").takeAll();
  assert.deepEqual(byX.map((r) => r.x), jsSort(shuffledRows, ["x"], [false]).map((r) => r.x));
  assert.equal(byX.at(-1)!.x, null);
  const byXDown = await ds.sort("x", { descending: true }).takeAll();
  assert.deepEqual(byXDown.map((r) => r.x), jsSort(shuffledRows, ["x"], [true]).map((r) => r.x));
  assert.equal(byXDown.at(-1)!.x, null);
  // Two keys, mixed directions; the sort is stable, so whole rows match a stable JS sort.
  const byGK = await ds.sort(["g", "k"], { descending: [false, true] }).takeAll();
  assert.deepEqual(byGK, jsSort(shuffledRows, ["g", "k"], [false, true]));
  assert.deepEqual(await ds.sort(["g", "k"], { descending: [false, true] }).takeAll(), byGK);
  const blocks = await ds.sort("k").materialize();
  assert.equal(blocks.numBlocks(), 6);
});

test("sort and groupby name an unknown key column; bad arguments throw at once", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 2 });
  await assert.rejects(ds.sort("nope" as "x").takeAll(), /sort\(\): no column 'nope'; the columns are id, g, k, x/);
  await assert.rejects(ds.groupby("nope" as "g").count().takeAll(), /groupby\(\): no column 'nope'/);
  await assert.rejects(ds.groupby("g").sum("nope" as "x").takeAll(), /nope/);
  assert.throws(() => ds.sort([]), TypeError);
  assert.throws(() => ds.sort(["g", "k"], { descending: [true] }), TypeError);
});

/** Rows by group key (JSON of the keys), as plain JavaScript groups them. */
function jsGroups(rows: readonly Item[], keys: (keyof Item)[]): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const row of rows) {
    const key = JSON.stringify(keys.map((k) => row[k]));
    groups.set(key, [...(groups.get(key) ?? []), row]);
  }
  return groups;
}

function close(actual: unknown, expected: number, what: string): void {
  assert.ok(Math.abs((actual as number) - expected) <= 1e-9 * Math.abs(expected), `${what}: ${String(actual)} vs ${expected}`);
}

test("groupby: count, sum, min, max, mean, std per group, keys first and in key order (nulls last)", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 5 });
  const expected = jsGroups(items, ["g"]);
  const counts = await ds.groupby("g").count().takeAll();
  assert.deepEqual(counts.map((r) => r.g), ["a", "b", "c", "d", null]);
  assert.deepEqual(Object.keys(counts[0]!), ["g", "count()"]);
  for (const row of counts) assert.equal(row["count()"], expected.get(JSON.stringify([row.g]))!.length);

  const stats = await ds.groupby("g").aggregate(agg.sum("x"), agg.min("x"), agg.max("x"), agg.mean("x"), agg.std("x"), agg.std("x", { ddof: 0, aliasName: "pstd" })).takeAll();
  for (const row of stats) {
    const xs = expected.get(JSON.stringify([row.g]))!.map((r) => r.x).filter((x): x is number => x !== null);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const squares = xs.reduce((s, v) => s + (v - mean) ** 2, 0);
    close(row["sum(x)"], xs.reduce((a, b) => a + b, 0), "sum");
    assert.equal(row["min(x)"], Math.min(...xs));
    assert.equal(row["max(x)"], Math.max(...xs));
    close(row["mean(x)"], mean, "mean");
    close(row["std(x)"], Math.sqrt(squares / (xs.length - 1)), "std");
    close(row.pstd, Math.sqrt(squares / xs.length), "std ddof 0");
  }
  const shorthand = await ds.groupby("g").mean("x").takeAll();
  assert.deepEqual(shorthand.map((r) => r["mean(x)"]), stats.map((r) => r["mean(x)"]));
  assert.deepEqual((await ds.groupby("g").std("x", { ddof: 0 }).takeAll()).map((r) => r["std(x)"]), stats.map((r) => r.pstd));
  assert.deepEqual((await ds.groupby("g").sum("x").takeAll()).map((r) => r["sum(x)"]), stats.map((r) => r["sum(x)"]));
  assert.deepEqual((await ds.groupby("g").min("x").takeAll()).map((r) => r["min(x)"]), stats.map((r) => r["min(x)"]));
  assert.deepEqual((await ds.groupby("g").max("x").takeAll()).map((r) => r["max(x)"]), stats.map((r) => r["max(x)"]));
});

test("groupby on several keys: one row per distinct key pair, as JavaScript counts them", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 4 });
  const rows = await ds.groupby(["g", "k"], { numPartitions: 3 }).count().takeAll();
  const expected = jsGroups(items, ["g", "k"]);
  assert.equal(rows.length, expected.size);
  for (const row of rows) assert.equal(row["count()"], expected.get(JSON.stringify([row.g, row.k]))!.length);
  assert.deepEqual(rows, jsSort(rows as unknown as Item[], ["g", "k"], [false, false]));
});

test("mapGroups hands each group whole to the UDF, in a task", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 5 });
  const out = await ds.groupby("k").mapGroups((rows: Item[]) => [{ k: rows[0]!.k, n: rows.length, ids: rows.map((r) => r.id).join(",") }],
    { batchFormat: "rows" }).takeAll();
  const expected = jsGroups(items, ["k"]);
  assert.deepEqual(out.map((r) => r.k), [0, 1, 2, 3, 4, 5, 6]);
  for (const row of out) {
    const group = expected.get(JSON.stringify([row.k]))!;
    assert.equal(row.n, group.length);
    assert.equal(row.ids, ids(group).join(","));
  }
});

test("sort range-partitions across many blocks: each output block holds the next range of keys", async () => {
  const ds = data.range(2000, { overrideNumBlocks: 8 }).randomShuffle({ seed: 5 });
  assert.deepEqual(ids(await ds.sort("id").takeAll()), Array.from({ length: 2000 }, (_, i) => i));
  assert.deepEqual(ids(await ds.sort("id", { descending: true }).takeAll()), Array.from({ length: 2000 }, (_, i) => 1999 - i));
  const sorted = await ds.sort("id").materialize();
  assert.equal(sorted.numBlocks(), 8);
  assert.deepEqual(await data.fromItems<{ id: number }>([]).sort("id").takeAll(), []);
});

test("explain shows an all-to-all step and the plan it consumes", () => {
  const ds = data.range(10).map(function double(r) { return { id: r.id * 2 }; }).sort("id").limit(3);
  assert.equal(ds.explain(), [
    "-------- Logical Plan --------",
    "Limit[limit=3]",
    "+- Sort",
    "   +- Map(double)",
    "      +- ReadRange",
    "-------- Physical Plan --------",
    "LimitOperator[limit=3]",
    "+- AllToAllOperator[Sort]",
    "   +- TaskPoolMapOperator[ReadRange->Map(double)]",
  ].join("\n"));
});

/** A custom aggregation's finalize, which says where it ran. */
function withThread(acc: { key: unknown; ids: number[] }) {
  return { key: JSON.stringify(acc.key), maxId: Math.max(...acc.ids), inMainThread: isMainThread };
}

test("groupby with a custom aggregation of shippable functions aggregates in tasks; init gets the group's key", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 4 });
  const spread = agg.custom({
    name: "spread",
    init: (key: unknown) => ({ key, ids: [] as number[] }),
    accumulateRow: (acc, row) => ({ key: acc.key, ids: [...acc.ids, row.id as number] }),
    merge: (a, b) => ({ key: a.key, ids: [...a.ids, ...b.ids] }),
    finalize: withThread,
  });
  const rows = await ds.groupby(["k", "g"]).aggregate(spread, agg.sum("x")).takeAll();
  const expected = jsGroups(items, ["k", "g"]);
  assert.equal(rows.length, expected.size);
  for (const row of rows) {
    const out = row.spread as { key: string; maxId: number; inMainThread: boolean };
    assert.equal(out.key, JSON.stringify([row.k, row.g]));
    assert.equal(out.maxId, Math.max(...ids(expected.get(JSON.stringify([row.k, row.g]))!)));
    assert.equal(out.inMainThread, false);
  }
  const limit = 3;
  const closure = agg.custom<number>({ name: "capped", init: () => 0, accumulateRow: (a) => Math.min(a + 1, limit), merge: (a, b) => a + b });
  await assert.rejects(ds.groupby("k").aggregate(closure).takeAll(), /limit/);
});

test("groupby with a custom aggregation (run in the consuming process) and on an empty dataset", async () => {
  const ds = data.fromItems(items, { overrideNumBlocks: 4 });
  const maxId = agg.custom<number>({ name: "maxId", init: () => -1, accumulateRow: (a, r) => Math.max(a, r.id as number), merge: Math.max });
  const rows = await ds.groupby("k").aggregate(maxId, agg.count()).takeAll();
  const expected = jsGroups(items, ["k"]);
  assert.deepEqual(rows.map((r) => r.k), [0, 1, 2, 3, 4, 5, 6]);
  for (const row of rows) {
    const group = expected.get(JSON.stringify([row.k]))!;
    assert.equal(row.maxId, Math.max(...ids(group)));
    assert.equal(row["count()"], group.length);
  }
  assert.deepEqual(await data.fromItems<Item>([]).groupby("g").count().takeAll(), []);
});
