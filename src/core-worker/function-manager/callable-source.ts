import type { Expression, Program } from "acorn";
import { lazyEsbuild } from "./lazy-deps.js";
import { importMetaRanges, namesIn, parseWithNames, sliceReplacing } from "./ast.js";
import { IMPORT_META_NAME } from "./scope-module.js";

/**
 * A function or class turned into the text of an expression that re-creates it, plus the names
 * that text mentions (what it may need from its scope module).
 *
 * The text is normalized by reprinting it with esbuild: under tsx, `toString()` returns tsx's
 * whitespace-minified output, while inside a worker the same function's `toString()` returns the
 * copy we shipped. Reprinting both gives identical text, so describing a function inside a worker
 * yields the same descriptor id as in the driver.
 */
export interface ShippedExpression {
  text: string;
  refs: ReadonlySet<string>;
  /** The `name` the expression gives its value by itself (arrows get none). */
  intrinsicName: string | undefined;
}

const functionToString = Function.prototype.toString;

export function shippedExpression(target: Function): ShippedExpression {
  // Not target.toString(): a class may define its own static toString.
  const source = functionToString.call(target);
  const label = JSON.stringify(target.name || "anonymous");
  if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
    throw new TypeError(`tsray cannot send function ${label} to a worker: it is a native or bound function, which has no source`);
  }
  const expression = asExpression(source, label);
  const normalized = reprint(expression);
  const { program, names } = parseWithNames(normalized);
  const refs = namesIn(names, 0, normalized.length);
  // A named function or class expression binds its own name inside itself.
  const own = ownBindingName(program);
  if (own !== undefined) refs.delete(own);
  return { text: normalized, refs, intrinsicName: own ?? methodName(program) };
}

/** Source text that evaluates to the callable, with `import.meta` pointing at our stand-in. */
function asExpression(source: string, label: string): string {
  // function, async function, generators, arrows and classes are expressions once parenthesized.
  const wrapped = `(${source})`;
  const program = tryParse(wrapped);
  if (program) return withImportMeta(wrapped, program);

  // Method shorthand, `f(x) { ... }` from an object literal or a class: put it back in an object.
  const inObject = `({${source}})`;
  const objectProgram = tryParse(inObject);
  const statement = objectProgram?.body[0];
  const object = statement?.type === "ExpressionStatement" ? statement.expression : undefined;
  const property = object?.type === "ObjectExpression" && object.properties.length === 1 ? object.properties[0] : undefined;
  if (!objectProgram || property?.type !== "Property") {
    throw new TypeError(`tsray cannot send function ${label} to a worker: its source does not parse as a function or class:\n${source}`);
  }
  if (property.kind !== "init") {
    throw new TypeError(`tsray cannot send function ${label} to a worker: it is a getter or setter, not a function`);
  }
  const key = property.key;
  const access = property.computed ? `[${inObject.slice(key.start, key.end)}]`
    : key.type === "Identifier" ? `.${key.name}`
    : `[${inObject.slice(key.start, key.end)}]`;
  return withImportMeta(`${inObject}${access}`, objectProgram);
}

function tryParse(text: string): Program | undefined {
  try {
    const { program } = parseWithNames(text);
    return program.body.length === 1 && program.body[0]!.type === "ExpressionStatement" ? program : undefined;
  } catch {
    return undefined;
  }
}

function withImportMeta(text: string, program: Program): string {
  return sliceReplacing(text, 0, text.length, importMetaRanges(program), IMPORT_META_NAME);
}

/** esbuild's printing of the expression, without comments or pure annotations. */
function reprint(expression: string): string {
  const { code } = lazyEsbuild().transformSync(expression, {
    loader: "js",
    target: "esnext",
    ignoreAnnotations: true,
    legalComments: "none",
  });
  return code.replace(/;\s*$/, "");
}

function ownBindingName(program: Program): string | undefined {
  const statement = program.body[0];
  if (statement?.type !== "ExpressionStatement") return undefined;
  const expression: Expression = statement.expression;
  if (expression.type === "FunctionExpression" || expression.type === "ClassExpression") return expression.id?.name;
  return undefined;
}

/** `({ shout(text) { ... } }).shout` is named "shout". */
function methodName(program: Program): string | undefined {
  const statement = program.body[0];
  if (statement?.type !== "ExpressionStatement") return undefined;
  const expression = statement.expression;
  if (expression.type !== "MemberExpression" || expression.computed || expression.property.type !== "Identifier") return undefined;
  return expression.object.type === "ObjectExpression" ? expression.property.name : undefined;
}
