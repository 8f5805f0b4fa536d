/**
 * maxErroredBlocks (DataContext): an operator's blocks whose UDF failed, after its retries, may be
 * dropped with a warning on stderr instead of failing the execution, up to a limit shared by the
 * execution's operators (0: none, the default; -1: any). Past the limit the block's error rejects
 * the consumption as it would without this.
 *
 * Only when the limit is not 0 does the executor route an operator's output through here: each
 * block is then awaited before it is passed on, which the default path does not need to do.
 */
import * as ray from "tsray";
import type { BlockRef } from "./block.js";

/** How many blocks one execution may drop, and how many it has. */
export interface ErroredBlockBudget {
  readonly limit: number;
  dropped: number;
}

/** `limit`: DataContext.maxErroredBlocks (see executor.ts for where it comes from). */
export function erroredBlockBudget(limit: number): ErroredBlockBudget {
  if (!(Number.isInteger(limit) && limit >= -1)) throw new RangeError(`maxErroredBlocks must be an integer >= -1 (-1: any), got ${String(limit)}`);
  return { limit, dropped: 0 };
}

/** The operator's blocks, less those whose UDF failed, while the budget allows. */
export async function* droppingErroredBlocks(upstream: AsyncIterable<BlockRef>, operatorName: string, budget: ErroredBlockBudget): AsyncGenerator<BlockRef> {
  for await (const ref of upstream) {
    try {
      await ray.get(ref);
    } catch (error) {
      if (!isUdfFailure(error) || (budget.limit !== -1 && budget.dropped >= budget.limit)) throw error;
      budget.dropped++;
      const allowed = budget.limit === -1 ? "any allowed" : `${budget.dropped} of ${budget.limit} allowed`;
      process.stderr.write(`tsray Data: ${operatorName}: dropped a block whose UDF failed (maxErroredBlocks: ${allowed}): ${describe(error)}\n`);
      continue;
    }
    yield ref;
  }
}

/** The UDF threw, or its worker or actor died, once retries were spent (not a cancellation or a lost object). */
function isUdfFailure(error: unknown): boolean {
  return error instanceof ray.RayTaskError || error instanceof ray.WorkerCrashedError || error instanceof ray.RayActorError;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  const shown = cause instanceof Error ? cause : (error as Error);
  return `${shown.name}: ${shown.message}`.split("\n")[0]!;
}
