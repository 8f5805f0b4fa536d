/**
 * Building task specs and submitting them: the part of the core worker behind `.remote()`.
 * Returns are owned by the submitter: the store counts one hold for each until this thread's
 * ObjectRefs for them are gone.
 */
import { objectIdOf } from "../common/ids.js";
import type { ActorCreationSpec, TaskArg, TaskSpec } from "../rpc/protocol.js";
import { checkNotDisposed, isObjectRef } from "../serialization/prepare.js";
import type { CoreWorker } from "./core-worker.js";
import type { FunctionDescriptor } from "./function-manager/descriptor.js";
import { ObjectRef } from "./object-ref.js";
import type { ActorOptions, ResourceOptions, TaskOptions } from "../types.js";
import { isolationOf, schedulingSpec, taskResources } from "./task-options.js";

export interface Submitted {
  taskId: string;
  refs: ObjectRef[];
}

/** One resources object per options object: a million queued tasks share it rather than each carry a copy. */
const resourcesByOptions = new WeakMap<TaskOptions, Record<string, number>>();
function resourcesOf(opts: TaskOptions): Record<string, number> {
  let r = resourcesByOptions.get(opts);
  if (!r) resourcesByOptions.set(opts, (r = Object.freeze(taskResources(opts, 1)) as Record<string, number>));
  return r;
}

const NO_RESOURCES: Record<string, number> = Object.freeze({}) as Record<string, number>;

/** Sets where and how the work runs (strategy, env, heap, isolation), each left out at its default. */
function placement(spec: TaskSpec, opts: ResourceOptions): void {
  const s = schedulingSpec(opts.schedulingStrategy);
  if (s.type !== "DEFAULT") spec.scheduling = s;
  if (opts.runtimeEnv?.env) spec.env = opts.runtimeEnv.env;
  if (opts.memory) spec.memoryBytes = opts.memory;
  if (opts.isolation === "process" || opts.runtimeEnv?.workingDir !== undefined) Object.assign(spec, isolationOf(opts));
}

/** What a call without arguments serializes to: shared, never modified. */
const NO_ARGS = Object.freeze({ args: Object.freeze([]) as unknown as TaskArg[], nestedRefs: Object.freeze([]) as unknown as string[], transfers: Object.freeze([]) as unknown as string[] });

/**
 * Serializes task arguments: top-level ObjectRefs are passed by reference (the task waits for
 * them), everything else by value; a value with large shared bodies becomes an object of its
 * own (`transfers`), so its memory is freed when the task ends.
 */
function serializeArgs(cw: CoreWorker, args: readonly unknown[]): { args: TaskArg[]; nestedRefs: string[]; transfers: string[] } {
  if (args.length === 0) return NO_ARGS;
  const out: TaskArg[] = new Array(args.length);
  const nested: string[] = [];
  const transfers: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (isObjectRef(a)) {
      checkNotDisposed(a as ObjectRef, `args[${i}]`);
      const id = (a as ObjectRef).hex();
      cw.passOn(id);
      out[i] = { ref: id };
      continue;
    }
    const v = cw.serializeValue(a, `args[${i}]`);
    if (v.refs) nested.push(...v.refs);
    if (v.slices || v.bodies || v.segments) {
      const id = objectIdOf(cw.newTaskId(), 0);
      cw.send({ t: "put", id, value: v });
      out[i] = { ref: id };
      transfers.push(id);
    } else out[i] = { v };
  }
  return { args: out, nestedRefs: nested, transfers };
}

function baseSpec(cw: CoreWorker, name: string, args: readonly unknown[], numReturns: number | "streaming"): { spec: TaskSpec; transfers: string[] } {
  const { args: wireArgs, nestedRefs, transfers } = serializeArgs(cw, args);
  const parent = cw.currentTask();
  const spec: TaskSpec = {
    taskId: cw.newTaskId(),
    name,
    args: wireArgs,
    numReturns,
    resources: NO_RESOURCES,
    maxRetries: 0,
    ownerId: cw.info.workerId,
  };
  if (nestedRefs.length) spec.nestedRefs = nestedRefs;
  if (parent) spec.parentTaskId = parent.taskId;
  return { spec, transfers };
}

function allInline(args: TaskArg[]): boolean {
  for (let i = 0; i < args.length; i++) if (!("v" in args[i])) return false;
  return true;
}

/** The ids of a task's returns: n, or for streaming the end-of-stream object. */
function returnIds(taskId: string, numReturns: number | "streaming"): string[] {
  if (numReturns === "streaming") return [objectIdOf(taskId, 0)];
  const ids: string[] = new Array(numReturns);
  for (let i = 0; i < numReturns; i++) ids[i] = objectIdOf(taskId, i + 1);
  return ids;
}

/** Submits the spec; the submitter's refs to its returns, which the raylet sends it when sealed. */
function submitAndRefer(cw: CoreWorker, spec: TaskSpec, transfers: string[]): ObjectRef[] {
  const ids = returnIds(spec.taskId, spec.numReturns);
  cw.submit(spec, transfers, ids);
  return ids.map((id) => new ObjectRef(id, true));
}

export function submitTask(cw: CoreWorker, desc: FunctionDescriptor, args: readonly unknown[], opts: TaskOptions): Submitted {
  cw.registerFunction(desc);
  const numReturns = opts.numReturns ?? 1;
  const { spec, transfers } = baseSpec(cw, opts.name ?? desc.name, args, numReturns);
  spec.fnId = desc.id;
  spec.resources = resourcesOf(opts);
  spec.maxRetries = opts.maxRetries ?? 3;
  if (opts.retryExceptions) spec.retryExceptions = opts.retryExceptions;
  placement(spec, opts);
  if (numReturns === "streaming" && opts.generatorBackpressureNumObjects !== undefined) spec.backpressure = opts.generatorBackpressureNumObjects;
  return { taskId: spec.taskId, refs: submitAndRefer(cw, spec, transfers) };
}

export function submitActorCreation(
  cw: CoreWorker,
  desc: FunctionDescriptor,
  args: readonly unknown[],
  opts: ActorOptions,
  actor: Omit<ActorCreationSpec, "actorId">,
): { actorId: string; creation: ObjectRef } {
  cw.registerFunction(desc);
  const { spec, transfers } = baseSpec(cw, `${actor.className}.constructor`, args, 1);
  spec.fnId = desc.id;
  // As in Ray: an actor needs 1 CPU to be placed and holds none while alive, unless it asks.
  spec.resources = taskResources(opts, 1);
  spec.maxRetries = 0;
  placement(spec, opts);
  const actorId = spec.taskId;
  spec.actor = { ...actor, actorId };
  spec.actorId = actorId;
  return { actorId, creation: submitAndRefer(cw, spec, transfers)[0] };
}

/** A method call; `name` is the task's name (`Class.method` unless the options name it). */
export function submitActorTask(
  cw: CoreWorker,
  actor: { actorId: string; maxTaskRetries: number },
  method: string,
  name: string,
  args: readonly unknown[],
  numReturns = 1,
): ObjectRef[] {
  const { spec, transfers } = baseSpec(cw, name, args, numReturns);
  spec.actorId = actor.actorId;
  spec.method = method;
  spec.maxRetries = actor.maxTaskRetries;
  if (!transfers.length && !spec.nestedRefs && allInline(spec.args)) {
    const ids = returnIds(spec.taskId, numReturns);
    if (cw.submitDirect(spec, ids)) return ids.map((id) => new ObjectRef(id, true));
  }
  return submitAndRefer(cw, spec, transfers);
}
