import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ray from "tsray";
import * as data from "tsray/data";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

const idsOf = async (parts: data.MaterializedDataset<{ id: number }>[]) => Promise.all(parts.map(async (p) => (await p.takeAll()).map((r) => r.id)));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

test("split: n parts of contiguous rows, as even as possible; equal drops the remainder", async () => {
  const ds = data.range(10, { overrideNumBlocks: 3 });
  assert.deepEqual(await idsOf(await ds.split(3)), [range(0, 3), range(3, 6), range(6, 10)]);
  assert.deepEqual(await idsOf(await ds.split(3, { equal: true })), [range(0, 3), range(3, 6), range(6, 9)]);
  const parts = await ds.split(2);
  assert.ok(parts.every((p) => p instanceof data.MaterializedDataset));
  assert.deepEqual(await Promise.all(parts.map((p) => p.count())), [5, 5]);
});

test("splitAtIndices splits as numpy.split does; splitProportionately by fractions; trainTestSplit", async () => {
  const ds = data.range(10, { overrideNumBlocks: 4 });
  assert.deepEqual(await idsOf(await ds.splitAtIndices([2, 7])), [range(0, 2), range(2, 7), range(7, 10)]);
  assert.deepEqual(await idsOf(await ds.splitAtIndices([0, 20])), [[], range(0, 10), []]);
  assert.deepEqual(await idsOf(await ds.splitProportionately([0.2, 0.5])), [range(0, 2), range(2, 7), range(7, 10)]);
  assert.deepEqual(await idsOf(await ds.trainTestSplit(0.25)), [range(0, 7), range(7, 10)]);
  assert.deepEqual(await idsOf(await ds.trainTestSplit(4)), [range(0, 6), range(6, 10)]);
  await assert.rejects(ds.splitAtIndices([5, 2]), RangeError);
  await assert.rejects(ds.splitProportionately([0.5, 0.5]), RangeError);
  // Shuffled first: seeded, so the same split twice; every row in one part.
  const [train, test] = await idsOf(await ds.trainTestSplit(0.25, { shuffle: true, seed: 3 }));
  assert.deepEqual([train!.length, test!.length], [7, 3]);
  assert.deepEqual([...train!, ...test!].sort((a, b) => a - b), range(0, 10));
  assert.deepEqual(await idsOf(await ds.trainTestSplit(0.25, { shuffle: true, seed: 3 })), [train, test]);
});

test("toArrow gives one table; sizeBytes counts the blocks; inputFiles lists what a read reads", async () => {
  const table = await data.range(10, { overrideNumBlocks: 3 }).map((r) => ({ x: r.id / 2 })).toArrow();
  assert.equal(table.numRows, 10);
  assert.deepEqual([...(table.getChild("x")!.toArray() as Float64Array)], range(0, 10).map((i) => i / 2));
  await assert.rejects(data.range(10).toArrow({ limit: 5 }), RangeError);
  assert.ok((await data.range(100_000).sizeBytes()) >= 800_000);
  const dir = mkdtempSync(join(tmpdir(), "tsray-data-files-"));
  try {
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "a.csv"), "v\n1\n");
    writeFileSync(join(dir, "sub", "b.csv"), "v\n2\n");
    assert.deepEqual(await data.readCsv(dir).map((r) => r).inputFiles(), [join(dir, "a.csv"), join(dir, "sub", "b.csv")]);
    assert.deepEqual(await data.range(3).inputFiles(), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
