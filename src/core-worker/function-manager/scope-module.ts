import type { AnyNode, Expression, Program } from "acorn";
import { importMetaRanges, namesIn, parseWithNames, PARSE_OPTIONS, sliceReplacing, type NameToken } from "./ast.js";
import { readModuleSource, type ModuleSource } from "./module-source.js";
import { decoratedNames, reassignedNames } from "./top-level-effects.js";

/**
 * What a worker may need from the module a function was described in (its "scope module"): its
 * import declarations, its top-level declarations and what it exports. Analyzed once per file,
 * from the JavaScript module-source.ts reads.
 */

/** Generated modules define this in place of `import.meta`, which would describe the data: URL. */
export const IMPORT_META_NAME = "__tsray_import_meta";

export interface ImportEntry {
  /** The whole declaration, e.g. `import { a as b } from "./x.js";` */
  readonly text: string;
  readonly specifier: string;
  /** Local binding → imported name ("default", "*" for a namespace, or the export's name). */
  readonly bindings: ReadonlyMap<string, string>;
}

export interface Declaration {
  readonly name: string;
  readonly kind: "function" | "class" | "const" | "let" | "var";
  /** Offset in the scope module: generated modules keep the original order. */
  readonly start: number;
  /** A complete statement declaring only `name`, with `import.meta` replaced. */
  readonly text: string;
  /** Identifiers it mentions (the names it may need in turn). */
  readonly refs: ReadonlySet<string>;
  /** The initializer of a variable; null for `let x;`, undefined for functions and classes. */
  readonly init: Expression | null | undefined;
}

export interface ScopeModule {
  readonly url: string;
  readonly imports: readonly ImportEntry[];
  readonly importsByLocal: ReadonlyMap<string, ImportEntry>;
  /** A list because TypeScript emits one `var` per merged enum or namespace part. */
  readonly declarations: ReadonlyMap<string, readonly Declaration[]>;
  /** Local binding → the name it is exported under. */
  readonly exportNames: ReadonlyMap<string, string>;
  /** `export default function () {}` and the like: a callable whose name is "default". */
  readonly anonymousDefaultExport: boolean;
  /** Top-level bindings assigned outside their declaration: their initial value is not their value. */
  readonly reassigned: ReadonlySet<string>;
  /** Classes whose decorators are applied by top-level statements (TypeScript's lowering). */
  readonly decorated: ReadonlySet<string>;
}

const cache = new Map<string, ScopeModule | null>();

/** The analysis of the module at `url`, or undefined when there is no readable source (REPL, -e). */
export function loadScopeModule(url: string): ScopeModule | undefined {
  let entry = cache.get(url);
  if (entry === undefined) {
    const source = readModuleSource(url);
    entry = source === undefined ? null : analyze(url, source);
    cache.set(url, entry);
  }
  return entry ?? undefined;
}

function analyze(url: string, source: ModuleSource): ScopeModule {
  const { text } = source;
  const { program, names } = parseModuleOrScript(url, source);
  const metaRanges = importMetaRanges(program);

  const imports: ImportEntry[] = [];
  const importsByLocal = new Map<string, ImportEntry>();
  const declarations = new Map<string, Declaration[]>();
  const exportNames = new Map<string, string>();
  let anonymousDefaultExport = false;

  const addDeclaration = (node: AnyNode, name: string, kind: Declaration["kind"], statement: string, init?: Expression | null) => {
    const refs = namesIn(names, node.start, node.end);
    if (metaRanges.some(([s, e]) => s >= node.start && e <= node.end)) refs.add(IMPORT_META_NAME);
    const list = declarations.get(name) ?? [];
    list.push({ name, kind, start: node.start, text: statement, refs, init });
    declarations.set(name, list);
  };
  const sliceOf = (node: AnyNode) => sliceReplacing(text, node.start, node.end, metaRanges, IMPORT_META_NAME);
  const exportAs = (local: string, exported: string) => {
    if (!exportNames.has(local) || exported === local) exportNames.set(local, exported);
  };
  const declare = (node: AnyNode, exported: "named" | "default" | false) => {
    if ((node.type === "FunctionDeclaration" || node.type === "ClassDeclaration") && node.id) {
      addDeclaration(node, node.id.name, node.type === "FunctionDeclaration" ? "function" : "class", sliceOf(node));
      if (exported) exportAs(node.id.name, exported === "default" ? "default" : node.id.name);
    } else if (node.type === "VariableDeclaration") {
      if (node.kind === "using" || node.kind === "await using") return; // disposed at once; never shipped
      const kind = node.kind;
      for (const declarator of node.declarations) {
        if (declarator.id.type !== "Identifier") continue; // destructuring: never shipped
        const name = declarator.id.name;
        addDeclaration(declarator, name, kind, `${kind} ${sliceOf(declarator)};`, declarator.init ?? null);
        if (exported) exportAs(name, name);
      }
    }
  };

  for (const statement of program.body) {
    switch (statement.type) {
      case "ImportDeclaration": {
        const bindings = new Map<string, string>();
        for (const s of statement.specifiers) {
          const imported = s.type === "ImportDefaultSpecifier" ? "default"
            : s.type === "ImportNamespaceSpecifier" ? "*"
            : s.imported.type === "Identifier" ? s.imported.name : String(s.imported.value);
          bindings.set(s.local.name, imported);
        }
        const entry: ImportEntry = { text: text.slice(statement.start, statement.end), specifier: String(statement.source.value), bindings };
        imports.push(entry);
        for (const local of bindings.keys()) importsByLocal.set(local, entry);
        break;
      }
      case "ExportNamedDeclaration":
        if (statement.declaration) declare(statement.declaration, "named");
        else if (!statement.source) {
          for (const s of statement.specifiers) {
            const local = s.local.type === "Identifier" ? s.local.name : String(s.local.value);
            exportAs(local, s.exported.type === "Identifier" ? s.exported.name : String(s.exported.value));
          }
        }
        break;
      case "ExportDefaultDeclaration": {
        const d = statement.declaration;
        if ((d.type === "FunctionDeclaration" || d.type === "ClassDeclaration") && d.id) declare(d, "default");
        else if (d.type === "Identifier") exportAs(d.name, "default");
        else anonymousDefaultExport ||= isCallableExpression(d);
        break;
      }
      default:
        declare(statement, false);
    }
  }
  return {
    url, imports, importsByLocal, declarations, exportNames, anonymousDefaultExport,
    reassigned: reassignedNames(program), decorated: decoratedNames(program),
  };
}

function parseModuleOrScript(url: string, source: ModuleSource): { program: Program; names: NameToken[] } {
  const script = { ...PARSE_OPTIONS, sourceType: "script" as const, allowReturnOutsideFunction: true };
  try {
    return parseWithNames(source.text, source.commonJs ? script : PARSE_OPTIONS);
  } catch (moduleError) {
    // CommonJS in a .js file: no imports or exports, but its declarations still count.
    try {
      return parseWithNames(source.text, script);
    } catch {
      const message = moduleError instanceof Error ? moduleError.message : String(moduleError);
      throw new SyntaxError(`tsray could not parse ${url} to find what a function uses: ${message}`);
    }
  }
}

/** An anonymous default export that yields a function or class (esbuild may wrap it in __name). */
function isCallableExpression(node: AnyNode): boolean {
  switch (node.type) {
    case "FunctionDeclaration": case "ClassDeclaration": case "FunctionExpression":
    case "ArrowFunctionExpression": case "ClassExpression":
      return true;
    case "CallExpression":
      return node.callee.type === "Identifier" && node.callee.name === "__name";
    default:
      return false;
  }
}
