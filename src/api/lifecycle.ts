/** init, isInitialized, shutdown. */
import { DEFAULT_DASHBOARD_PORT } from "../dashboard/http-server.js";
import path from "node:path";
import { RayError } from "../common/errors.js";
import {
  checkBoolean, checkInteger, checkKnownOptions, checkNonNegativeNumber, checkResourceMap, checkString, checkStringMap,
} from "../common/validate.js";
import { maybeCoreWorker, setCoreWorker } from "../core-worker/runtime.js";
import { checkWorkingDir } from "../core-worker/task-options.js";
import { prepareDriverScript } from "../core-worker/function-manager/describe.js";
import { keepingProcessAlive } from "../common/keep-alive.js";
import { EmbeddedNode } from "../node/embedded-node.js";
import { connectDriver } from "../node/remote-driver.js";
import type { CoreWorker } from "../core-worker/core-worker.js";
import type { RuntimeEnv } from "../types.js";

export interface InitOptions {
  address?: string;
  numCpus?: number;
  numGpus?: number;
  resources?: Record<string, number>;
  objectStoreMemory?: number;
  namespace?: string;
  includeDashboard?: boolean;
  dashboardHost?: string;
  dashboardPort?: number;
  ignoreReinitError?: boolean;
  logToDriver?: boolean;
  token?: string;
  runtimeEnv?: RuntimeEnv;
  /**
   * Show a progress bar on stderr for long work driven from here (util.Pool's maps, ActorPool's
   * maps), when stderr is a terminal. Default true.
   */
  progressBars?: boolean;
}

export interface ClusterInfo {
  address: string;
  dashboardUrl?: string;
  nodeId: string;
  jobId: string;
  namespace: string;
}

const INIT_KEYS = [
  "address", "numCpus", "numGpus", "resources", "objectStoreMemory", "namespace", "includeDashboard", "dashboardHost",
  "dashboardPort", "ignoreReinitError", "logToDriver", "token", "runtimeEnv", "progressBars",
] as const;

let node: EmbeddedNode | undefined;
/** The driver's connection to a running cluster (init({ address })). */
let connection: CoreWorker | undefined;
let info: ClusterInfo | undefined;
/** init's progressBars, for this driver's lifetime (until shutdown). */
let progressBars = true;

function checkInitOptions(o: InitOptions): void {
  checkKnownOptions("init() options", o, INIT_KEYS);
  checkString("init() option address", o.address);
  checkNonNegativeNumber("init() option numCpus", o.numCpus);
  checkNonNegativeNumber("init() option numGpus", o.numGpus);
  checkResourceMap("init() option resources", o.resources);
  checkInteger("init() option objectStoreMemory", o.objectStoreMemory, 1 << 20);
  checkString("init() option namespace", o.namespace);
  checkBoolean("init() option includeDashboard", o.includeDashboard);
  checkString("init() option dashboardHost", o.dashboardHost);
  checkInteger("init() option dashboardPort", o.dashboardPort, 0, 65535);
  checkBoolean("init() option ignoreReinitError", o.ignoreReinitError);
  checkBoolean("init() option logToDriver", o.logToDriver);
  checkString("init() option token", o.token);
  checkBoolean("init() option progressBars", o.progressBars);
  if (o.runtimeEnv !== undefined) {
    checkKnownOptions("init() option runtimeEnv", o.runtimeEnv, ["env", "workingDir"]);
    checkStringMap("init() option runtimeEnv.env", o.runtimeEnv.env);
    checkWorkingDir("init() option runtimeEnv.workingDir", o.runtimeEnv.workingDir);
  }
  for (const reserved of ["CPU", "GPU"]) {
    if (o.resources && reserved in o.resources) throw new TypeError(`init() option resources must not contain '${reserved}': use num${reserved === "CPU" ? "Cpus" : "Gpus"}`);
  }
  if (o.address === undefined) {
    if (o.token !== undefined) throw new TypeError("init() option token is for connecting to a running cluster: pass it with init({ address })");
  } else {
    // As in Ray: the cluster's nodes have their resources already.
    for (const key of ["numCpus", "numGpus", "resources", "objectStoreMemory", "includeDashboard", "dashboardHost", "dashboardPort"] as const) {
      if (o[key] !== undefined) throw new TypeError(`init() option ${key} is for a cluster started here; a running cluster (init({ address })) has its nodes' own`);
    }
  }
}

