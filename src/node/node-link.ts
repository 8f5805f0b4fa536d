/**
 * The head's side of a worker node: the node's workers appear to the head's worker pool as
 * workers like its own processes, whose messages travel through the node's connection, tagged
 * with their worker id. When the connection goes, every one of them has exited.
 */
import type { Channel } from "../rpc/channel.js";
import type { FromNode, RunningActors, ToNode } from "../rpc/node-protocol.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import type { SocketChannel } from "../rpc/socket-channel.js";
import type { JobConfig, LaunchedWorker, RemoteNodeLink, WorkerEnv } from "../raylet/worker-pool.js";

interface RemoteWorker {
  handler?: (msg: ToRaylet) => void;
  exit(code: number, why?: string): void;
}

export class NodeLink implements RemoteNodeLink {
  private readonly workers = new Map<string, RemoteWorker>();
  /** Packed folders this node has been sent: a job's (by job id) and its tasks' (by path on the head). */
  private readonly sentArchives = new Set<string>();
  private lastHeard = Date.now();

  constructor(
    readonly nodeId: string,
    private readonly channel: SocketChannel<ToNode, FromNode>,
    on: {
      log(jobId: string, text: string, stderr: boolean): void;
      /** The node's workers that run actors still (see FromNode "actors"). */
      actors(workers: RunningActors[]): void;
    },
  ) {
    channel.onMessage((m) => {
      this.lastHeard = Date.now();
      if (m.t === "from-worker") this.workers.get(m.workerId)?.handler?.(m.msg);
      else if (m.t === "worker-exit") this.exited(m.workerId, m.code, m.why);
      else if (m.t === "log") on.log(m.jobId, m.text, m.stderr);
      else if (m.t === "actors") on.actors(m.workers);
    });
  }

  /** Stops a worker of the node that this head did not start (one whose actors it does not take back). */
  kill(workerId: string): void {
    this.channel.send({ t: "kill-worker", workerId });
  }

  /** Milliseconds since the node last said anything. */
  silentFor(): number {
    return Date.now() - this.lastHeard;
  }

  startWorker(workerId: string, env: WorkerEnv, job: JobConfig): LaunchedWorker {
    const { nodeId: _here, ...remoteEnv } = env;
    this.channel.send({ t: "start-worker", workerId, env: remoteEnv, job: this.withNewArchives(job) });
    return this.adoptWorker(workerId);
  }

  adoptWorker(workerId: string): LaunchedWorker {
    const exits: ((code: number, why?: string) => void)[] = [];
    let exited: [number, string | undefined] | undefined;
    const worker: RemoteWorker = {
      exit: (code, why) => {
        exited = [code, why];
        for (const l of exits) l(code, why);
      },
    };
    this.workers.set(workerId, worker);
    const link = this.channel;
    const channel: Channel<FromRaylet, ToRaylet> = {
      send: (msg) => link.send({ t: "to-worker", workerId, msg }),
      unsent: () => undefined,
      flushNow: () => link.flushNow(),
      onSent: (listener) => link.onSent(listener),
      onMessage: (handler) => (worker.handler = handler),
      close: () => {},
    };
    return {
      channel,
      pid: () => undefined,
      kill: () => link.send({ t: "kill-worker", workerId }),
      onExit: (listener) => (exited ? queueMicrotask(() => listener(...exited!)) : exits.push(listener)),
    };
  }

  /** The job with only the packed folders this node has not been sent yet (each goes once). */
  private withNewArchives(job: JobConfig): JobConfig {
    const fresh = (key: string) => !this.sentArchives.has(key) && this.sentArchives.add(key);
    const uploaded = job.uploaded && (fresh(job.jobId) ? job.uploaded : { from: job.uploaded.from });
    const dirs = job.dirs && Object.fromEntries(Object.entries(job.dirs).map(([local, d]) => [local, fresh(local) ? d : { from: d.from }]));
    return { ...job, uploaded, dirs };
  }

  /** The node is gone: each of its workers has exited. */
  lost(why: string): void {
    for (const id of [...this.workers.keys()]) this.exited(id, 1, why);
  }

  close(): void {
    this.channel.close();
  }

  private exited(workerId: string, code: number, why?: string): void {
    const w = this.workers.get(workerId);
    this.workers.delete(workerId);
    w?.exit(code, why);
  }
}
