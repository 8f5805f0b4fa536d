import type { Expression, Node, PrivateIdentifier, SpreadElement, Super } from "acorn";
import { isTsraySpecifier } from "./own-package.js";
import type { Declaration, ScopeModule } from "./scope-module.js";

/**
 * Which top-level declarations of a scope module may be copied into a worker.
 *
 * A copy re-runs the declaration in the worker, so only declarations whose value is the same
 * wherever they run qualify: functions and classes, and variables initialized from literals,
 * function/class expressions, literals of shippable things, argument-free constructions
 * (`new Map()`), pure builtins (`Object.freeze({...})`), calls of tsray's own `remote` (`ray.remote(f)`, `remote({...})(f)`, with
 * `.options(...)`), TypeScript enums, and pure operators over these. Reads of global namespaces
 * such as `Object.defineProperty` are allowed so esbuild's helpers ship too.
 * Anything else (`loadFile()`, `Counter.remote()`, `process.env.X`) stays behind: a function
 * that uses it fails in the worker with "ReferenceError: <name> is not defined".
 */

/** Global objects whose property reads have no side effects worth worrying about. */
const PURE_GLOBAL_NAMESPACES = new Set([
  "Object", "Symbol", "Reflect", "Math", "Number", "String", "Array", "JSON", "BigInt", "Promise", "Boolean", "Intl",
]);

/** Global constructors that build plain containers from shippable arguments. */
const CONTAINER_CONSTRUCTORS = new Set([
  "Map", "Set", "WeakMap", "WeakSet", "Array", "Object", "RegExp", "URL", "URLSearchParams",
  "TextEncoder", "TextDecoder", "ArrayBuffer", "Uint8Array", "Int8Array", "Uint16Array", "Int16Array",
  "Uint32Array", "Int32Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array",
]);

/** Global functions that compute a value from their arguments and touch nothing else. */
const PURE_GLOBAL_CALLS = new Set([
  "Object.freeze", "Object.fromEntries", "Object.entries", "Object.keys", "Object.values", "Object.assign",
  "Array.from", "Array.of", "Symbol", "Symbol.for", "JSON.parse", "JSON.stringify",
  "Number", "String", "Boolean", "BigInt", "Math.min", "Math.max", "Math.pow", "Math.sqrt",
]);

const GLOBAL_VALUES = new Set(["undefined", "NaN", "Infinity"]);

const checkers = new WeakMap<ScopeModule, ShippabilityChecker>();

export function isShippable(scope: ScopeModule, declaration: Declaration): boolean {
  let checker = checkers.get(scope);
  if (!checker) checkers.set(scope, (checker = new ShippabilityChecker(scope)));
  return checker.declaration(declaration);
}

class ShippabilityChecker {
  private readonly verdicts = new Map<Declaration, boolean>();
  /** Local names bound to tsray's `remote` function and to tsray's namespace or default export. */
  private readonly remoteFunctions = new Set<string>();
  private readonly tsrayNamespaces = new Set<string>();

  constructor(private readonly scope: ScopeModule) {
    for (const entry of scope.imports) {
      if (!isTsraySpecifier(entry.specifier, scope.url)) continue;
      for (const [local, imported] of entry.bindings) {
        if (imported === "remote") this.remoteFunctions.add(local);
        else if (imported === "*" || imported === "default") this.tsrayNamespaces.add(local);
      }
    }
  }

  declaration(declaration: Declaration): boolean {
    const known = this.verdicts.get(declaration);
    if (known !== undefined) return known;
    // Provisionally true: a cycle between initializers is a TDZ error in the original anyway.
    this.verdicts.set(declaration, true);
    let verdict: boolean;
    if (declaration.init === undefined) verdict = true; // function or class declaration
    else if (declaration.init === null) verdict = false; // `let x;` gets its value later
    else if (this.scope.reassigned.has(declaration.name)) verdict = false;
    else verdict = this.isTsEnum(declaration) || this.expression(declaration.init);
    this.verdicts.set(declaration, verdict);
    return verdict;
  }

  /** A binding the worker can have: an import, a shippable declaration, or a harmless global. */
  private binding(name: string): boolean {
    if (this.scope.importsByLocal.has(name)) return true;
    const declarations = this.scope.declarations.get(name);
    if (declarations) return declarations.every((d) => this.declaration(d));
    return GLOBAL_VALUES.has(name) || CONTAINER_CONSTRUCTORS.has(name) || PURE_GLOBAL_NAMESPACES.has(name);
  }

  private isGlobal(name: string): boolean {
    return !this.scope.importsByLocal.has(name) && !this.scope.declarations.has(name);
  }

