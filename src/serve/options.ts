/**
 * Deployment options (serve.d.ts DeploymentOptions): checked where they are given (deployment(),
 * .options(), bind()), each error naming the option: TypeError for an unknown name or a wrong type,
 * RangeError for a value out of range. The defaults are Ray Serve's.
 */
import type { ActorOptions } from "tsray";

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface AutoscalingConfig {
  minReplicas?: number;
  initialReplicas?: number;
  maxReplicas?: number;
  targetOngoingRequests?: number;
  metricsIntervalMs?: number;
  lookBackPeriodMs?: number;
  upscaleDelayMs?: number;
  downscaleDelayMs?: number;
}

export interface DeploymentOptions {
  name?: string;
  numReplicas?: number | "auto";
  autoscalingConfig?: AutoscalingConfig;
  maxOngoingRequests?: number;
  maxQueuedRequests?: number;
  rayActorOptions?: Pick<ActorOptions, "numCpus" | "numGpus" | "memory" | "resources" | "runtimeEnv">;
  userConfig?: JsonValue;
  gracefulShutdownTimeoutMs?: number;
  healthCheckPeriodMs?: number;
  healthCheckTimeoutMs?: number;
  maxConstructorRetryCount?: number;
}

/** An autoscalingConfig with every default filled in (Ray Serve's defaults). */
export type ResolvedAutoscaling = Required<AutoscalingConfig>;

/** Options with every default filled in, as the controller and routers use them. */
export interface ResolvedOptions {
  /** The fixed count, or with autoscaling the replicas started on deploy (initialReplicas). */
  numReplicas: number;
  /** Set when the replica count follows load (autoscalingConfig or numReplicas "auto"). */
  autoscaling?: ResolvedAutoscaling;
  maxOngoingRequests: number;
  maxQueuedRequests: number;
  rayActorOptions: NonNullable<DeploymentOptions["rayActorOptions"]>;
  userConfig?: JsonValue;
  gracefulShutdownTimeoutMs: number;
  healthCheckPeriodMs: number;
  healthCheckTimeoutMs: number;
  maxConstructorRetryCount: number;
}

const KEYS = ["name", "numReplicas", "autoscalingConfig", "maxOngoingRequests", "maxQueuedRequests", "rayActorOptions",
  "userConfig", "gracefulShutdownTimeoutMs", "healthCheckPeriodMs", "healthCheckTimeoutMs", "maxConstructorRetryCount"];
const AUTOSCALING_KEYS = ["minReplicas", "initialReplicas", "maxReplicas", "targetOngoingRequests", "metricsIntervalMs",
  "lookBackPeriodMs", "upscaleDelayMs", "downscaleDelayMs"];
const ACTOR_KEYS = ["numCpus", "numGpus", "memory", "resources", "runtimeEnv"];

const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

