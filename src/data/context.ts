/**
 * DataContext: the process's settings of tsray Data (Ray's ray.data.DataContext).
 *
 * `DataContext.getCurrent()` is one mutable object per thread, made with the defaults on first use.
 * A Dataset keeps a copy of it as it was when the Dataset was made (plain data in its plan), so
 * changing the context later changes only datasets made later; the executor runs a plan with the
 * plan's copy, and its tasks install that copy as their thread's current context while they run,
 * so a UDF that reads `DataContext.getCurrent()` sees what its dataset was made with.
 */

/** objectStoreMemory and memory in bytes. */
export interface ExecutionResources { cpu?: number; gpu?: number; objectStoreMemory?: number; memory?: number }

export interface ExecutionOptions {
  /** Soft limits of one execution. Default: the cluster's CPUs and GPUs, half its object store. */
  resourceLimits: ExecutionResources;
  /** Resources left to other work (e.g. training); not with resourceLimits for the same kind. */
  excludeResources: ExecutionResources;
  /** Keep block order through every operator. Default false (tsray keeps the order anyway). */
  preserveOrder: boolean;
  /** Prefer running tasks on the consuming node (true) or on these node ids. Default false. */
  localityWithOutput: boolean | string[];
  /** Give an actor the blocks already on its node where possible. Default true. */
  actorLocalityEnabled: boolean;
}

export interface DataContext {
  /** Tasks split outputs larger than this into several blocks. Default 128 MiB. */
  targetMaxBlockSize: number;
  /** Reads avoid making blocks smaller than this; it takes precedence over readOpMinNumBlocks. Default 1 MiB. */
  targetMinBlockSize: number;
  /** The default number of read blocks, lowered for small inputs. Default 200. */
  readOpMinNumBlocks: number;
  executionOptions: ExecutionOptions;
  /** Progress on stderr while executing (see data-progress.ts). Default true. */
  enableProgressBars: boolean;
  /** Also per-operator lines (with enableProgressBars). Default true. */
  enableOperatorProgressBars: boolean;
  /** Blocks whose UDF failed that may be dropped with a warning instead of failing. Default 0; -1: any. */
  maxErroredBlocks: number;
}

const MiB = 1024 * 1024;

function defaults(): DataContext {
  return {
    targetMaxBlockSize: 128 * MiB,
    targetMinBlockSize: 1 * MiB,
    readOpMinNumBlocks: 200,
    executionOptions: {
      resourceLimits: {},
      excludeResources: {},
      preserveOrder: false,
      localityWithOutput: false,
      actorLocalityEnabled: true,
    },
    enableProgressBars: true,
    enableOperatorProgressBars: true,
    maxErroredBlocks: 0,
  };
}

let current: DataContext | undefined;

export const DataContext = {
  /** The process's context, made with the defaults on first use; mutate it to configure. */
  getCurrent(): DataContext {
    return (current ??= defaults());
  },
};

/** A copy of the current context, checked, for a Dataset being made: later changes to the context do not reach it. */
export function snapshotContext(): DataContext {
  const copy = structuredClone(DataContext.getCurrent());
  checkContext(copy);
  return copy;
}

/**
 * Runs `fn` with `context` as this thread's current context (a task running for a dataset made
 * elsewhere), then puts back the one before.
 */
export async function withContext<T>(context: DataContext | undefined, fn: () => Promise<T>): Promise<T> {
  if (context === undefined) return fn();
  const before = current;
  current = context;
  try {
    return await fn();
  } finally {
    current = before;
  }
}

/** Rejects settings that cannot work, naming the field; checked when a Dataset copies the context. */
function checkContext(c: DataContext): void {
  const positive = (name: string, v: unknown) => {
    if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) throw new RangeError(`DataContext.${name} must be a positive number, got ${String(v)}`);
  };
  positive("targetMaxBlockSize", c.targetMaxBlockSize);
  positive("targetMinBlockSize", c.targetMinBlockSize);
  if (!Number.isInteger(c.readOpMinNumBlocks) || c.readOpMinNumBlocks < 1) {
    throw new RangeError(`DataContext.readOpMinNumBlocks must be a positive integer, got ${String(c.readOpMinNumBlocks)}`);
  }
  if (!Number.isInteger(c.maxErroredBlocks) || c.maxErroredBlocks < -1) {
    throw new RangeError(`DataContext.maxErroredBlocks must be an integer ≥ -1 (-1: any), got ${String(c.maxErroredBlocks)}`);
  }
  const opts = c.executionOptions;
  if (typeof opts !== "object" || opts === null) throw new TypeError("DataContext.executionOptions must be an object");
  for (const field of ["resourceLimits", "excludeResources"] as const) {
    const resources = opts[field] ?? {};
    for (const [kind, value] of Object.entries(resources)) {
      if (!["cpu", "gpu", "objectStoreMemory", "memory"].includes(kind)) {
        throw new TypeError(`DataContext.executionOptions.${field} has no field '${kind}'; it takes cpu, gpu, objectStoreMemory, memory`);
      }
      if (value !== undefined && !(typeof value === "number" && value >= 0)) {
        throw new RangeError(`DataContext.executionOptions.${field}.${kind} must be a number ≥ 0, got ${String(value)}`);
      }
      if (field === "excludeResources" && value !== undefined && (opts.resourceLimits ?? {})[kind as keyof ExecutionResources] !== undefined) {
        throw new TypeError(`DataContext.executionOptions: ${kind} is set in both resourceLimits and excludeResources; set one`);
      }
    }
  }
  const locality = opts.localityWithOutput;
  if (typeof locality !== "boolean" && !(Array.isArray(locality) && locality.every((n) => typeof n === "string"))) {
    throw new TypeError("DataContext.executionOptions.localityWithOutput must be a boolean or an array of node ids");
  }
}
