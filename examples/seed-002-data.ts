// Seed 002 (Japanese), "大規模データ処理への応用", written with tsray Data: the article splits a
// DataFrame of 100 random numbers into partitions with ray.put (10, then 4) and averages each
// partition in a remote function, then averages the averages. Here the DataFrame is an Arrow
// table, each partition a block of a Dataset, and process_partition a mapBatches UDF that gets a
// whole block (batchSize null) as a "numpy" batch: { column_name: Float64Array }.
import { tableFromArrays, type Table } from "apache-arrow";
import * as ray from "tsray";
import * as data from "tsray/data";

/** A list printed as Python prints it: [1, 3, 5]. */
const show = (xs: readonly unknown[]) => `[${xs.join(", ")}]`;

/** np.random.rand(n) */
function rand(n: number): Float64Array {
  return Float64Array.from({ length: n }, () => Math.random());
}

/** Series.mean() */
function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i]!;
  return s / xs.length;
}

/** df[i*(len(df)//n):(i+1)*(len(df)//n)] for i in range(n): n partitions of equal rows. */
function partitions(df: Table, n: number): Table[] {
  const size = Math.floor(df.numRows / n);
  return Array.from({ length: n }, (_, i) => df.slice(i * size, (i + 1) * size));
}

// 各パーティションに対する処理(例:特定の列の平均値を計算): one row per block, its mean.
function process_partition(partition: { column_name: Float64Array }) {
  return { mean: [mean(partition.column_name)] };
}

await ray.init({ numCpus: 4 });

// テスト用のDataFrameを作成
const df = tableFromArrays({ column_name: rand(100) });

// データを分割する(例:10分割): each partition is a block in the object store.
const split10 = await data.fromArrow(partitions(df, 10)).materialize();
console.log(`${10}個に分割されたデータセット: ${split10.numBlocks()} blocks, ${await split10.count()} rows`);

// 並列処理を実行: one task per block; 結果を取得.
const parts = partitions(df, 4);
const meanValues = (await data.fromArrow(parts).mapBatches(process_partition, { batchSize: null }).takeAll()).map((r) => r.mean);
console.log("各パーティションの平均値:", show(meanValues));

// 結果を集約
const totalMean = meanValues.reduce((a, b) => a + b, 0) / meanValues.length;
console.log("全体の平均値:", totalMean);

// The same means computed in this process, without tsray, for comparison.
const local = parts.map((p) => mean(p.getChild("column_name")!.toArray() as Float64Array));
console.log("same as a plain loop:", local.every((m, i) => Math.abs(m - meanValues[i]!) < 1e-12));

await ray.shutdown();
