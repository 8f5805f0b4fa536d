// A tour of tsray Data with a real pipeline: a folder of CSV files (a year of sales, one folder
// per month as hive partitions) → features computed with mapBatches → grouped by region →
// written as Parquet, which is then read back. The CSV files are generated first, into a
// temporary folder, so the program needs nothing but itself.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ray from "tsray";
import * as data from "tsray/data";
import { agg } from "tsray/data";

const REGIONS = ["north", "south", "east", "west"];

/** Per region, what the pipeline should find: sales, units, revenue (computed here as the lines are written). */
const expected = new Map(REGIONS.map((r) => [r, { sales: 0, units: 0, revenue: 0 }]));

/** sales/month=2026-MM/day-DD.csv: one line per sale, generated from a seeded sequence. */
function writeSales(folder: string): number {
  let seed = 2026;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  let lines = 0;
  for (let month = 1; month <= 12; month++) {
    const dir = join(folder, `month=2026-${String(month).padStart(2, "0")}`);
    mkdirSync(dir, { recursive: true });
    for (let day = 1; day <= 4; day++) {
      const rows = ["region,units,unit_price,returned"];
      for (let i = 0; i < 250; i++) {
        const region = REGIONS[Math.floor(random() * REGIONS.length)]!;
        const units = 1 + Math.floor(random() * 9);
        const price = (5 + random() * 95).toFixed(2);
        const returned = random() < 0.05;
        rows.push(`${region},${units},${price},${returned}`);
        const e = expected.get(region)!;
        e.sales++;
        e.units += units;
        e.revenue += returned ? 0 : units * Number(price);
      }
      writeFileSync(join(dir, `day-${day}.csv`), rows.join("\n") + "\n");
      lines += rows.length - 1;
    }
  }
  return lines;
}

/** Features for a batch of sales: revenue, and whether the sale counts (not returned). */
function features(batch: { units: Float64Array; unit_price: Float64Array; returned: boolean[]; region: string[] }) {
  const revenue = new Float64Array(batch.units.length);
  for (let i = 0; i < revenue.length; i++) revenue[i] = batch.returned[i] ? 0 : batch.units[i]! * batch.unit_price[i]!;
  return { region: batch.region, units: batch.units, revenue };
}

const folder = mkdtempSync(join(tmpdir(), "tsray-data-tour-"));
try {
  const sales = writeSales(join(folder, "sales"));
  await ray.init();
  data.DataContext.getCurrent().enableProgressBars = false;

  // Reading is lazy: nothing runs until the dataset is consumed.
  const ds = data.readCsv(join(folder, "sales"));
  console.log("columns:", (await ds.columns()).join(", "));
  console.log("rows:", await ds.count(), "of", sales);

  // mapBatches: a vectorized UDF over "numpy" batches ({ column: typed array }), run in tasks.
  const byRegion = ds
    .mapBatches(features, { batchSize: 500 })
    .groupby("region")
    .aggregate(agg.count(), agg.sum("units"), agg.sum("revenue"), agg.mean("revenue"));

  // Written as Parquet, a file per block; then read back and shown.
  const written = await byRegion.writeParquet(join(folder, "by-region"));
  console.log("parquet files:", written.paths.length, "rows:", written.numRows);
  const back = data.readParquet(join(folder, "by-region")).sort("region");
  const rows = await back.takeAll();
  for (const row of rows) {
    console.log(`${row.region}: ${row["count()"]} sales, ${row["sum(units)"]} units, revenue ${(row["sum(revenue)"] as number).toFixed(2)}`);
  }
  const same = rows.length === REGIONS.length && rows.every((row) => {
    const e = expected.get(row.region as string)!;
    return row["count()"] === e.sales && row["sum(units)"] === e.units && Math.abs((row["sum(revenue)"] as number) - e.revenue) < 1e-6;
  });
  console.log("same as a plain loop:", same);
  console.log("total revenue:", (await back.sum("sum(revenue)"))!.toFixed(2));
  console.log(back.explain());
} finally {
  await ray.shutdown();
  rmSync(folder, { recursive: true, force: true });
}
