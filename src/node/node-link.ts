/**
 * The head's side of a worker node: the node's workers appear to the head's worker pool as
 * workers like its own processes, whose messages travel through the node's connection, tagged
 * with their worker id. When the connection goes, every one of them has exited.
 */
import type { Channel } from "../rpc/channel.js";
import { sendId } from "../rpc/protocol.js";
import type { FromNode, RunningActors, StoreUse, ToNode } from "../rpc/node-protocol.js";
import type { NodeUsage } from "../metrics/usage.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import type { ObjectValue } from "../object-store/object-table.js";
import { refArgs } from "../raylet/dependencies.js";
import type { SocketChannel } from "../rpc/socket-channel.js";
import type { JobConfig, LaunchedWorker, RemoteNodeLink, WorkerEnv } from "../raylet/worker-pool.js";

interface RemoteWorker {
  handler?: (msg: ToRaylet) => void;
  exit(code: number, why?: string): void;
}

export class NodeLink implements RemoteNodeLink {
  private readonly workers = new Map<string, RemoteWorker>();
  /** Objects the node has a copy of, as far as this head knows: their bytes are not sent again. */
  private readonly onNode = new Set<string>();
  /** Packed folders this node has been sent: a job's (by job id) and its tasks' (by path on the head). */
  private readonly sentArchives = new Set<string>();
  private lastHeard = Date.now();
  /** How full the node's store was at its last heartbeat, and what it and its workers used. */
  store?: StoreUse;
  usage?: NodeUsage;

  constructor(
    readonly nodeId: string,
    private readonly channel: SocketChannel<ToNode, FromNode>,
    /** Where this node serves what it keeps (see object-store/object-pulls.ts). */
    readonly objectAddress: { host: string; port: number },
    /** The same, of any node in the cluster. */
    private readonly addressOf: (nodeId: string) => { host: string; port: number } | undefined,
    on: {
      log(jobId: string, text: string, stderr: boolean): void;
      /** The node's workers that run actors still (see FromNode "actors"). */
      actors(workers: RunningActors[]): void;
    },
  ) {
    channel.onMessage((m) => {
      this.lastHeard = Date.now();
      if (m.t === "from-worker") {
        // The node keeps a copy of what its workers put.
        if (m.msg.t === "put" && m.msg.value.bodies) this.onNode.add(m.msg.id);
        this.workers.get(m.workerId)?.handler?.(m.msg);
      } else if (m.t === "heartbeat") {
        this.store = m.store;
        this.usage = m.usage;
      }
      else if (m.t === "unused") {
        for (const id of m.ids) this.onNode.delete(id);
        channel.send({ t: "drop", ids: m.ids });
      }
      else if (m.t === "worker-exit") this.exited(m.workerId, m.code, m.why);
      else if (m.t === "log") on.log(m.jobId, m.text, m.stderr);
      else if (m.t === "actors") on.actors(m.workers);
    });
  }

  /** The object is gone everywhere: the node frees the bodies it kept of it (see SerializedValue.away). */
  free(id: string): void {
    this.onNode.delete(id);
    sendId(this.channel, "free", id);
  }

  /** Stops a worker of the node that this head did not start (one whose actors it does not take back). */
  kill(workerId: string): void {
    this.channel.send({ t: "kill-worker", workerId });
  }

  hasCopy(id: string): boolean {
    return this.onNode.has(id);
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
      send: (msg) => link.send({ t: "to-worker", workerId, msg: this.withoutKnownBodies(msg) }),
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

  /**
   * The message with the bodies of the objects the node has a copy of left out (`atNode`): a
   * worker there reads that copy. Objects sent whole, or whose bodies the node is to pull from
   * another (their address filled in), are counted as on the node from now on, until it says
   * they are unused.
   */
  private withoutKnownBodies(msg: FromRaylet): FromRaylet {
    const known = (id: string, v: ObjectValue): ObjectValue => {
      if (!v.ok) return v;
      const { bodies, away, ...rest } = v.value;
      if (!bodies && !away) return v;
      if (away?.node === this.nodeId || this.onNode.has(id)) return { ok: true, value: { ...rest, atNode: true } };
      this.onNode.add(id);
      if (bodies) return { ok: true, value: { ...rest, bodies } };
      return { ok: true, value: { ...rest, away: { ...away!, ...this.addressOf(away!.node) } } };
    };
    if (msg.t === "objects") return { t: "objects", entries: msg.entries.map(([id, v]) => [id, known(id, v)]) };
    if (msg.t === "execute" && msg.args) {
      const ids = refArgs(msg.spec);
      return { ...msg, args: msg.args.map((v, i) => known(ids[i], v)) };
    }
    return msg;
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
