/**
 * Driver side of the function manager (also used inside workers, for nested ray.remote calls):
 * turns a function or class into a FunctionDescriptor a worker can rebuild.
 *
 * Rules, in order (see the remote() contract in spec/tsray.d.ts):
 * 1. The scope module imports a binding of that name: the worker imports the same module.
 * 2. The scope module is not the driver script and exports it: the worker imports the scope.
 * 3. Otherwise the source is shipped with what it uses from the scope (source-descriptor.ts).
 */
import { createHash } from "node:crypto";
import { pathToFileURL } from "node:url";
import { headerOfDataUrl } from "./generated-module.js";
import type { FunctionDescriptor } from "./descriptor.js";
import { driverPath, isDriverScript } from "./driver-script.js";
import { resolveSpecifier } from "./resolve-specifier.js";
import { loadScopeModule, type ScopeModule } from "./scope-module.js";
import { describeSource } from "./source-descriptor.js";
import { shippedExpression } from "./callable-source.js";
import { prepareModuleSource } from "./module-source.js";

export { callerModuleUrl } from "./caller.js";
export { runsUnderTsx } from "./tsx-detect.js";

/**
 * Reads, compiles (see prepareModuleSource) and analyzes the driver script ahead of the first
 * description of one of its functions, while `init` waits for its workers; never fails.
 */
export async function prepareDriverScript(): Promise<void> {
  const path = driverPath();
  if (!path) return;
  try {
    await prepareModuleSource(path);
    loadScopeModule(pathToFileURL(path).href);
  } catch {
    // Describing will meet the same problem, and report it, if it needs this module.
  }
}

const cache = new WeakMap<Function, Map<string, FunctionDescriptor>>();

/** Describes a function or class so a worker can rebuild it. Synchronous, cached per (target, scopeUrl). */
export function describeCallable(target: Function, scopeUrl: string): FunctionDescriptor {
  if (typeof target !== "function") {
    throw new TypeError(`tsray can only send functions and classes to workers, got ${target === null ? "null" : typeof target}`);
  }
  const scope = canonicalScopeUrl(scopeUrl);
  let byScope = cache.get(target);
  if (!byScope) cache.set(target, (byScope = new Map()));
  let descriptor = byScope.get(scope);
  if (!descriptor) {
    descriptor = Object.freeze(describe(target, scope, true));
    byScope.set(scope, descriptor);
  }
  return descriptor;
}

/**
 * Describes a function or class that the module at `moduleUrl` exports under its own name (tsray's
 * own tasks and actors): the worker imports it, and nothing need be read or parsed to know that.
 */
export function describeExport(target: Function, moduleUrl: string): FunctionDescriptor {
  return Object.freeze(moduleExport(target.name, canonicalScopeUrl(moduleUrl), target.name));
}

function describe(target: Function, scopeUrl: string, followImports: boolean): FunctionDescriptor {
  const name = target.name;
  // An anonymous function that uses nothing but its parameters (`(x) => x * 10`): its module
  // need not be read, let alone compiled (the first TypeScript module costs tens of ms).
  if (!name) {
    const expression = shippedExpression(target);
    if (expression.selfContained) return describeSource(target, scopeUrl, undefined, expression);
  }
  const scope = loadScopeModule(scopeUrl);
  if (scope !== undefined && name) {
    const imported = followImports ? importedAs(scope, name) : undefined;
    if (imported !== undefined) {
      const moduleUrl = resolveSpecifier(imported.specifier, scopeUrl);
      // A module importing from the driver script: describe it as the driver's own function.
      if (isDriverScript(moduleUrl)) return describe(target, moduleUrl, false);
      return moduleExport(name, moduleUrl, imported.exportName);
    }
    if (!isDriverScript(scopeUrl)) {
      const exportName = exportedAs(scope, name);
      if (exportName !== undefined) return moduleExport(name, scopeUrl, exportName);
    }
  }
  return describeSource(target, scopeUrl, scope);
}

/**
 * The import that binds `name`: by its local name first, else by the name it is exported under
 * (`import { work as w }` with `ray.remote(w)`: the function is still named "work"). A function
 * named "default" is an anonymous default export; it is matched only when exactly one default
 * import could have brought it.
 */
function importedAs(scope: ScopeModule, name: string): { specifier: string; exportName: string } | undefined {
  const byLocal = scope.importsByLocal.get(name);
  const exportName = byLocal?.bindings.get(name);
  if (byLocal && exportName !== undefined && exportName !== "*") return { specifier: byLocal.specifier, exportName };
  const candidates = scope.imports.filter((entry) => [...entry.bindings.values()].includes(name));
  if (candidates.length === 0 || (name === "default" && candidates.length > 1)) return undefined;
  return { specifier: candidates[0]!.specifier, exportName: name };
}

/**
 * The export under which the scope module exposes `name`: a local binding of that name, else an
 * export of that name (esbuild may rename a binding, `export { wrapped2 as wrapped }`, when a
 * nested function shares its name), else an anonymous default export for a function named "default".
 */
function exportedAs(scope: ScopeModule, name: string): string | undefined {
  const byLocal = scope.exportNames.get(name);
  if (byLocal !== undefined) return byLocal;
  for (const exported of scope.exportNames.values()) if (exported === name) return name;
  return name === "default" && scope.anonymousDefaultExport ? "default" : undefined;
}

function moduleExport(name: string, moduleUrl: string, exportName: string): FunctionDescriptor {
  const id = createHash("sha1").update(`module-export\0${moduleUrl}\0${exportName}`).digest("hex");
  return { kind: "module-export", id, name, moduleUrl, exportName };
}

/** One spelling per module: a generated module stands for its scope, loader queries are dropped. */
function canonicalScopeUrl(url: string): string {
  if (url.startsWith("data:")) return headerOfDataUrl(url)?.scopeUrl ?? url;
  if (!url.startsWith("file:")) return url;
  const parsed = new URL(url);
  parsed.search = "";
  parsed.hash = "";
  return parsed.href;
}
