import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";

/**
 * The tsconfig compiler options that change what esbuild emits for a TypeScript file.
 *
 * tsx passes the project's tsconfig to esbuild, so a function's toString() under tsx reflects it
 * (legacy decorators, class-field semantics, ...). Our own transform of the same file must use the
 * same options, or the declarations we ship would behave differently from the driver's and a
 * function described in a worker would get another id than in the driver.
 * We take the nearest tsconfig.json above the file and follow `extends`.
 */
const EMIT_OPTIONS = [
  "alwaysStrict",
  "experimentalDecorators",
  "importsNotUsedAsValues",
  "jsx",
  "jsxFactory",
  "jsxFragmentFactory",
  "jsxImportSource",
  "preserveValueImports",
  "strict",
  "target",
  "useDefineForClassFields",
  "verbatimModuleSyntax",
];

type CompilerOptions = Record<string, unknown>;
const byConfigPath = new Map<string, CompilerOptions>();

export function emitOptionsFor(file: string): CompilerOptions {
  const config = nearestConfig(dirname(file));
  if (config === undefined) return {};
  const all = readConfig(config, new Set());
  return Object.fromEntries(EMIT_OPTIONS.filter((k) => k in all).map((k) => [k, all[k]]));
}

function nearestConfig(dir: string): string | undefined {
  for (let current = dir; ; current = dirname(current)) {
    const candidate = join(current, "tsconfig.json");
    if (existsSync(candidate)) return candidate;
    if (dirname(current) === current) return undefined;
  }
}

function readConfig(path: string, seen: Set<string>): CompilerOptions {
  const cached = byConfigPath.get(path);
  if (cached) return cached;
  if (seen.has(path)) return {}; // an `extends` cycle: tsc reports it, we just stop
  seen.add(path);
  let json: { extends?: unknown; compilerOptions?: unknown };
  try {
    json = JSON.parse(stripJsonComments(readFileSync(path, "utf8"))) as typeof json;
  } catch {
    return {}; // tsx would have failed on it already; do not fail describing over it
  }
  const bases = Array.isArray(json.extends) ? json.extends : json.extends === undefined ? [] : [json.extends];
  const merged: CompilerOptions = {};
  for (const base of bases) {
    const basePath = typeof base === "string" ? resolveExtends(base, path) : undefined;
    if (basePath) Object.assign(merged, readConfig(basePath, seen));
  }
  if (typeof json.compilerOptions === "object" && json.compilerOptions !== null) {
    Object.assign(merged, json.compilerOptions);
  }
  byConfigPath.set(path, merged);
  return merged;
}

function resolveExtends(specifier: string, from: string): string | undefined {
  const candidates = specifier.startsWith(".") || specifier.startsWith("/")
    ? [resolve(dirname(from), specifier)]
    : [specifier, `${specifier}/tsconfig.json`];
  for (const candidate of candidates) {
    for (const path of candidate.endsWith(".json") ? [candidate] : [candidate, `${candidate}.json`]) {
      try {
        return createRequire(from).resolve(path);
      } catch {
        // try the next spelling
      }
    }
  }
  return undefined;
}

/** tsconfig.json is JSONC: drop comments and trailing commas, leaving strings untouched. */
function stripJsonComments(text: string): string {
  return text
    .replace(/"(?:[^"\\]|\\.)*"|\/\/[^\n]*|\/\*[\s\S]*?\*\//g, (m) => (m.startsWith('"') ? m : ""))
    .replace(/"(?:[^"\\]|\\.)*"|,(\s*[}\]])/g, (m, closing: string | undefined) => closing ?? m);
}
