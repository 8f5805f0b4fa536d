/**
 * The young generation of workers' heaps. V8 grows each semi-space of a heap up to 16 MB while
 * many objects survive its scavenges, and a scavenge copies every survivor: in an actor serving
 * requests (a Serve proxy or replica), objects kept alive by garbage already promoted pile up,
 * and scavenges of 5 ms and more set the tail latency. Semi-spaces of 4 MB keep them near 1 ms
 * (Serve's p99 at moderate load 6 ms → 2.7 ms on the benchmark machine, 2026-11-29), with
 * no change to the core benchmarks' throughput. A program's own --max-semi-space-size wins.
 */
const SEMI_SPACE_MB = 4;

/** Whether the node was started with a young-generation size of the user's. */
const userSized = (execArgv: readonly string[]) => execArgv.some((a) => a.startsWith("--max-semi-space-size"));

/** The flags a worker process starts with, ahead of `execArgv` (whose own flags come later and win). */
export function youngGenerationFlags(execArgv: readonly string[]): string[] {
  return userSized(execArgv) ? [] : [`--max-semi-space-size=${SEMI_SPACE_MB}`];
}

/** A worker thread's young generation (two semi-spaces and the new large-object space), unless the user sized it. */
export function youngGenerationMb(execArgv: readonly string[] = process.execArgv): number | undefined {
  return userSized(execArgv) ? undefined : 3 * SEMI_SPACE_MB;
}
