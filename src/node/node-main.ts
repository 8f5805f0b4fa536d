/**
 * A standalone node's process (`tsray start`): starts the node, writes its session folder, and
 * stops cleanly on SIGINT and SIGTERM, leaving nothing behind. With `--block` the CLI runs
 * `runNode` itself; in the background it spawns this module, which reports to it over IPC once
 * the node accepts connections (or why it could not start).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { packageVersion } from "../common/version.js";
import { ClusterNode, type ClusterNodeConfig } from "./cluster-node.js";
import { renderMetrics } from "../metrics/prometheus.js";
import { clusterToken, createSessionDir, envToken, removeSession, sessionDir, tlsFor, writeSession, type NodeSession } from "./session.js";
import { JobManager } from "../jobs/job-manager.js";
import { jobRoutes } from "../jobs/http-api.js";
import { startDashboardServer, type HttpServer } from "../dashboard/http-server.js";
import { stateRoutes } from "../dashboard/state-routes.js";
import { logRoutes } from "../dashboard/log-routes.js";
import { actionRoutes } from "../dashboard/action-routes.js";
import { staticRoutes } from "../dashboard/static-routes.js";
import { closeServeRoutes, serveRoutes } from "../dashboard/serve-routes.js";
import { parseAddress } from "./remote-driver.js";
import { WorkerNode } from "./worker-node.js";


export interface NodeProcessConfig extends Omit<ClusterNodeConfig, "token" | "log" | "tls" | "workDir"> {
  /** PEM files: the node's certificate and key, and the CA that signed it (default: the certificate). */
  tlsFiles?: { cert: string; key: string; ca?: string };
  nodeId: string;
  /** A head: default TSRAY_TOKEN, else a new random one. A worker node: the head's. */
  token?: string;
  /** Runs in the background, leading its own process group. */
  group: boolean;
  /** The head's HTTP API (jobs): where, and whether (`--include-dashboard false`: none). */
  dashboard?: { host: string; port: number };
  /** For a worker node: the head to join, HOST:PORT, and what verifies its TLS certificate. */
  headAddress?: string;
  tlsCa?: string;
  /** A head's GCS storage (`--gcs-storage redis://HOST:PORT`); absent: in memory. */
  gcsStorage?: string;
}

export interface RunningNode {
  session: NodeSession;
  token: string;
  stop(): Promise<void>;
}

