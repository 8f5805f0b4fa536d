import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { extname } from "node:path";
import { fileURLToPath } from "node:url";
import type { Loader } from "esbuild";
import { lazyEsbuild } from "./lazy-deps.js";
import { emitOptionsFor } from "./tsconfig.js";

/**
 * A scope module's source as JavaScript. TypeScript is compiled the way tsx compiles it (same
 * esbuild options and tsconfig settings), because under tsx a function's toString() is already
 * tsx's JavaScript, and the declarations we copy next to it must be the same code.
 */
export interface ModuleSource {
  text: string;
  /** .cjs: parsed as a script, so it has no imports or exports. */
  commonJs: boolean;
}

const LOADERS: Record<string, Loader> = { ".ts": "ts", ".mts": "ts", ".cts": "ts", ".tsx": "tsx", ".jsx": "jsx" };

/** Sources compiled ahead of need (see prepareModuleSource), by path. */
const prepared = new Map<string, ModuleSource>();

/**
 * Compiles a TypeScript module in the background, with esbuild's asynchronous service, so that
 * describing its first function does not wait tens of ms for esbuild to start: the driver
 * script's, while `init` waits for its workers.
 */
export async function prepareModuleSource(path: string): Promise<void> {
  const loader = LOADERS[extname(path)];
  if (loader === undefined || prepared.has(path)) return;
  const text = await readFile(path, "utf8");
  const { code } = await lazyEsbuild().transform(text, compileOptions(path, loader));
  prepared.set(path, { text: code, commonJs: false });
}

/** The options tsx uses, so our copies of declarations match its output. */
function compileOptions(path: string, loader: Loader): import("esbuild").TransformOptions {
  return {
    loader,
    format: "esm",
    target: `node${process.versions.node}`,
    keepNames: true,
    sourcefile: path,
    tsconfigRaw: { compilerOptions: emitOptionsFor(path) },
  };
}

/** The module's JavaScript, or undefined when there is no file to read (REPL, `node -e`). */
export function readModuleSource(url: string): ModuleSource | undefined {
  if (!url.startsWith("file:")) return undefined;
  const path = fileURLToPath(url);
  const ready = prepared.get(path);
  if (ready) return ready;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR") return undefined;
    throw error;
  }
  const extension = extname(path);
  const loader = LOADERS[extension];
  if (loader !== undefined) {
    text = lazyEsbuild().transformSync(text, compileOptions(path, loader)).code;
  }
  return { text, commonJs: extension === ".cjs" };
}
