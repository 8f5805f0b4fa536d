import type { AnyNode, Pattern, Program } from "acorn";
import { walk } from "./ast.js";

/**
 * Top-level code that changes a declaration after it runs. A copy of the declaration alone would
 * behave differently in a worker, so these declarations are not shipped (or refused).
 */

/** Bindings assigned by code that runs at the top level (not inside functions or classes). */
export function reassignedNames(program: Program): Set<string> {
  const names = new Set<string>();
  walk(program, (node) => {
    switch (node.type) {
      case "FunctionDeclaration": case "FunctionExpression": case "ArrowFunctionExpression": case "ClassBody":
        return false;
      case "AssignmentExpression":
        addPatternNames(node.left, names);
        break;
      case "UpdateExpression":
        if (node.argument.type === "Identifier") names.add(node.argument.name);
        break;
      case "ForInStatement": case "ForOfStatement":
        if (node.left.type !== "VariableDeclaration") addPatternNames(node.left, names);
        break;
    }
    return true;
  });
  return names;
}

/** Adds the bindings a pattern names (not the names inside its default values). */
export function addPatternNames(pattern: Pattern, names: Set<string>): void {
  switch (pattern.type) {
    case "Identifier": names.add(pattern.name); break;
    case "ObjectPattern":
      for (const p of pattern.properties) addPatternNames(p.type === "RestElement" ? p : p.value, names);
      break;
    case "ArrayPattern": for (const e of pattern.elements) if (e) addPatternNames(e, names); break;
    case "RestElement": addPatternNames(pattern.argument, names); break;
    case "AssignmentPattern": addPatternNames(pattern.left, names); break;
    default: break; // member expressions assign properties, not bindings
  }
}

/**
 * esbuild lowers decorators to top-level statements after the class, e.g.
 *   __decorateClass([log], Point.prototype, "sum", 1);   Point = __decorateClass([sealed], Point);
 *   _Point = __decorateElement(_init, 0, "Point", _Point_decorators, _Point);   let Point = _Point;
 * Those statements cannot travel with a class shipped by source.
 */
export function decoratedNames(program: Program): Set<string> {
  const names = new Set<string>();
  const isDecoratorCall = (node: AnyNode): boolean =>
    node.type === "CallExpression" && node.callee.type === "Identifier" && /^__(decorate|runInitializers)/.test(node.callee.name);
  for (const statement of program.body) {
    if (statement.type === "ExpressionStatement") {
      walk(statement, (node) => {
        if (node.type === "AssignmentExpression" && node.left.type === "Identifier" && isDecoratorCall(node.right)) {
          names.add(node.left.name);
        }
        if (node.type === "CallExpression" && isDecoratorCall(node)) {
          for (const arg of node.arguments) {
            const target = arg.type === "MemberExpression" ? arg.object : arg;
            if (target.type === "Identifier") names.add(target.name);
          }
        }
        return node.type !== "FunctionExpression" && node.type !== "ArrowFunctionExpression";
      });
    } else if (statement.type === "VariableDeclaration") {
      for (const d of statement.declarations) {
        // `let Point = _Point;` after the decorated `_Point`.
        if (d.id.type === "Identifier" && d.init?.type === "Identifier" && names.has(d.init.name)) names.add(d.id.name);
      }
    }
  }
  return names;
}
