// `tsray serve ...` as a user runs it, each a tsray process of its own: `serve run` in the
// foreground on an embedded cluster (SIGINT deletes the application, stops Serve and exits 0,
// leaving no replica process and the port free); deploy, status, config and shutdown against a
// head started with `tsray start` (which stays up); build writing a config that deploys; bad
// files named in one line. One head serves the whole file; `tsray stop` ends it.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import { bin, clusterFolder } from "../helpers/cluster.js";

const { tmp, env, tsray, sessions } = clusterFolder();
const fixtures = fileURLToPath(new URL("../fixtures/serve/", import.meta.url));
/** Relative to the cwd the tsray processes share with this one, as a user's config file names modules. */
const greeter = path.relative(process.cwd(), path.join(fixtures, "greeter.ts"));
let files: string;

before(async () => {
  const started = await tsray("start", "--head", "--port", "0", "--num-cpus", "2", "--include-dashboard", "false");
  assert.equal(started.code, 0, started.stderr);
  files = mkdtempSync(path.join(tmp, "configs-"));
});

after(async () => {
  await tsray("stop", "--force");
  rmSync(tmp, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

type Status = { proxies: Record<string, string>; applications: Record<string, { status: string; deployments: Record<string, { replicas: { pid: number }[] }> }> };

async function serveStatus(): Promise<Status> {
  const r = await tsray("serve", "status", "--format", "json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Status;
}

/** Once every named app is RUNNING (and the others gone): the status then. */
function runningExactly(...names: string[]): Promise<Status> {
  return until(`exactly ${names.join(", ")} RUNNING`, async () => {
    const s = await serveStatus();
    const apps = Object.keys(s.applications).sort();
    return JSON.stringify(apps) === JSON.stringify([...names].sort()) && names.every((n) => s.applications[n]!.status === "RUNNING") ? s : undefined;
  });
}

const pidsOf = (s: Status) => Object.values(s.applications).flatMap((a) => Object.values(a.deployments).flatMap((d) => d.replicas.map((r) => r.pid)));

function writeConfig(name: string, text: string): string {
  const file = path.join(files, name);
  writeFileSync(file, text);
  return file;
}

/**
 * `tsray serve run ARGS` in the background until its application runs: its URL (where `app`
 * is served), and `stop(signal)`, which resolves with the exit code.
 */
async function serveRun(app: string, ...args: string[]): Promise<{ url: string; stop(signal: NodeJS.Signals): Promise<number | null> }> {
  const child = spawn(process.execPath, [bin, "serve", "run", ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
  const guard = setTimeout(() => child.kill("SIGKILL"), 120_000);
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => {
    clearTimeout(guard);
    resolve(code);
  }));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on("data", (d) => {
      stdout += d;
      const m = new RegExp(`Application '${app}' is running at (http://127\\.0\\.0\\.1:\\d+)/`).exec(stdout);
      if (m) resolve(m[1]!);
    });
    void exited.then((code) => reject(new Error(`serve run exited (${code}) before it ran: ${stdout}${stderr}`)));
  });
  return {
    url,
    stop: async (signal) => {
      child.kill(signal);
      const code = await exited;
      assert.equal(code, 0, stderr);
      return code;
    },
  };
}

test("serve run stays in the foreground on an embedded cluster; SIGINT deletes the app, stops Serve and exits 0", async () => {
  const run = await serveRun("default", `${greeter}:build`, "greeting=Yo", "--port", "0");
  const res = await fetch(`${run.url}/?name=Z`);
  const body = (await res.json()) as { text: string; pids: number[] };
  assert.equal(body.text, "Yo, Z!", "KEY=VALUE pairs are the builder's args");
  assert.ok(body.pids.every(alive));
  assert.equal(await run.stop("SIGINT"), 0);
  await until("no replica process left", async () => body.pids.some(alive) ? undefined : true, 10_000);
  assert.ok(await portFree(Number(new URL(run.url).port)), "the port is free");
});

test("serve run CONFIG_FILE runs the file's applications, --port over its http; SIGTERM ends it as SIGINT does", async () => {
  const file = writeConfig("run.json", JSON.stringify({
    http: { port: 8000 },
    applications: [{ name: "greet", routePrefix: "/greet", importPath: `${greeter}:app`, deployments: [{ name: "Suffix", userConfig: { suffix: "." } }] }],
  }));
  const run = await serveRun("greet", file, "--port", "0");
  const body = (await (await fetch(`${run.url}/greet?name=Ed`)).json()) as { text: string; pids: number[] };
  assert.equal(body.text, "Hello, Ed.");
  assert.equal(await run.stop("SIGTERM"), 0);
  await until("no replica process left", async () => body.pids.some(alive) ? undefined : true, 10_000);
  assert.ok(await portFree(Number(new URL(run.url).port)), "the port is free");
});

let httpUrl = "";

test("serve deploy sends a config file to a tsray start'ed cluster; status and config show it; deploying another makes exactly its apps run", async () => {
  const config = {
    http: { port: 0 },
    applications: [
      { name: "greet", routePrefix: "/greet", importPath: `${greeter}:app`, deployments: [{ name: "Suffix", userConfig: { suffix: "?" } }] },
      { name: "built", routePrefix: "/built", importPath: `${greeter}:build`, args: { greeting: "Howdy" } },
    ],
  };
  const file = writeConfig("two.yaml", [
    "http:",
    "  port: 0",
    "applications:",
    "  - name: greet",
    "    routePrefix: /greet",
    `    importPath: ${greeter}:app`,
    "    deployments:",
    "      - name: Suffix",
    "        userConfig: { suffix: '?' }",
    "  - name: built",
    "    routePrefix: /built",
    `    importPath: ${greeter}:build`,
    "    args:",
    "      greeting: Howdy",
  ].join("\n"));
  const deployed = await tsray("serve", "deploy", file);
  assert.equal(deployed.code, 0, deployed.stderr);
  httpUrl = /HTTP at (http:\/\/127\.0\.0\.1:\d+)/.exec(deployed.stdout)?.[1] ?? "";
  assert.ok(httpUrl, deployed.stdout);
  await runningExactly("greet", "built");
  assert.equal(((await (await fetch(`${httpUrl}/greet?name=Ada`)).json()) as { text: string }).text, "Hello, Ada?");
  assert.equal(((await (await fetch(`${httpUrl}/built?name=Ada`)).json()) as { text: string }).text, "Howdy, Ada!");

  const yamlStatus = await tsray("serve", "status");
  assert.equal(yamlStatus.code, 0, yamlStatus.stderr);
  assert.equal((parseYaml(yamlStatus.stdout) as Status).applications.greet!.status, "RUNNING");
  const shown = await tsray("serve", "config");
  assert.equal(shown.code, 0, shown.stderr);
  assert.deepEqual(parseYaml(shown.stdout), config);
  const one = await tsray("serve", "config", "--name", "built");
  assert.deepEqual(parseYaml(one.stdout), config.applications[1]);
  const unknown = await tsray("serve", "config", "--name", "nope");
  assert.notEqual(unknown.code, 0);
  assert.match(unknown.stderr, /^tsray serve config: the last deployed config has no application 'nope' \(it has: greet, built\)\n$/);

  const onlyGreet = writeConfig("one.json", JSON.stringify({ applications: [config.applications[0]] }));
  const again = await tsray("serve", "deploy", onlyGreet);
  assert.equal(again.code, 0, again.stderr);
  await runningExactly("greet");
  assert.equal((await fetch(`${httpUrl}/built`)).status, 404);
});

test("serve build writes a config (YAML) of the app and its deployments' options in code, which deploys", async () => {
  const output = path.join(files, "built.yaml");
  const built = await tsray("serve", "build", `${greeter}:app`, "--output", output);
  assert.equal(built.code, 0, built.stderr);
  const config = parseYaml(readFileSync(output, "utf8")) as { applications: { name: string; importPath: string; deployments: unknown[] }[] };
  assert.deepEqual(config, {
    proxyLocation: "EveryNode",
    http: { host: "127.0.0.1", port: 8000 },
    applications: [{
      name: "app1", routePrefix: "/", importPath: `${greeter}:app`,
      deployments: [
        { name: "Greeter", maxOngoingRequests: 7, rayActorOptions: { numCpus: 0 } },
        { name: "Suffix", userConfig: { suffix: "!" }, rayActorOptions: { numCpus: 0 } },
      ],
    }],
  });
  // Serve runs already, so its HTTP options stay as they are (port 8000 is not taken), as a note says.
  const deployed = await tsray("serve", "deploy", output);
  assert.equal(deployed.code, 0, deployed.stderr);
  assert.match(deployed.stderr, /^tsray serve deploy: note: Serve runs already at http:\/\/127\.0\.0\.1:\d+; the config's http options apply when it starts again/);
  await runningExactly("app1");
  assert.equal(((await (await fetch(`${httpUrl}/?name=Cy`)).json()) as { text: string }).text, "Hello, Cy!");
});

test("a missing or invalid config file: a non-zero exit and one line naming it", async () => {
  const cases: [string, RegExp][] = [
    [path.join(files, "missing.yaml"), /^tsray serve deploy: config file .*missing\.yaml does not exist\n$/],
    [writeConfig("broken.yaml", "applications: [\n"), /^tsray serve deploy: config file .*broken\.yaml is not valid YAML: .*\n$/],
    [writeConfig("bad-key.yaml", "applications:\n  - importPath: a.ts:app\n    route_prefix: /a\n"),
      /^tsray serve deploy: config file .*bad-key\.yaml: applications\[0\] has no key 'route_prefix' \(known: .*\)\n$/],
    [writeConfig("bad-option.yaml", `applications:\n  - importPath: ${greeter}:app\n    deployments:\n      - name: Greeter\n        numReplicas: -2\n`),
      /^tsray serve deploy: config file .*bad-option\.yaml: applications\[0\]\.deployments\[0\]\.numReplicas must be an integer >= 0, got -2\n$/],
    [writeConfig("bad-name.yaml", `applications:\n  - importPath: ${greeter}:app\n    deployments:\n      - name: Nope\n`),
      /^tsray serve deploy: applications\[0\]\.deployments\[0\]\.name: application 'default' has no deployment 'Nope' \(its deployments: Suffix, Greeter\)\n$/],
  ];
  for (const [file, message] of cases) {
    const r = await tsray("serve", "deploy", file);
    assert.notEqual(r.code, 0, file);
    assert.match(r.stderr, message);
  }
  const noModule = await tsray("serve", "run", "nope.ts:app");
  assert.equal(noModule.code, 2);
  assert.match(noModule.stderr, /^tsray serve run: nope\.ts:app: module 'nope\.ts' not found in .*\n$/);
  const embeddedNonBlocking = await tsray("serve", "run", `${greeter}:app`, "--non-blocking");
  assert.equal(embeddedNonBlocking.code, 2);
  assert.match(embeddedNonBlocking.stderr, /^tsray serve run: --non-blocking needs a running cluster/);
  const badPrefix = await tsray("serve", "run", `${greeter}:app`, "--route-prefix", "api");
  assert.deepEqual([badPrefix.code, badPrefix.stderr], [2, `tsray serve run: --route-prefix must start with '/', got "api"\n`]);
  const noApp = await tsray("serve", "build", `${greeter}:notAnApp`);
  assert.equal(noApp.code, 2);
  assert.match(noApp.stderr, /^tsray serve build: .*export 'notAnApp' of .*greeter\.ts is number, not an Application nor a builder .*\n$/);
  assert.ok(pidsOf(await runningExactly("app1")).length > 0, "what ran runs on");
});

test("serve run --address --non-blocking deploys into the running cluster beside its applications, and returns", async () => {
  const [head] = sessions();
  const r = await tsray("serve", "run", `${greeter}:build`, "greeting=Hey", "--address", head!.address, "--name", "nb", "--route-prefix", "/nb", "--non-blocking");
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Application 'nb' is running at http:\/\/127\.0\.0\.1:\d+\/nb\n$/);
  await runningExactly("app1", "nb");
  assert.equal(((await (await fetch(`${httpUrl}/nb?name=Di`)).json()) as { text: string }).text, "Hey, Di!");
});

test("a config's runtimeEnv.workingDir goes to the cluster as a task's does: the replicas the controller creates run in the uploaded copy", async () => {
  const workingDir = path.join(fixtures, "wd");
  const file = writeConfig("wd.yaml", `applications:\n  - name: motto\n    routePrefix: /motto\n    importPath: wd-app.ts:app\n    runtimeEnv:\n      workingDir: ${workingDir}\n`);
  const r = await tsray("serve", "deploy", file);
  assert.equal(r.code, 0, r.stderr);
  await runningExactly("motto");
  const body = (await (await fetch(`${httpUrl}/motto`)).json()) as { motto: string; cwd: string };
  assert.equal(body.motto, "read from the working directory");
  assert.notEqual(body.cwd, workingDir);
  assert.ok(body.cwd.startsWith(tmp), `${body.cwd} is the cluster's copy, in its session folder`);
});

test("serve shutdown (--yes without a terminal) frees the port and leaves no replica process; the cluster stays up", async () => {
  const unconfirmed = await tsray("serve", "shutdown");
  assert.equal(unconfirmed.code, 2);
  assert.equal(unconfirmed.stderr, "tsray serve shutdown: pass --yes to confirm (there is no terminal to ask)\n");
  const pids = pidsOf(await serveStatus());
  assert.ok(pids.length > 0 && pids.every(alive));
  const done = await tsray("serve", "shutdown", "--yes");
  assert.equal(done.code, 0, done.stderr);
  await until("no replica process left", async () => pids.some(alive) ? undefined : true, 10_000);
  assert.ok(await portFree(Number(new URL(httpUrl).port)), "the port is free");
  assert.equal((await tsray("serve", "status", "--format", "json")).stdout, '{"proxies":{},"applications":{}}\n');
  assert.equal((await tsray("status")).code, 0, "the cluster is up");
});
