// serve.deploy(config) and config files: declarative and idempotent (deploying the same config
// twice changes nothing; an application left out is deleted), the config's deployment options laid
// over the code's by name, builders called with the config's args, import paths relative to the
// runtimeEnv's workingDir (where the replicas then run), every mistake named by its key path
// before anything changes, and the last config kept across a controller restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { loadConfigFile } from "../../src/serve/config.js";
import { lastDeployedConfig } from "../../src/serve/deploy.js";
import { serveCluster } from "../helpers/serve-tests.js";

const cluster = serveCluster();

const fixtures = fileURLToPath(new URL("../fixtures/serve/", import.meta.url));
/** The fixture module as a path relative to this process's cwd, as a config file written there would name it. */
const greeter = path.relative(process.cwd(), path.join(fixtures, "greeter.ts"));

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (let delay = 20; ; delay = Math.min(delay * 2, 250)) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
  }
}

async function running(...names: string[]): Promise<Awaited<ReturnType<typeof serve.status>>> {
  return until(`${names.join(", ")} RUNNING`, async () => {
    const s = await serve.status();
    return names.every((n) => s.applications[n]?.status === "RUNNING") ? s : undefined;
  });
}

async function get(route: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${cluster.url()}${route}`);
  return { status: res.status, body: res.status === 200 ? await res.json() : await res.text() };
}

const replicaIds = (s: Awaited<ReturnType<typeof serve.status>>, app: string) =>
  Object.values(s.applications[app]!.deployments).flatMap((d) => d.replicas.map((r) => `${r.replicaId}@${r.pid}`)).sort();

const twoApps: serve.ServeDeployConfig = {
  applications: [
    { name: "greet", routePrefix: "/greet", importPath: `${greeter}:app` },
    { name: "built", routePrefix: "/built", importPath: `${greeter}:build`, args: { greeting: "Howdy" } },
  ],
};

test("deploy runs the config's applications (an Application export, a builder called with args); deploying it again changes nothing", async () => {
  await serve.deploy(twoApps);
  const first = await running("greet", "built");
  assert.deepEqual((await get("/greet?name=Ada")).body.text, "Hello, Ada!");
  assert.deepEqual((await get("/built?name=Ada")).body.text, "Howdy, Ada!");
  assert.deepEqual(Object.keys(first.applications.greet!.deployments).sort(), ["Greeter", "Suffix"]);

  await serve.deploy(structuredClone(twoApps));
  const second = await running("greet", "built");
  assert.deepEqual(replicaIds(second, "greet"), replicaIds(first, "greet"), "same replicas, same processes");
  assert.deepEqual(replicaIds(second, "built"), replicaIds(first, "built"));
  assert.deepEqual(await lastDeployedConfig(), twoApps);
});

test("an application left out of the config is deleted; the config's deployment options are laid over the code's by name", async () => {
  const before = await running("greet");
  const greeterReplica = before.applications.greet!.deployments.Greeter!.replicas[0]!;
  await serve.deploy({
    applications: [{
      name: "greet", routePrefix: "/greet", importPath: `${greeter}:app`,
      deployments: [{ name: "Suffix", numReplicas: 2, userConfig: { suffix: "?" } }],
    }],
  });
  const after = await until("built deleted and Suffix at 2 replicas", async () => {
    const s = await serve.status();
    return s.applications.built === undefined && s.applications.greet?.status === "RUNNING" &&
      s.applications.greet.deployments.Suffix!.replicas.length === 2 ? s : undefined;
  });
  assert.equal((await get("/built")).status, 404);
  assert.equal((await get("/greet?name=Bo")).body.text, "Hello, Bo?");
  // Only options that apply in place changed: the ingress kept its replica.
  assert.deepEqual(after.applications.greet!.deployments.Greeter!.replicas.map((r) => r.replicaId), [greeterReplica.replicaId]);
});

test("an import path is relative to runtimeEnv.workingDir, where the replicas run; a .js module and an async builder do too; its env reaches the replicas", async () => {
  const workingDir = path.join(fixtures, "wd");
  await serve.deploy({
    applications: [
      { name: "greet", routePrefix: "/greet", importPath: `${greeter}:app`, deployments: [{ name: "Suffix", numReplicas: 2, userConfig: { suffix: "?" } }] },
      { name: "motto", routePrefix: "/motto", importPath: "wd-app.ts:app", runtimeEnv: { workingDir } },
      { name: "js", routePrefix: "/js", importPath: "../echo.mjs:build", args: { prefix: "js:" }, runtimeEnv: { workingDir, env: { SERVE_FIXTURE_ENV: "from the config" } } },
    ],
  });
  await running("greet", "motto", "js");
  const { body } = await get("/motto");
  assert.deepEqual(body, { motto: "read from the working directory", cwd: workingDir });
  // Without a workingDir the replicas run where the cluster's workers do, not there.
  assert.notEqual((await get("/greet")).body.cwd, workingDir);
  assert.deepEqual((await get("/js/a/b")).body, { echo: "js:/a/b", env: "from the config" }, "the app's runtimeEnv reaches its replicas");
});

test("mistakes are named by key path (and file) and change nothing", async () => {
  const before = Object.keys((await running("greet", "motto", "js")).applications).sort();
  const app = { name: "greet", routePrefix: "/greet", importPath: `${greeter}:app` };
  const cases: [unknown, RegExp, Function][] = [
    [{ applications: [{ ...app, deployments: [{ name: "Nope", numReplicas: 1 }] }] }, /applications\[0\]\.deployments\[0\]\.name: application 'greet' has no deployment 'Nope' \(its deployments: Suffix, Greeter\)/, serve.RayServeError],
    [{ applications: [{ ...app, deployments: [{ name: "Suffix" }, { name: "Greeter", numReplicas: -1 }] }] }, /^applications\[0\]\.deployments\[1\]\.numReplicas must be an integer >= 0, got -1$/, RangeError],
    [{ applications: [{ ...app, deployments: [{ name: "Greeter", numReplica: 2 }] }] }, /^applications\[0\]\.deployments\[0\] has no option 'numReplica'/, TypeError],
    [{ applications: [{ ...app, deployments: [{ name: "Greeter", autoscalingConfig: { minReplicas: 3, maxReplicas: 2 } }] }] }, /^applications\[0\]\.deployments\[0\]\.autoscalingConfig\.maxReplicas \(2\) must be >= /, RangeError],
    [{ applications: [app, { ...app, name: "other" }] }, /^applications\[1\]\.routePrefix: \/greet is also the route prefix of applications\[0\]/, TypeError],
    [{ applications: [app, { ...app, routePrefix: "/x" }] }, /^applications\[1\]\.name: 'greet' is also the name of applications\[0\]/, TypeError],
    [{ applications: [{ ...app, importPath: "greeter.ts" }] }, /^applications\[0\]\.importPath must be "module:export"/, TypeError],
    [{ applications: [{ ...app, importPath: "missing.ts:app" }] }, /^applications\[0\]\.importPath: module 'missing\.ts' not found in /, TypeError],
    [{ applications: [{ ...app, importPath: `${greeter}:nope` }] }, /^applications\[0\]\.importPath: .*greeter\.ts has no export 'nope' \(its exports: .*app.*\)/, TypeError],
    [{ applications: [{ ...app, importPath: `${greeter}:notAnApp` }] }, /export 'notAnApp' of .* is number, not an Application/, TypeError],
    [{ applications: [{ ...app, importPath: `${greeter}:unbound` }] }, /export 'unbound' of .* is a Deployment, not an Application: export unbound\.bind\(\)/, TypeError],
    [{ applications: [{ ...app, args: { greeting: "x" } }] }, /is an Application, which takes no arguments/, TypeError],
    [{ applications: [{ ...app, importPath: `${greeter}:build`, args: { fail: "no greeting today" } }] }, /^applications\[0\]\.importPath: the builder export 'build' of .* threw RangeError: no greeting today$/, TypeError],
    [{ applications: [{ ...app, runtimeEnv: { workingDir: "/no/such/folder" } }] }, /^applications\[0\]\.runtimeEnv\.workingDir must be an existing folder/, TypeError],
    [{ applications: [app], http: { port: 70000 } }, /^http\.port must be an integer in 0\.\.65535/, RangeError],
    [{ apps: [] }, /^the config has no key 'apps'/, TypeError],
  ];
  for (const [config, message, type] of cases) {
    await assert.rejects(serve.deploy(config as serve.ServeDeployConfig), (e: Error) => {
      assert.ok(e instanceof type, `${e.name}: ${e.message}`);
      assert.match(e.message, message);
      return true;
    });
  }
  assert.deepEqual(Object.keys((await serve.status()).applications).sort(), before, "nothing was deployed or deleted");
});

test("config files: YAML or JSON, camelCase keys; a bad file is named with what is wrong in it", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "tsray-serve-config-"));
  try {
    const yamlFile = path.join(dir, "serve.yaml");
    writeFileSync(yamlFile, [
      "http:",
      "  port: 0",
      "applications:",
      "  - name: greet",
      "    routePrefix: /greet",
      "    importPath: greeter.ts:app",
      "    deployments:",
      "      - name: Suffix",
      "        userConfig: { suffix: '?' }",
    ].join("\n"));
    assert.deepEqual(loadConfigFile(yamlFile), {
      http: { port: 0 },
      applications: [{ name: "greet", routePrefix: "/greet", importPath: "greeter.ts:app", deployments: [{ name: "Suffix", userConfig: { suffix: "?" } }] }],
    });
    const jsonFile = path.join(dir, "serve.json");
    writeFileSync(jsonFile, JSON.stringify(twoApps));
    assert.deepEqual(loadConfigFile(jsonFile), twoApps);

    const bad = (name: string, text: string) => {
      writeFileSync(path.join(dir, name), text);
      return path.join(dir, name);
    };
    assert.throws(() => loadConfigFile(path.join(dir, "missing.yaml")), /^TypeError: config file .*missing\.yaml does not exist$/);
    assert.throws(() => loadConfigFile(bad("broken.yaml", "applications: [\n")), /^TypeError: config file .*broken\.yaml is not valid YAML: /);
    assert.throws(() => loadConfigFile(bad("broken.json", "{")), /^TypeError: config file .*broken\.json is not valid JSON: /);
    assert.throws(() => loadConfigFile(bad("snake.yaml", "applications:\n  - import_path: a.ts:app\n")),
      /^TypeError: config file .*snake\.yaml: applications\[0\] has no key 'import_path' \(known: name, routePrefix, importPath/);
    assert.throws(() => loadConfigFile(bad("opts.yaml", "applications:\n  - importPath: a.ts:app\n    deployments:\n      - name: A\n        maxOngoingRequests: 0\n")),
      /^RangeError: config file .*opts\.yaml: applications\[0\]\.deployments\[0\]\.maxOngoingRequests must be an integer >= 1, got 0$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the last deployed config survives a killed controller", async () => {
  const config = await lastDeployedConfig();
  assert.deepEqual(config?.applications.map((a) => a.name), ["greet", "motto", "js"]);
  const controller = await ray.getActor("SERVE_CONTROLLER_ACTOR", { namespace: "serve" });
  await ray.kill(controller, { noRestart: false });
  const after = await until("the restarted controller's answer", () => lastDeployedConfig().catch(() => undefined));
  assert.deepEqual(after, config);
  // And it still deploys: an empty config deletes everything; one right after brings back an
  // application still being deleted (once it is gone).
  await serve.deploy({ applications: [] });
  await serve.deploy(twoApps);
  await running("greet", "built");
  assert.equal((await get("/built?name=Al")).body.text, "Howdy, Al!");
  await serve.deploy({ applications: [] });
  await until("every application deleted", async () => Object.keys((await serve.status()).applications).length === 0 || undefined);
  assert.deepEqual(await lastDeployedConfig(), { applications: [] });
});
