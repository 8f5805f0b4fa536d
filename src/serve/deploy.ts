/**
 * serve.deploy(config): declarative, as `tsray serve deploy`. Every application of the config is
 * imported and built here, in the deploying process (its import path relative to its
 * runtimeEnv.workingDir, else to this process's cwd), the config's deployment options laid over
 * the code's by name, and the app-level runtimeEnv given to every replica; then the controller
 * gets all of it at once and makes the running applications exactly these (deployConfig()).
 * Nothing is sent before every application is built and checked, so a mistake changes nothing.
 */
import { statSync } from "node:fs";
import path from "node:path";
import * as ray from "tsray";
import { controllerIfRunning, rethrowServeError, start } from "./api.js";
import { buildAppSpec, normalizeRoutePrefix, type AppSpec } from "./app-spec.js";
import { atPath, checkDeployConfig, type ServeApplicationConfig, type ServeDeployConfig } from "./config.js";
import { getController } from "./controller-client.js";
import { Deployment, type DeploymentDef } from "./deployment.js";
import { RayServeError } from "./errors.js";
import { importApplication } from "./import-path.js";
import type { DeploymentOptions } from "./options.js";
import { shipWorkingDir } from "./working-dir.js";

export function deploy(config: ServeDeployConfig): Promise<void> {
  return deployApplications(config, { declarative: true });
}

/**
 * deploy(), or with `declarative: false` as run() does (`tsray serve run MODULE:EXPORT`): the
 * config's applications deployed or updated, the others left running, the config not kept.
 */
export async function deployApplications(config: ServeDeployConfig, { declarative }: { declarative: boolean }): Promise<void> {
  const checked = checkDeployConfig(config);
  const specs: AppSpec[] = [];
  for (const [i, app] of checked.applications.entries()) specs.push(await specOfApplication(app, `applications[${i}]`));
  const startOptions = {
    ...(checked.proxyLocation !== undefined ? { proxyLocation: checked.proxyLocation } : {}),
    ...(checked.http !== undefined ? { http: checked.http } : {}),
  };
  await start(startOptions);
  const workingDirs = new Set(specs.flatMap((spec) => spec.deployments.map((d) => d.options.rayActorOptions.runtimeEnv?.workingDir)));
  for (const dir of workingDirs) if (dir !== undefined) await shipWorkingDir(dir);
  const controller = await getController();
  if (!declarative) {
    for (const spec of specs) await ray.get(controller.deployApp.remote(spec)).catch(rethrowServeError);
    return;
  }
  // Kept as given (plain JSON), for `tsray serve config`.
  await ray.get(controller.deployConfig.remote(specs, JSON.parse(JSON.stringify(checked)))).catch(rethrowServeError);
}

/** The config serve.deploy() gave last; null when none was deployed or Serve is not running. */
export async function lastDeployedConfig(): Promise<ServeDeployConfig | null> {
  const controller = await controllerIfRunning();
  if (controller === undefined) return null;
  return (await ray.get(controller.lastConfig.remote())) as ServeDeployConfig | null;
}

async function specOfApplication(app: ServeApplicationConfig, where: string): Promise<AppSpec> {
  const name = app.name ?? "default";
  const workingDir = app.runtimeEnv?.workingDir === undefined ? undefined : path.resolve(app.runtimeEnv.workingDir);
  if (workingDir !== undefined && !isFolder(workingDir)) {
    throw new TypeError(`${where}.runtimeEnv.workingDir must be an existing folder, got ${JSON.stringify(app.runtimeEnv!.workingDir)}`);
  }
  const application = await importApplication(app.importPath, app.args, workingDir ?? process.cwd(), `${where}.importPath`);
  const overrides = new Map((app.deployments ?? []).map((d, j) => [d.name, { options: withoutName(d), where: `${where}.deployments[${j}]` }]));
  const runtimeEnv = app.runtimeEnv === undefined ? undefined : { ...app.runtimeEnv, ...(workingDir !== undefined ? { workingDir } : {}) };
  const used = new Set<string>();
  const spec = buildAppSpec(application, name, normalizeRoutePrefix(app.routePrefix, `${where}.routePrefix`), (depName, def) => {
    let adjusted = def;
    const override = overrides.get(depName);
    if (override !== undefined) {
      used.add(depName);
      try {
        adjusted = new Deployment(def).options(override.options).def;
      } catch (err) {
        throw atPath(err, override.where);
      }
    }
    return runtimeEnv === undefined ? adjusted : withRuntimeEnv(adjusted, runtimeEnv);
  });
  for (const [depName, { where: at }] of overrides) {
    if (!used.has(depName)) {
      throw new RayServeError(`${at}.name: application '${name}' has no deployment '${depName}' (its deployments: ${spec.deployments.map((d) => d.name).join(", ")})`);
    }
  }
  return spec;
}

function withoutName(d: DeploymentOptions & { name: string }): DeploymentOptions {
  const { name: _name, ...rest } = d;
  return rest;
}

/** The application's runtimeEnv under each deployment's own (whose keys win; env merged). */
function withRuntimeEnv(def: DeploymentDef, appEnv: ray.RuntimeEnv): DeploymentDef {
  const actor = def.options.rayActorOptions;
  const own = actor?.runtimeEnv;
  const runtimeEnv: ray.RuntimeEnv = {
    ...appEnv,
    ...own,
    ...(appEnv.env !== undefined || own?.env !== undefined ? { env: { ...appEnv.env, ...own?.env } } : {}),
  };
  // rayActorOptions replaces the default { numCpus: 1 } when given: keep that default.
  const rayActorOptions = actor === undefined ? { numCpus: 1, runtimeEnv } : { ...actor, runtimeEnv };
  return { ...def, options: { ...def.options, rayActorOptions } };
}

function isFolder(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}
