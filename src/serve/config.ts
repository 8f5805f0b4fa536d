/**
 * The config of `serve.deploy()` and `tsray serve deploy` (serve.d.ts ServeDeployConfig), and its
 * files: YAML or JSON, keys camelCase. Checked whole before anything is deployed, each mistake
 * named by its key path ("applications[0].deployments[1].numReplicas"), and by its file when it
 * came from one, so one line says what to fix.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import type { RuntimeEnv } from "tsray";
import { parse as parseYaml } from "yaml";
import type { RunOptions } from "./api.js";
import { normalizeRoutePrefix } from "./app-spec.js";
import { checkDeploymentOptions, type DeploymentOptions, type JsonValue } from "./options.js";
import type { StartOptions } from "./proxy.js";

export interface ServeApplicationConfig extends RunOptions {
  importPath: string;
  args?: Record<string, JsonValue>;
  runtimeEnv?: RuntimeEnv;
  deployments?: (DeploymentOptions & { name: string })[];
}

export interface ServeDeployConfig extends StartOptions {
  applications: ServeApplicationConfig[];
}

const TOP_KEYS = ["applications", "proxyLocation", "http"];
const HTTP_KEYS = ["host", "port", "requestTimeoutMs", "keepAliveTimeoutMs"];
const APP_KEYS = ["name", "routePrefix", "importPath", "args", "runtimeEnv", "deployments"];
const RUNTIME_ENV_KEYS = ["env", "workingDir"];

const typeName = (v: unknown) => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v);
const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function checkObject(where: string, value: unknown, known: readonly string[]): asserts value is Record<string, unknown> {
  if (!isPlainObject(value)) throw new TypeError(`${where} must be an object, got ${typeName(value)}`);
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new TypeError(`${where} has no key '${key}' (known: ${known.join(", ")})`);
  }
}

function checkString(where: string, value: unknown): void {
  if (typeof value !== "string" || value === "") throw new TypeError(`${where} must be a non-empty string, got ${typeName(value)}`);
}

/** "module:export", split at the last colon (the module may be a path with colons in it). */
export function splitImportPath(importPath: string, where = "importPath"): { module: string; exportName: string } {
  const colon = importPath.lastIndexOf(":");
  const module = importPath.slice(0, colon);
  const exportName = importPath.slice(colon + 1);
  if (colon <= 0 || exportName === "" || !/^[A-Za-z_$][\w$]*$/.test(exportName)) {
    throw new TypeError(`${where} must be "module:export" (e.g. "app.ts:app"), got ${JSON.stringify(importPath)}`);
  }
  return { module, exportName };
}

/**
 * A deployment option error, its key path named: "deployment option numReplicas must be..." of
 * applications[0].deployments[1] becomes "applications[0].deployments[1].numReplicas must be...".
 */
