import { after, before, mock, test } from "node:test";
import assert from "node:assert/strict";
import { Table, tableFromArrays } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

const ids = (n: number) => Array.from({ length: n }, (_, i) => i);

test("range → map → filter gives the values a plain loop gives, in order", async () => {
  const ds = data.range(1000).map((r) => ({ x: r.id * 2 })).filter((r) => r.x % 3 === 0);
  const expected = ids(1000).map((i) => i * 2).filter((x) => x % 3 === 0);
  assert.equal(await ds.count(), expected.length);
  assert.deepEqual(await ds.takeAll(), expected.map((x) => ({ x })));
  assert.deepEqual(await ds.take(3), [{ x: 0 }, { x: 6 }, { x: 12 }]);
});

test("range makes Int64 ids read back as numbers; count of a plain source needs no tasks", async () => {
  const ds = data.range(25, { overrideNumBlocks: 4 });
  assert.equal(await ds.count(), 25);
  assert.deepEqual(await ds.takeAll(), ids(25).map((id) => ({ id })));
  assert.equal(String((await ds.schema()).fields[0]!.type), "Int64");
  assert.deepEqual(await ds.columns(), ["id"]);
});

test("mapBatches: the default and numpy formats give typed arrays (Int64 as a Float64Array copy)", async () => {
  for (const batchFormat of [undefined, "numpy"] as const) {
    const out = await data.range(10, { overrideNumBlocks: 2 })
      .mapBatches((b: { id: Float64Array }) => ({ kind: [b.id.constructor.name], sum: [b.id.reduce((s, v) => s + v, 0)] }),
        batchFormat ? { batchFormat } : {})
      .takeAll();
    assert.deepEqual(out, [{ kind: "Float64Array", sum: 10 }, { kind: "Float64Array", sum: 35 }]);
  }
});

test("mapBatches: rows and arrow formats, and a typed array column keeps its type", async () => {
  const rows = await data.range(6, { overrideNumBlocks: 1 })
    .mapBatches((b: { id: number }[]) => b.map((r) => ({ y: r.id + 1 })), { batchFormat: "rows" })
    .takeAll();
  assert.deepEqual(rows, ids(6).map((i) => ({ y: i + 1 })));
  const viaArrow = data.range(6, { overrideNumBlocks: 2 })
    .mapBatches((t: Table) => ({ n: new Int32Array([t.numRows]), isTable: [t.constructor.name === "Table"] }), { batchFormat: "arrow" });
  assert.deepEqual(await viaArrow.takeAll(), [{ n: 3, isTable: true }, { n: 3, isTable: true }]);
  assert.equal(String((await viaArrow.schema()).fields[0]!.type), "Int32");
  const [batch] = await collect(viaArrow.iterBatches({ batchSize: null }));
  assert.ok((batch as data.ColumnBatch).n instanceof Int32Array);
});

test("mapBatches: batchSize cuts each block into calls of that many rows; a generator's batches all count", async () => {
  const sizes = await data.range(10, { overrideNumBlocks: 1 })
    .mapBatches((b: { id: Float64Array }) => ({ n: [b.id.length] }), { batchSize: 4 })
    .takeAll();
  assert.deepEqual(sizes, [{ n: 4 }, { n: 4 }, { n: 2 }]);
  const doubled = await data.range(4, { overrideNumBlocks: 2 })
    .mapBatches(function* twice(b: { id: Float64Array }) {
      yield { v: b.id };
      yield [...b.id].map((v) => ({ v: v + 100 }));
    })
    .takeAll();
  assert.deepEqual(doubled.map((r) => r.v), [0, 1, 100, 101, 2, 3, 102, 103]);
});

test("mapBatches with zeroCopyBatch false: the UDF may write into its batch, the stored blocks stay as they were", async () => {
  const m = await data.range(300_000, { overrideNumBlocks: 2 }).map((r) => ({ x: r.id })).materialize();
  const written = await m.mapBatches((b: { x: Float64Array }) => {
    b.x.fill(-1);
    return b;
  }, { zeroCopyBatch: false }).take(2);
  assert.deepEqual(written, [{ x: -1 }, { x: -1 }]);
  assert.deepEqual(await m.take(2), [{ x: 0 }, { x: 1 }]);
  assert.equal(await m.filter((r) => r.x === -1).count(), 0);
});

