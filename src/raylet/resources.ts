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
  constructor(readonly total: ResourceSet) {
    this.available = { ...total };
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
