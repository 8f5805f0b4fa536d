/** Resource arithmetic: amounts by name ("CPU", "GPU", "memory", custom names). */
export type ResourceSet = Record<string, number>;

const EPS = 1e-9;

export function fits(need: ResourceSet, available: ResourceSet): boolean {
  for (const k in need) if ((available[k] ?? 0) + EPS < need[k]) return false;
  return true;
}

export function subtract(from: ResourceSet, amount: ResourceSet): void {
  for (const k in amount) from[k] = (from[k] ?? 0) - amount[k];
}

export function add(to: ResourceSet, amount: ResourceSet): void {
  for (const k in amount) to[k] = (to[k] ?? 0) + amount[k];
}

/** A stable key for a resource shape, to queue tasks that need the same resources together. */
export function shapeKey(r: ResourceSet): string {
  return Object.keys(r).sort().map((k) => `${k}:${r[k]}`).join(",");
}

export function format(r: ResourceSet): string {
  const entries = Object.entries(r).filter(([, v]) => v !== 0);
  return entries.length ? `{${entries.map(([k, v]) => `${k}: ${round(v)}`).join(", ")}}` : "{}";
}

function round(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

let nextPoolId = 0;

/** The resources of one node (or one placement-group bundle): total and available. */
export class ResourcePool {
  readonly available: ResourceSet;
  /** Tells pools apart in queue keys. */
  readonly id = nextPoolId++;
  /** Set once its node is gone: work placed here is placed again. */
  closed = false;
  /**
   * `nodeId`: the worker node whose resources these are; undefined for the node this raylet
   * runs on (workers there are its own threads and processes).
   */
  constructor(readonly total: ResourceSet, readonly nodeId?: string) {
    this.available = { ...total };
  }

  /** How much of its CPUs (else of its resources) is in use, from 0 to 1. */
  utilization(): number {
    const keys = "CPU" in this.total ? ["CPU"] : Object.keys(this.total);
    let used = 0;
    let total = 0;
    for (const k of keys) {
      used += this.total[k] - (this.available[k] ?? 0);
      total += this.total[k];
    }
    return total > 0 ? used / total : 0;
  }
  canEverFit(need: ResourceSet): boolean {
    return fits(need, this.total);
  }
  tryAcquire(need: ResourceSet): boolean {
    if (!fits(need, this.available)) return false;
    subtract(this.available, need);
    return true;
  }
  /** Takes resources even past zero: a blocked task getting its CPU back. */
  forceAcquire(need: ResourceSet): void {
    subtract(this.available, need);
  }
  release(amount: ResourceSet): void {
    add(this.available, amount);
  }
}
