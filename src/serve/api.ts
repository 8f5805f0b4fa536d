/**
 * Serve's driver-side API: start, run, status, deleteApp, shutdown, getAppHandle,
 * getDeploymentHandle. Each is a call or two on the controller, which start() creates (detached,
 * named, restarted if it dies) unless it runs already.
 */
import * as ray from "tsray";
import { buildAppSpec, normalizeRoutePrefix } from "./app-spec.js";
import { CONTROLLER_NAME, forgetController, getController, SERVE_NAMESPACE, type ControllerHandle } from "./controller-client.js";
import { controllerModule, ServeController, type ServeStatus } from "./controller.js";
import { Application } from "./deployment.js";
import { RayServeError } from "./errors.js";
import { makeHandle, type DeploymentHandleImpl } from "./handle.js";
import type { StartOptions } from "./proxy.js";
import { getReplicaContext } from "./request-context.js";
import { closeRouters } from "./router.js";

const ControllerActor = ray.util.remoteExport(controllerModule, ServeController);
const START_KEYS = ["proxyLocation", "http"];
const HTTP_KEYS = ["host", "port", "requestTimeoutMs", "keepAliveTimeoutMs"];

function checkStartOptions(opts: StartOptions): void {
  if (typeof opts !== "object" || opts === null) throw new TypeError("start() options must be an object");
  for (const k of Object.keys(opts)) if (!START_KEYS.includes(k)) throw new TypeError(`start() has no option '${k}' (known: ${START_KEYS.join(", ")})`);
  if (opts.proxyLocation !== undefined && !["EveryNode", "HeadOnly", "Disabled"].includes(opts.proxyLocation)) {
    throw new TypeError(`start() option proxyLocation must be "EveryNode", "HeadOnly" or "Disabled", got ${String(opts.proxyLocation)}`);
  }
  const http = opts.http ?? {};
  for (const k of Object.keys(http)) if (!HTTP_KEYS.includes(k)) throw new TypeError(`start() has no option 'http.${k}' (known: ${HTTP_KEYS.join(", ")})`);
  if (http.host !== undefined && typeof http.host !== "string") throw new TypeError("start() option http.host must be a string");
  if (http.port !== undefined && !(Number.isInteger(http.port) && http.port >= 0 && http.port <= 65535)) throw new RangeError(`start() option http.port must be an integer in 0..65535, got ${String(http.port)}`);
  for (const k of ["requestTimeoutMs", "keepAliveTimeoutMs"] as const) {
    const v = http[k];
    if (v !== undefined && !(typeof v === "number" && v > 0)) throw new RangeError(`start() option http.${k} must be a number > 0, got ${String(v)}`);
  }
}

let started: Promise<{ httpUrl?: string }> | undefined;

export function start(opts: StartOptions = {}): Promise<{ httpUrl?: string }> {
  checkStartOptions(opts);
  started ??= (async () => {
    if (!ray.isInitialized()) await ray.init();
    const controller = ControllerActor.options({
      name: CONTROLLER_NAME, namespace: SERVE_NAMESPACE, lifetime: "detached", getIfExists: true,
      numCpus: 0, maxConcurrency: 10_000, maxRestarts: -1,
    }).remote() as unknown as ControllerHandle;
    const httpUrl = await ray.get(controller.startProxies.remote(opts.proxyLocation ?? "EveryNode", opts.http ?? {}));
    return httpUrl === null ? {} : { httpUrl };
  })();
  started.catch(() => { started = undefined; });
  return started;
}

export interface RunOptions {
  name?: string;
  routePrefix?: string | null;
}

export async function run<T>(app: Application<T>, opts: RunOptions = {}): Promise<any> {
  if (!(app instanceof Application)) throw new TypeError("run() takes an Application (made by Deployment.bind())");
  for (const k of Object.keys(opts)) if (k !== "name" && k !== "routePrefix") throw new TypeError(`run() has no option '${k}' (known: name, routePrefix)`);
  const name = opts.name ?? "default";
  if (typeof name !== "string" || name === "") throw new TypeError("run() option name must be a non-empty string");
  const spec = buildAppSpec(app, name, normalizeRoutePrefix(opts.routePrefix));
  await start();
  const controller = await getController();
  await ray.get(controller.deployApp.remote(spec)).catch(rethrowServeError);
  for (;;) {
    const outcome = await ray.get(controller.waitApp.remote(name, 10_000));
    if (outcome.status === "RUNNING") return makeHandle(name, spec.ingress, {});
    if (outcome.status === "DEPLOY_FAILED") {
      const e = outcome.error;
      const cause = e === undefined ? undefined : Object.assign(new Error(e.message), { name: e.name, ...(e.stack ? { stack: e.stack } : {}) });
      throw new RayServeError(`application '${name}' failed to deploy: ${outcome.message}`, { cause });
    }
    if (outcome.status === "MISSING") throw new RayServeError(`application '${name}' was deleted while it deployed`);
  }
}

/** An error the controller threw on purpose (a RayServeError) comes back as the caller's own. */
export function rethrowServeError(err: unknown): never {
  const cause = (err as { cause?: Error }).cause;
  if (err instanceof ray.RayTaskError && cause?.name === "RayServeError") throw new RayServeError(cause.message);
  throw err;
}

export async function controllerIfRunning(): Promise<ControllerHandle | undefined> {
  if (!ray.isInitialized()) return undefined;
  try {
    return await getController();
  } catch {
    return undefined;
  }
}

export async function status(): Promise<ServeStatus> {
  const controller = await controllerIfRunning();
  if (controller === undefined) return { proxies: {}, applications: {} };
  for (let attempt = 1; ; attempt++) {
    try {
      return await ray.get(controller.status.remote());
    } catch (err) {
      if (!(err instanceof ray.RayActorError)) throw err;
      // Restarting (asked again), or shut down meanwhile (its name outlives the kill briefly).
      if (attempt >= 3) return { proxies: {}, applications: {} };
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

export async function deleteApp(name: string): Promise<void> {
  if (typeof name !== "string") throw new TypeError("deleteApp() takes an application's name");
  const controller = await controllerIfRunning();
  if (controller !== undefined) await ray.get(controller.deleteApp.remote(name));
}

export async function shutdown(): Promise<void> {
  const controller = await controllerIfRunning();
  closeRouters("Serve was shut down");
  started = undefined;
  if (controller === undefined) return;
  await ray.get(controller.shutdown.remote()).catch(() => {});
  await ray.kill(controller, { noRestart: true }).catch(() => {});
  forgetController();
}

export async function getAppHandle(appName: string): Promise<DeploymentHandleImpl> {
  const controller = await controllerIfRunning();
  const ingress = controller === undefined ? null : await ray.get(controller.ingressOf.remote(appName));
  if (ingress === null) throw new RayServeError(`no application '${appName}' is running`);
  return makeHandle(appName, ingress, {});
}

export async function getDeploymentHandle(name: string, appName?: string): Promise<DeploymentHandleImpl> {
  let app = appName;
  if (app === undefined) {
    try {
      app = getReplicaContext().appName;
    } catch {
      throw new RayServeError("getDeploymentHandle(): give appName (outside a replica there is no application to default to)");
    }
  }
  const controller = await controllerIfRunning();
  if (controller === undefined || !(await ray.get(controller.hasDeployment.remote(app, name)))) {
    throw new RayServeError(`no deployment '${name}' in application '${app}'`);
  }
  return makeHandle(app, name, {});
}
