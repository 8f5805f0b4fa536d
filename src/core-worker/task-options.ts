/**
 * Task and actor options: checked once where the user gives them (naming the bad option), then
 * turned into the loaded form the submitter uses.
 */
import {
  checkBoolean, checkInteger, checkKnownOptions, checkNonNegativeNumber, checkResourceMap, checkString, checkStringMap, describe,
} from "../common/validate.js";
import { statSync } from "node:fs";
import path from "node:path";
import type { SchedulingSpec } from "../rpc/protocol.js";
import type { ActorOptions, ResourceOptions, SchedulingStrategy, TaskOptions } from "../types.js";

const RESOURCE_KEYS = ["numCpus", "numGpus", "memory", "resources", "schedulingStrategy", "runtimeEnv", "isolation"] as const;
export const TASK_OPTION_KEYS = [...RESOURCE_KEYS, "maxRetries", "retryExceptions", "numReturns", "name", "generatorBackpressureNumObjects"] as const;

/**
 * Items a streaming task may yield ahead of its consumer when its options do not say. Ray leaves
 * it unbounded by default; a bound keeps an unread generator from filling the object store.
 */
export const DEFAULT_GENERATOR_BACKPRESSURE = 16;
export const ACTOR_OPTION_KEYS = [
  ...RESOURCE_KEYS, "name", "namespace", "lifetime", "getIfExists", "maxRestarts", "maxTaskRetries", "maxConcurrency",
] as const;
export const METHOD_OPTION_KEYS = ["numReturns", "name"] as const;

function checkResourceOptions(what: string, o: ResourceOptions): void {
  checkNonNegativeNumber(`${what}.numCpus`, o.numCpus);
  checkNonNegativeNumber(`${what}.numGpus`, o.numGpus);
  checkNonNegativeNumber(`${what}.memory`, o.memory);
  checkResourceMap(`${what}.resources`, o.resources);
  for (const reserved of ["CPU", "GPU", "memory"]) {
    if (o.resources && reserved in o.resources) {
      throw new TypeError(`${what}.resources must not contain '${reserved}': use ${what}.${reserved === "CPU" ? "numCpus" : reserved === "GPU" ? "numGpus" : "memory"}`);
    }
  }
  if (o.runtimeEnv !== undefined) {
    checkKnownOptions(`${what}.runtimeEnv`, o.runtimeEnv, ["env", "workingDir"]);
    checkStringMap(`${what}.runtimeEnv.env`, o.runtimeEnv.env);
    checkWorkingDir(`${what}.runtimeEnv.workingDir`, o.runtimeEnv.workingDir);
  }
  if (o.isolation !== undefined && o.isolation !== "thread" && o.isolation !== "process") {
    throw new TypeError(`${what}.isolation must be "thread" or "process", got ${describe(o.isolation)}`);
  }
  if (o.isolation === "thread" && o.runtimeEnv?.workingDir !== undefined) {
    throw new TypeError(`${what}.runtimeEnv.workingDir needs a worker process (a thread shares its process's working directory): leave out isolation: "thread"`);
  }
  if (o.schedulingStrategy !== undefined) checkStrategy(`${what}.schedulingStrategy`, o.schedulingStrategy);
}

/** A working directory must be a folder that exists (on this machine: the node's is the driver's). */
export function checkWorkingDir(name: string, value: string | undefined): void {
  checkString(name, value);
  if (value === undefined) return;
  let isDir = false;
  try {
    isDir = statSync(value).isDirectory();
  } catch {
    // Reported below.
  }
  if (!isDir) throw new TypeError(`${name} must be an existing folder, got ${JSON.stringify(value)}`);
}

/** The spec's isolation and working directory from the options (a working directory implies a process). */
export function isolationOf(o: ResourceOptions): { isolation?: "process"; workingDir?: string } {
  const workingDir = o.runtimeEnv?.workingDir === undefined ? undefined : path.resolve(o.runtimeEnv.workingDir);
  if (workingDir !== undefined) return { isolation: "process", workingDir };
  return o.isolation === "process" ? { isolation: "process" } : {};
}

