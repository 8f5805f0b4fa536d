/**
 * `npm run bench`: runs each workload on tsray and on its peer in the same run, alternating,
 * several rounds, each in a fresh process, and prints medians and ratios against the targets
 * (`--json` for JSON, `--smoke` for tiny counts, `--rounds N`). tsray runs compiled, from dist/,
 * as an installed package does. The warm figures come after warm-up rounds inside the process;
 * the cold column times a first program (workloads/cold.ts): a fresh process, no warm-up.
 */
import { execFile } from "node:child_process";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const args = process.argv.slice(2);
const smoke = args.includes("--smoke");
const json = args.includes("--json");
const roundsArg = args.indexOf("--rounds");
const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : smoke ? 1 : 3;
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const env = { ...process.env, ...(smoke ? { TSRAY_BENCH_SMOKE: "1" } : {}) };

type Metrics = Record<string, number>;

async function node(workload: string, impl = "tsray"): Promise<Metrics> {
  // tsray as users install it (dist/, built by `npm run bench`); tsx only runs the workload file.
  const { stdout } = await run(process.execPath, ["--import", "tsx", "--expose-gc", here(`workloads/${workload}.ts`), ...impl.split(" ")], {
    env, timeout: 20 * 60_000, maxBuffer: 64 * 2 ** 20,
  });
  return JSON.parse(stdout.trim().split("\n").pop()!);
}

async function python(n: number, cold = false): Promise<Metrics | null> {
  try {
    const { stdout } = await run("python3", [here("peers/python-pool.py"), String(n), ...(cold ? ["--cold"] : [])], { timeout: 20 * 60_000 });
    return JSON.parse(stdout.trim().split("\n").pop()!);
  } catch (err) {
    if ((err as { code?: string }).code === "ENOENT") return null;
    throw err;
  }
}

