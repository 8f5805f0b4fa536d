/**
 * A standalone node's process (`tsray start`): starts the node, writes its session folder, and
 * stops cleanly on SIGINT and SIGTERM, leaving nothing behind. With `--block` the CLI runs
 * `runNode` itself; in the background it spawns this module, which reports to it over IPC once
 * the node accepts connections (or why it could not start).
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { packageVersion } from "../common/version.js";
import { ClusterNode, type ClusterNodeConfig } from "./cluster-node.js";
import { createSessionDir, envToken, removeSession, writeSession, type NodeSession } from "./session.js";

export interface NodeProcessConfig extends Omit<ClusterNodeConfig, "token" | "log" | "tls"> {
  /** PEM files: the node's certificate and key, and the CA that signed it (default: the certificate). */
  tlsFiles?: { cert: string; key: string; ca?: string };
  nodeId: string;
  /** Default: TSRAY_TOKEN, else a new random one. */
  token?: string;
  /** Runs in the background, leading its own process group. */
  group: boolean;
}

/** Starts the head node and its session; resolves with the session and a stop function. */
export async function runNode(config: NodeProcessConfig): Promise<{ session: NodeSession; token: string; stop(): Promise<void> }> {
  createSessionDir(config.nodeId);
  const token = config.token ?? envToken() ?? randomBytes(24).toString("hex");
  const log = (line: string) => process.stderr.write(`${new Date().toISOString()} tsray: ${line}\n`);
  let node: ClusterNode;
  try {
    const tls = config.tlsFiles && { cert: readFileSync(config.tlsFiles.cert), key: readFileSync(config.tlsFiles.key) };
    node = await ClusterNode.startHead({ ...config, token, log, tls });
  } catch (err) {
    removeSession(config.nodeId);
    throw err;
  }
  const session: NodeSession = {
    nodeId: node.core.nodeId, address: node.address, port: node.port, pid: process.pid, head: true, group: config.group, version: packageVersion(), startedAt: Date.now(),
    tlsCa: config.tlsFiles && path.resolve(config.tlsFiles.ca ?? config.tlsFiles.cert),
  };
  writeSession(session, token);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await node.close();
      removeSession(config.nodeId);
    })());
  return { session, token, stop };
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
