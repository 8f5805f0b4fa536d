/**
 * A driver in its own process, connected to a running cluster (`init({ address })`): its core
 * worker talks to the head node's raylet over a socket, and its values carry their bodies (it
 * maps no node's arena). Its job lasts as long as the connection.
 */
import { randomUUID } from "node:crypto";
import { RayError } from "../common/errors.js";
import { pack } from "../jobs/archive.js";
import { randomHex } from "../common/ids.js";
import { packageVersion } from "../common/version.js";
import { CoreWorker } from "../core-worker/core-worker.js";
import { makeActorHandle } from "../core-worker/actor-handle.js";
import { runsUnderTsx } from "../core-worker/function-manager/describe.js";
import { coreWorker } from "../core-worker/runtime.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import { connect } from "../rpc/socket-channel.js";
import { clusterToken, liveSessions, tlsFor } from "./session.js";
import type { DriverHello } from "./cluster-node.js";

export interface RemoteDriverOptions {
  address: string;
  token?: string;
  namespace?: string;
  logToDriver?: boolean;
  env?: Record<string, string>;
  workingDir?: string;
}

export interface RemoteDriver {
  coreWorker: CoreWorker;
  /** HOST:PORT of the node it is connected to. */
  address: string;
  /** The head's HTTP API, when it serves one. */
  dashboardUrl?: string;
  nodeId: string;
  jobId: string;
  namespace: string;
}

/** "auto", TSRAY_ADDRESS or the head on this machine, as HOST:PORT. */
export function resolveAddress(address: string): string {
  if (address !== "auto") return address;
  const fromEnv = process.env.TSRAY_ADDRESS;
  if (fromEnv) return fromEnv;
  const head = liveSessions().find((s) => s.head);
  if (!head) {
    throw new RayError(`init({ address: "auto" }): no cluster runs on this machine; start one with \`tsray start --head\`, or set TSRAY_ADDRESS`);
  }
  return head.address;
}

export function parseAddress(address: string, what: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65535) throw new TypeError(`${what} must be HOST:PORT (e.g. 127.0.0.1:6380), got ${JSON.stringify(address)}`);
  return { host: m[1].replace(/^\[(.*)\]$/, "$1"), port };
}

export async function connectDriver(o: RemoteDriverOptions): Promise<RemoteDriver> {
  // Packed first: a folder over the limit is an error of init, before anything connects.
  const archive = o.workingDir === undefined ? undefined : pack(o.workingDir);
  const address = resolveAddress(o.address);
  const { host, port } = parseAddress(address, "init() option address");
  const token = clusterToken(address, o.token);
  if (token === undefined) {
    throw new RayError(`init(): no cluster token for ${address}: pass init({ token }), or set TSRAY_TOKEN (the head prints it when it starts)`);
  }
  const hello: DriverHello = {
    workerId: randomHex(6),
    jobId: randomHex(4),
    namespace: o.namespace ?? randomUUID(),
    tsx: runsUnderTsx(),
    logToDriver: o.logToDriver ?? true,
    env: o.env ?? {},
    workingDir: o.workingDir,
    entrypoint: process.argv[1],
  };
  const { channel, info } = await connect<ToRaylet, FromRaylet>({
    host, port, token, version: packageVersion(), role: "driver", info: { ...hello }, tls: tlsFor(address),
  });
  const nodeId = String(info.nodeId);
  const cw = new CoreWorker(
    { workerId: hello.workerId, nodeId, jobId: hello.jobId, namespace: hello.namespace, mode: "driver" },
    channel,
    undefined,
    (data, fresh) => makeActorHandle(coreWorker, data, fresh),
  );
  channel.onClose(() => cw.close(`the connection to the cluster at ${address} was lost while this call was waiting`));
  // Uploaded by the time init resolves: the nodes that run the job's code unpack it.
  if (archive) await cw.request("uploadWorkingDir", hello.jobId, archive);
  // A task's or actor's own working directory goes up before its first submit (messages keep
  // their order); a folder too large fails that submit, naming it.
  const uploaded = new Set(o.workingDir === undefined ? [] : [o.workingDir]);
  cw.beforeSubmitIn = (dir) => {
    if (uploaded.has(dir)) return;
    const packed = pack(dir);
    uploaded.add(dir);
    cw.request("uploadWorkingDir", hello.jobId, packed, dir).catch(() => {});
  };
  // Waits keep the process alive; an idle connection does not (a script ends when its work does).
  channel.unref();
  // A script that ends without shutdown() ends its job as well as one that calls it.
  const sayGoodbye = () => {
    channel.send({ t: "goodbye" });
    channel.flushNow();
  };
  process.once("exit", sayGoodbye);
  channel.onClose(() => process.off("exit", sayGoodbye));
  const dashboardUrl = typeof info.dashboardUrl === "string" ? info.dashboardUrl : undefined;
  return { coreWorker: cw, address, nodeId, jobId: hello.jobId, namespace: hello.namespace, dashboardUrl };
}