/**
 * Starts tsray. With no address, an embedded single-node cluster runs inside this process.
 * Using the API before init throws a RayError that says to call init (a synchronous `put`
 * could not start a cluster for you, so nothing does, for consistency).
 */
export async function init(opts: InitOptions = {}): Promise<ClusterInfo> {
  checkInitOptions(opts);
  if (info) {
    if (opts.ignoreReinitError) return info;
    throw new RayError("init() was called twice: call shutdown() first, or pass { ignoreReinitError: true }");
  }
  progressBars = opts.progressBars ?? true;
  if (opts.address !== undefined) {
    const remote = await connectDriver({
      address: opts.address, token: opts.token, namespace: opts.namespace, logToDriver: opts.logToDriver, env: opts.runtimeEnv?.env,
      workingDir: absolute(opts.runtimeEnv?.workingDir),
    });
    connection = remote.coreWorker;
    setCoreWorker(remote.coreWorker);
    info = { address: remote.address, nodeId: remote.nodeId, jobId: remote.jobId, namespace: remote.namespace };
    if (remote.dashboardUrl) info.dashboardUrl = remote.dashboardUrl;
    const connected = info;
    await prepareDriverScript();
    return connected;
  }
  node = new EmbeddedNode({
    numCpus: opts.numCpus,
    numGpus: opts.numGpus,
    resources: opts.resources,
    objectStoreMemory: opts.objectStoreMemory,
    namespace: opts.namespace,
    logToDriver: opts.logToDriver,
    env: opts.runtimeEnv?.env,
    workingDir: absolute(opts.runtimeEnv?.workingDir),
  });
  setCoreWorker(node.driver);
  info = { address: node.address, nodeId: node.nodeId, jobId: node.jobId, namespace: node.namespace };
  const started = info;
  const where = `${opts.dashboardHost ?? "127.0.0.1"}:${opts.dashboardPort ?? DEFAULT_DASHBOARD_PORT}`;
  const dashboard =
    opts.includeDashboard === false
      ? undefined
      : node.serveDashboard(opts.dashboardHost ?? "127.0.0.1", opts.dashboardPort ?? DEFAULT_DASHBOARD_PORT).catch((err: Error) => {
          throw new RayError(`init() options dashboardHost and dashboardPort: cannot serve the dashboard at ${where}: ${err.message}`);
        });
  try {
    // Meanwhile the driver script is compiled and analyzed for the description of its first remote function.
    const [url] = await keepingProcessAlive(Promise.all([dashboard, node.ready, prepareDriverScript()]));
    if (url !== undefined) started.dashboardUrl = url;
  } catch (err) {
    // Nothing is left running by an init that failed.
    await shutdown();
    throw err;
  }
  return started;
}

const absolute = (dir: string | undefined) => (dir === undefined ? undefined : path.resolve(dir));

export function isInitialized(): boolean {
  return maybeCoreWorker() !== undefined;
}

/**
 * Stops the embedded cluster: every worker thread, port and timer of the runtime ends. A driver
 * of a running cluster disconnects (its job ends there).
 */
export async function shutdown(): Promise<void> {
  const n = node;
  const c = connection;
  node = undefined;
  connection = undefined;
  info = undefined;
  progressBars = true;
  setCoreWorker(undefined);
  c?.send({ t: "goodbye" });
  c?.close();
  await n?.close();
}

/**
 * @internal Whether this thread is a driver (init was called here) whose user wants progress
 * bars. Worker threads and processes never init, so work they drive shows none.
 */
export function progressBarsEnabled(): boolean {
  return info !== undefined && progressBars;
}

/** @internal The running embedded node, for the CLI, dashboard and tests. */
export function embeddedNode(): EmbeddedNode | undefined {
  return node;
}
