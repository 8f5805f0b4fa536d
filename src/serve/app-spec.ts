/**
 * What run() sends the controller: an Application graph flattened into its deployments, each with
 * its shipped code, resolved options, bound arguments (Applications among them replaced by handles
 * on the deployments they became) and a version that changes with code, arguments and resources
 * (what needs new replicas), not with the options that apply in place.
 */
import { createHash } from "node:crypto";
import { Application, type DeploymentDef } from "./deployment.js";
import { DeploymentHandleImpl, makeHandle } from "./handle.js";
import { resolveOptions, type ResolvedOptions } from "./options.js";
import type * as ray from "tsray";

export interface DeploymentSpec {
  readonly name: string;
  readonly shipped: ray.util.ShippedFunction;
  readonly isClass: boolean;
  /** Has a `fetch` method (or is a function): can be an HTTP ingress. */
  readonly options: ResolvedOptions;
  readonly args: unknown[];
  readonly version: string;
}

export interface AppSpec {
  readonly name: string;
  readonly routePrefix: string | null;
  readonly ingress: string;
  readonly deployments: DeploymentSpec[];
}

/**
 * `adjust` may change a deployment before its spec is made (a config's options laid over the
 * code's, by the name the deployment gets here).
 */
export function buildAppSpec(app: Application, appName: string, routePrefix: string | null,
  adjust?: (name: string, def: DeploymentDef) => DeploymentDef): AppSpec {
  const names = new Map<Application, string>();
  const used = new Set<string>();
  const deployments: DeploymentSpec[] = [];
  const visit = (node: Application): string => {
    const known = names.get(node);
    if (known !== undefined) return known;
    let name = node.def.name;
    for (let i = 1; used.has(name); i++) name = `${node.def.name}_${i}`;
    used.add(name);
    names.set(node, name);
    const args = node.args.map((arg) => replaceApplications(arg, visit, appName));
    deployments.push(specOf(adjust === undefined ? node.def : adjust(name, node.def), name, args));
    return name;
  };
  const ingress = visit(app);
  return { name: appName, routePrefix, ingress, deployments };
}

function replaceApplications(value: unknown, visit: (node: Application) => string, appName: string): unknown {
  if (value instanceof Application) return makeHandle(appName, visit(value), {});
  if (Array.isArray(value)) return value.map((v) => replaceApplications(v, visit, appName));
  if (typeof value === "object" && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceApplications(v, visit, appName)]));
  }
  return value;
}

function specOf(def: DeploymentDef, name: string, args: unknown[]): DeploymentSpec {
  const options = resolveOptions(def.options);
  const version = createHash("sha256")
    .update(JSON.stringify({ code: def.shipped.descriptor, isClass: def.isClass, actor: options.rayActorOptions, args }, versionReplacer))
    .digest("hex").slice(0, 16);
  return { name, shipped: def.shipped, isClass: def.isClass, options, args, version };
}

function versionReplacer(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof DeploymentHandleImpl) return `handle:${value.appName}#${value.deploymentName}`;
  if (ArrayBuffer.isView(value)) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64");
  if (value instanceof Map) return [...value];
  if (value instanceof Set) return [...value];
  return value;
}

/** "/x/" and "x" become "/x"; null stays null (no HTTP). */
export function normalizeRoutePrefix(prefix: unknown, what = "run() option routePrefix"): string | null {
  if (prefix === null) return null;
  if (prefix === undefined) return "/";
  if (typeof prefix !== "string") throw new TypeError(`${what} must be a string or null, got ${typeof prefix}`);
  if (!prefix.startsWith("/")) throw new TypeError(`${what} must start with '/', got ${JSON.stringify(prefix)}`);
  const trimmed = prefix.replace(/\/+$/, "");
  return trimmed === "" ? "/" : trimmed;
}
