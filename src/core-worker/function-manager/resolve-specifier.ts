import { statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { fileURLToPath } from "node:url";
import { ensureResolveHooks } from "./register-hooks.js";

/**
 * The URL an import specifier in `scopeUrl` refers to, found synchronously (describing is
 * synchronous) and the same way in the driver and in workers, so descriptor ids agree.
 *
 * Builtins and relative paths naming an existing file need no loader. Anything else (bare package
 * names, `#imports`, tsx's `./x.js` meaning `./x.ts`) goes through Node's resolver via
 * import.meta.resolve, which is synchronous even with module hooks; our resolve hook turns the
 * prefixed specifier into "resolve <specifier> from <scopeUrl>", and tsx's hook, when registered,
 * does its part.
 */
const RESOLVE_PREFIX = "tsray-resolve-from:"; // keep in sync with resolve-hooks.mjs

export function resolveSpecifier(specifier: string, scopeUrl: string): string {
  if (isBuiltin(specifier)) return specifier.startsWith("node:") ? specifier : `node:${specifier}`;
  if (/^(\.{0,2}\/|file:)/.test(specifier)) {
    const joined = new URL(specifier, scopeUrl);
    if (joined.protocol === "file:" && isFile(fileURLToPath(joined))) return joined.href;
  }
  ensureResolveHooks();
  // encodeURIComponent leaves "!" alone; escape it so the first "!" separates the two parts.
  const encodedScope = encodeURIComponent(scopeUrl).replaceAll("!", "%21");
  return import.meta.resolve(`${RESOLVE_PREFIX}${encodedScope}!${specifier}`);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
