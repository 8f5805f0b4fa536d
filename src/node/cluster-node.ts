/**
 * A standalone node: what `tsray start` runs. The head node holds the GCS; every node runs a
 * NodeCore and listens on one port, where each connection says what it is in its handshake:
 * a driver (its job runs on the node until it disconnects) or the CLI (asking for state).
 */
import path from "node:path";
import { unpackWorkingDir } from "../jobs/archive.js";
import { Gcs } from "../gcs/gcs.js";
import type { GcsStorage } from "../gcs/storage.js";
import type { Restart } from "../gcs/actor-directory.js";
import type { TaskSpec } from "../rpc/protocol.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import { HEALTH_CHECK_TIMEOUT_MS, HEARTBEAT_MS, type FromNode, type NodeHello, type RunningActors, type ToNode } from "../rpc/node-protocol.js";
import { NodeLink } from "./node-link.js";
import { listen, type SocketChannel, type SocketServer, type TlsOptions } from "../rpc/socket-channel.js";
import type { Peer } from "../rpc/handshake.js";
import { toErrorInfo } from "../common/errors.js";
import { packageVersion } from "../common/version.js";
import { NODE_JOB, type JobConfig } from "../raylet/worker-pool.js";
import { NodeCore, type NodeResourcesConfig } from "./node-core.js";
import { LISTABLE, StateService, type Listable } from "./state-service.js";

export interface ClusterNodeConfig extends NodeResourcesConfig {
  /** The address ports bind to and other processes reach the node at (127.0.0.1 by default). */
  ip: string;
  /** 0 picks a free port. */
  port: number;
  token: string;
  tls?: TlsOptions;
  /** The node's session folder: jobs' uploaded working directories are unpacked under it. */
  workDir: string;
  log: (line: string) => void;
  /** Where the GCS keeps its tables: in memory when absent. A head started on a storage that has them recovers them. */
  storage?: GcsStorage;
  /** The file the node's output goes to, when it runs in the background (see `tsray logs`). */
  logFile?: string;
}

/** What a driver says of itself in its handshake: its job (workingDir absolute, on this machine), and more. */
export interface DriverHello extends Omit<JobConfig, "forwardLogs"> {
  workerId: string;
  entrypoint?: string;
}

/** Task workers started for a job when its driver connects, as the embedded cluster does at init. */
const PRESTART_WORKERS = 2;

/** How long a restarted head waits for its worker nodes to join again: as long as they keep trying (see WorkerNode). */
const RECOVERY_WAIT_MS = Number(process.env.TSRAY_RECONNECT_WINDOW_MS) || 60_000;

export class ClusterNode {
  readonly gcs: Gcs;
  readonly core: NodeCore;
  readonly state: StateService;
  private server?: SocketServer;
  /** Worker nodes in the cluster, by node id. */
  private readonly links = new Map<string, NodeLink>();
  private readonly health: NodeJS.Timeout;
  private readonly healthTimeoutMs = Number(process.env.TSRAY_HEALTH_CHECK_TIMEOUT_MS) || HEALTH_CHECK_TIMEOUT_MS;
  /** What the head says of itself to every peer in its handshake. */
  private readonly welcome: Record<string, unknown>;
  /** While recovering: the worker nodes that were alive when the last head went, not back yet. */
  private awaiting = new Set<string>();
  private recoveryOver: (why: string) => void = () => {};
  private recoveryTimer?: NodeJS.Timeout;

  private constructor(private readonly config: ClusterNodeConfig) {
    this.gcs = new Gcs(config.storage);
    this.core = new NodeCore({
      ...config,
      gcs: this.gcs,
      // A standalone node runs only its drivers' jobs.
      defaultJob: NODE_JOB,
      log: config.log,
      // Worker nodes of a cluster on TLS keep nothing (they have no certificate to serve with): nothing is pulled then.
      peers: { token: config.token, version: packageVersion(), log: config.log },
    });
    this.state = new StateService(this.gcs, this.core.raylet, config.logFile);
    this.welcome = { nodeId: this.core.nodeId, head: true };
    this.core.raylet.handleRequest("uploadWorkingDir", (jobId: string, archive: Uint8Array, from?: string) => this.unpackWorkingDir(jobId, archive, from));
    // A node that stops talking (hung, cut off) is dead once its heartbeats are overdue.
    this.health = setInterval(() => {
      for (const [nodeId, link] of this.links) {
        if (link.silentFor() > this.healthTimeoutMs) this.nodeGone(nodeId, `missed its heartbeats for ${this.healthTimeoutMs} ms`);
      }
    }, HEARTBEAT_MS);
    this.health.unref();
  }

