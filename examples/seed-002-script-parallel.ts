// Seed 002 (Japanese): "Pythonスクリプト並列処理:Rayで劇的効率化" — parallelizing Python scripts with
// Ray: remote functions, many tasks at once, ray.wait, splitting a data set with ray.put, per-partition
// means and their aggregate, and a cluster job. Every Ray snippet of the article, translated to tsray;
// the article's separate scripts (each with ray.init() ... ray.shutdown()) share one cluster here.
//
// Sleeps are scaled down so the program runs in a few seconds: 1 s in the article is SECOND = 200 ms here.
import * as ray from "tsray";
import { setTimeout as sleep } from "node:timers/promises";

const SECOND = 200; // 1 s in the article

/** A list printed as Python prints it: [1, 3, 5]. */
const show = (xs: readonly unknown[]) => `[${xs.join(", ")}]`;

// Rayの初期化: ray.init() detects the CPUs by itself; the article also shows ray.init(num_cpus=4)
// (4つのCPUコアを使用), used here. Its last section connects to a running cluster with
// ray.init(address='auto'): connecting to a cluster is not available in tsray yet, so that
// section runs on this embedded one (単一マシンでは ray.init() のみでOK, as its comment says).
await ray.init({ numCpus: 4 });

// ---------------------------------------------------------------------------------------------
// 基本的な並列処理: @ray.remote と ray.get()

const add = ray.remote(function add(x: number, y: number) {
  return x + y;
});

{
  // リモート関数を呼び出す
  const resultId = add.remote(1, 2);
  // 結果を取得する
  const result = await ray.get(resultId);
  console.log(result); // Output: 3
}

// 複数のタスクを並列実行する (the article redefines add with a 1 s sleep; here it gets its own name)
const addSlowly = ray.remote(async function add(x: number, y: number) {
  await sleep(1 * SECOND); // 少し時間がかかる処理をシミュレート
  return x + y;
});

{
  const resultIds = [0, 1, 2].map((i) => addSlowly.remote(i, i + 1));
  // 結果をまとめて取得する
  const results = await ray.get(resultIds);
  console.log(show(results)); // Output: [1, 3, 5]
}

// ---------------------------------------------------------------------------------------------
// @ray.remoteデコレータ:並列処理の魔法

const myFunction = ray.remote(function my_function(x: number) {
  return x * x;
});

{
  // リモート関数を呼び出す
  const future = myFunction.remote(10);
  // 結果を取得する
  const result = await ray.get(future);
  console.log(result); // 出力: 100
}

// 複数のタスクを並列実行する: five 2 "second" tasks.
const longRunningTask = ray.remote(async function long_running_task(taskId: number) {
  await sleep(2 * SECOND); // 2秒間の処理をシミュレート
  return `Task ${taskId} completed`;
});

{
  const start = performance.now();
  const taskIds = [0, 1, 2, 3, 4].map((i) => longRunningTask.remote(i));
  // 結果をまとめて取得する
  const results = await ray.get(taskIds);
  for (const result of results) console.log(result);
  // Four CPUs: four tasks at once, then the fifth. 10 "seconds" one after another.
  console.log(`5 tasks of 2 "seconds" took ${Math.round(performance.now() - start)} ms (1 "second" = ${SECOND} ms)`);
}

// ray.wait: タスク完了の待機
const slowTask = ray.remote(async function slow_task(delay: number) {
  await sleep(delay * SECOND);
  return delay;
});

{
  const task1 = slowTask.remote(3);
  const task2 = slowTask.remote(1);

  const [doneIds, remainingIds] = await ray.wait([task1, task2], { numReturns: 1 });

  console.log(`First task completed: ${await ray.get(doneIds[0])}`); // 1
  console.log(`still running: ${remainingIds.length}`);
}

// ---------------------------------------------------------------------------------------------
// 大規模データ処理への応用: a DataFrame with one column of 100 random numbers, split into
// partitions put into the object store. pandas becomes a column-oriented record of
// Float64Arrays; a partition is a row slice of every column (df[a:b]).

type DataFrame = Record<string, Float64Array>;

/** The number of rows (len(df)). */
function len(df: DataFrame): number {
  const first = Object.values(df)[0];
  return first ? first.length : 0;
}

/** Rows [start, end) of every column: df[start:end]. */
function rows(df: DataFrame, start: number, end: number): DataFrame {
  const out: DataFrame = {};
  for (const [name, column] of Object.entries(df)) out[name] = column.slice(start, end);
  return out;
}

/** np.random.rand(n) */
function rand(n: number): Float64Array {
  return Float64Array.from({ length: n }, () => Math.random());
}

/** Series.mean() */
function mean(xs: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s / xs.length;
}

// データの分割:処理の第一歩
{
  // テスト用のDataFrameを作成
  const data = { column_name: rand(100) };
  const df: DataFrame = data;

  // データを分割する(例:10分割)
  const numPartitions = 10;
  const size = Math.floor(len(df) / numPartitions);
  const dataPartitions = Array.from({ length: numPartitions }, (_, i) => ray.put(rows(df, i * size, (i + 1) * size)));

  console.log(`${numPartitions}個に分割されたデータセット: ${show(dataPartitions)}`);
}

// 並列処理:Rayの真骨頂
const processPartition = ray.remote(function process_partition(partition: DataFrame) {
  // 各パーティションに対する処理を記述する(例:特定の列の平均値を計算)
  return mean(partition["column_name"]);
});

{
  // 分割されたデータを準備
  const data = { column_name: rand(100) };
  const df: DataFrame = data;
  const numPartitions = 4;
  const size = Math.floor(len(df) / numPartitions);
  const partitions = Array.from({ length: numPartitions }, (_, i) => rows(df, i * size, (i + 1) * size));
  const dataPartitions = partitions.map((partition) => ray.put(partition));

  // 並列処理を実行
  const results = dataPartitions.map((partition) => processPartition.remote(partition));

  // 結果を取得
  const meanValues = await ray.get(results);

  console.log("各パーティションの平均値:", show(meanValues));

  // 結果の集約:最終的なアウトプットへ (the article's next script repeats the above and adds this)
  // 結果を集約
  const totalMean = meanValues.reduce((a, b) => a + b, 0) / meanValues.length;

  console.log("全体の平均値:", totalMean);
  console.log("(the whole column's mean:", mean(df["column_name"]), ")");
}

// ---------------------------------------------------------------------------------------------
// 分散環境でのRayの活用: the job the article runs on a cluster (ray.init(address='auto'), see above).

const square = ray.remote(function square(x: number) {
  return x * x;
});

{
  // 複数のタスクを並列実行
  const results = Array.from({ length: 10 }, (_, i) => square.remote(i));
  // 結果を取得
  console.log(show(await ray.get(results))); // [0, 1, 4, 9, 16, 25, 36, 49, 64, 81]
}

await ray.shutdown();
