/**
 * Worker side of the function manager: rebuilds the callable a FunctionDescriptor names.
 * Call setupModuleLoading (worker-setup.mjs) first in a worker, so that tsx and our resolve hook
 * are in place; if it was not called, our hook is registered here (tsx cannot be, by then).
 */
import { pathToFileURL } from "node:url";
import { CALLABLE_SYMBOL, isFunctionDescriptor, type FunctionDescriptor } from "./descriptor.js";
import { markDriverScript } from "./driver-script.js";
import { dataUrlOf, parseHeader, rememberLoadedModule } from "./generated-module.js";
import { ensureResolveHooks } from "./register-hooks.js";
import { setupModuleLoading } from "./worker-setup.mjs";

const loaded = new Map<string, Promise<Function>>();

/** What this thread knows of the names its shipped functions could not take along (see explainMissingBinding). */
const missing = new Map<string, { withheldFrom?: string; outer?: boolean }>();

/**
 * The job's working directory as the driver has it, and where this worker has its uploaded copy:
 * modules of the one are loaded from the other (the driver's machine may be another).
 */
let relocated: { from: string; to: string } | undefined;

export function relocateWorkingDir(from: string, to: string): void {
  const href = (dir: string) => `${pathToFileURL(dir).href.replace(/\/$/, "")}/`;
  relocated = { from: href(from), to: href(to) };
}

function relocate(desc: FunctionDescriptor): FunctionDescriptor {
  if (!relocated) return desc;
  const { from, to } = relocated;
  const move = (s: string) => s.split(from).join(to);
  return desc.kind === "source" ? { ...desc, scopeUrl: move(desc.scopeUrl), code: move(desc.code) } : { ...desc, moduleUrl: move(desc.moduleUrl) };
}

/** Rebuilds the callable; cached by descriptor id. Rejects with the real error if it cannot. */
export function loadCallable(desc: FunctionDescriptor): Promise<Function> {
  if (!isFunctionDescriptor(desc)) return Promise.reject(new TypeError("loadCallable: not a FunctionDescriptor"));
  desc = relocate(desc);
  let promise = loaded.get(desc.id);
  if (!promise) {
    promise = load(desc);
    loaded.set(desc.id, promise);
    // A failed import is not cached, so a later call (after a fix on disk, say) tries again.
    promise.catch(() => loaded.delete(desc.id));
  }
  return promise;
}

async function load(desc: FunctionDescriptor): Promise<Function> {
  if (needsTypeScript(desc)) await registerTsx();
  try {
    return await importCallable(desc);
  } catch (err) {
    // A JavaScript module that imports TypeScript, as tsx allows: give tsx its turn and retry.
    if ((err as { code?: string }).code !== "ERR_UNKNOWN_FILE_EXTENSION" || !(await registerTsx())) throw err;
    return importCallable(desc);
  }
}

const TS_EXTENSION = /\.[cm]?tsx?(["'?#]|$)/;

function needsTypeScript(desc: FunctionDescriptor): boolean {
  return TS_EXTENSION.test(desc.kind === "source" ? desc.code : desc.moduleUrl);
}

/** Registers tsx in this thread if the driver runs under it; true if it is (now) registered. */
async function registerTsx(): Promise<boolean> {
  const driverRunsTsx = (globalThis as Record<symbol, unknown>)[Symbol.for("tsray.driver-runs-tsx")] === true;
  if (!driverRunsTsx) return false;
  await setupModuleLoading({ tsx: true });
  return true;
}

async function importCallable(desc: FunctionDescriptor): Promise<Function> {
  if (desc.kind === "source") {
    for (const name of desc.withheld ?? []) missing.set(name, { withheldFrom: desc.scopeUrl });
    for (const name of desc.outer ?? []) if (!missing.has(name)) missing.set(name, { outer: true });
    // Generated modules import absolute URLs; only `import.meta.resolve` in shipped code needs
    // our hook, whose hooks thread every other worker does without.
    if (desc.code.includes("import.meta.resolve(")) ensureResolveHooks();
    const header = parseHeader(desc.code);
    if (!header) throw new TypeError(`descriptor ${desc.id} (${desc.name}): code is not a tsray generated module`);
    const url = dataUrlOf(desc.code);
    rememberLoadedModule(url, header);
    if (header.driver) markDriverScript(header.scopeUrl);
    const namespace = (await import(url)) as { default?: unknown };
    return callableOf(namespace.default, desc);
  }
  const namespace = (await import(desc.moduleUrl)) as Record<string, unknown>;
  if (desc.exportName in namespace) return callableOf(namespace[desc.exportName], desc);
  // A CommonJS module whose named exports Node could not detect: look on module.exports.
  const commonJs = namespace.default;
  if ((typeof commonJs === "object" || typeof commonJs === "function") && commonJs !== null && desc.exportName in commonJs) {
    return callableOf((commonJs as Record<string, unknown>)[desc.exportName], desc);
  }
  throw new SyntaxError(`The requested module '${desc.moduleUrl}' does not provide an export named '${desc.exportName}'`);
}

/** The function itself, or the raw callable a RemoteFunction / ActorClass wrapper carries. */
function callableOf(value: unknown, desc: FunctionDescriptor): Function {
  if ((typeof value === "object" || typeof value === "function") && value !== null && CALLABLE_SYMBOL in value) {
    value = (value as { [CALLABLE_SYMBOL]: unknown })[CALLABLE_SYMBOL];
  }
  if (typeof value === "function") return value;
  const where = desc.kind === "source" ? "its generated module" : `export '${desc.exportName}' of ${desc.moduleUrl}`;
  throw new TypeError(`tsray cannot run ${JSON.stringify(desc.name)}: ${where} is ${value === null ? "null" : typeof value}, not a function or class`);
}

/**
 * A ReferenceError thrown by shipped code, explained: which name the worker does not have, why,
 * and what to do instead. Other errors are returned as they are.
 */
export function explainMissingBinding(err: unknown): unknown {
  if (!(err instanceof ReferenceError)) return err;
  const name = /^Cannot access '([^']+)' before initialization$/.exec(err.message)?.[1] ?? /^(\S+) is not defined$/.exec(err.message)?.[1];
  const known = name === undefined ? undefined : missing.get(name);
  if (!known) return err;
  const explanation = known.withheldFrom
    ? `${name} is a top-level binding of ${known.withheldFrom} that workers do not have: its value is computed or changed ` +
      `when that module runs, and a remote function takes along only imports, functions, classes and constants made of ` +
      `literals. Pass ${name} to the task as an argument, or compute it inside the function`
    : `${err.message}: a remote function cannot take along the variables of the functions around it; pass ${name} to the task as an argument`;
  const explained = new ReferenceError(explanation);
  explained.stack = `ReferenceError: ${explanation}${err.stack?.slice(err.stack.indexOf("\n")) ?? ""}`;
  return explained;
}
