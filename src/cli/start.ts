/** `tsray start`: a head node, in the background (returning once it accepts connections) or with --block in this process. */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { randomHex } from "../common/ids.js";
import { createSessionDir, removeSession, sessionDir, type NodeSession } from "../node/session.js";
import { runNode, stopOnSignals, type NodeProcessConfig } from "../node/node-main.js";
import { DEFAULT_DASHBOARD_PORT } from "../dashboard/http-server.js";
import { parseFlags, UsageError } from "./args.js";

export const START_FLAGS = {
  head: "boolean", address: "string", port: "number", "node-ip-address": "string", "num-cpus": "number", "num-gpus": "number",
  resources: "string", "object-store-memory": "number", "dashboard-host": "string", "dashboard-port": "number",
  "include-dashboard": "boolean", "gcs-storage": "string", token: "string", block: "boolean", verbose: "boolean",
  "tls-cert": "string", "tls-key": "string", "tls-ca": "string",
} as const;

const NODE_MAIN = fileURLToPath(new URL("../node/node-main.js", import.meta.url));

export async function start(argv: string[]): Promise<number> {
  const { flags, positionals } = parseFlags("start", argv, START_FLAGS);
  if (positionals.length) throw new UsageError(`tsray start: unexpected argument '${positionals[0]}'`);
  if (flags.head && flags.address) throw new UsageError("tsray start: pass --head or --address, not both");
  if (!flags.head && !flags.address) throw new UsageError("tsray start: pass --head to start a head node, or --address HOST:PORT to join one");
  const gcsStorage = flags["gcs-storage"];
  if (gcsStorage !== undefined && flags.address) throw new UsageError("tsray start --address: --gcs-storage is for the head, which keeps the GCS");
  if (gcsStorage !== undefined && !/^rediss?:\/\/[^/\s]+/.test(gcsStorage)) throw new UsageError(`tsray start: --gcs-storage must be a redis://HOST:PORT URL, got '${gcsStorage}'`);
  const dashboardPort = flags["dashboard-port"] ?? DEFAULT_DASHBOARD_PORT;
  if (!Number.isInteger(dashboardPort) || dashboardPort > 65535) throw new UsageError(`tsray start: --dashboard-port must be a port number, got ${dashboardPort}`);
  if (flags.token === "") throw new UsageError("tsray start: --token must not be empty");
  const port = flags.port ?? 6380;
  if (!Number.isInteger(port) || port > 65535) throw new UsageError(`tsray start: --port must be a port number, got ${port}`);
  if (Boolean(flags["tls-cert"]) !== Boolean(flags["tls-key"])) throw new UsageError("tsray start: --tls-cert and --tls-key go together");
  if (flags.address && flags["tls-cert"]) throw new UsageError("tsray start --address: a worker node takes only --tls-ca (to verify the head)");
  for (const f of ["tls-cert", "tls-key", "tls-ca"] as const) {
    const file = flags[f];
    if (file !== undefined && !existsSync(file)) throw new UsageError(`tsray start: --${f}: no file ${file}`);
  }
  const nodeId = randomHex(14);
  const config: NodeProcessConfig = {
    nodeId,
    ip: flags["node-ip-address"] ?? "127.0.0.1",
    port,
    token: flags.token,
    numCpus: flags["num-cpus"],
    numGpus: flags["num-gpus"],
    resources: flags.resources === undefined ? undefined : parseResources(flags.resources),
    objectStoreMemory: flags["object-store-memory"],
    group: !flags.block,
    headAddress: flags.address,
    gcsStorage,
    dashboard: flags.address || flags["include-dashboard"] === false ? undefined : { host: flags["dashboard-host"] ?? "127.0.0.1", port: dashboardPort },
    tlsCa: flags.address && flags["tls-ca"] ? path.resolve(flags["tls-ca"]) : undefined,
    tlsFiles: flags["tls-cert"] ? { cert: path.resolve(flags["tls-cert"]), key: path.resolve(flags["tls-key"]!), ca: flags["tls-ca"] && path.resolve(flags["tls-ca"]) } : undefined,
  };
  const takenHint = `is a head already running (\`tsray status\`)? Pass another --port`;
  if (flags.block) {
    let started;
    try {
      started = await runNode(config);
    } catch (err) {
      throw new UsageError(`tsray start: ${portMessage(err as Error, config, takenHint)}`);
    }
    printStarted(started.session, started.token);
    stopOnSignals(started.stop);
    return -1; // keeps running
  }
  const logPath = path.join(createSessionDir(nodeId), "logs", "node.log");
  const log = openSync(logPath, "a", 0o600);
  const child = spawn(process.execPath, [NODE_MAIN], {
    detached: true,
    stdio: ["ignore", log, log, "ipc"],
    env: { ...process.env, TSRAY_NODE_CONFIG: JSON.stringify(config) },
  });
  closeSync(log);
  const result = await new Promise<{ ready?: NodeSession; token?: string; error?: string }>((resolve) => {
    child.once("message", (m) => resolve(m as { ready?: NodeSession; token?: string; error?: string }));
    child.once("exit", (code, signal) => resolve({ error: `the node process exited (${signal ?? `code ${code}`}) before it started; see ${logPath}` }));
  });
  if (child.connected) child.disconnect();
  child.unref();
  if (!result.ready) {
    removeSession(nodeId);
    throw new UsageError(`tsray start: ${portMessage(new Error(result.error), config, takenHint)}`);
  }
  printStarted(result.ready, result.token!);
  return 0;
}

function portMessage(err: Error, config: NodeProcessConfig, hint: string): string {
  return /EADDRINUSE/.test(err.message) ? `port ${config.port} on ${config.ip} is taken: ${hint}` : err.message;
}

function parseResources(json: string): Record<string, number> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new UsageError(`tsray start: --resources must be JSON, e.g. '{"accelerator": 2}', got ${json}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new UsageError("tsray start: --resources must be a JSON object of amounts");
  for (const [name, amount] of Object.entries(value)) {
    if (typeof amount !== "number" || !(amount >= 0)) throw new UsageError(`tsray start: --resources: '${name}' must be a non-negative number`);
    if (name === "CPU" || name === "GPU") throw new UsageError(`tsray start: --resources must not contain '${name}': use --num-${name.toLowerCase()}s`);
  }
  return value as Record<string, number>;
}

function printStarted(s: NodeSession, token: string): void {
  if (!s.head) {
    process.stdout.write(`Worker node ${s.nodeId} joined the cluster at ${s.headAddress} (session and logs in ${sessionDir(s.nodeId)}).\nStop: tsray stop\n`);
    return;
  }
  process.stdout.write(
    `Started the head node ${s.nodeId} at ${s.address} (session and logs in ${sessionDir(s.nodeId)}).\n\n` +
      `Connect a program on this machine:  await ray.init({ address: "auto" })\n` +
      (s.dashboardUrl ? `Dashboard:                          ${s.dashboardUrl}\n` : "") +
      (s.dashboardUrl ? `Submit jobs:                        tsray job submit --address ${s.dashboardUrl} -- COMMAND\n` : "") +
      `From elsewhere:                     init({ address: "${s.address}", token }) with TSRAY_TOKEN=${token}\n` +
      `Join a worker node:                 tsray start --address ${s.address} --token ${token}\n` +
      `Stop:                               tsray stop\n`,
  );
}
