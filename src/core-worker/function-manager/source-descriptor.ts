import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { dirname } from "node:path";
import { shippedExpression } from "./callable-source.js";
import type { FunctionDescriptor } from "./descriptor.js";
import { isDriverScript } from "./driver-script.js";
import { formatHeader } from "./generated-module.js";
import { IMPORT_META_NAME, type Declaration, type ImportEntry, type ScopeModule } from "./scope-module.js";
import { isShippable } from "./shippable.js";
import { resolveSpecifier } from "./resolve-specifier.js";

/**
 * A "source" descriptor: an ES module made of
 *   - a header naming the scope module (see generated-module.ts),
 *   - a prelude: esbuild's `__name` helper (tsx compiles with keepNames, so function sources
 *     call it) and, if used, a stand-in for the scope module's `import.meta`,
 *   - the scope module's import declarations whose bindings the function mentions,
 *   - the scope module's shippable top-level declarations it mentions, transitively,
 *   - `export default (<the function's source>);`, with its name restored by `__name` if the
 *     source alone does not give it (arrows assigned to a const),
 *   - a sourceURL comment, so stack traces name "tsray:<function>@<scope URL>".
 * Never an import of the driver script: that would run the driver again inside the worker.
 *
 * The top-level bindings it mentions that cannot travel (their value is computed or changed when
 * the scope module runs: `const now = Date.now()`, a reassigned `let`) are "withheld": the
 * declarations and the function then sit in a function scope that also declares those names,
 * in a `let` that never runs. Using one throws a ReferenceError that names it (which the worker
 * explains, see explainMissingBinding), rather than reading a global of the same name, or
 * `undefined`.
 */
const KEEP_NAMES_HELPER =
  'var __name = (t, v) => Object.defineProperty(t, "name", { value: v, configurable: true });';
const PRELUDE_NAMES = new Set(["__name", IMPORT_META_NAME]);

export function describeSource(
  target: Function, scopeUrl: string, scope: ScopeModule | undefined, expression = shippedExpression(target),
): FunctionDescriptor {
  if (target.name && scope?.decorated.has(target.name)) {
    // Shipping the class without them would silently change its behaviour.
    throw new TypeError(
      `tsray cannot send class ${JSON.stringify(target.name)} to workers by its source: its decorators are applied by ` +
        `top-level code of ${scopeUrl}. Export it from a module other than the driver script so workers import it.`,
    );
  }
  const needs = collectNeeds(scope, expression.refs, scopeUrl);
  const declarations = needs.declarations.map((declaration) => declaration.text);
  const callable = named(expression.text, expression.intrinsicName, target.name);
  const lines = [
    formatHeader({ scopeUrl, driver: isDriverScript(scopeUrl) }).trimEnd(),
    KEEP_NAMES_HELPER,
    ...(needs.importMeta ? [importMetaStandIn(scopeUrl)] : []),
    ...needs.imports.map((entry) => withResolvedSpecifier(entry, scopeUrl)),
    ...(needs.withheld.length === 0
      ? [...declarations, `export default ${callable};`]
      : ["export default (() => {", ...declarations, `return ${callable};`, `let ${needs.withheld.join(", ")};`, "})();"]),
    // Stack traces show this short name instead of the whole data: URL (the file name, which
    // callerModuleUrl reads, stays the data: URL).
    `//# sourceURL=tsray:${encodeURIComponent(target.name || "anonymous")}@${scopeUrl}`,
    "",
  ];
  const code = lines.join("\n");
  const id = createHash("sha1").update(code).digest("hex");
  const descriptor: FunctionDescriptor = { kind: "source", id, name: target.name || "anonymous", scopeUrl, code };
  if (needs.withheld.length) descriptor.withheld = needs.withheld;
  if (needs.outer.length) descriptor.outer = needs.outer;
  return descriptor;
}

/**
 * The import declaration with its specifier resolved now, to an absolute URL: the worker then
 * imports it without a resolve hook (whose hooks thread would cost every worker tens of ms).
 */
function withResolvedSpecifier(entry: ImportEntry, scopeUrl: string): string {
  const resolved = resolveSpecifier(entry.specifier, scopeUrl);
  if (resolved === entry.specifier) return entry.text;
  const at = entry.text.lastIndexOf(entry.specifier);
  return entry.text.slice(0, at) + resolved + entry.text.slice(at + entry.specifier.length);
}

/** Keeps `fn.name` as in the driver, e.g. for `const double = (x) => x * 2`. */
function named(text: string, intrinsicName: string | undefined, name: string): string {
  return name && name !== intrinsicName ? `__name(${text}, ${JSON.stringify(name)})` : `(${text})`;
}

interface Needs {
  imports: ImportEntry[];
  declarations: Declaration[];
  importMeta: boolean;
  /** Top-level bindings it mentions whose value cannot travel. */
  withheld: string[];
  /** Names it mentions that are neither the scope module's nor globals: variables of functions around it, most likely. */
  outer: string[];
}

/** What the shipped code mentions from its scope module, following declarations transitively. */
function collectNeeds(scope: ScopeModule | undefined, refs: ReadonlySet<string>, scopeUrl: string): Needs {
  const imports = new Set<ImportEntry>();
  const declarations = new Set<Declaration>();
  const withheld: string[] = [];
  const outer: string[] = [];
  let importMeta = false;
  const seen = new Set<string>();
  const queue = [...refs];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (seen.has(name)) continue;
    seen.add(name);
    if (name === IMPORT_META_NAME) importMeta = true;
    if (PRELUDE_NAMES.has(name) || scope === undefined) continue;
    const entry = scope.importsByLocal.get(name);
    if (entry !== undefined) {
      if (!mayImportDriver(entry.specifier, scopeUrl)) imports.add(entry);
      continue;
    }
    const found = scope.declarations.get(name);
    if (found === undefined) {
      if (!(name in globalThis)) outer.push(name);
      continue;
    }
    if (!found.every((d) => isShippable(scope, d))) {
      withheld.push(name);
      continue;
    }
    for (const declaration of found) {
      declarations.add(declaration);
      queue.push(...declaration.refs);
    }
  }
  return {
    imports: scope ? scope.imports.filter((entry) => imports.has(entry)) : [],
    declarations: [...declarations].sort((a, b) => a.start - b.start),
    importMeta,
    withheld: withheld.sort(),
    outer: outer.sort(),
  };
}

/** A relative import that names the driver script, possibly by its compiled extension. */
function mayImportDriver(specifier: string, scopeUrl: string): boolean {
  if (!/^\.{0,2}\//.test(specifier)) return false;
  let joined: string;
  try {
    joined = new URL(specifier, scopeUrl).href;
  } catch {
    return false;
  }
  const candidates = [joined, joined.replace(/\.([cm]?)js$/, ".$1ts"), joined.replace(/\.jsx$/, ".tsx")];
  return candidates.some(isDriverScript);
}

/** `import.meta` of the scope module; `resolve` goes through our hook, which maps this module to it. */
function importMetaStandIn(scopeUrl: string): string {
  const fields = [`url: ${JSON.stringify(scopeUrl)}`];
  if (scopeUrl.startsWith("file:")) {
    const filename = fileURLToPath(scopeUrl);
    fields.push(`filename: ${JSON.stringify(filename)}`, `dirname: ${JSON.stringify(dirname(filename))}`);
  }
  fields.push("resolve: (specifier) => import.meta.resolve(specifier)");
  return `const ${IMPORT_META_NAME} = Object.freeze({ ${fields.join(", ")} });`;
}
