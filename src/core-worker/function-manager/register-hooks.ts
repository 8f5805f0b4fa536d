import { register } from "node:module";

/**
 * Registers resolve-hooks.mjs in this thread once. worker-setup.mjs registers the same file and
 * sets the same flag; this is for threads that describe or load without it (the driver).
 */
const REGISTERED = Symbol.for("tsray.function-manager.resolve-hooks");

export function ensureResolveHooks(): void {
  const flags = globalThis as { [REGISTERED]?: boolean };
  if (flags[REGISTERED]) return;
  register(new URL("./resolve-hooks.mjs", import.meta.url));
  flags[REGISTERED] = true;
}
