/**
 * Dependency resolution: a task waits until the objects its top-level ref arguments name are
 * sealed. A failed dependency fails the task with the same error, so a failure propagates
 * through every task that depends on it.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { ObjectTable, ObjectValue, Waiter } from "../object-store/object-table.js";
import type { FromRaylet, TaskSpec } from "../rpc/protocol.js";
import type { PooledWorker } from "./worker-pool.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";

const NOTHING_TO_CANCEL = (): void => {};

const NONE: readonly string[] = Object.freeze([]);

/** Ids of the spec's top-level ref arguments (a shared empty list when there are none). */
export function refArgs(spec: TaskSpec): readonly string[] {
  let ids: string[] | undefined;
  for (const a of spec.args) if ("ref" in a) (ids ??= []).push(a.ref);
  return ids ?? NONE;
}

/** Calls `done` once every dependency is sealed (with the first failure, if any). Returns a canceller. */
export function whenDependenciesReady(table: ObjectTable, spec: TaskSpec, done: (failure?: ErrorInfo) => void): () => void {
  const ids = refArgs(spec);
  let left = ids.length;
  let finished = false;
  if (left === 0) {
    done();
    return NOTHING_TO_CANCEL;
  }
  const waiters: [string, Waiter][] = [];
  const onReady = (value: ObjectValue) => {
    if (finished) return;
    if (!value.ok) {
      finished = true;
      cancel();
      done(value.error);
    } else if (--left === 0) {
      finished = true;
      done();
    }
  };
  const cancel = () => {
    for (const [id, w] of waiters) table.cancelWait(id, w);
  };
  for (const id of ids) {
    if (finished) break;
    const w: Waiter = (v) => onReady(v);
    waiters.push([id, w]);
    table.whenReady(id, w);
  }
  return () => {
    finished = true;
    cancel();
  };
}

/** The execute message for a spec: its ref arguments' sealed values and the descriptors the worker lacks, when any. */
export function executeMessage(table: ObjectTable, spec: TaskSpec, worker: PooledWorker, functions: FunctionDescriptor[] = []): Extract<FromRaylet, { t: "execute" }> {
  const msg: Extract<FromRaylet, { t: "execute" }> = { t: "execute", spec };
  const ids = refArgs(spec);
  if (ids.length) msg.args = ids.map((id) => table.deliver(id, worker.readsArena ? worker.id : undefined) ?? lost(id));
  if (functions.length) msg.functions = functions;
  return msg;
}

/** An argument that went while its task waited to be sent (the node that had it died meanwhile). */
function lost(id: string): ObjectValue {
  return { ok: false, error: { code: "OBJECT_LOST", name: "ObjectLostError", message: `object ${id} was lost before the task that reads it started` } };
}

/** Holds taken for a spec while it lives: its ref args and the refs nested in its args. */
export function heldRefs(spec: TaskSpec): readonly string[] {
  const ids = refArgs(spec);
  return spec.nestedRefs ? ids.concat(spec.nestedRefs) : ids;
}
