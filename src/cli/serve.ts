/**
 * `tsray serve run|deploy|status|config|shutdown|build` (shared/spec/CLI.md, "Serve"). Each talks
 * to the cluster as a driver of its own (init with the address, TSRAY_ADDRESS or the head on this
 * machine; `serve run` without one starts an embedded cluster), through tsray/serve's API.
 * Applications are imported here, so TypeScript modules load through tsx when it is installed.
 */
import { createInterface } from "node:readline/promises";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { stringify as toYaml } from "yaml";
import * as ray from "../index.js";
import * as serve from "../serve/index.js";
import { configOf } from "../serve/build-config.js";
import { checkDeployConfig, loadConfigFile, splitImportPath, type ServeDeployConfig } from "../serve/config.js";
import { deployApplications, lastDeployedConfig } from "../serve/deploy.js";
import { importApplication, resolveModule } from "../serve/import-path.js";
import { parseFlags, UsageError } from "./args.js";

const SUBCOMMANDS = ["run", "deploy", "status", "config", "shutdown", "build"] as const;
type Subcommand = (typeof SUBCOMMANDS)[number];

export async function serveCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!SUBCOMMANDS.includes(sub as Subcommand)) {
    throw new UsageError(`tsray serve: the subcommand is one of ${SUBCOMMANDS.join(", ")} (got ${sub === undefined ? "nothing" : `'${sub}'`}; see tsray serve --help)`);
  }
  try {
    return await { run, deploy, status, config, shutdown, build }[sub as Subcommand](rest);
  } catch (err) {
    if (err instanceof UsageError || !(err instanceof Error)) throw err;
    // One line named by the subcommand ("tsray serve deploy: ..."), the stack only with --verbose.
    process.stderr.write(`tsray serve ${sub}: ${err.message}\n${rest.includes("--verbose") && err.stack ? `${err.stack}\n` : ""}`);
    return 1;
  }
}

const CONNECT_FLAGS = { address: "string", token: "string", verbose: "boolean" } as const;

