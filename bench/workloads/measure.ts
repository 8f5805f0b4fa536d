/** Small timing helpers shared by the workloads. */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Milliseconds `fn` takes. */
export async function time(fn: () => unknown): Promise<number> {
  const t = now();
  await fn();
  return now() - t;
}

/** Prints the workload's result for the runner, which reads the last line of stdout. */
export function report(result: Record<string, number>): void {
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

export const scale = (full: number, smoke: number): number => (process.env.TSRAY_BENCH_SMOKE ? smoke : full);

/**
 * The median time of `fn` over `rounds` timed rounds, after `warmup` untimed ones (the JIT has
 * then compiled the hot paths; every implementation measured gets the same).
 */
export async function medianTime(fn: () => unknown, rounds: number, warmup = 1): Promise<number> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) times.push(await time(fn));
  times.sort((a, b) => a - b);
  return times[times.length >> 1];
}
