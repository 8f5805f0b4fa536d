/**
 * Backpressure: what one execution may hold at once, and whether an operator may start another
 * task.
 *
 * The bytes an execution holds in the object store are its blocks made and not yet released
 * (an operator's outputs waiting for the next operator or for the consumer, and the inputs of
 * tasks still running), plus what its tasks in flight are expected to add (each operator's
 * output bytes per task so far). An operator may start a task only while that stays under
 * `resourceLimits.objectStoreMemory` (default: half the cluster's object store), so an operator
 * whose outputs are not consumed gets no new work and a dataset far larger than the store
 * streams through it. An operator with no task in flight may always start one: a single block
 * larger than the limit still goes through, one at a time.
 *
 * CPUs and GPUs: with a limit given (resourceLimits, or the cluster's minus excludeResources),
 * the tasks in flight of all operators together reserve at most that many. Without one, each
 * operator keeps its window (executor.ts) and the cluster's scheduler queues what does not fit.
 */
import * as ray from "tsray";
import type { BlockRef } from "./block.js";
import { noteFigures } from "./block-figures.js";
import type { DataContext, ExecutionResources } from "./context.js";
import type { ExecutionRecorder, OperatorStats } from "./execution-stats.js";

export interface ExecutionLimits {
  /** CPUs the tasks in flight may reserve together; undefined: no cap beyond each operator's window. */
  cpu: number | undefined;
  gpu: number | undefined;
  objectStoreMemory: number;
  /** The cluster's, for the progress line. */
  clusterCpu: number;
  clusterGpu: number;
}

/** The limits of an execution under `context`, from the cluster's resources. */
export async function executionLimits(context: DataContext): Promise<ExecutionLimits> {
  const cluster = await ray.clusterResources();
  const { resourceLimits: limits = {}, excludeResources: exclude = {} } = context.executionOptions;
  const capped = (kind: keyof ExecutionResources, total: number | undefined): number | undefined => {
    const limit = limits[kind];
    const excluded = exclude[kind];
    if (limit !== undefined) return limit;
    if (excluded !== undefined && total !== undefined) return Math.max(0, total - excluded);
    return undefined;
  };
  const store = cluster.object_store_memory ?? 2 * 1024 ** 3;
  return {
    cpu: capped("cpu", cluster.CPU ?? 1),
    gpu: capped("gpu", cluster.GPU ?? 0),
    objectStoreMemory: capped("objectStoreMemory", store / 2) ?? store / 2,
    clusterCpu: cluster.CPU ?? 1,
    clusterGpu: cluster.GPU ?? 0,
  };
}

export class ExecutionBudget {
  /** Blocks of this execution in the store, with their bytes and the operator that made them. */
  readonly #held = new Map<BlockRef, { bytes: number; op: OperatorStats }>();
  #heldBytes = 0;

  constructor(readonly limits: ExecutionLimits, private readonly recorder: ExecutionRecorder) {}

  heldBytes(): number {
    return this.#heldBytes;
  }

  /** Bytes held plus what the tasks in flight are expected to add: what the limit is checked against. */
  usedBytes(): number {
    let pending = 0;
    for (const op of this.recorder.operators) pending += op.active * op.bytesPerTask();
    return this.#heldBytes + pending;
  }

  /** CPUs and GPUs reserved by the tasks in flight. */
  reserved(): { cpu: number; gpu: number } {
    let cpu = 0;
    let gpu = 0;
    for (const op of this.recorder.operators) {
      cpu += op.active * op.taskResources.cpu;
      gpu += op.active * op.taskResources.gpu;
    }
    return { cpu, gpu };
  }

  /** Whether `op` may start one more task now; see the module comment. */
  mayStart(op: OperatorStats): boolean {
    if (op.active === 0) return true;
    const { cpu, gpu } = this.reserved();
    if (this.limits.cpu !== undefined && cpu + op.taskResources.cpu > this.limits.cpu) return false;
    if (this.limits.gpu !== undefined && op.taskResources.gpu > 0 && gpu + op.taskResources.gpu > this.limits.gpu) return false;
    return this.usedBytes() + op.bytesPerTask() <= this.limits.objectStoreMemory;
  }

  /** A block `op` made, now in the store: held until released. Its figures are noted for whoever counts its rows. */
  blockOut(op: OperatorStats, ref: BlockRef, rows: number, bytes: number): void {
    noteFigures(ref, { numRows: rows, bytes });
    op.blockOut(rows, bytes);
    this.#held.set(ref, { bytes, op });
    this.#heldBytes += bytes;
    if (this.#heldBytes > this.recorder.peakObjectStoreBytes) this.recorder.peakObjectStoreBytes = this.#heldBytes;
  }

  /** Whether this execution made the block (and may free it). */
  owns(ref: BlockRef): boolean {
    return this.#held.has(ref);
  }

  /**
   * The block is consumed: it no longer counts against the limit. `dispose`: this execution's ref
   * to it is given up now (the store frees it once nothing else holds it) rather than when collected.
   */
  release(ref: BlockRef, dispose: boolean): void {
    const held = this.#held.get(ref);
    if (!held) return;
    this.#held.delete(ref);
    this.#heldBytes -= held.bytes;
    held.op.queuedBlocks--;
    if (dispose) ref[Symbol.dispose]();
  }
}