/** Starts the node (a head, or a worker node joining `headAddress`) and its session. */
export async function runNode(config: NodeProcessConfig): Promise<RunningNode> {
  createSessionDir(config.nodeId);
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} tsray: ${line}\n`);
  try {
    return await (config.headAddress === undefined ? runHead(config, log) : runWorkerNode(config, config.headAddress, log));
  } catch (err) {
    removeSession(config.nodeId);
    throw err;
  }
}

async function runHead(config: NodeProcessConfig, log: (line: string) => void): Promise<RunningNode> {
  // Loaded only for a head that uses it: the Redis client costs every node process ~130 ms to load.
  const redis = config.gcsStorage === undefined ? undefined : await import("../gcs/redis-storage.js");
  const storage = redis && (await redis.RedisStorage.open(config.gcsStorage!, log));
  // A head restarted on the cluster's storage keeps the cluster's token, so its nodes and drivers can come back.
  const token = config.token ?? envToken() ?? storage?.get<string>("cluster", "token") ?? randomBytes(24).toString("hex");
  storage?.put("cluster", "token", token);
  const tls = config.tlsFiles && { cert: readFileSync(config.tlsFiles.cert), key: readFileSync(config.tlsFiles.key) };
  let node: ClusterNode;
  try {
    node = await ClusterNode.startHead({ ...config, token, log, tls, workDir: sessionDir(config.nodeId), storage, logFile: nodeLog(config.nodeId) });
  } catch (err) {
    await storage?.close();
    throw err;
  }
  let api: HttpServer | undefined;
  let jobs: JobManager | undefined;
  if (config.dashboard) {
    jobs = new JobManager({ dir: path.join(sessionDir(config.nodeId), "jobs"), headAddress: node.address, token, log });
    const info = { address: node.address, head_node_id: node.core.nodeId, version: packageVersion(), started_at: Date.now() };
    const routes = [
      stateRoutes(node.state, () => renderMetrics(node.gcs, node.core.raylet), info),
      logRoutes(node.core.nodeId, nodeLog(config.nodeId) ?? path.join(sessionDir(config.nodeId), "logs", "node.log")),
      actionRoutes(node.gcs, node.core.raylet, log),
      jobRoutes(jobs),
      // Serve's status is read as a driver reads it: this process connects to its own cluster when first asked.
      serveRoutes(async () => {
        const ray = await import("../index.js");
        await ray.init({ address: node.address, token, logToDriver: false });
      }),
      staticRoutes(),
    ];
    try {
      api = await startDashboardServer({ ...config.dashboard, token, log, routes });
    } catch (err) {
      await node.close();
      throw err;
    }
    node.dashboardUrl = api.url;
  }
  const session: NodeSession = {
    nodeId: node.core.nodeId, address: node.address, port: node.port, pid: process.pid, head: true, group: config.group, version: packageVersion(), startedAt: Date.now(),
    tlsCa: config.tlsFiles && path.resolve(config.tlsFiles.ca ?? config.tlsFiles.cert), dashboardUrl: api?.url,
  };
  writeSession(session, token);
  return {
    session, token,
    stop: stopping(config.nodeId, async () => {
      await api?.close();
      await closeServeRoutes();
      await jobs?.close();
      await node.close();
    }),
  };
}

async function runWorkerNode(config: NodeProcessConfig, headAddress: string, log: (line: string) => void): Promise<RunningNode> {
  const head = parseAddress(headAddress, "--address");
  const token = clusterToken(headAddress, config.token);
  if (token === undefined) throw new Error(`no cluster token for ${headAddress}: pass --token (the head printed it) or set TSRAY_TOKEN`);
  const tls = config.tlsCa ? { ca: readFileSync(config.tlsCa) } : tlsFor(headAddress);
  const node = await WorkerNode.join({ ...config, head, token, tls, log, workDir: sessionDir(config.nodeId) });
  const session: NodeSession = {
    nodeId: node.nodeId, address: config.ip, port: 0, pid: process.pid, head: false, group: config.group, headAddress,
    version: packageVersion(), startedAt: Date.now(),
  };
  writeSession(session);
  const stop = stopping(config.nodeId, () => node.close());
  // Without its head a worker node has nothing to do.
  node.onHeadGone(() => {
    log(`the head at ${headAddress} did not come back: this node stops`);
    void stop().then(() => process.exit(1));
  });
  return { session, token, stop };
}

/** Stops the node once, however many ask, then removes its session. */
function stopping(nodeId: string, close: () => Promise<void>): () => Promise<void> {
  let stopped: Promise<void> | undefined;
  return () =>
    (stopped ??= (async () => {
      await close();
      removeSession(nodeId);
    })());
}

/** Until SIGINT or SIGTERM; then the node stops and the process exits 0. */
export function stopOnSignals(stop: () => Promise<void>): void {
  const onSignal = () => void stop().then(() => process.exit(0), () => process.exit(1));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
}

// Spawned by `tsray start` in the background.
if (process.env.TSRAY_NODE_CONFIG && process.send) {
  const config = JSON.parse(process.env.TSRAY_NODE_CONFIG) as NodeProcessConfig;
  delete process.env.TSRAY_NODE_CONFIG;
  runNode(config).then(
    ({ session, token, stop }) => {
      stopOnSignals(stop);
      process.send!({ ready: session, token }, () => process.disconnect());
    },
    (err: Error) => process.send!({ error: err.message }, () => process.exit(1)),
  );
}

/** The node's log file: `tsray start` in the background sends the node's output there (with --block it goes to the terminal). */
function nodeLog(nodeId: string): string | undefined {
  const file = path.join(sessionDir(nodeId), "logs", "node.log");
  return existsSync(file) ? file : undefined;
}
