/**
 * The memory monitor: when the machine runs short of memory, it stops the task that started
 * last (as Ray does), so one runaway task fails with OutOfMemoryError instead of the node being
 * killed by the kernel. A task's JavaScript heap is also capped by its worker's heap limit (the
 * `memory` option); this catches what heap limits cannot see, such as huge ArrayBuffers.
 */
import { readFileSync } from "node:fs";
import os from "node:os";

export interface MemoryMonitorOptions {
  /** Fraction of system memory in use above which a task is stopped (Ray's default: 0.95). */
  threshold: number;
  intervalMs: number;
  /** Reads the fraction of memory in use. */
  usage?: () => number;
  /** Stops the newest task; returns false when there is none to stop. */
  stopNewestTask: () => boolean;
  log: (message: string) => void;
}

export class MemoryMonitor {
  private timer?: NodeJS.Timeout;
  constructor(private readonly o: MemoryMonitorOptions) {}

  start(): void {
    this.timer = setInterval(() => this.check(), this.o.intervalMs);
    this.timer.unref();
  }

  /** One look at memory; public so its policy can be tested with a given reading. */
  check(): boolean {
    const used = (this.o.usage ?? systemMemoryUsage)();
    if (used < this.o.threshold) return false;
    const stopped = this.o.stopNewestTask();
    if (stopped) this.o.log(`memory use is ${(used * 100).toFixed(1)}% (threshold ${(this.o.threshold * 100).toFixed(0)}%): stopped the newest task`);
    return stopped;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** Fraction of memory in use, counting reclaimable page cache as free (MemAvailable on Linux). */
export function systemMemoryUsage(): number {
  try {
    const info = readFileSync("/proc/meminfo", "utf8");
    const total = Number(/MemTotal:\s+(\d+)/.exec(info)?.[1]);
    const available = Number(/MemAvailable:\s+(\d+)/.exec(info)?.[1]);
    if (total > 0 && available >= 0) return 1 - available / total;
  } catch {
    // Not Linux: fall through.
  }
  return 1 - os.freemem() / os.totalmem();
}
