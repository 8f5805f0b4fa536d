import { test } from "node:test";
import * as data from "tsray/data";
import { clusterAndFolder } from "./test/helpers/data-tests.js";
const tmp = clusterAndFolder("pq-bench-");
test("bench", async () => {
  const n = 2_000_000;
  const ds = data.range(n, { overrideNumBlocks: 8 }).mapBatches((b: { id: Float64Array }) => ({
    id: b.id, x: b.id.map((v) => v * 0.5), s: Array.from(b.id, (v) => `name-${v % 1000}`),
  }));
  let t = Date.now();
  const r = await ds.writeParquet(tmp.path("out"));
  console.log("write", n, "rows", Date.now() - t, "ms", r.paths.length, "files");
  t = Date.now();
  console.log("count", await data.readParquet(tmp.path("out")).count(), Date.now() - t, "ms");
  t = Date.now();
  let rows = 0;
  for await (const b of data.readParquet(tmp.path("out")).iterBatches({ batchSize: null, batchFormat: "arrow" })) rows += b.numRows;
  console.log("read", rows, Date.now() - t, "ms");
  t = Date.now();
  rows = 0;
  for await (const b of data.readParquet(tmp.path("out"), { columns: ["x"] }).iterBatches({ batchSize: null, batchFormat: "arrow" })) rows += b.numRows;
  console.log("read x only", rows, Date.now() - t, "ms");
});