function checkStrategy(name: string, s: unknown): void {
  if (s === "DEFAULT" || s === "SPREAD") return;
  if (s && typeof s === "object") {
    const t = (s as { type?: unknown }).type;
    if (t === "node_affinity") {
      checkKnownOptions(name, s, ["type", "nodeId", "soft"]);
      checkString(`${name}.nodeId`, (s as { nodeId: unknown }).nodeId);
      checkBoolean(`${name}.soft`, (s as { soft: unknown }).soft);
      return;
    }
    if (t === "placement_group") {
      checkKnownOptions(name, s, ["type", "placementGroup", "bundleIndex"]);
      const pg = (s as { placementGroup?: { id?: unknown } }).placementGroup;
      if (!pg || typeof pg.id !== "string") throw new TypeError(`${name}.placementGroup must be a PlacementGroup from util.placementGroup()`);
      checkInteger(`${name}.bundleIndex`, (s as { bundleIndex?: unknown }).bundleIndex, -1);
      return;
    }
  }
  throw new TypeError(`${name} must be "DEFAULT", "SPREAD", or { type: "node_affinity" | "placement_group", ... }, got ${describe(s)}`);
}

export function checkTaskOptions(what: string, o: TaskOptions): void {
  checkKnownOptions(what, o, TASK_OPTION_KEYS);
  checkResourceOptions(what, o);
  checkInteger(`${what}.maxRetries`, o.maxRetries, -1);
  if (o.retryExceptions !== undefined && typeof o.retryExceptions !== "boolean") {
    if (!Array.isArray(o.retryExceptions) || o.retryExceptions.some((x) => typeof x !== "string")) {
      throw new TypeError(`${what}.retryExceptions must be a boolean or a list of error names, got ${describe(o.retryExceptions)}`);
    }
  }
  if (o.numReturns !== undefined && o.numReturns !== "streaming") checkInteger(`${what}.numReturns`, o.numReturns, 1, 0xfffe);
  checkString(`${what}.name`, o.name);
  const ahead = o.generatorBackpressureNumObjects;
  checkInteger(`${what}.generatorBackpressureNumObjects`, ahead, -1);
  if (ahead === 0) throw new RangeError(`${what}.generatorBackpressureNumObjects must be at least 1, or -1 for no limit, got 0`);
}

export function checkActorOptions(what: string, o: ActorOptions): void {
  checkKnownOptions(what, o, ACTOR_OPTION_KEYS);
  checkResourceOptions(what, o);
  checkString(`${what}.name`, o.name);
  checkString(`${what}.namespace`, o.namespace);
  if (o.lifetime !== undefined && o.lifetime !== "detached") throw new TypeError(`${what}.lifetime must be "detached" or left out, got ${describe(o.lifetime)}`);
  checkBoolean(`${what}.getIfExists`, o.getIfExists);
  if (o.getIfExists && !o.name) throw new TypeError(`${what}.getIfExists needs ${what}.name`);
  checkInteger(`${what}.maxRestarts`, o.maxRestarts, -1);
  checkInteger(`${what}.maxTaskRetries`, o.maxTaskRetries, -1);
  checkInteger(`${what}.maxConcurrency`, o.maxConcurrency, 1);
}

/** The resources a task asks for: CPU 1 unless told otherwise. */
export function taskResources(o: ResourceOptions, defaultCpus: number): Record<string, number> {
  const r: Record<string, number> = {};
  const cpus = o.numCpus ?? defaultCpus;
  if (cpus > 0) r.CPU = cpus;
  if (o.numGpus) r.GPU = o.numGpus;
  if (o.memory) r.memory = o.memory;
  for (const [k, v] of Object.entries(o.resources ?? {})) if (v > 0) r[k] = v;
  return r;
}

export function schedulingSpec(s: SchedulingStrategy | undefined): SchedulingSpec {
  if (s === undefined || s === "DEFAULT") return { type: "DEFAULT" };
  if (s === "SPREAD") return { type: "SPREAD" };
  if (s.type === "node_affinity") return { type: "node_affinity", nodeId: s.nodeId, soft: s.soft };
  return { type: "placement_group", placementGroupId: s.placementGroup.id, bundleIndex: s.bundleIndex ?? -1 };
}