function checkObject(what: string, value: unknown, known: readonly string[]): asserts value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${what} must be an object, got ${typeName(value)}`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`${what} has no option '${key}' (known: ${known.join(", ")})`);
  }
}

function checkNumber(name: string, value: unknown, { min, integer, allowMinusOne }: { min: number; integer: boolean; allowMinusOne?: boolean }): void {
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`deployment option ${name} must be a number, got ${typeName(value)}`);
  if (allowMinusOne && value === -1) return;
  if ((integer && !Number.isInteger(value)) || value < min || !Number.isFinite(value)) {
    throw new RangeError(`deployment option ${name} must be ${integer ? "an integer" : "a number"} >= ${min}${allowMinusOne ? " (or -1)" : ""}, got ${value}`);
  }
}

function checkJson(name: string, value: unknown, seen = new Set<unknown>()): void {
  if (value === null || typeof value === "string" || typeof value === "boolean") return;
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new TypeError(`deployment option ${name} must be JSON: ${value} is not`);
    return;
  }
  if (typeof value !== "object" || seen.has(value)) throw new TypeError(`deployment option ${name} must be JSON, got ${typeName(value)}`);
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null) throw new TypeError(`deployment option ${name} must be JSON, got a ${value.constructor?.name ?? "class instance"}`);
  seen.add(value);
  for (const [k, v] of Object.entries(value)) checkJson(`${name}.${k}`, v, seen);
  seen.delete(value);
}

/** Throws on bad options; returns them unchanged (a copy) otherwise. */
export function checkDeploymentOptions(opts: unknown): DeploymentOptions {
  if (opts === undefined) return {};
  checkObject("deployment options", opts, KEYS);
  const o = opts as DeploymentOptions;
  if (o.name !== undefined && (typeof o.name !== "string" || o.name === "")) throw new TypeError(`deployment option name must be a non-empty string, got ${typeName(o.name)}`);
  if (o.name !== undefined && o.name.includes("#")) throw new TypeError(`deployment option name must not contain '#', got ${JSON.stringify(o.name)}`);
  if (o.numReplicas !== undefined && o.numReplicas !== "auto") {
    if (typeof o.numReplicas !== "number") throw new TypeError(`deployment option numReplicas must be a number or "auto", got ${typeName(o.numReplicas)}`);
    checkNumber("numReplicas", o.numReplicas, { min: 0, integer: true });
    if (o.autoscalingConfig !== undefined) throw new TypeError("deployment options numReplicas (a number) and autoscalingConfig exclude each other: give one");
  }
  if (o.autoscalingConfig !== undefined) {
    checkObject("deployment option autoscalingConfig", o.autoscalingConfig, AUTOSCALING_KEYS);
    const a = o.autoscalingConfig as AutoscalingConfig;
    for (const key of ["minReplicas", "initialReplicas", "maxReplicas"] as const) checkNumber(`autoscalingConfig.${key}`, a[key], { min: 0, integer: true });
    checkNumber("autoscalingConfig.targetOngoingRequests", a.targetOngoingRequests, { min: Number.MIN_VALUE, integer: false });
    for (const key of ["metricsIntervalMs", "lookBackPeriodMs", "upscaleDelayMs", "downscaleDelayMs"] as const) checkNumber(`autoscalingConfig.${key}`, a[key], { min: 0, integer: false });
    const min = a.minReplicas ?? 1;
    const max = a.maxReplicas ?? (o.numReplicas === "auto" ? 100 : 1);
    if (max < min) throw new RangeError(`deployment option autoscalingConfig.maxReplicas (${max}) must be >= autoscalingConfig.minReplicas (${min})`);
    if (a.maxReplicas !== undefined && a.maxReplicas < 1) throw new RangeError("deployment option autoscalingConfig.maxReplicas must be >= 1");
    if (a.initialReplicas !== undefined && (a.initialReplicas < min || a.initialReplicas > max)) {
      throw new RangeError(`deployment option autoscalingConfig.initialReplicas (${a.initialReplicas}) must be between minReplicas (${min}) and maxReplicas (${max})`);
    }
  }
  checkNumber("maxOngoingRequests", o.maxOngoingRequests, { min: 1, integer: true });
  checkNumber("maxQueuedRequests", o.maxQueuedRequests, { min: 0, integer: true, allowMinusOne: true });
  checkNumber("gracefulShutdownTimeoutMs", o.gracefulShutdownTimeoutMs, { min: 0, integer: false });
  checkNumber("healthCheckPeriodMs", o.healthCheckPeriodMs, { min: 1, integer: false });
  checkNumber("healthCheckTimeoutMs", o.healthCheckTimeoutMs, { min: 1, integer: false });
  checkNumber("maxConstructorRetryCount", o.maxConstructorRetryCount, { min: 1, integer: true });
  if (o.rayActorOptions !== undefined) {
    checkObject("deployment option rayActorOptions", o.rayActorOptions, ACTOR_KEYS);
    const r = o.rayActorOptions;
    checkNumber("rayActorOptions.numCpus", r.numCpus, { min: 0, integer: false });
    checkNumber("rayActorOptions.numGpus", r.numGpus, { min: 0, integer: false });
    checkNumber("rayActorOptions.memory", r.memory, { min: 0, integer: false });
    if (r.resources !== undefined) {
      checkObject("deployment option rayActorOptions.resources", r.resources, Object.keys(r.resources as object));
      for (const [k, v] of Object.entries(r.resources)) checkNumber(`rayActorOptions.resources.${k}`, v, { min: 0, integer: false });
    }
  }
  if (o.userConfig !== undefined) checkJson("userConfig", o.userConfig);
  return { ...o };
}

/** Fills the defaults in. */
export function resolveOptions(o: DeploymentOptions): ResolvedOptions {
  const a = o.autoscalingConfig;
  const autoscaling = typeof o.numReplicas !== "number" && (a !== undefined || o.numReplicas === "auto") ? resolveAutoscaling(a ?? {}, o.numReplicas === "auto") : undefined;
  const numReplicas = typeof o.numReplicas === "number" ? o.numReplicas : autoscaling?.initialReplicas ?? 1;
  return {
    numReplicas,
    ...(autoscaling !== undefined ? { autoscaling } : {}),
    maxOngoingRequests: o.maxOngoingRequests ?? 5,
    maxQueuedRequests: o.maxQueuedRequests ?? -1,
    rayActorOptions: o.rayActorOptions ?? { numCpus: 1 },
    ...(o.userConfig !== undefined ? { userConfig: o.userConfig } : {}),
    gracefulShutdownTimeoutMs: o.gracefulShutdownTimeoutMs ?? 20_000,
    healthCheckPeriodMs: o.healthCheckPeriodMs ?? 10_000,
    healthCheckTimeoutMs: o.healthCheckTimeoutMs ?? 30_000,
    maxConstructorRetryCount: o.maxConstructorRetryCount ?? 20,
  };
}

function resolveAutoscaling(a: AutoscalingConfig, auto: boolean): ResolvedAutoscaling {
  const minReplicas = a.minReplicas ?? 1;
  return {
    minReplicas,
    initialReplicas: a.initialReplicas ?? minReplicas,
    maxReplicas: a.maxReplicas ?? (auto ? 100 : 1),
    targetOngoingRequests: a.targetOngoingRequests ?? 2,
    metricsIntervalMs: a.metricsIntervalMs ?? 10_000,
    lookBackPeriodMs: a.lookBackPeriodMs ?? 30_000,
    upscaleDelayMs: a.upscaleDelayMs ?? 30_000,
    downscaleDelayMs: a.downscaleDelayMs ?? 600_000,
  };
}
