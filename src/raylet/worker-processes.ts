/**
 * Worker processes (isolation "process"): each a Node process of its own, started by the node,
 * that connects back to it on a Unix socket only this user can open (in a folder of mode 700),
 * proves a token made for this node, and speaks the same protocol as a worker thread. The
 * node's values reach it as bytes (see BoundaryChannel). A worker process ends when the node
 * closes its connection or dies, so none outlives its node.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { PassThrough } from "node:stream";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { packageVersion } from "../common/version.js";
import { LateChannel } from "../rpc/late-channel.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import { listen, type SocketChannel, type SocketServer } from "../rpc/socket-channel.js";
import type { Landing } from "../object-store/landing.js";
import { youngGenerationFlags } from "./young-generation.js";
import type { JobConfig, LaunchedWorker } from "./worker-pool.js";

const here = import.meta.url;
const ext = here.endsWith(".ts") ? "ts" : "js";
const BOOTSTRAP = fileURLToPath(new URL("../worker/bootstrap.mjs", here));
const PROCESS_MAIN = new URL(`../worker/process-main.${ext}`, here).href;

/** What a worker process reads at start (TSRAY_WORKER_BOOT). */
export interface ProcessBootData {
  socket: string;
  token: string;
  version: string;
  workerId: string;
  nodeId: string;
  jobId: string;
  namespace: string;
  tsx: boolean;
  mainUrl: string;
  logToDriver: boolean;
  /** The driver's working directory, whose modules load from this process's cwd (an uploaded copy). */
  workingDirFrom?: string;
}

export class WorkerProcesses {
  private dir?: string;
  private server?: Promise<SocketServer>;
  private readonly token = randomBytes(24).toString("hex");
  /** Started and not connected yet, by worker id. */
  private readonly connecting = new Map<string, (channel: SocketChannel<FromRaylet, ToRaylet>) => void>();
  private readonly children = new Set<ChildProcess>();
  /** Every launch's exit, so that close can wait for them all. */
  private readonly exits = new Set<Promise<unknown>>();
  private closed = false;

  constructor(
    private readonly nodeId: string,
    private readonly execArgv: () => string[] | undefined,
    private readonly log: (line: string) => void,
    /** Where values from the processes land in the node's arena as they arrive. */
    private readonly landing?: Landing,
  ) {}

  /** `heapBytes`: the process's heap limit (the `memory` option), as for a thread. */
  launch(workerId: string, job: JobConfig, env: Record<string, string>, cwd: string | undefined, heapBytes?: number): LaunchedWorker {
    const channel = new LateChannel<FromRaylet, ToRaylet>();
    // The streams exist at once; the process is spawned once the node listens.
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let child: ChildProcess | undefined;
    let killed = false;
    // Its exit counts once its connection has delivered all it sent (or it never connected).
    let connection: Promise<void> = Promise.resolve();
    this.connecting.set(workerId, (socketChannel) => {
      socketChannel.unref();
      socketChannel.landing = this.landing;
      connection = new Promise((resolve) => socketChannel.onClose(() => resolve()));
      channel.attach(socketChannel);
    });
    const exited = this.listening().then(
      (socket) =>
        new Promise<[number, NodeJS.Signals | null]>((resolve) => {
          if (killed || this.closed) return resolve([1, "SIGKILL"]);
          const boot: ProcessBootData = {
            socket, token: this.token, version: packageVersion(), workerId, nodeId: this.nodeId, jobId: job.jobId,
            namespace: job.namespace, tsx: job.tsx, mainUrl: PROCESS_MAIN, logToDriver: job.logToDriver, workingDirFrom: uploadedFrom(job, cwd),
          };
          const heap = heapBytes ? [`--max-old-space-size=${Math.max(16, Math.floor(heapBytes / 2 ** 20))}`] : [];
          const execArgv = this.execArgv() ?? process.execArgv;
          child = spawn(process.execPath, [...youngGenerationFlags(execArgv), ...execArgv, ...heap, BOOTSTRAP], {
            cwd,
            env: { ...process.env, ...env, TSRAY_WORKER_BOOT: JSON.stringify(boot) },
            // What it prints goes where the node's own output goes, prefixed by the worker itself,
            // or to the driver elsewhere (read here).
            stdio: ["ignore", job.forwardLogs ? "pipe" : "inherit", job.forwardLogs ? "pipe" : "inherit"],
          });
          this.children.add(child);
          child.unref();
          if (child.stdout) child.stdout.pipe(stdout);
          if (child.stderr) child.stderr.pipe(stderr);
          child.once("error", (err) => {
            this.log(`worker process ${workerId} could not start: ${err.message}`);
            resolve([1, null]);
          });
          child.once("exit", (code, signal) => resolve([code ?? 1, signal]));
        }),
      (err: Error) => {
        this.log(`worker processes cannot reach this node: ${err.message}`);
        return [1, null] as [number, NodeJS.Signals | null];
      },
    );
    this.exits.add(exited);
    void exited.then(() => this.exits.delete(exited));
    return {
      channel,
      stdout,
      stderr,
      pid: () => child?.pid,
      kill: () => {
        killed = true;
        child?.kill("SIGKILL");
      },
      onExit: (listener) =>
        void exited.then(async ([code, signal]) => {
          if (child) this.children.delete(child);
          this.connecting.delete(workerId);
          await connection;
          listener(code, signal ? `its process was killed (${signal})` : undefined);
        }),
    };
  }

  /** Kills every worker process, waits until each has exited, and removes the socket's folder. */
  async close(): Promise<void> {
    this.closed = true;
    for (const child of this.children) {
      child.ref(); // waited for below: the process must not exit before they have
      child.kill("SIGKILL");
    }
    this.children.clear();
    await Promise.all(this.exits);
    const server = await this.server?.catch(() => undefined);
    await server?.close();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  private socketPath(): string {
    this.dir ??= mkdtempSync(path.join(os.tmpdir(), "tsray-w-"));
    return path.join(this.dir, "node.sock");
  }

  /** The socket's path, once the node listens there. */
  private async listening(): Promise<string> {
    await (this.server ??= listen<FromRaylet, ToRaylet>({
      path: this.socketPath(),
      version: packageVersion(),
      token: this.token,
      log: this.log,
      onPeer: (channel, peer) => {
        const attach = this.connecting.get(String(peer.info.workerId));
        this.connecting.delete(String(peer.info.workerId));
        if (attach) attach(channel as unknown as SocketChannel<FromRaylet, ToRaylet>);
        else channel.close();
      },
    }).then((server) => (server.unref(), server)));
    return this.socketPath();
  }
}

/** The folder as the driver has it, when `cwd` is an uploaded copy (the job's, or a task's). */
function uploadedFrom(job: JobConfig, cwd: string | undefined): string | undefined {
  if (cwd === undefined) return undefined;
  return job.dirs?.[cwd]?.from ?? (cwd === job.workingDir ? job.uploaded?.from : undefined);
}