/** A driver connected to the running cluster: `--address`, else TSRAY_ADDRESS, else this machine's head. */
async function connect(verb: string, flags: { address?: string; token?: string }): Promise<void> {
  const address = flags.address ?? (process.env.TSRAY_ADDRESS || "auto");
  if (/^https?:\/\//.test(address)) throw new UsageError(`tsray serve ${verb}: --address is the cluster's HOST:PORT (as for tsray status), not a dashboard URL`);
  try {
    await ray.init({ address, logToDriver: false, ...(flags.token !== undefined ? { token: flags.token } : {}) });
  } catch (err) {
    throw new UsageError(`tsray serve ${verb}: ${(err as Error).message.replace(/^init\(\{ address: "auto" \}\): /, "")}`);
  }
}

/** tsx's loader in this process (so that imported .ts modules load, and workers load them too), if installed. */
async function enableTypeScript(): Promise<void> {
  try {
    const esm = (await import("tsx/esm/api")) as { register(): unknown };
    const cjs = (await import("tsx/cjs/api")) as { register(): unknown };
    esm.register();
    cjs.register();
  } catch {
    // Not installed: JavaScript applications still work; a .ts one is refused, saying why.
  }
}

function checkPositionals(verb: string, positionals: string[], max: number): void {
  if (positionals.length > max) throw new UsageError(`tsray serve ${verb}: unexpected argument '${positionals[max]}'`);
}

function isConfigFile(target: string): boolean {
  return /\.(ya?ml|json)$/i.test(target);
}

/** The config file, or one line naming it and what is wrong with it. */
function configFile(verb: string, file: string): ServeDeployConfig {
  try {
    return loadConfigFile(file);
  } catch (err) {
    throw new UsageError(`tsray serve ${verb}: ${(err as Error).message}`);
  }
}

/** KEY=VALUE pairs: the application builder's arguments. */
function builderArgs(verb: string, pairs: string[]): Record<string, string> {
  const args: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`tsray serve ${verb}: unexpected argument '${pair}' (builder arguments are KEY=VALUE)`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return args;
}

async function run(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("serve run", argv, {
    ...CONNECT_FLAGS, name: "string", "route-prefix": "string", host: "string", port: "number", "working-dir": "string", "non-blocking": "boolean",
  });
  const [target, ...pairs] = positionals;
  if (target === undefined) throw new UsageError("tsray serve run: give the application, as MODULE:EXPORT or a config file");
  let config: ServeDeployConfig;
  const http = { ...(flags.host !== undefined ? { host: flags.host } : {}), ...(flags.port !== undefined ? { port: flags.port } : {}) };
  if (isConfigFile(target)) {
    if (pairs.length) throw new UsageError(`tsray serve run: builder arguments (${pairs[0]}) go into the config file's args, not after it`);
    for (const flag of ["name", "route-prefix", "working-dir"] as const) {
      if (flags[flag] !== undefined) throw new UsageError(`tsray serve run: --${flag} is for MODULE:EXPORT; a config file says it per application`);
    }
    config = configFile("run", target);
    config = { ...config, http: { ...config.http, ...http } };
  } else {
    // A mistake in the import path is told before a cluster starts.
    try {
      resolveModule(splitImportPath(target).module, flags["working-dir"] ?? process.cwd(), target);
    } catch (err) {
      throw new UsageError(`tsray serve run: ${(err as Error).message}`);
    }
    const app = {
      importPath: target,
      args: builderArgs("run", pairs),
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags["route-prefix"] !== undefined ? { routePrefix: flags["route-prefix"] } : {}),
      ...(flags["working-dir"] !== undefined ? { runtimeEnv: { workingDir: path.resolve(flags["working-dir"]) } } : {}),
    };
    config = { ...(Object.keys(http).length ? { http } : {}), applications: [app] };
  }

  // Flags checked with the config, before a cluster starts, and named as flags.
  try {
    checkDeployConfig(config);
  } catch (err) {
    const message = (err as Error).message
      .replace(/^http\.port/, "--port").replace(/^http\.host/, "--host")
      .replace(/^applications\[0\]\.routePrefix/, "--route-prefix").replace(/^applications\[0\]\.name/, "--name");
    throw new UsageError(`tsray serve run: ${message}`);
  }

  // SIGINT or SIGTERM from here on ends the run (after what was deployed is deleted).
  let signalled = false;
  const stop = new Promise<void>((resolve) => {
    const onSignal = () => {
      signalled = true;
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      resolve();
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
  });
  const attached = flags.address !== undefined || Boolean(process.env.TSRAY_ADDRESS);
  if (flags["non-blocking"] && !attached) {
    throw new UsageError("tsray serve run: --non-blocking needs a running cluster (--address or TSRAY_ADDRESS): an embedded one ends with this process");
  }
  await enableTypeScript();
  if (attached) await connect("run", flags);
  else await ray.init({ includeDashboard: false });
  const names = config.applications.map((a) => a.name ?? "default");
  try {
    const { httpUrl } = await serve.start({ ...(config.proxyLocation ? { proxyLocation: config.proxyLocation } : {}), ...(config.http ? { http: config.http } : {}) });
    // A config file is deployed as `serve deploy` does; an application alone leaves others running, as run().
    await deployApplications(config, { declarative: isConfigFile(target) }).catch((err: Error) => {
      // MODULE:EXPORT is the only application: its mistakes need no key path.
      if (!isConfigFile(target)) err.message = err.message.replace(/^applications\[0\]\.importPath: /, "");
      throw err;
    });
    const failed = await untilDeployed(names, stop);
    if (failed !== undefined) {
      process.stderr.write(`tsray serve run: ${failed}\n`);
      await cleanUp(names);
      return 1;
    }
    if (!signalled) {
      for (const app of config.applications) {
        const prefix = app.routePrefix === undefined ? "/" : app.routePrefix;
        process.stdout.write(`Application '${app.name ?? "default"}' is running${prefix !== null && httpUrl ? ` at ${httpUrl}${prefix === "/" ? "/" : prefix}` : ""}\n`);
      }
      if (flags["non-blocking"]) {
        await ray.shutdown();
        return 0;
      }
      process.stdout.write("Serving; Ctrl-C (SIGINT) or SIGTERM deletes the applications and stops Serve.\n");
      // Signal listeners and the cluster's connections do not keep a process alive: this does.
      const keepAlive = setInterval(() => {}, 2 ** 30);
      await stop;
      clearInterval(keepAlive);
    }
  } catch (err) {
    if (!signalled) {
      await cleanUp(names).catch(() => {});
      throw err;
    }
  }
  await cleanUp(names);
  return 0;
}

/** Deletes the applications, stops Serve and disconnects (an embedded cluster stops with it). */
async function cleanUp(names: string[]): Promise<void> {
  try {
    for (const name of names) await serve.delete(name);
    await serve.shutdown();
  } finally {
    await ray.shutdown();
  }
}

/** Waits until every application runs; resolves with why one failed, or early on a signal. */
async function untilDeployed(names: string[], stop: Promise<void>): Promise<string | undefined> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  for (let delay = 50; !stopped; delay = Math.min(delay * 2, 500)) {
    const { applications } = await serve.status();
    const failed = names.find((n) => applications[n]?.status === "DEPLOY_FAILED");
    if (failed !== undefined) return `application '${failed}' failed to deploy: ${applications[failed]!.message}`;
    if (names.every((n) => applications[n]?.status === "RUNNING")) return undefined;
    await Promise.race([stop, new Promise((r) => setTimeout(r, delay))]);
  }
  return undefined;
}