test("async UDFs and flatMap", async () => {
  const out = await data.fromItems([1, 2, 3])
    .map(async (r) => ({ v: r.item * 10 }))
    .flatMap((r) => [r, { v: r.v + 1 }])
    .takeAll();
  assert.deepEqual(out.map((r) => r.v), [10, 11, 20, 21, 30, 31]);
});

test("fnArgs follow the input; top-level ObjectRefs among them are resolved", async () => {
  const offset = ray.put(1000);
  const out = await data.range(3).map((r, add: number, label: string) => ({ v: r.id + add, label }), { fnArgs: [offset, "x"] }).takeAll();
  assert.deepEqual(out, [{ v: 1000, label: "x" }, { v: 1001, label: "x" }, { v: 1002, label: "x" }]);
});

test("limit keeps the first n rows, across block boundaries", async () => {
  assert.deepEqual(await data.range(100, { overrideNumBlocks: 10 }).limit(23).map((r) => ({ v: r.id })).takeAll(), ids(23).map((v) => ({ v })));
  assert.equal(await data.range(100).map((r) => r).limit(7).count(), 7);
  assert.equal(await data.range(100).limit(0).count(), 0);
});

test("iterBatches gives exactly batchSize rows across blocks (but the last), in every format, dropLast drops it", async () => {
  const ds = data.range(10, { overrideNumBlocks: 3 });
  const numpy = await collect(ds.iterBatches({ batchSize: 4 }));
  assert.deepEqual(numpy.map((b) => [...(b.id as Float64Array)]), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]);
  const rows = await collect(ds.iterBatches({ batchSize: 4, batchFormat: "rows", dropLast: true }));
  assert.deepEqual(rows, [[0, 1, 2, 3], [4, 5, 6, 7]].map((b) => b.map((id) => ({ id }))));
  const tables = await collect(ds.iterBatches({ batchSize: 6, batchFormat: "arrow" }));
  assert.deepEqual(tables.map((t) => t.numRows), [6, 4]);
  assert.equal((await collect(ds.iterBatches())).length, 1); // default batchSize 256
});

test("fromArrow: a block per table; materialize keeps the blocks", async () => {
  const t1 = tableFromArrays({ a: new Float64Array([1, 2]), s: ["x", "y"] });
  const t2 = tableFromArrays({ a: new Float64Array([3]), s: ["z"] });
  const ds = data.fromArrow([t1, t2]);
  assert.deepEqual(await ds.takeAll(), [{ a: 1, s: "x" }, { a: 2, s: "y" }, { a: 3, s: "z" }]);
  assert.deepEqual(await ds.columns(), ["a", "s"]);
  const m = await ds.map((r) => ({ a: r.a as number * 2 })).materialize();
  assert.ok(m instanceof data.MaterializedDataset);
  assert.equal(m.numBlocks(), 2);
  assert.equal(await m.count(), 3);
  assert.deepEqual(await m.takeAll(), [{ a: 2 }, { a: 4 }, { a: 6 }]);
});

test("show prints one JSON object a line", async () => {
  const log = mock.method(console, "log", () => {});
  try {
    await data.fromItems([{ a: 1, b: "x" }, { a: 2, b: "y" }, { a: 3, b: "z" }]).show(2);
    assert.deepEqual(log.mock.calls.map((c) => c.arguments[0]), ['{"a":1,"b":"x"}', '{"a":2,"b":"y"}']);
  } finally {
    log.mock.restore();
  }
});