  /** Starts the head node: resolves once it accepts connections. Rejects if the port is taken. */
  static async startHead(config: ClusterNodeConfig): Promise<ClusterNode> {
    const node = new ClusterNode(config);
    node.recover();
    try {
      node.server = await listen<FromRaylet, ToRaylet>({
        host: config.ip,
        port: config.port,
        version: packageVersion(),
        token: config.token,
        tls: config.tls,
        info: node.welcome,
        log: config.log,
        onPeer: (channel, peer) => node.accept(channel as unknown as SocketChannel<FromRaylet, ToRaylet>, peer),
      });
    } catch (err) {
      await node.close();
      throw err;
    }
    node.gcs.registerNode({ nodeId: node.core.nodeId, address: config.ip, alive: true, isHead: true, resources: { ...node.core.total } });
    return node;
  }

  get port(): number {
    return this.server!.port;
  }

  /** Drivers that connect from now on are told where the head's HTTP API (the dashboard's port) is. */
  set dashboardUrl(url: string) {
    this.welcome.dashboardUrl = url;
  }

  get address(): string {
    return `${this.config.ip}:${this.port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.health);
    clearTimeout(this.recoveryTimer);
    for (const link of this.links.values()) link.close();
    await this.server?.close();
    await this.core.close();
    await this.gcs.storage.close?.();
  }

  /**
   * What the last head on this storage left: its detached actors wait for their worker nodes to
   * join again and bring them back, and its detached placement groups are reserved again once
   * every node that was alive is back (or RECOVERY_WAIT_MS have passed).
   */
  private recover(): void {
    const jobs = this.gcs.jobs().length;
    const { nodes, actors, placementGroups } = this.gcs.recover();
    if (!jobs && !actors.length && !placementGroups.length) return;
    this.awaiting = new Set(nodes);
    const over = new Promise<string>((resolve) => (this.recoveryOver = resolve));
    this.recoveryTimer = setTimeout(() => this.recoveryOver(`its node did not join the restarted head within ${RECOVERY_WAIT_MS} ms`), RECOVERY_WAIT_MS);
    this.recoveryTimer.unref();
    this.core.raylet.recovery.start(actors.map((id) => this.gcs.actors.get(id) as { creation: TaskSpec; restart?: Restart }), placementGroups, over);
    this.config.log(
      `recovered from storage: ${jobs} job(s), ${actors.length} detached actor(s), ${placementGroups.length} detached placement group(s); ` +
        `waiting for ${nodes.length} worker node(s) to join again`,
    );
    if (!this.awaiting.size) this.recoveryOver("no worker node was alive when the head went");
  }

  /** A node that joined has said which of its workers run actors: those the head recovered are taken back, the rest stopped. */
  private takeBackActors(link: NodeLink, running: RunningActors[]): void {
    for (const r of running) if (!this.core.raylet.recovery.adopt(link.nodeId, r)) link.kill(r.workerId);
    if (this.awaiting.delete(link.nodeId) && !this.awaiting.size) {
      clearTimeout(this.recoveryTimer);
      this.recoveryOver("the head restarted and its node did not bring it back");
    }
  }

  private accept(channel: SocketChannel<FromRaylet, ToRaylet>, peer: Peer): void {
    if (peer.role === "driver" || peer.role === "node") channel.landing = this.core.landing;
    if (peer.role === "driver") return this.acceptDriver(channel, peer);
    if (peer.role === "node") return this.acceptNode(channel as unknown as SocketChannel<ToNode, FromNode>, peer);
    if (peer.role === "cli") return this.acceptCli(channel as unknown as SocketChannel<FromRaylet, CliRequest>);
    this.config.log(`refused a peer at ${channel.remote}: unknown role '${peer.role}'`);
    channel.close();
  }

  private acceptDriver(channel: SocketChannel<FromRaylet, ToRaylet>, peer: Peer): void {
    const hello = driverHello(peer.info);
    if (typeof hello === "string") {
      this.config.log(`refused a driver at ${channel.remote}: ${hello}`);
      return channel.close();
    }
    const { workerId, entrypoint, ...settings } = hello;
    const job: JobConfig = { ...settings, forwardLogs: hello.logToDriver };
    this.gcs.addJob({ jobId: job.jobId, namespace: job.namespace, startTime: Date.now(), status: "RUNNING", entrypoint });
    const leave = this.core.raylet.connectRemoteDriver(channel, workerId, job);
    void this.core.raylet.workers.prestart(PRESTART_WORKERS, job.jobId);
    channel.onClose(() => this.gcs.finishJob(job.jobId, leave()));
  }

  /**
   * A driver's working directory, uploaded before its init resolves (or, with `from`, a task's
   * or actor's, before its first submit): unpacked here, where its workers run (processes, in
   * that folder), and sent to each worker node that runs them.
   */
  private unpackWorkingDir(jobId: string, archive: Uint8Array, from?: string): void {
    const job = this.core.raylet.job(jobId);
    if (typeof from === "string" && path.isAbsolute(from) && job) {
      (job.dirs ??= {})[unpackWorkingDir(archive, this.config.workDir, jobId, from)] = { from, archive };
      return;
    }
    if (!job?.workingDir) throw new RangeError(`job ${jobId} has no working directory to upload`);
    job.uploaded = { from: job.workingDir, archive };
    job.workingDir = unpackWorkingDir(archive, this.config.workDir, jobId);
  }

  private acceptNode(channel: SocketChannel<ToNode, FromNode>, peer: Peer): void {
    const hello = nodeHello(peer.info);
    if (typeof hello === "string" || this.links.has(hello.nodeId)) {
      this.config.log(`refused a node at ${channel.remote}: ${typeof hello === "string" ? hello : "a node of that id is in the cluster already"}`);
      return channel.close();
    }
    const link: NodeLink = new NodeLink(hello.nodeId, channel, { host: hello.ip, port: hello.objectPort }, (nodeId) => this.links.get(nodeId)?.objectAddress, {
      log: (jobId, text, stderr) => this.core.raylet.forwardLog(jobId, text, stderr),
      actors: (running) => this.takeBackActors(link, running),
    });
    this.links.set(hello.nodeId, link);
    this.gcs.registerNode({ nodeId: hello.nodeId, address: hello.ip, alive: true, isHead: false, resources: hello.resources });
    this.core.raylet.addNode(link, hello.resources);
    this.config.log(`node ${hello.nodeId} at ${hello.ip} joined with ${JSON.stringify(hello.resources)}`);
    channel.onClose(() => this.nodeGone(hello.nodeId, "left the cluster (its connection closed)"));
  }

  /** A worker node died or left: what ran there is retried or restarted elsewhere, or fails. */
  private nodeGone(nodeId: string, why: string): void {
    const link = this.links.get(nodeId);
    if (!link) return;
    this.links.delete(nodeId);
    this.config.log(`node ${nodeId} ${why}`);
    this.gcs.markNodeDead(nodeId);
    this.core.raylet.removeNode(nodeId, why);
    link.lost(`its node ${nodeId} ${why}`);
    link.close();
  }

  private acceptCli(channel: SocketChannel<FromRaylet, CliRequest>): void {
    channel.onMessage((msg) => {
      if (msg.t !== "request") return;
      try {
        channel.send({ t: "reply", reqId: msg.reqId, ok: true, value: this.answerCli(msg.method, msg.args) });
      } catch (err) {
        channel.send({ t: "reply", reqId: msg.reqId, ok: false, error: toErrorInfo(err) });
      }
    });
  }

  private answerCli(method: string, args: unknown[]): unknown {
    if (method === "status") return this.state.status();
    if (method === "list" && LISTABLE.includes(args[0] as Listable)) return this.state.list(args[0] as Listable);
    if (method === "timeline") return this.state.timeline();
    if (method === "logs") return this.state.logs(args[0] as Parameters<StateService["logs"]>[0]);
    if (method === "memory") return this.state.memory();
    throw new TypeError(`unknown request '${method}${method === "list" ? ` ${String(args[0])}` : ""}'`);
  }
}

type CliRequest = Extract<ToRaylet, { t: "request" }>;

/** A worker node's hello, checked; a string says what is wrong with it. */
function nodeHello(info: Record<string, unknown>): NodeHello | string {
  if (typeof info.nodeId !== "string" || !/^[0-9a-f]{8,32}$/.test(info.nodeId)) return "its hello has no valid nodeId";
  if (typeof info.ip !== "string") return "its hello has no ip";
  const r = info.resources;
  if (typeof r !== "object" || r === null || Object.values(r).some((v) => typeof v !== "number" || !(v >= 0))) return "its resources are not amounts";
  const port = info.objectPort;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) return "its hello has no valid objectPort";
  return { nodeId: info.nodeId, ip: info.ip, resources: r as Record<string, number>, objectPort: port };
}

/** The driver's hello, checked; a string says what is wrong with it. */
function driverHello(info: Record<string, unknown>): DriverHello | string {
  const hex = (v: unknown) => typeof v === "string" && /^[0-9a-f]{4,32}$/.test(v);
  if (!hex(info.workerId) || !hex(info.jobId)) return "its hello has no valid workerId and jobId";
  if (typeof info.namespace !== "string" || typeof info.tsx !== "boolean" || typeof info.logToDriver !== "boolean") return "its hello is incomplete";
  const env = info.env ?? {};
  if (typeof env !== "object" || env === null || Object.values(env).some((v) => typeof v !== "string")) return "its env is not a map of strings";
  return {
    workerId: info.workerId as string, jobId: info.jobId as string, namespace: info.namespace, tsx: info.tsx, logToDriver: info.logToDriver,
    env: env as Record<string, string>, entrypoint: typeof info.entrypoint === "string" ? info.entrypoint : undefined,
    workingDir: typeof info.workingDir === "string" && path.isAbsolute(info.workingDir) ? info.workingDir : undefined,
  };
}
