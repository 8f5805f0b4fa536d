/**
 * How much CPU and memory a node and each of its workers use, sampled when asked (a worker
 * node with each heartbeat, the head when its state is read): the dashboard's Nodes page and
 * the metrics show them. CPU is a percentage of one core over the time since the last sample.
 * A worker thread shares its process's memory: its CPU is its event loop's busy time; a worker
 * process (or a worker of another kind with a pid) is read from /proc, where there is one.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import type { EventLoopUtilization } from "node:perf_hooks";
import type { Worker } from "node:worker_threads";

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

/** A worker as the sampler sees it: a thread of this process, or a process of its own. */
export interface SampledWorker {
  id: string;
  thread?: Worker;
  pid(): number | undefined;
}

const TICKS_PER_SECOND = 100; // Linux's USER_HZ, which /proc/<pid>/stat counts in
const PAGE_BYTES = 4096;

export class UsageSampler {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private readonly threads = new WeakMap<Worker, EventLoopUtilization>();
  private readonly processes = new Map<number, { ticks: number; at: number }>();

  sample(workers: Iterable<SampledWorker>): NodeUsage {
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.lastAt);
    const cpu = process.cpuUsage(this.lastCpu);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const seen = new Set<number>();
    const out: WorkerUsage[] = [];
    for (const w of workers) {
      if (w.thread) {
        const before = this.threads.get(w.thread);
        const elu = w.thread.performance.eventLoopUtilization();
        this.threads.set(w.thread, elu);
        const delta = before ? w.thread.performance.eventLoopUtilization(elu, before) : elu;
        out.push({ workerId: w.id, cpuPercent: round(delta.utilization * 100) });
        continue;
      }
      const pid = w.pid();
      const stat = pid === undefined ? undefined : readProc(pid);
      if (pid === undefined || !stat) {
        out.push({ workerId: w.id, cpuPercent: 0 });
        continue;
      }
      seen.add(pid);
      const last = this.processes.get(pid);
      this.processes.set(pid, { ticks: stat.ticks, at: now });
      const cpuPercent = last ? ((stat.ticks - last.ticks) / TICKS_PER_SECOND / ((now - last.at) / 1000)) * 100 : 0;
      out.push({ workerId: w.id, pid, cpuPercent: round(cpuPercent), rssBytes: stat.rssBytes });
    }
    for (const pid of this.processes.keys()) if (!seen.has(pid)) this.processes.delete(pid);
    return {
      cpuPercent: round(((cpu.user + cpu.system) / 1000 / elapsedMs) * 100),
      rssBytes: process.memoryUsage.rss(),
      memoryTotalBytes: os.totalmem(),
      memoryUsedBytes: os.totalmem() - os.freemem(),
      workers: out,
    };
  }
}

/** A process's CPU time (ticks) and resident memory, from /proc; undefined where there is none. */
function readProc(pid: number): { ticks: number; rssBytes: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (2nd field) may hold spaces: fields are counted after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    const rssPages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
    return { ticks, rssBytes: rssPages * PAGE_BYTES };
  } catch {
    return undefined;
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