async function deploy(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("serve deploy", argv, CONNECT_FLAGS);
  checkPositionals("deploy", positionals, 1);
  if (positionals[0] === undefined) throw new UsageError("tsray serve deploy: give the config file (YAML or JSON)");
  const config = configFile("deploy", positionals[0]);
  await enableTypeScript();
  await connect("deploy", flags);
  try {
    const { httpUrl } = await serve.start({ ...(config.proxyLocation ? { proxyLocation: config.proxyLocation } : {}), ...(config.http ? { http: config.http } : {}) });
    await serve.deploy(config);
    warnIfHttpDiffers(config, httpUrl);
    const names = config.applications.map((a) => a.name ?? "default");
    process.stdout.write(`Sent the config to the cluster (applications: ${names.join(", ") || "none"})${httpUrl ? `; HTTP at ${httpUrl}` : ""}. Watch it with: tsray serve status\n`);
  } finally {
    await ray.shutdown();
  }
  return 0;
}

/** Serve ran already with other HTTP options: the config's apply only when Serve starts again. */
function warnIfHttpDiffers(config: ServeDeployConfig, httpUrl: string | undefined): void {
  const wanted = config.http;
  if (wanted === undefined || httpUrl === undefined) return;
  const running = new URL(httpUrl);
  const portDiffers = wanted.port !== undefined && wanted.port !== 0 && String(wanted.port) !== running.port;
  const hostDiffers = wanted.host !== undefined && wanted.host !== running.hostname;
  if (portDiffers || hostDiffers) {
    process.stderr.write(`tsray serve deploy: note: Serve runs already at ${httpUrl}; the config's http options apply when it starts again (after tsray serve shutdown)\n`);
  }
}

async function status(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("serve status", argv, { ...CONNECT_FLAGS, format: "string" });
  checkPositionals("status", positionals, 0);
  const format = flags.format ?? "yaml";
  if (format !== "yaml" && format !== "json") throw new UsageError(`tsray serve status: --format is yaml or json, got '${format}'`);
  await connect("status", flags);
  try {
    const s = await serve.status();
    process.stdout.write(format === "json" ? `${JSON.stringify(s)}\n` : toYaml(s));
  } finally {
    await ray.shutdown();
  }
  return 0;
}

async function config(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("serve config", argv, { ...CONNECT_FLAGS, name: "string" });
  checkPositionals("config", positionals, 0);
  await connect("config", flags);
  let last: ServeDeployConfig | null;
  try {
    last = await lastDeployedConfig();
  } finally {
    await ray.shutdown();
  }
  if (last === null) {
    process.stderr.write("tsray serve config: no config was deployed (tsray serve deploy CONFIG_FILE deploys one)\n");
    return 0;
  }
  if (flags.name === undefined) {
    process.stdout.write(toYaml(last));
    return 0;
  }
  const app = last.applications.find((a) => (a.name ?? "default") === flags.name);
  if (app === undefined) {
    process.stderr.write(`tsray serve config: the last deployed config has no application '${flags.name}' (it has: ${last.applications.map((a) => a.name ?? "default").join(", ")})\n`);
    return 1;
  }
  process.stdout.write(toYaml(app));
  return 0;
}

async function shutdown(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("serve shutdown", argv, { ...CONNECT_FLAGS, yes: "boolean" });
  checkPositionals("shutdown", positionals, 0);
  if (!flags.yes) {
    if (!process.stdin.isTTY) throw new UsageError("tsray serve shutdown: pass --yes to confirm (there is no terminal to ask)");
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await prompt.question("This deletes every Serve application and stops Serve on the cluster. Continue? [y/N] ");
    prompt.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stdout.write("Nothing was shut down.\n");
      return 1;
    }
  }
  await connect("shutdown", flags);
  try {
    await serve.shutdown();
    process.stdout.write("Serve was shut down; the cluster goes on.\n");
  } finally {
    await ray.shutdown();
  }
  return 0;
}

async function build(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("serve build", argv, { output: "string", verbose: "boolean" });
  checkPositionals("build", positionals, 1);
  const [importPath] = positionals;
  if (importPath === undefined) throw new UsageError("tsray serve build: give the application, as MODULE:EXPORT");
  await enableTypeScript();
  let app;
  try {
    app = await importApplication(importPath, undefined, process.cwd(), importPath);
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(`tsray serve build: ${err.message}`);
    throw err;
  }
  const yaml = `# Written by \`tsray serve build ${importPath}\`: edit it, then \`tsray serve deploy\` it.\n${toYaml(configOf(app, importPath))}`;
  if (flags.output === undefined) process.stdout.write(yaml);
  else {
    writeFileSync(flags.output, yaml);
    process.stdout.write(`Wrote ${flags.output}\n`);
  }
  return 0;
}
