/**
 * Global aggregates of one column (Dataset.sum, min, max, mean, std, unique), accumulated block
 * by block as the consumer reads them. Nulls are skipped. The sum is compensated (Neumaier) and
 * mean and variance follow Welford's one-pass update, so they stay exact to about 1e-15 relative
 * where a naive sum of squares would cancel.
 */
export class ColumnStats {
  count = 0;
  #sum = 0;
  #compensation = 0;
  #mean = 0;
  #m2 = 0;
  min: unknown = null;
  max: unknown = null;
  readonly #unique = new Set<unknown>();

  constructor(readonly column: string, private readonly wants: { numeric: boolean; unique: boolean }) {}

  add(values: readonly unknown[]): void {
    for (const value of values) {
      if (value === null || value === undefined) continue;
      if (this.wants.unique) this.#unique.add(value);
      if (this.min === null || (value as number) < (this.min as number)) this.min = value;
      if (this.max === null || (value as number) > (this.max as number)) this.max = value;
      this.count++;
      if (!this.wants.numeric) continue;
      if (typeof value !== "number") throw new TypeError(`column '${this.column}' holds ${typeof value} values; this aggregate needs numbers`);
      const t = this.#sum + value;
      this.#compensation += Math.abs(this.#sum) >= Math.abs(value) ? this.#sum - t + value : value - t + this.#sum;
      this.#sum = t;
      const delta = value - this.#mean;
      this.#mean += delta / this.count;
      this.#m2 += delta * (value - this.#mean);
    }
  }

  sum(): number | null {
    return this.count === 0 ? null : this.#sum + this.#compensation;
  }

  mean(): number | null {
    return this.count === 0 ? null : this.#mean;
  }

  /** Standard deviation with `ddof` degrees of freedom removed; 0 for fewer values than ddof + 1, as Ray gives. */
  std(ddof: number): number | null {
    if (this.count === 0) return null;
    if (this.count <= ddof) return 0;
    return Math.sqrt(this.#m2 / (this.count - ddof));
  }

  unique(): unknown[] {
    return [...this.#unique];
  }
}
