/**
 * An application named by an import path, as config files and the CLI name it: "module:export",
 * the module a .ts or .js file relative to a base folder (the runtimeEnv's workingDir, else the
 * deploying process's cwd), the export an Application or a builder `(args) => Application`.
 * Imported in the deploying process, whose deployments then ship their code to replicas as
 * deployment() always does.
 */
import { existsSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { splitImportPath } from "./config.js";
import { Application, Deployment } from "./deployment.js";

const EXTENSIONS = [".ts", ".js", ".mts", ".mjs", ".cts", ".cjs"];
const TYPESCRIPT = /\.[cm]?tsx?$/;

/** The module's file: the path as given, else with one of EXTENSIONS, else a package's export. */
export function resolveModule(module: string, baseDir: string, where: string): string {
  const candidate = path.resolve(baseDir, module);
  const isFile = (p: string) => existsSync(p) && statSync(p).isFile();
  if (isFile(candidate)) return candidate;
  if (path.extname(module) === "") {
    for (const ext of EXTENSIONS) if (isFile(candidate + ext)) return candidate + ext;
  }
  if (!module.startsWith(".") && !path.isAbsolute(module)) {
    try {
      return createRequire(path.join(baseDir, "noop.js")).resolve(module);
    } catch { /* reported below */ }
  }
  throw new TypeError(`${where}: module '${module}' not found in ${baseDir}`);
}

/** Imports the module and returns its application, calling a builder with `args`. */
export async function importApplication(importPath: string, args: Record<string, unknown> | undefined, baseDir: string,
  where = "importPath"): Promise<Application> {
  const { module, exportName } = splitImportPath(importPath, where);
  const file = resolveModule(module, baseDir, where);
  let namespace: Record<string, unknown>;
  try {
    namespace = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    if ((err as { code?: string }).code === "ERR_UNKNOWN_FILE_EXTENSION" && TYPESCRIPT.test(file)) {
      throw new TypeError(`${where}: ${file} is TypeScript, which this process cannot import: run it under tsx (node --import tsx), as the tsray command does`);
    }
    throw new TypeError(`${where}: importing ${file} failed: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
  if (!(exportName in namespace)) {
    const names = Object.keys(namespace).filter((k) => k !== "default");
    throw new TypeError(`${where}: ${file} has no export '${exportName}'${names.length ? ` (its exports: ${names.join(", ")})` : ""}`);
  }
  const value = namespace[exportName];
  const what = `export '${exportName}' of ${file}`;
  if (value instanceof Application) {
    if (args !== undefined && Object.keys(args).length > 0) {
      throw new TypeError(`${where}: ${what} is an Application, which takes no arguments: export a builder (args) => Application to pass ${Object.keys(args).join(", ")}`);
    }
    return value;
  }
  if (value instanceof Deployment) throw new TypeError(`${where}: ${what} is a Deployment, not an Application: export ${exportName}.bind() (or a builder returning one)`);
  if (typeof value !== "function") throw new TypeError(`${where}: ${what} is ${value === null ? "null" : typeof value}, not an Application nor a builder (args) => Application`);
  let built: unknown;
  try {
    built = await (value as (args: Record<string, unknown>) => unknown)(args ?? {});
  } catch (err) {
    throw new TypeError(`${where}: the builder ${what} threw ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
  if (!(built instanceof Application)) {
    const kind = built instanceof Deployment ? "a Deployment (call .bind())" : built === null ? "null" : typeof built === "object" ? "an object that is no Application" : typeof built;
    throw new TypeError(`${where}: the builder ${what} returned ${kind}, not an Application (made by Deployment.bind())`);
  }
  return built;
}
