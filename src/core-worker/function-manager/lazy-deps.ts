/**
 * acorn and esbuild, loaded on first use. Only describing a callable needs them, and every
 * worker thread loads the runtime: importing them eagerly made each worker parse two large
 * libraries it almost never uses.
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
let acorn: typeof import("acorn") | undefined;
let esbuild: typeof import("esbuild") | undefined;

export function lazyAcorn(): typeof import("acorn") {
  return (acorn ??= require("acorn") as typeof import("acorn"));
}

export function lazyEsbuild(): typeof import("esbuild") {
  return (esbuild ??= require("esbuild") as typeof import("esbuild"));
}
