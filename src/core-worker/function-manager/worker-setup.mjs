// First thing a worker's bootstrap calls. Plain JavaScript: it runs before any loader exists.
//
// On Node 20 a worker thread does not get its parent's module hooks (it re-runs `--import tsx`
// from execArgv, but tsx's ESM hooks do not take effect), so the hooks are registered here:
//   1. tsx, when the driver runs under it, so the worker can import TypeScript modules;
//   2. then our resolve hook (resolve-hooks.mjs). Hooks registered later run first, so ours sees a
//      generated data: module's imports before tsx does, and hands them on with the scope module
//      as parent, where tsx's rules (`./x.js` meaning `./x.ts`) apply.
import { createRequire, register } from "node:module";
import { pathToFileURL } from "node:url";

// Shared with register-hooks.ts, which registers the resolve hook lazily in other threads.
const RESOLVE_HOOKS_REGISTERED = Symbol.for("tsray.function-manager.resolve-hooks");

let setup;

/** Registers tsx's loader (when `tsx` is true), then the resolve hook. Idempotent. */
export function setupModuleLoading(opts) {
  setup ??= registerHooks(Boolean(opts && opts.tsx));
  return setup;
}

async function registerHooks(tsx) {
  if (tsx) {
    const api = await importTsxApi();
    api.register();
  }
  // After a fresh tsx registration ours must come again, later, to run before it. Registering it
  // twice is harmless: the inner copy sees the scope module as parent and passes through.
  // Without tsx it waits until a generated module is loaded (load.ts), to spare the hooks thread.
  if (tsx) {
    register(new URL("./resolve-hooks.mjs", import.meta.url));
    globalThis[RESOLVE_HOOKS_REGISTERED] = true;
  }
}

/** tsx is the user's dependency: look next to tsray first, then from the working directory. */
async function importTsxApi() {
  try {
    return await import("tsx/esm/api");
  } catch (error) {
    if (error?.code !== "ERR_MODULE_NOT_FOUND") throw error;
    let path;
    try {
      path = createRequire(pathToFileURL(`${process.cwd()}/`)).resolve("tsx/esm/api");
    } catch {
      throw error; // report the first failure: tsx is not installed where tsray is
    }
    const api = await import(pathToFileURL(path).href);
    return typeof api.register === "function" ? api : api.default;
  }
}
