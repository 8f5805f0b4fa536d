/**
 * deployment(), Deployment and Application: what the user writes before run(). A deployment keeps
 * its class or function shipped (util.shipFunction, described now while the user's frame is on the
 * stack, so replicas load it as ray.remote code is loaded) and its checked options; bind() makes an
 * Application, a node of the graph run() deploys (app-spec.ts turns it into the controller's spec).
 */
import * as ray from "tsray";
import { checkDeploymentOptions, type DeploymentOptions } from "./options.js";

/** The class or function of a deployment, and what replicas need to rebuild it. */
export interface DeploymentDef {
  readonly name: string;
  readonly target: Function;
  readonly shipped: ray.util.ShippedFunction;
  readonly isClass: boolean;
  readonly options: DeploymentOptions;
}

export function isClassTarget(fn: Function): boolean {
  return /^class[\s{]/.test(Function.prototype.toString.call(fn));
}

export class Application<T = unknown> {
  declare private readonly __servable?: T;
  /** @internal */
  constructor(readonly def: DeploymentDef, readonly args: readonly unknown[]) {}
}

export class Deployment<T = unknown, A extends unknown[] = unknown[]> {
  declare private readonly __types?: [T, A];
  /** @internal */
  constructor(readonly def: DeploymentDef) {}

  get name(): string {
    return this.def.name;
  }

  bind(...args: unknown[]): Application<T> {
    args.forEach((arg, i) => checkBindable(arg, `${this.def.name}.bind() argument ${i}`, new Set()));
    return new Application<T>(this.def, args);
  }

  options(opts: DeploymentOptions): Deployment<T, A> {
    const checked = checkDeploymentOptions(opts);
    const merged = { ...this.def.options, ...checked };
    // A count replaces autoscaling given before, and the other way round (they exclude each other).
    if (typeof checked.numReplicas === "number") delete merged.autoscalingConfig;
    if (checked.autoscalingConfig !== undefined && typeof this.def.options.numReplicas === "number" && checked.numReplicas === undefined) delete merged.numReplicas;
    checkDeploymentOptions(merged);
    return new Deployment<T, A>({ ...this.def, name: merged.name ?? this.def.name, options: merged });
  }
}

export function deployment(target: Function, opts?: DeploymentOptions): Deployment<any, any> {
  if (typeof target !== "function") throw new TypeError(`deployment() takes a class or function, got ${target === null ? "null" : typeof target}`);
  const options = checkDeploymentOptions(opts);
  const name = options.name ?? target.name;
  if (!name) throw new TypeError("deployment(): the class or function has no name: give option name");
  return new Deployment({ name, target, shipped: ray.util.shipFunction(target), isClass: isClassTarget(target), options });
}

/** Bound arguments must travel to replicas: no functions or symbols (TypeError at bind(), naming where). */
function checkBindable(value: unknown, where: string, seen: Set<unknown>): void {
  if (typeof value === "function") throw new TypeError(`${where} is a function, which cannot be sent to replicas: bind data, Applications or handles`);
  if (typeof value === "symbol") throw new TypeError(`${where} is a symbol, which cannot be sent to replicas`);
  if (typeof value !== "object" || value === null || seen.has(value) || value instanceof Application) return;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return;
  seen.add(value);
  if (value instanceof Map) {
    for (const [k, v] of value) {
      checkBindable(k, `${where} (a Map key)`, seen);
      checkBindable(v, `${where} (a Map value)`, seen);
    }
  } else if (value instanceof Set) {
    for (const v of value) checkBindable(v, `${where} (a Set member)`, seen);
  } else if (Array.isArray(value) || Object.getPrototypeOf(value) === Object.prototype) {
    for (const [k, v] of Object.entries(value)) checkBindable(v, `${where}.${k}`, seen);
  }
  seen.delete(value);
}
