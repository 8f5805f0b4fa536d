import { createRequire } from "node:module";

/**
 * True when this process runs under tsx, so workers must register tsx too: on Node 20 a worker
 * thread does not get the parent's module hooks, even though it inherits `--import tsx`.
 *
 * tsx is activated by a preload flag (`--import tsx`, `--loader tsx`, `-r tsx/cjs`, or the paths
 * the `tsx` CLI passes, e.g. `--import file:///.../node_modules/tsx/dist/loader.mjs`), in execArgv
 * or NODE_OPTIONS. Its CommonJS half also registers require.extensions[".ts"], which Node 20 never
 * does by itself; that catches tsx registered from code (tsx/cjs/api).
 */
const PRELOAD_FLAGS = new Set(["--import", "--loader", "--experimental-loader", "--require", "-r"]);

export function runsUnderTsx(): boolean {
  const args = [...process.execArgv, ...splitNodeOptions(process.env.NODE_OPTIONS ?? "")];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (!PRELOAD_FLAGS.has(flag)) continue;
    const value = eq === -1 ? args[++i] : arg.slice(eq + 1);
    if (value !== undefined && namesTsx(value)) return true;
  }
  const nativeTypeScript = (process.features as { typescript?: unknown }).typescript;
  return !nativeTypeScript && typeof createRequire(import.meta.url).extensions[".ts"] === "function";
}

function namesTsx(value: string): boolean {
  return value === "tsx" || value.startsWith("tsx/") || /[\\/]node_modules[\\/]tsx[\\/]/.test(value);
}

/** NODE_OPTIONS is space-separated with double quotes for values containing spaces. */
function splitNodeOptions(options: string): string[] {
  return [...options.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? "");
}
