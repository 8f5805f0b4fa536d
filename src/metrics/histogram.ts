/** A Prometheus histogram: cumulative counts of observations under each bound, their sum and count. */
export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;

  /** `bounds`: upper bounds in ascending order (+Inf is implied). */
  constructor(readonly bounds: readonly number[]) {
    this.counts = bounds.map(() => 0);
  }

  observe(value: number): void {
    this.sum += value;
    this.count++;
    for (let i = 0; i < this.bounds.length; i++) if (value <= this.bounds[i]) this.counts[i]++;
  }

  /** The series' lines for metric `name`, with `labels` (already formatted, may be empty). */
  lines(name: string, labels: string): string[] {
    const join = (extra: string) => `{${labels ? `${labels},` : ""}${extra}}`;
    const out = this.bounds.map((b, i) => `${name}_bucket${join(`le="${b}"`)} ${this.counts[i]}`);
    out.push(`${name}_bucket${join('le="+Inf"')} ${this.count}`);
    const plain = labels ? `{${labels}}` : "";
    out.push(`${name}_sum${plain} ${this.sum}`, `${name}_count${plain} ${this.count}`);
    return out;
  }
}

/** Seconds, from 100 µs to 10 s: the span of a request's handling on a node. */
export const LATENCY_BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
