// tsray Data's rows of the benchmark, each in a mode of its own (argv[2]):
//   pipeline          range(10M) → mapBatches(x * 2) → count, on an embedded cluster of 2 CPUs
//   pipeline-floor    the same rows doubled and counted by a plain loop in this thread
//   csv-parquet       a folder of CSV files (200 MB of generated rows) → readCsv → writeParquet
//   csv-parquet-peer  the same conversion in one thread: the same CSV parser and Parquet writer
//                     that tsray's read and write tasks run, called file by file without tsray
//   stream-rss        a dataset ten times the object store streamed through iterBatches: the
//                     process's peak RSS against the dataset's size
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ray from "tsray";
import * as data from "tsray/data";
import { now, report, scale } from "./measure.js";

const mode = process.argv[2] ?? "pipeline";
const ROWS = scale(10_000_000, 200_000);

/** The pipeline's UDF: a new column of the ids doubled. */
function double(batch: { id: Float64Array }): { id: Float64Array } {
  const out = new Float64Array(batch.id.length);
  for (let i = 0; i < out.length; i++) out[i] = batch.id[i]! * 2;
  return { id: out };
}

async function pipeline(): Promise<void> {
  await ray.init({ numCpus: 2, logToDriver: false, includeDashboard: false });
  data.DataContext.getCurrent().enableProgressBars = false;
  const run = () => data.range(ROWS).mapBatches(double).count();
  if ((await run()) !== ROWS) throw new Error("wrong count");
  const t = now();
  const n = await run();
  const seconds = (now() - t) / 1000;
  if (n !== ROWS) throw new Error("wrong count");
  await ray.shutdown();
  report({ rowsPerSecond: ROWS / seconds, seconds });
}

/** What range makes (ids in blocks of a million), doubled and counted in this thread. */
function pipelineFloor(): void {
  const chunk = 1_000_000;
  const loop = () => {
    let count = 0;
    for (let start = 0; start < ROWS; start += chunk) {
      const ids = new Float64Array(Math.min(chunk, ROWS - start));
      for (let i = 0; i < ids.length; i++) ids[i] = start + i;
      count += double({ id: ids }).id.length;
    }
    return count;
  };
  loop();
  const t = now();
  if (loop() !== ROWS) throw new Error("wrong count");
  const seconds = (now() - t) / 1000;
  report({ rowsPerSecond: ROWS / seconds, seconds });
}

const CSV_FILES = 8;
const CSV_BYTES = scale(200 * 2 ** 20, 2 * 2 ** 20);

/** CSV_FILES files of generated rows (ints, floats, words), CSV_BYTES in all. */
function writeCsvFolder(dir: string): number {
  const words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"];
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  let id = 0;
  let bytes = 0;
  for (let f = 0; f < CSV_FILES; f++) {
    const lines = ["id,user,score,weight,city"];
    let fileBytes = 0;
    while (fileBytes < CSV_BYTES / CSV_FILES) {
      const line = `${id++},user${Math.floor(random() * 1e6)},${(random() * 100).toFixed(4)},${Math.floor(random() * 1000)},${words[Math.floor(random() * words.length)]}`;
      lines.push(line);
      fileBytes += line.length + 1;
    }
    writeFileSync(join(dir, `part-${f}.csv`), lines.join("\n") + "\n");
    bytes += fileBytes;
  }
  return bytes;
}

async function csvToParquet(peer: boolean): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "tsray-bench-csv-"));
  try {
    const input = join(dir, "in");
    const output = join(dir, "out");
    mkdirSync(input);
    const bytes = writeCsvFolder(input);
    const convert = peer ? () => convertInOneThread(input, output) : async () => {
      await data.readCsv(input).writeParquet(output);
    };
    if (!peer) {
      await ray.init({ numCpus: 2, logToDriver: false, includeDashboard: false });
      data.DataContext.getCurrent().enableProgressBars = false;
    }
    const t = now();
    await convert();
    const seconds = (now() - t) / 1000;
    const rows = await countParquetRows(output);
    if (!peer) await ray.shutdown();
    report({ seconds, mbPerSecond: bytes / 2 ** 20 / seconds, rows });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The single-threaded peer: each file parsed and written by the functions tsray's tasks call. */
async function convertInOneThread(input: string, output: string): Promise<void> {
  const { parseCsv } = await import("../../src/data/read/parse-csv.js");
  const { parquetBytes } = await import("../../src/data/write/parquet-file.js");
  mkdirSync(output, { recursive: true });
  for (const name of readdirSync(input)) {
    const table = parseCsv(readFileSync(join(input, name), "utf8"), name, { delimiter: ",", header: true, columnNames: null, nullValues: [] });
    writeFileSync(join(output, name.replace(/\.csv$/, ".parquet")), parquetBytes(table));
  }
}

async function countParquetRows(folder: string): Promise<number> {
  const { parquetMetadata } = await import("hyparquet");
  let rows = 0;
  for (const name of readdirSync(folder)) {
    const bytes = readFileSync(join(folder, name));
    rows += Number(parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)).num_rows);
  }
  return rows;
}

/** Rows of 8 KB tensors, 8 MB blocks, ten times the store, consumed as they stream. */
async function streamRss(): Promise<void> {
  const storeBytes = scale(256, 32) * 2 ** 20;
  await ray.init({ numCpus: 2, logToDriver: false, includeDashboard: false, objectStoreMemory: storeBytes });
  data.DataContext.getCurrent().enableProgressBars = false;
  const rowBytes = 8 * 1024;
  const rows = (10 * storeBytes) / rowBytes;
  const baseline = process.memoryUsage().rss;
  let seen = 0;
  let peak = baseline;
  const t = now();
  for await (const batch of data.rangeTensor(rows, { shape: [1024], overrideNumBlocks: rows / 1024 }).iterBatches({ batchSize: null })) {
    seen += (batch.data as unknown as { shape: number[] }).shape[0]!;
    peak = Math.max(peak, process.memoryUsage().rss);
  }
  const seconds = (now() - t) / 1000;
  if (seen !== rows) throw new Error(`saw ${seen} rows of ${rows}`);
  await ray.shutdown();
  report({
    datasetMb: (rows * rowBytes) / 2 ** 20, storeMb: storeBytes / 2 ** 20, baselineRssMb: baseline / 2 ** 20,
    peakRssMb: Math.max(peak, process.resourceUsage().maxRSS * 1024) / 2 ** 20, mbPerSecond: (rows * rowBytes) / 2 ** 20 / seconds,
  });
}

switch (mode) {
  case "pipeline": await pipeline(); break;
  case "pipeline-floor": pipelineFloor(); break;
  case "csv-parquet": await csvToParquet(false); break;
  case "csv-parquet-peer": await csvToParquet(true); break;
  case "stream-rss": await streamRss(); break;
  default: throw new Error(`unknown mode ${mode}`);
}