/** One round of every workload; tsray and its peer alternate which goes first. */
async function round(i: number): Promise<Record<string, Metrics | null>> {
  const pair = async (a: () => Promise<Metrics | null>, b: () => Promise<Metrics | null>) => {
    if (i % 2 === 0) return [await a(), await b()];
    const second = await b();
    return [await a(), second];
  };
  const out: Record<string, Metrics | null> = {};
  [out.tasks, out.tasksPiscina] = await pair(() => node("tasks"), () => node("tasks", "piscina"));
  out.actors = await node("actors");
  [out.bigArray, out.bigArrayPiscina] = await pair(() => node("big-array"), () => node("big-array", "piscina"));
  out.bigArrayFloor = await node("big-array", "floor");
  [out.putGet, out.memcpy] = await pair(() => node("put-get"), () => node("put-get", "memcpy"));
  [out.poolMap, out.python] = await pair(() => node("pool-map"), () => python(smoke ? 10_000 : 1_000_000));
  // A first program: a fresh process, no warm-up beyond what the program does (cold.ts).
  const cold = (what: string, impl = "tsray") => node("cold", `${what} ${impl}`);
  [out.coldBurst, out.coldBurstPiscina] = await pair(() => cold("burst-then-sync"), () => cold("burst-then-sync", "piscina"));
  out.coldActors = await cold("actor-calls");
  [out.coldBig, out.coldBigPiscina] = await pair(() => cold("big-rounds"), () => cold("big-rounds", "piscina"));
  out.coldBigFloor = await cold("big-rounds", "floor");
  [out.coldPool, out.coldPython] = await pair(() => cold("pool-map"), () => python(smoke ? 10_000 : 1_000_000, true));
  if (i === 0) out.bigRss = await cold("big-rounds-rss");
  out.startup = await node("startup");
  out.millionTasks = await node("million-tasks");
  out.thousandActors = args.includes("--skip-actors") ? null : await node("thousand-actors");
  out.cluster = await node("cluster");
  [out.dataPipeline, out.dataPipelineFloor] = await pair(() => node("data", "pipeline"), () => node("data", "pipeline-floor"));
  [out.dataCsvParquet, out.dataCsvParquetPeer] = await pair(() => node("data", "csv-parquet"), () => node("data", "csv-parquet-peer"));
  if (i === 0) out.dataStreamRss = await node("data", "stream-rss");
  [out.serve1, out.servePlain] = await pair(() => node("serve", "replicas1"), () => node("serve-peers", "plain"));
  [out.serve2, out.serveHono] = await pair(() => node("serve", "replicas2"), () => node("serve-peers", "hono"));
  [out.serveBatched, out.serveUnbatched] = await pair(() => node("serve", "batched"), () => node("serve", "unbatched"));
  if (i === 0) out.manyNodes = await node("many-nodes");
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface Row {
  workload: string;
  tsray: string;
  peer: string;
  ratio: string;
  target: string;
  met: boolean | null;
  /** The same workload as a first program runs it: a fresh process, no warm-up. */
  cold: string;
  coldTarget: string;
  coldMet: boolean | null;
}

interface Cold {
  text: string;
  target: string;
  met: boolean | null;
}

const results: Record<string, Metrics | null>[] = [];
for (let i = 0; i < rounds; i++) results.push(await round(i));
const m = (key: string, metric: string): number | null => {
  const vals = results.map((r) => r[key]?.[metric]).filter((v): v is number => typeof v === "number");
  return vals.length ? median(vals) : null;
};

const fmt = (v: number | null, unit: string, digits = 0) => (v === null ? "skipped" : `${v.toLocaleString("en-US", { maximumFractionDigits: digits })} ${unit}`);
const rows: Row[] = [];
const add = (workload: string, tsray: string, peer: string, ratio: number | null, target: string, met: boolean | null, cold?: Cold) =>
  rows.push({
    workload, tsray, peer, ratio: ratio === null ? "" : `${ratio.toFixed(2)}x`, target, met,
    cold: cold?.text ?? "", coldTarget: cold?.target ?? "", coldMet: cold?.met ?? null,
  });

{
  const t = m("tasks", "tasksPerSecond"), p = m("tasksPiscina", "tasksPerSecond");
  const ct = m("coldBurst", "tasksPerSecond"), cp = m("coldBurstPiscina", "tasksPerSecond");
  add("async no-op tasks (20k)", fmt(t, "/s"), `piscina ${fmt(p, "/s")}; Ray tasks_async 8,041/s`, t && p ? t / p : null, ">= 1.0x piscina (aim 2x)", t && p ? t / p >= 1 : null,
    { text: `${fmt(ct, "/s")}; piscina ${fmt(cp, "/s")}`, target: "(reported)", met: null });
  const ts = m("tasks", "syncRoundTripUs"), ps = m("tasksPiscina", "syncRoundTripUs");
  const cts = m("coldBurst", "syncRoundTripUs"), cps = m("coldBurstPiscina", "syncRoundTripUs");
  add("sync task round trip", fmt(ts, "µs"), `piscina ${fmt(ps, "µs")}; Ray tasks_sync 981/s (1,019 µs)`, ts && ps ? ps / ts : null, "<= piscina's latency", ts && ps ? ts <= ps : null,
    { text: `first 3,000 after the burst: ${fmt(cts, "µs")}; piscina ${fmt(cps, "µs")}`, target: "<= piscina's", met: cts && cps ? cts <= cps : null });
}
{
  const a = m("actors", "callsPerSecond"), s = m("actors", "syncCallUs"), ca = m("coldActors", "callsPerSecond");
  add("actor calls (20k, one actor)", fmt(a, "/s"), "Ray 1_1_actor_calls_async 8,664/s", null, ">= 50,000/s", a === null ? null : a >= 50_000,
    { text: fmt(ca, "/s"), target: "(reported)", met: null });
  add("sync actor call", fmt(s, "µs"), "Ray 1_1_actor_calls_sync 2,012/s (497 µs)", null, "< 100 µs", s === null ? null : s < 100);
}
{
  const t = m("bigArray", "ms"), p = m("bigArrayPiscina", "ms"), f = m("bigArrayFloor", "ms");
  // The floor: one copy and one read, in one thread, nothing else; no implementation does less.
  const floor = f && p ? `; floor (one copy + one read) ${fmt(f, "ms", 1)}, at most ${(p / f).toFixed(1)}x` : "";
  const ct = m("coldBig", "msPerRound"), cp = m("coldBigPiscina", "msPerRound"), cf = m("coldBigFloor", "msPerRound");
  add("100 MB Float64Array to a task", fmt(t, "ms", 1), `piscina ${fmt(p, "ms", 1)}${floor}`, t && p ? p / t : null, ">= 10x faster than piscina", t && p ? p / t >= 10 : null,
    { text: `4 rounds: ${fmt(ct, "ms", 1)}/round; floor ${fmt(cf, "ms", 1)}, piscina ${fmt(cp, "ms", 1)}`, target: "<= 1.5x floor", met: ct && cf ? ct <= 1.5 * cf : null });
  const rss = m("bigRss", "rssMb"), n = m("bigRss", "rounds");
  add("100 MB rounds, memory", "", "", null, "", null, { text: `RSS ${fmt(rss, "MB")} after ${fmt(n, "rounds")}`, target: "no growth (reported)", met: null });
}
{
  const put = m("putGet", "putGbPerSecond"), cpy = m("memcpy", "gbPerSecond");
  add("put 100 MB into a warm store", fmt(put, "GB/s", 1), `memcpy ${fmt(cpy, "GB/s", 1)}; Ray put_gigabytes 19.9 GB/s`, put && cpy ? put / cpy : null, ">= 0.5x warm memcpy", put && cpy ? put / cpy >= 0.5 : null);
  const g10 = m("putGet", "get10MbMs"), g100 = m("putGet", "get100MbMs"), g400 = m("putGet", "get400MbMs");
  add("get of a stored 100 MB object", fmt(g100, "ms", 3), `10 MB ${fmt(g10, "ms", 3)}, 400 MB ${fmt(g400, "ms", 3)}`, null, "< 5 ms, flat as size grows", g100 === null ? null : g100 < 5 && (g400 ?? 0) < 5);
  const sp = m("putGet", "smallPutsPerSecond"), sg = m("putGet", "smallGetsPerSecond");
  add("small puts / gets", `${fmt(sp, "/s")} / ${fmt(sg, "/s")}`, "Ray put_calls 5,173/s, get_calls 10,620/s", null, "(reported)", null);
}
{
  const t = m("poolMap", "seconds"), p = m("python", "seconds");
  const ct = m("coldPool", "seconds"), cp = m("coldPython", "seconds");
  add("seed 004: Pool.map x*10 over 1M", fmt(t, "s", 3), `Python Pool(2) ${fmt(p, "s", 3)}`, t && p ? p / t : null, ">= 3x faster than Python (aim 10x)", t && p ? p / t >= 3 : null,
    { text: `first map, plain Array: ${fmt(ct, "s", 3)}; Python ${fmt(cp, "s", 3)}`, target: ">= 3x faster than Python", met: ct && cp ? cp / ct >= 3 : null });
}
{
  const s = m("startup", "ms");
  add("init() to first result", fmt(s, "ms"), "", null, "< 300 ms", s === null ? null : s < 300);
  const b = m("millionTasks", "bytesPerPendingTask"), rss = m("millionTasks", "peakRssMb"), sec = m("millionTasks", "seconds");
  add("1M tasks queued, then drained", `${fmt(b, "B/pending task")}, peak RSS ${fmt(rss, "MB")}, ${fmt(sec, "s", 1)}`, "", null, "completes; driver < 2 GB", rss === null ? null : rss < 2048);
  const a = m("thousandActors", "perActorMb"), n = m("thousandActors", "actors");
  add("1,000 actors alive", `${fmt(n, "actors")}, ${fmt(a, "MB/idle actor", 2)}`, "", null, "works; memory reported", n !== null);
}

{
  const gb = m("cluster", "transferGbPerSecond"), rt = m("cluster", "remoteRoundTripUs"), sp = m("cluster", "spreadSpeedup");
  add("cluster: 100 MB from one worker node to another", fmt(gb, "GB/s", 2), "pulled from the node that made it", null, ">= 1 GB/s", gb === null ? null : gb >= 1);
  add("cluster: task round trip to a worker node", fmt(rt, "µs"), "", null, "< 1 ms", rt === null ? null : rt < 1000);
  add("cluster: 20 ms tasks, 3 one-CPU nodes vs 1", sp === null ? "skipped" : `${sp.toFixed(2)}x`, "", null, ">= 2.5x", sp === null ? null : sp >= 2.5);
  const n = m("manyNodes", "nodes"), join = m("manyNodes", "joinSeconds"), listed = m("manyNodes", "listed"), used = m("manyNodes", "nodesUsed");
  const tasks = m("manyNodes", "tasks"), secs = m("manyNodes", "taskSeconds"), rss = m("manyNodes", "headIdleRssMb"), cpu = m("manyNodes", "headIdleCpuPercent");
  add(
    `cluster: ${fmt(n, "worker nodes")} join, SPREAD tasks`,
    `joined in ${fmt(join, "s", 1)}, ${fmt(listed, "listed")}; ${fmt(tasks, "tasks")} in ${fmt(secs, "s", 1)} on ${fmt(used, "nodes")}`,
    `head idle: ${fmt(rss, "MB")}, ${fmt(cpu, "% CPU", 1)}`, null, "join < 60 s, all listed, all used",
    join === null ? null : join < 60 && listed === (n ?? 0) + 1 && used === (n ?? 0) + 1,
  );
}

{
  const t = m("dataPipeline", "rowsPerSecond"), f = m("dataPipelineFloor", "rowsPerSecond");
  add("Data: range(10M) → mapBatches(x*2) → count", fmt(t, "rows/s"), `plain loop, one thread ${fmt(f, "rows/s")} (the floor)`, t && f ? t / f : null, "(reported against the floor)", null);
  const c = m("dataCsvParquet", "seconds"), p = m("dataCsvParquetPeer", "seconds"), mb = m("dataCsvParquet", "mbPerSecond");
  add("Data: CSV → Parquet, 200 MB", `${fmt(c, "s", 2)} (${fmt(mb, "MB/s", 1)})`, `one thread, same parser and writer ${fmt(p, "s", 2)}`, c && p ? p / c : null, "faster than one thread", c && p ? c < p : null);
  const rss = m("dataStreamRss", "peakRssMb"), size = m("dataStreamRss", "datasetMb"), store = m("dataStreamRss", "storeMb"), base = m("dataStreamRss", "baselineRssMb");
  add("Data: a dataset 10x the store, streamed", `peak RSS ${fmt(rss, "MB")} (${fmt(base, "MB")} after init)`, `${fmt(size, "MB")} through a ${fmt(store, "MB")} store`, null, "no ObjectStoreFullError; RSS well under the dataset", rss === null || size === null ? null : rss < size / 2);
}

{
  const s1 = m("serve1", "requestsPerSecond"), s2 = m("serve2", "requestsPerSecond"), p = m("servePlain", "requestsPerSecond"), h = m("serveHono", "requestsPerSecond");
  const p99 = m("serve1", "moderateP99Ms"), p50 = m("serve1", "moderateP50Ms"), pp99 = m("servePlain", "moderateP99Ms");
  add("Serve: no-op over HTTP, 1 replica (16 clients)", fmt(s1, "req/s"), `plain Node ${fmt(p, "req/s")}, Hono ${fmt(h, "req/s")}`, s1 && p ? s1 / p : null, ">= 0.5x the plain server", s1 && p ? s1 / p >= 0.5 : null);
  add("Serve: latency at moderate load (4 clients)", `p50 ${fmt(p50, "ms", 2)}, p99 ${fmt(p99, "ms", 2)}`, `plain Node p99 ${fmt(pp99, "ms", 2)}`, null, "p99 < 5 ms", p99 === null ? null : p99 < 5);
  add("Serve: no-op over HTTP, 2 replicas", fmt(s2, "req/s"), "", null, "(reported)", null);
  const b = m("serveBatched", "requestsPerSecond"), u = m("serveUnbatched", "requestsPerSecond");
  add("Serve: 1 ms handler, batched (16) vs not", fmt(b, "req/s"), `unbatched ${fmt(u, "req/s")}`, b && u ? b / u : null, "batched faster", b && u ? b > u : null);
}

const machine = {
  date: new Date().toISOString().slice(0, 10),
  cpu: os.cpus()[0]?.model ?? "unknown",
  cores: os.availableParallelism(),
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  rounds,
  smoke,
};
if (json) {
  console.log(JSON.stringify({ machine, rows, raw: results }, null, 2));
} else {
  console.log(`tsray benchmark, ${machine.date}, ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, Node ${machine.node}, median of ${rounds} round(s)${smoke ? " (smoke: tiny counts)" : ""}\n`);
  const header = ["workload", "tsray", "peer / reference", "ratio", "target", "met", "cold (fresh process, no warm-up)", "cold target", "met"];
  const yes = (met: boolean | null) => (met === null ? "" : met ? "yes" : "NO");
  const table = [header, ...rows.map((r) => [r.workload, r.tsray, r.peer, r.ratio, r.target, yes(r.met), r.cold, r.coldTarget, yes(r.coldMet)])];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  const line = (row: string[]) => `| ${row.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const row of table.slice(1)) console.log(line(row));
}