test("options are checked where they are written", () => {
  assert.throws(() => data.range(3).map((r) => r, { bogus: 1 } as never), /map\(\) has no option 'bogus'/);
  assert.throws(() => data.range(3).mapBatches((b) => b, { batchSize: 0 }), RangeError);
  assert.throws(() => data.range(-1), RangeError);
  assert.throws(() => data.range(3).limit(-1), RangeError);
  class Model { call(r: object) { return r; } }
  assert.throws(() => data.range(3).map(Model, { compute: { type: "tasks" } }), /class UDF runs on an actor pool; option compute must be \{ type: "actors"/);
  assert.throws(() => data.range(3).map((r) => r, { concurrency: [1, 2] }), /concurrency: \[min, max\] autoscales an actor pool, for class UDFs only/);
  assert.throws(() => data.range(3).map(Model, { concurrency: [3, 2] }), /minimum size 3 is above its maximum 2/);
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("explain shows the steps as written and the operators that run, neighbouring maps fused", () => {
  const ds = data.range(10)
    .map(function double(r) { return { v: r.id * 2 }; })
    .filter(function even(r) { return r.v % 4 === 0; })
    .limit(3)
    .map((r) => r, { numCpus: 2 })
    .selectColumns(["v"]);
  assert.equal(ds.explain(), [
    "-------- Logical Plan --------",
    "SelectColumns",
    "+- Map(<lambda>)",
    "   +- Limit[limit=3]",
    "      +- Filter(even)",
    "         +- Map(double)",
    "            +- ReadRange",
    "-------- Physical Plan --------",
    "TaskPoolMapOperator[SelectColumns]",
    "+- TaskPoolMapOperator[Map(<lambda>)]",
    "   +- LimitOperator[limit=3]",
    "      +- TaskPoolMapOperator[ReadRange->Map(double)->Filter(even)]",
  ].join("\n"));
  assert.match(data.fromItems([1]).map(function f(r) { return r; }).explain(), /TaskPoolMapOperator\[Map\(f\)\]\n\+- InputDataBuffer\[FromItems\]$/);
});

test("union gives the rows of every input, this one's first; steps after it run on all", async () => {
  const a = data.range(3);
  const b = data.fromItems([{ id: 10 }, { id: 11 }]).map((r) => ({ id: r.id + 0 }));
  const u = a.union(b, data.range(2));
  assert.equal(await u.count(), 7);
  assert.deepEqual((await u.map((r) => ({ id: r.id * 2 })).takeAll()).map((r) => r.id), [0, 2, 4, 20, 22, 0, 2]);
  assert.deepEqual((await a.union(data.range(3)).take(4)).map((r) => r.id), [0, 1, 2, 0]);
});

test("randomSample keeps about the fraction asked; the same seed gives the same rows; types are kept", async () => {
  const ds = data.range(10_000, { overrideNumBlocks: 8 });
  const a = (await ds.randomSample(0.3, { seed: 42 }).takeAll()).map((r) => r.id);
  const b = (await ds.randomSample(0.3, { seed: 42 }).takeAll()).map((r) => r.id);
  assert.deepEqual(a, b);
  assert.ok(a.length > 2700 && a.length < 3300, `${a.length} of 10000 rows kept at 0.3`);
  assert.ok(a.every((id, i) => i === 0 || id > a[i - 1]!), "no shuffle: rows keep their order");
  assert.notDeepEqual((await ds.randomSample(0.3, { seed: 43 }).takeAll()).map((r) => r.id), a);
  assert.equal(String((await ds.randomSample(0.5, { seed: 1 }).schema()).fields[0]!.type), "Int64");
  assert.equal(await ds.randomSample(0).count(), 0);
  assert.equal(await ds.randomSample(1).count(), 10_000);
  const mapped = await ds.map((r) => ({ v: r.id })).randomSample(0.1, { seed: 5 }).count();
  assert.equal(mapped, await ds.map((r) => ({ v: r.id })).randomSample(0.1, { seed: 5 }).count());
  assert.throws(() => ds.randomSample(1.5), RangeError);
});

test("mapBatches with batchSize bundles small blocks up to it; a bundle's last batch may be smaller", async () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ v: i }));
  const sizes = await data.fromItems(items, { overrideNumBlocks: 10 })
    .mapBatches((b: { v: Float64Array }) => ({ n: [b.v.length], first: [b.v[0]!] }), { batchSize: 8 })
    .takeAll();
  assert.deepEqual(sizes.map((r) => r.n), [8, 1, 8, 1, 8, 1, 3]);
  assert.deepEqual(sizes.map((r) => r.first), [0, 8, 9, 17, 18, 26, 27]);
  // Without batchSize a call gets one block, as before.
  assert.equal((await data.fromItems(items, { overrideNumBlocks: 10 }).mapBatches((b: { v: Float64Array }) => ({ n: [b.v.length] })).takeAll()).length, 10);
});
