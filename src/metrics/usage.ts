/**
 * How much CPU and memory a node and each of its workers use, sampled when asked (a worker
 * node with each heartbeat, the head when its state is read): the dashboard's Nodes page and
 * the metrics show them. CPU is a percentage of one core over the time since the last sample.
 * A worker thread shares its process's memory: its CPU is its event loop's busy time; a worker
 * process (or a worker of another kind with a pid) is read from /proc, where there is one.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

export interface WorkerUsage {
  workerId: string;
  cpuPercent: number;
  /** Its own memory: a process's resident set; absent for a thread (it shares the node's). */
  rssBytes?: number;
  pid?: number;
}

export interface NodeUsage {
  /** This process: the node's main thread and its worker threads. */
  cpuPercent: number;
  rssBytes: number;
  /** The machine's memory. */
  memoryTotalBytes: number;
  memoryUsedBytes: number;
  workers: WorkerUsage[];
}

/** A worker as the sampler sees it: a thread of this process (its OS thread id), or a process of its own. */
export interface SampledWorker {
  id: string;
  tid?: number;
  pid(): number | undefined;
}

const TICKS_PER_SECOND = 100; // Linux's USER_HZ, which /proc/<pid>/stat counts in
const PAGE_BYTES = 4096;

export class UsageSampler {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  /** The last reading of each thread and process, by /proc path. */
  private readonly last = new Map<string, { ticks: number; at: number }>();

  sample(workers: Iterable<SampledWorker>): NodeUsage {
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.lastAt);
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const seen = new Set<string>();
    const out: WorkerUsage[] = [];
    for (const w of workers) {
      const pid = w.pid();
      const where = w.tid !== undefined ? `/proc/self/task/${w.tid}` : pid !== undefined ? `/proc/${pid}` : undefined;
      const stat = where === undefined ? undefined : readProc(where);
      if (where === undefined || !stat) {
        out.push({ workerId: w.id, cpuPercent: 0 });
        continue;
      }
      seen.add(where);
      const last = this.last.get(where);
      this.last.set(where, { ticks: stat.ticks, at: now });
      const cpuPercent = last ? ((stat.ticks - last.ticks) / TICKS_PER_SECOND / ((now - last.at) / 1000)) * 100 : 0;
      // A thread's memory is its process's: only a process has its own.
      out.push(w.tid !== undefined ? { workerId: w.id, cpuPercent: round(cpuPercent) } : { workerId: w.id, pid, cpuPercent: round(cpuPercent), rssBytes: stat.rssBytes });
    }
    for (const where of this.last.keys()) if (!seen.has(where)) this.last.delete(where);
    return {
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
      rssBytes: process.memoryUsage.rss(),
      memoryTotalBytes: os.totalmem(),
      memoryUsedBytes: os.totalmem() - os.freemem(),
      workers: out,
    };
  }
}

/** A process's or thread's CPU time (ticks) and its process's resident memory, from /proc; undefined where there is none. */
function readProc(where: string): { ticks: number; rssBytes: number } | undefined {
  try {
    const stat = readFileSync(`${where}/stat`, "utf8");
    // The command name (2nd field) may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    const rssPages = Number(readFileSync(`${where}/statm`, "utf8").split(" ")[1]);
    return { ticks, rssBytes: rssPages * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
