/**
 * acorn, loaded on first use. Only describing a callable needs it, and every worker thread loads
 * the runtime: importing it eagerly made each worker parse a large library it almost never uses.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let acorn: typeof import("acorn") | undefined;

export function lazyAcorn(): typeof import("acorn") {
  return (acorn ??= require("acorn") as typeof import("acorn"));
}
