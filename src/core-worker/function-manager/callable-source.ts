import type { Expression, Program, Token } from "acorn";
import { lazyAcorn } from "./lazy-deps.js";
import { importMetaRanges, namesIn, PARSE_OPTIONS, parseWithNames, sliceReplacing } from "./ast.js";
import { addPatternNames } from "./top-level-effects.js";
import { IMPORT_META_NAME } from "./scope-module.js";

/**
 * A function or class turned into the text of an expression that re-creates it, plus the names
 * that text mentions (what it may need from its scope module).
 *
 * The text is normalized (comments dropped, each run of whitespace made one space or one line
 * break): under tsx, `toString()` returns tsx's output, while inside a worker the same function's
 * `toString()` returns the copy we shipped. Normalizing is idempotent, so describing a function
 * inside a worker yields the same descriptor id as in the driver.
 */
export interface ShippedExpression {
  text: string;
  refs: ReadonlySet<string>;
  /** The `name` the expression gives its value by itself (arrows get none). */
  intrinsicName: string | undefined;
  /**
   * True when every name it mentions is one of its own parameters (`(x) => x * 10`): it needs
   * nothing from its module, which then need not be read at all.
   */
  selfContained: boolean;
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
  const normalized = normalize(expression);
  const { program, names } = parseWithNames(normalized);
  const refs = namesIn(names, 0, normalized.length);
  // A named function or class expression binds its own name inside itself.
  const own = ownBindingName(program);
  if (own !== undefined) refs.delete(own);
  const params = parameterNames(program);
  const selfContained = [...refs].every((name) => params.has(name));
  return { text: normalized, refs, intrinsicName: own ?? methodName(program), selfContained };
}

/** The names a function or arrow expression binds as parameters (destructured ones included). */
function parameterNames(program: Program): Set<string> {
  const names = new Set<string>();
  const statement = program.body[0];
  const fn = statement?.type === "ExpressionStatement" ? statement.expression : undefined;
  if (fn?.type === "ArrowFunctionExpression" || fn?.type === "FunctionExpression") for (const param of fn.params) addPatternNames(param, names);
  return names;
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

/**
 * A canonical printing of `text`: its tokens as they are, with the semicolons that automatic
 * semicolon insertion supplies written out and a lone arrow parameter in parentheses, separated
 * by rules that look at the tokens only (a line break after `;`, `{` and `}`, nothing inside
 * template literals or around brackets, else one space). Comments go. The result depends on the
 * tokens alone, so tsx's minified output (`x=>x*2`, no `;` before `}`) and a formatted compile
 * of the same code (`(x) => x * 2`) print the same; and printing is idempotent. It never joins
 * two tokens into one, so the meaning is unchanged.
 */
function normalize(text: string): string {
  const acorn = lazyAcorn();
  const inserted = new Set<number>();
  acorn.parse(text, { ...PARSE_OPTIONS, onInsertedSemicolon: (end) => inserted.add(end) });
  const tt = acorn.tokTypes;
  const templateParts = new Set([tt.backQuote, tt.template, tt.invalidTemplate]);
  const tokens = [...acorn.tokenizer(text, PARSE_OPTIONS)];
  let out = "";
  tokens.forEach((token, i) => {
    if (i > 0) out += separator(tokens[i - 1]!, token);
    const raw = text.slice(token.start, token.end);
    out += token.type === tt.name && tokens[i + 1]?.type === tt.arrow ? `(${raw})` : raw;
  });
  return out;

  function separator(a: Token, b: Token): string {
    // A semicolon is only ever supplied after a template literal's closing backquote, not inside.
    if (inserted.has(a.end)) return ";\n";
    if (templateParts.has(a.type) || templateParts.has(b.type)) return "";
    const left = a.type.label;
    const right = b.type.label;
    if (left === ";" || left === "{" || left === "}") return "\n";
    if (left === "(" || left === "[" || left === "." || left === "?.") return "";
    // `1 .toString()` must keep its space: `1.` would be a number.
    if (right === "." && a.type === tt.num) return " ";
    if (right === ")" || right === "]" || right === "," || right === ";" || right === "." || right === "?." || right === "(" || right === "[") return "";
    return " ";
  }
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
