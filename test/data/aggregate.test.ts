import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as data from "tsray/data";
import { agg } from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

test("aggregate: one row keyed by Ray's names, each value as plain JavaScript computes it", async () => {
  const xs = Array.from({ length: 101 }, (_, i) => ((i * 37) % 101) - 50);
  const ds = data.fromItems(xs.map((x, i) => ({ x: i % 5 === 0 ? null : x })), { overrideNumBlocks: 7 });
  const kept = xs.filter((_, i) => i % 5 !== 0);
  const mean = kept.reduce((a, b) => a + b, 0) / kept.length;
  const sorted = kept.slice().sort((a, b) => a - b);
  const row = await ds.aggregate(
    agg.count(), agg.count({ on: "x" }), agg.count({ on: "x", ignoreNulls: true, aliasName: "present" }),
    agg.sum("x"), agg.min("x"), agg.max("x"), agg.mean("x"), agg.std("x"), agg.absMax("x"),
    agg.quantile("x"), agg.quantile("x", { q: 0.9, aliasName: "p90" }), agg.sum("x", { ignoreNulls: false, aliasName: "strict" }),
  );
  assert.equal(row["count()"], 101);
  assert.equal(row["count(x)"], 101);
  assert.equal(row.present, kept.length);
  assert.equal(row["sum(x)"], kept.reduce((a, b) => a + b, 0));
  assert.equal(row["min(x)"], sorted[0]);
  assert.equal(row["max(x)"], sorted.at(-1));
  assert.ok(Math.abs((row["mean(x)"] as number) - mean) < 1e-12);
  const std = Math.sqrt(kept.reduce((s, v) => s + (v - mean) ** 2, 0) / (kept.length - 1));
  assert.ok(Math.abs((row["std(x)"] as number) - std) <= 1e-9 * std);
  assert.equal(row["abs_max(x)"], Math.max(...kept.map(Math.abs)));
  const at = 0.5 * (sorted.length - 1);
  assert.equal(row["quantile(x)"], sorted[Math.floor(at)]! + (sorted[Math.ceil(at)]! - sorted[Math.floor(at)]!) * (at - Math.floor(at)));
  const at90 = 0.9 * (sorted.length - 1);
  assert.ok(Math.abs((row.p90 as number) - (sorted[Math.floor(at90)]! + (sorted[Math.ceil(at90)]! - sorted[Math.floor(at90)]!) * (at90 - Math.floor(at90)))) < 1e-12);
  assert.equal(row.strict, null);
});

test("unique and custom aggregations; an empty dataset gives nulls and a zero count", async () => {
  const ds = data.fromItems([{ k: "a", v: 1 }, { k: "b", v: 2 }, { k: "a", v: 3 }], { overrideNumBlocks: 2 });
  const row = await ds.aggregate(
    agg.unique("k"),
    agg.custom({ name: "product", init: () => 1, accumulateRow: (acc: number, r) => acc * (r.v as number), merge: (a, b) => a * b }),
    agg.custom({ name: "keys", init: () => [] as string[], accumulateRow: (acc: string[], r) => [...acc, r.k as string],
      merge: (a, b) => [...a, ...b], finalize: (acc) => acc.sort().join("") }),
  );
  assert.deepEqual((row["unique(k)"] as string[]).sort(), ["a", "b"]);
  assert.equal(row.product, 6);
  assert.equal(row.keys, "aab");
  const empty = await data.range(10).filter(() => false).aggregate(agg.count(), agg.sum("id"), agg.mean("id"), agg.quantile("id"));
  assert.deepEqual(empty, { "count()": 0, "sum(id)": null, "mean(id)": null, "quantile(id)": null });
  await assert.rejects(ds.aggregate(agg.sum("nope")), /no column 'nope'/);
  await assert.rejects(ds.aggregate({ name: "fake" }), TypeError);
  assert.throws(() => agg.quantile("v", { q: 2 }), RangeError);
});
