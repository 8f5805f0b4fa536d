/**
 * maxErroredBlocks (DataContext): an operator's blocks whose UDF failed, after its retries, may be
 * dropped with a warning on stderr instead of failing the execution, up to a limit shared by the
 * execution's operators (0: none, the default; -1: any). Past the limit the block's error rejects
 * the consumption as it would without this.
 */
import * as ray from "tsray";

/** How many blocks one execution may drop, and how many it has. */
export interface ErroredBlockBudget {
  readonly limit: number;
  dropped: number;
}

/** `limit`: the dataset's DataContext.maxErroredBlocks. */
export function erroredBlockBudget(limit: number): ErroredBlockBudget {
  if (!(Number.isInteger(limit) && limit >= -1)) throw new RangeError(`maxErroredBlocks must be an integer >= -1 (-1: any), got ${String(limit)}`);
  return { limit, dropped: 0 };
}

/** Whether the block of this failed task or call may be dropped; if so it is counted, and said on stderr. */
export function mayDropErroredBlock(budget: ErroredBlockBudget, error: unknown, operatorName: string): boolean {
  if (!isUdfFailure(error) || (budget.limit !== -1 && budget.dropped >= budget.limit)) return false;
  budget.dropped++;
  const allowed = budget.limit === -1 ? "any allowed" : `${budget.dropped} of ${budget.limit} allowed`;
  process.stderr.write(`tsray Data: ${operatorName}: dropped a block whose UDF failed (maxErroredBlocks: ${allowed}): ${describe(error)}\n`);
  return true;
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