  private expression(node: Expression | SpreadElement | PrivateIdentifier | Super | Node): boolean {
    const n = node as Expression | SpreadElement | PrivateIdentifier | Super;
    switch (n.type) {
      case "Literal":
      case "FunctionExpression":
      case "ArrowFunctionExpression":
      case "ClassExpression":
        return true;
      case "TemplateLiteral":
        return n.expressions.every((e) => this.expression(e));
      case "Identifier":
        return this.binding(n.name);
      case "ArrayExpression":
        return n.elements.every((e) => e === null || this.expression(e));
      case "ObjectExpression":
        return n.properties.every((p) =>
          p.type === "SpreadElement"
            ? this.expression(p.argument)
            : (!p.computed || this.expression(p.key)) && this.expression(p.value),
        );
      case "SpreadElement":
        return this.expression(n.argument);
      case "UnaryExpression":
        return n.operator !== "delete" && this.expression(n.argument);
      case "BinaryExpression":
      case "LogicalExpression":
        return this.expression(n.left) && this.expression(n.right);
      case "ConditionalExpression":
        return this.expression(n.test) && this.expression(n.consequent) && this.expression(n.alternate);
      case "ChainExpression":
        return this.expression(n.expression);
      case "MemberExpression":
        return this.memberRead(n.object, n.computed ? n.property : undefined);
      case "NewExpression":
        return this.construction(n.callee, n.arguments);
      case "CallExpression":
        return this.isRemoteCall(n) || this.isPureCall(n.callee, n.arguments);
      default:
        return false;
    }
  }

  /** `Math.PI`, `Object.defineProperty`, `config.port`, `ns.helper`: reads of shippable objects. */
  private memberRead(object: Expression | Super, computedKey: Expression | PrivateIdentifier | undefined): boolean {
    if (computedKey !== undefined && !this.expression(computedKey)) return false;
    if (object.type === "MemberExpression") return this.memberRead(object.object, object.computed ? object.property : undefined);
    if (object.type !== "Identifier") return false;
    if (this.isGlobal(object.name)) return PURE_GLOBAL_NAMESPACES.has(object.name);
    return this.binding(object.name);
  }

  /** `new Map()`, `new Set(["a"])`, `new Emitter()`: containers, or a known class without arguments. */
  private construction(callee: Expression | Super, args: ReadonlyArray<Expression | SpreadElement>): boolean {
    if (callee.type !== "Identifier") return false;
    if (this.isGlobal(callee.name)) return CONTAINER_CONSTRUCTORS.has(callee.name) && args.every((a) => this.expression(a));
    return args.length === 0 && this.binding(callee.name);
  }

  /** `Object.freeze({...})`, `Symbol.for("k")`, and esbuild's keepNames wrapper `__name(() => ..., "f")`. */
  private isPureCall(callee: Expression | Super, args: ReadonlyArray<Expression | SpreadElement>): boolean {
    if (!args.every((a) => this.expression(a))) return false;
    if (callee.type === "Identifier") {
      return callee.name === "__name" ? args.length === 2 : PURE_GLOBAL_CALLS.has(callee.name) && this.isGlobal(callee.name);
    }
    if (callee.type !== "MemberExpression" || callee.computed) return false;
    const { object, property } = callee;
    return object.type === "Identifier" && property.type === "Identifier" && this.isGlobal(object.name) &&
      PURE_GLOBAL_CALLS.has(`${object.name}.${property.name}`);
  }

  /** `remote(f)`, `ray.remote(f)`, `ray.remote({...})(f)`, `... .options({...})`. */
  private isRemoteCall(node: Expression | Super): boolean {
    if (node.type !== "CallExpression" || !node.arguments.every((a) => this.expression(a))) return false;
    const callee = node.callee;
    if (callee.type === "Identifier") return this.remoteFunctions.has(callee.name);
    if (callee.type === "CallExpression") return this.isRemoteCall(callee);
    if (callee.type !== "MemberExpression" || callee.computed || callee.property.type !== "Identifier") return false;
    const property = callee.property.name;
    if (property === "remote") return callee.object.type === "Identifier" && this.tsrayNamespaces.has(callee.object.name);
    return property === "options" && this.isRemoteCall(callee.object);
  }

  /** TypeScript enums compile to `var E = ((E2) => { ... })(E || {})`. */
  private isTsEnum(declaration: Declaration): boolean {
    const init = declaration.init;
    if (declaration.kind !== "var" || !init || init.type !== "CallExpression" || init.arguments.length !== 1) return false;
    const [arg] = init.arguments;
    return (
      (init.callee.type === "ArrowFunctionExpression" || init.callee.type === "FunctionExpression") &&
      arg?.type === "LogicalExpression" && arg.operator === "||" &&
      arg.left.type === "Identifier" && arg.left.name === declaration.name &&
      arg.right.type === "ObjectExpression" && arg.right.properties.length === 0
    );
  }
}
