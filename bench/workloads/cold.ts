// A user's first program, cold: a fresh process, no warm-up beyond what the program itself does.
// `node cold.ts <what> <impl>`:
//   burst-then-sync  20,000 async no-op tasks, then 3,000 sequential round trips (tsray | piscina)
//   big-rounds       four rounds of put(100 MB) + a task reading its length (tsray | piscina | floor)
//   pool-map         Pool.map(x => x * 10) over a plain Array of 1,000,000 numbers (tsray)
//   actor-calls      20,000 calls to one actor, then get them all (tsray)
//   big-rounds-rss   1,000 rounds of big-rounds in one process, then the process's RSS (tsray)
import { createRequire } from "node:module";
import * as ray from "tsray";
import { noop as noopBody } from "../peers/piscina-worker.mjs";
import { now, report, scale } from "./measure.js";
import { Target } from "./target.js";

const [what, impl = "tsray"] = process.argv.slice(2);
const BURST = scale(20_000, 500);
const SYNC = scale(3_000, 50);
const BIG = scale(100 * 2 ** 20, 2 ** 20) / 8;
const ITEMS = scale(1_000_000, 10_000);

function piscina(): { run(arg: unknown, opts?: { name: string }): Promise<unknown>; destroy(): Promise<void> } {
  const Piscina = createRequire(import.meta.url)("piscina");
  return new Piscina({ filename: new URL("../peers/piscina-worker.mjs", import.meta.url).href, minThreads: 2, maxThreads: 2 });
}

/** Milliseconds per call of `n` sequential calls. */
async function sequential(n: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const t = now();
  for (let i = 0; i < n; i++) await call(i);
  return (now() - t) / n;
}

/** `rounds` rounds of put(100 MB) and a task reading its length, in a fresh cluster: ms per round, and the RSS at the end. */
async function bigRounds(rounds: number): Promise<{ msPerRound: number; rssMb: number }> {
  const big = new Float64Array(BIG).fill(1);
  const len = ray.remote(function len(xs: Float64Array) {
    return xs.length;
  });
  await ray.init({ numCpus: 2, logToDriver: false });
  const t = now();
  for (let r = 0; r < rounds; r++) if ((await ray.get(len.remote(ray.put(big)))) !== BIG) throw new Error("wrong length");
  const msPerRound = (now() - t) / rounds;
  const rssMb = process.memoryUsage().rss / 2 ** 20;
  await ray.shutdown();
  return { msPerRound, rssMb };
}

switch (`${what}:${impl}`) {
  case "burst-then-sync:tsray": {
    const noop = ray.remote(noopBody);
    const inc = ray.remote(function inc(i: number) {
      return i + 1;
    });
    await ray.init({ numCpus: 2, logToDriver: false });
    let t = now();
    await ray.get(Array.from({ length: BURST }, () => noop.remote()));
    const burstMs = now() - t;
    const syncMs = await sequential(SYNC, (i) => ray.get(inc.remote(i)));
    await ray.shutdown();
    report({ tasksPerSecond: BURST / (burstMs / 1000), syncRoundTripUs: syncMs * 1000 });
    break;
  }
  case "burst-then-sync:piscina": {
    const pool = piscina();
    const t = now();
    await Promise.all(Array.from({ length: BURST }, () => pool.run(null)));
    const burstMs = now() - t;
    const syncMs = await sequential(SYNC, (i) => pool.run(i));
    await pool.destroy();
    report({ tasksPerSecond: BURST / (burstMs / 1000), syncRoundTripUs: syncMs * 1000 });
    break;
  }
  case "big-rounds:tsray":
    report({ msPerRound: (await bigRounds(4)).msPerRound });
    break;
  case "big-rounds-rss:tsray": {
    const rounds = scale(1_000, 10);
    report({ rounds, rssMb: (await bigRounds(rounds)).rssMb });
    break;
  }
  case "big-rounds:piscina": {
    const big = new Float64Array(BIG).fill(1);
    const pool = piscina();
    const t = now();
    for (let r = 0; r < 4; r++) if ((await pool.run(big, { name: "length" })) !== BIG) throw new Error("wrong length");
    const ms = (now() - t) / 4;
    await pool.destroy();
    report({ msPerRound: ms });
    break;
  }
  case "big-rounds:floor": {
    // What four rounds cannot do without: a copy of the array into fresh shared memory, then
    // three into that same memory (a put must copy; nothing need be read but the length).
    const big = new Float64Array(BIG).fill(1);
    const t = now();
    const shared = new Float64Array(new SharedArrayBuffer(BIG * 8));
    for (let r = 0; r < 4; r++) shared.set(big);
    report({ msPerRound: (now() - t) / 4 });
    break;
  }
  case "pool-map:tsray": {
    const items = Array.from({ length: ITEMS }, (_, i) => i);
    await ray.init({ numCpus: 2, logToDriver: false });
    const pool = new ray.util.Pool({ processes: 2 });
    const t = now();
    const out = await pool.map((x: number) => x * 10, items);
    const seconds = (now() - t) / 1000;
    if (out[ITEMS - 1] !== (ITEMS - 1) * 10) throw new Error("wrong result");
    await pool.close();
    await ray.shutdown();
    report({ seconds });
    break;
  }
  case "actor-calls:tsray": {
    await ray.init({ numCpus: 2, logToDriver: false });
    const a = ray.remote(Target).remote();
    const t = now();
    await ray.get(Array.from({ length: BURST }, () => a.call.remote()));
    const ms = now() - t;
    await ray.shutdown();
    report({ callsPerSecond: BURST / (ms / 1000) });
    break;
  }
  default:
    throw new Error(`unknown cold workload ${what} ${impl}`);
}