export function atPath(err: unknown, where: string): unknown {
  if (!(err instanceof TypeError || err instanceof RangeError)) return err;
  const message = err.message
    .replace(/^deployment options? (?=[a-zA-Z.]+ (must|has|\())/, `${where}.`)
    .replace(/^deployment options (?=has no option)/, `${where} `)
    .replace(/^deployment options /, `${where}: options `);
  const rewritten = message === err.message ? `${where}: ${err.message}` : message;
  return new (err.constructor as ErrorConstructor)(rewritten);
}

/** Throws a TypeError or RangeError naming the first wrong key; returns the config as given otherwise. */
export function checkDeployConfig(value: unknown): ServeDeployConfig {
  checkObject("the config", value, TOP_KEYS);
  if (value.proxyLocation !== undefined && !["EveryNode", "HeadOnly", "Disabled"].includes(value.proxyLocation as string)) {
    throw new TypeError(`proxyLocation must be "EveryNode", "HeadOnly" or "Disabled", got ${JSON.stringify(value.proxyLocation)}`);
  }
  if (value.http !== undefined) checkHttp(value.http);
  if (!Array.isArray(value.applications)) throw new TypeError(`applications must be a list, got ${value.applications === undefined ? "nothing" : typeName(value.applications)}`);
  const names = new Map<string, number>();
  const prefixes = new Map<string, number>();
  value.applications.forEach((app: unknown, i: number) => {
    const where = `applications[${i}]`;
    checkApplication(where, app);
    const name = (app.name as string | undefined) ?? "default";
    if (names.has(name)) throw new TypeError(`${where}.name: '${name}' is also the name of applications[${names.get(name)}]; give each application its own`);
    names.set(name, i);
    const prefix = normalizeRoutePrefix(app.routePrefix, `${where}.routePrefix`);
    if (prefix !== null && prefixes.has(prefix)) throw new TypeError(`${where}.routePrefix: ${prefix} is also the route prefix of applications[${prefixes.get(prefix)}]; give each application its own`);
    if (prefix !== null) prefixes.set(prefix, i);
  });
  return value as unknown as ServeDeployConfig;
}

function checkHttp(http: unknown): void {
  checkObject("http", http, HTTP_KEYS);
  if (http.host !== undefined) checkString("http.host", http.host);
  const port = http.port;
  if (port !== undefined && !(typeof port === "number" && Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new RangeError(`http.port must be an integer in 0..65535, got ${JSON.stringify(port)}`);
  }
  for (const k of ["requestTimeoutMs", "keepAliveTimeoutMs"]) {
    const v = http[k];
    if (v !== undefined && !(typeof v === "number" && v > 0)) throw new RangeError(`http.${k} must be a number > 0, got ${JSON.stringify(v)}`);
  }
}

function checkApplication(where: string, app: unknown): asserts app is Record<string, unknown> {
  checkObject(where, app, APP_KEYS);
  if (app.importPath === undefined) throw new TypeError(`${where}.importPath is missing: say where the application is, as "module:export"`);
  checkString(`${where}.importPath`, app.importPath);
  splitImportPath(app.importPath as string, `${where}.importPath`);
  if (app.name !== undefined) {
    checkString(`${where}.name`, app.name);
    if ((app.name as string).includes("#")) throw new TypeError(`${where}.name must not contain '#', got ${JSON.stringify(app.name)}`);
  }
  if (app.args !== undefined && !isPlainObject(app.args)) throw new TypeError(`${where}.args must be an object (the builder's arguments), got ${typeName(app.args)}`);
  if (app.runtimeEnv !== undefined) {
    checkObject(`${where}.runtimeEnv`, app.runtimeEnv, RUNTIME_ENV_KEYS);
    const env = app.runtimeEnv.env;
    if (env !== undefined) {
      if (!isPlainObject(env)) throw new TypeError(`${where}.runtimeEnv.env must be an object of strings, got ${typeName(env)}`);
      for (const [k, v] of Object.entries(env)) if (typeof v !== "string") throw new TypeError(`${where}.runtimeEnv.env.${k} must be a string, got ${typeName(v)}`);
    }
    if (app.runtimeEnv.workingDir !== undefined) checkString(`${where}.runtimeEnv.workingDir`, app.runtimeEnv.workingDir);
  }
  if (app.deployments !== undefined) {
    if (!Array.isArray(app.deployments)) throw new TypeError(`${where}.deployments must be a list, got ${typeName(app.deployments)}`);
    const seen = new Set<string>();
    app.deployments.forEach((d: unknown, j: number) => {
      const at = `${where}.deployments[${j}]`;
      if (!isPlainObject(d)) throw new TypeError(`${at} must be an object, got ${typeName(d)}`);
      if (d.name === undefined) throw new TypeError(`${at}.name is missing: say which deployment these options are for`);
      checkString(`${at}.name`, d.name);
      if (seen.has(d.name as string)) throw new TypeError(`${at}.name: deployment '${d.name as string}' is listed twice`);
      seen.add(d.name as string);
      try {
        checkDeploymentOptions(d);
      } catch (err) {
        throw atPath(err, at);
      }
    });
  }
}

/** Reads and checks a config file (YAML, or JSON, which YAML includes); errors name the file. */
export function loadConfigFile(file: string): ServeDeployConfig {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as { code?: string }).code;
    throw new TypeError(code === "ENOENT" ? `config file ${file} does not exist` : `cannot read config file ${file}: ${(err as Error).message}`);
  }
  let value: unknown;
  try {
    value = path.extname(file).toLowerCase() === ".json" ? JSON.parse(text) : parseYaml(text, { prettyErrors: false });
  } catch (err) {
    const kind = path.extname(file).toLowerCase() === ".json" ? "JSON" : "YAML";
    throw new TypeError(`config file ${file} is not valid ${kind}: ${firstLine((err as Error).message)}`);
  }
  try {
    return checkDeployConfig(value);
  } catch (err) {
    const e = err as Error;
    throw new (e.constructor as ErrorConstructor)(`config file ${file}: ${e.message}`);
  }
}

function firstLine(s: string): string {
  return s.split("\n")[0]!.trim();
}
