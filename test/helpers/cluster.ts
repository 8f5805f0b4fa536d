// Running the tsray command and driver programs as a user does, each in a process of its own,
// against nodes whose session folders live in a temporary folder of the test file's.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, watch, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const bin = fileURLToPath(new URL("../../bin/tsray.mjs", import.meta.url));
export const driver = fileURLToPath(new URL("../fixtures/cluster/driver.ts", import.meta.url));
/**
 * Drivers import the built package, as the nodes the CLI starts do: a shipped function that uses
 * the API must find, in its worker, the same tsray module as the node's runtime.
 */
export const DRIVER_ARGS = ["--import", "tsx"];

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Session {
  nodeId: string;
  address: string;
  pid: number;
  head: boolean;
}

export function clusterFolder() {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "tsray-cluster-test-"));
  const env = { ...process.env, TSRAY_TMPDIR: tmp, TSRAY_ADDRESS: "", TSRAY_TOKEN: "" };
  const run = (file: string, args: string[], nodeArgs: string[] = []): Promise<Run> =>
    new Promise((resolve) => {
      // A program that hangs fails its test (killed, with what it printed) instead of hanging the suite.
      execFile(process.execPath, [...nodeArgs, file, ...args], { env, timeout: 120_000 }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
  const sessionDirs = () => readdirSync(tmp).filter((f) => f.startsWith("node-"));
  return {
    tmp,
    env,
    run,
    tsray: (...args: string[]) => run(bin, args),
    drive: (...args: string[]) => run(driver, args, DRIVER_ARGS),
    sessionDirs,
    sessions: (): Session[] => sessionDirs().map((d) => JSON.parse(readFileSync(path.join(tmp, d, "node.json"), "utf8")) as Session),
  };
}

/** The driver's last line of output, as JSON. */
export function result(r: Run): Record<string, unknown> {
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Record<string, unknown>;
}

/** Resolves once the file has a line matching `line` (watching it, not polling). */
export function untilLine(file: string, line: RegExp): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      let text = "";
      try {
        text = readFileSync(file, "utf8");
      } catch {
        return false;
      }
      return line.test(text);
    };
    if (check()) return resolve();
    const watcher = watch(path.dirname(file), () => {
      if (!check()) return;
      watcher.close();
      resolve();
    });
  });
}

/**
 * A driver program in a folder of its own (tsray linked into its node_modules, a module of its
 * own beside it) that uploads the folder with init({ runtimeEnv: { workingDir } }), then runs a
 * task that uses that module and says where the module was loaded from. `options` are the
 * task's. Returns the script.
 */
export function workingDirApp(parent: string, options: string): string {
  const dir = mkdtempSync(path.join(parent, "app-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(fileURLToPath(new URL("../../", import.meta.url)), path.join(dir, "node_modules", "tsray"), "dir");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  writeFileSync(path.join(dir, "lib.ts"), "export const triple = (x: number) => 3 * x;\nexport const libUrl = import.meta.url;\n");
  writeFileSync(path.join(dir, "main.ts"), [
    'import * as ray from "tsray";',
    'import { libUrl, triple } from "./lib.ts";',
    'await ray.init({ address: "auto", runtimeEnv: { workingDir: import.meta.dirname } });',
    "const work = ray.remote((x: number) => ({ value: triple(x), cwd: process.cwd(), libUrl, node: ray.getRuntimeContext().nodeId }));",
    `const options = ${options};`,
    "console.log(JSON.stringify(await ray.get(work.options(options).remote(14))));",
    "await ray.shutdown();",
  ].join("\n"));
  return path.join(dir, "main.ts");
}

/**
 * A driver program whose task has a working directory of its own (`task-dir`, beside the
 * script: a data file and the module that defines the task), uploaded when the task is first
 * submitted; init names no working directory. The task says what it read from its cwd, where it
 * ran, and where its module was loaded from. `options` are the task's (besides runtimeEnv).
 */
export function taskDirApp(parent: string, options: string): string {
  const dir = mkdtempSync(path.join(parent, "app-"));
  mkdirSync(path.join(dir, "node_modules"));
  symlinkSync(fileURLToPath(new URL("../../", import.meta.url)), path.join(dir, "node_modules", "tsray"), "dir");
  writeFileSync(path.join(dir, "package.json"), JSON.stringify({ type: "module" }));
  mkdirSync(path.join(dir, "task-dir"));
  writeFileSync(path.join(dir, "task-dir", "data.txt"), "read from the task's own folder");
  writeFileSync(path.join(dir, "task-dir", "lib.ts"), [
    'import { readFileSync } from "node:fs";',
    'import * as ray from "tsray";',
    "export function work() {",
    '  return { data: readFileSync("data.txt", "utf8"), cwd: process.cwd(), libUrl: import.meta.url, node: ray.getRuntimeContext().nodeId };',
    "}",
  ].join("\n"));
  writeFileSync(path.join(dir, "main.ts"), [
    'import * as ray from "tsray";',
    'import { work } from "./task-dir/lib.ts";',
    'await ray.init({ address: "auto" });',
    `const options = { ...${options}, runtimeEnv: { workingDir: new URL("./task-dir", import.meta.url).pathname } };`,
    "console.log(JSON.stringify(await ray.get(ray.remote(work).options(options).remote())));",
    "await ray.shutdown();",
  ].join("\n"));
  return path.join(dir, "main.ts");
}
