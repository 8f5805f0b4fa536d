/**
 * A worker node (`tsray start --address`): it runs workers for the head, which places work and
 * owns the jobs' objects, and relays their messages both ways (node-protocol.ts). The large
 * bodies of what its workers make stay here, and the head is told where they are (`away`); the
 * node serves them to the nodes that pull them, until the head says "free". Values its workers
 * are sent (as bytes from the head, or pulled from the node that has them) are stored in this
 * node's own arena, so every worker here reads them zero-copy, and are freed once no worker here
 * holds them.
 */
import { objectIdOf, randomHex } from "../common/ids.js";
import { unpackWorkingDir } from "../jobs/archive.js";
import { packageVersion } from "../common/version.js";
import { ObjectStoreFullError, toErrorInfo, type ErrorInfo } from "../common/errors.js";
import { ObjectTable, type ObjectValue } from "../object-store/object-table.js";
import { Landing } from "../object-store/landing.js";
import { SpillFiles } from "../object-store/spill-files.js";
import { sessionRoot } from "./session.js";
import { ObjectPulls, ObjectServer } from "../object-store/object-pulls.js";
import { UsageSampler } from "../metrics/usage.js";
import { SharedArena } from "../object-store/shared-arena.js";
import { HEARTBEAT_MS, type FromNode, type NodeHello, type RunningActors, type ToNode } from "../rpc/node-protocol.js";
import { sendId, type FromRaylet, type ToRaylet } from "../rpc/protocol.js";
import { connect, type SocketChannel, type TlsOptions } from "../rpc/socket-channel.js";
import { refArgs } from "../raylet/dependencies.js";
import { BoundaryChannel } from "../raylet/boundary-channel.js";
import { NODE_JOB, WorkerPool, type JobConfig, type PooledWorker, type WorkerEnv } from "../raylet/worker-pool.js";
import { releaseSlices } from "../serialization/serializer.js";
import { mapValues, slicesOf, unpinAll, viewsOf } from "../serialization/wire-value.js";
import type { SerializedValue } from "../serialization/serialized-value.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import { nodeResources, type NodeResourcesConfig } from "./node-core.js";

export interface WorkerNodeConfig extends NodeResourcesConfig {
  nodeId?: string;
  ip: string;
  head: { host: string; port: number };
  token: string;
  tls?: TlsOptions;
  /** The node's session folder: jobs' working directories are unpacked under it. */
  workDir: string;
  log: (line: string) => void;
}

/** How long a worker node keeps trying to join a head that went away, and how often. */
const RECONNECT_WINDOW_MS = Number(process.env.TSRAY_RECONNECT_WINDOW_MS) || 60_000;
const RECONNECT_EVERY_MS = 1000;

export class WorkerNode {
  readonly nodeId: string;
  readonly total: Record<string, number>;
  private readonly arena: SharedArena;
  /** Where values from the head land in this node's arena as they arrive. */
  private readonly landing: Landing;
  /** Copies the node keeps for the head (see keepForHead). */
  private readonly forHead = new Set<string>();
  /** This node's copies of the head's objects, one per object, held by the workers and tasks here that use it. */
  private readonly copies: ObjectTable;
  private readonly workers: WorkerPool;
  private readonly byId = new Map<string, PooledWorker>();
  /** What each worker was started with, and the actors it runs (told by their creation). */
  private readonly started = new Map<string, { env: WorkerEnv; actorIds: Set<string> }>();
  private readonly jobs = new Map<string, JobConfig>();
  /** Tasks' uploaded working directories: where the head has each, and where this node does. */
  private readonly dirsHere = new Map<string, string>();
  /** The copies each running task holds, by task id, and each worker's running tasks. */
  private readonly taskCopies = new Map<string, string[]>();
  private readonly tasksOf = new Map<string, Set<string>>();
  /** Streaming tasks running here: their returns are numbered from 0. */
  private readonly streaming = new Set<string>();
  /** Where other nodes pull what this one keeps, and its pulls from them. */
  private server?: ObjectServer;
  private readonly pulls: ObjectPulls;
  private readonly usage = new UsageSampler();
  /** Pulls under way, by object id, and the messages to each worker waiting for them (in order). */
  private readonly pulling = new Map<string, Promise<ErrorInfo | undefined>>();
  private readonly outbox = new Map<string, Promise<void>>();
  /** Function descriptors of tasks handed back to the head before their worker saw them, by worker. */
  private readonly unsentFunctions = new Map<string, FunctionDescriptor[]>();
  private head?: SocketChannel<FromNode, ToNode>;
  private heartbeat?: NodeJS.Timeout;
  private closed = false;

  private constructor(private readonly config: WorkerNodeConfig) {
    this.nodeId = config.nodeId ?? randomHex(14);
    const { total, storeBytes } = nodeResources(config, config.ip);
    this.total = total;
    this.arena = SharedArena.create(storeBytes);
    this.landing = new Landing(this.arena);
    this.copies = new ObjectTable(this.arena, () => {}, new SpillFiles(sessionRoot(), this.nodeId), {
      holder: FOR_HEAD,
      then: (id) => this.head && sendId(this.head, "unused", id),
    });
    this.workers = new WorkerPool({
      nodeId: this.nodeId,
      arena: this.arena,
      job: (jobId) => (jobId === undefined ? NODE_JOB : (this.jobs.get(jobId) ?? NODE_JOB)),
      landing: this.landing,
      boundary: (channel) =>
        new BoundaryChannel(channel, { arena: this.arena, landing: this.landing, allocate: (size) => this.allocate(size), putFailed: () => {} }),
      remote: () => undefined,
      log: config.log,
      onLog: (jobId, text, stderr) => {
        this.head?.send({ t: "log", jobId, text, stderr });
        (stderr ? process.stderr : process.stdout).write(text);
      },
      onMessage: (w, msg) => this.fromWorker(w, msg),
      onExit: (w) => this.workerExited(w),
    });
    this.pulls = new ObjectPulls({
      token: config.token, version: packageVersion(), tls: config.tls, log: config.log,
      landing: this.landing, allocate: (size) => this.allocate(size), budgetBytes: Math.max(64 * 2 ** 20, storeBytes / 4),
    });
  }

  /** Joins the head; resolves once it has accepted this node. */
  static async join(config: WorkerNodeConfig): Promise<WorkerNode> {
    const node = new WorkerNode(config);
    try {
      if (!config.tls) node.server = await ObjectServer.start({
        host: config.ip, token: config.token, version: packageVersion(), log: config.log, arena: node.arena,
        lookup: (id) => node.copies.get(id),
      });
      await node.connect();
    } catch (err) {
      await node.close();
      throw err;
    }
    node.heartbeat = setInterval(() => node.beat(), HEARTBEAT_MS);
    return node;
  }

  /**
   * Called when the head has been gone for RECONNECT_WINDOW_MS: the node then has nothing to do.
   * Until then it tries to join again (a head restarted on the same address), with none of the
   * work it had: that work belonged to the head that went.
   */
  onHeadGone(listener: () => void): void {
    this.headGone = listener;
  }

  private headGone: () => void = () => {};

  private async connect(): Promise<void> {
    const hello: NodeHello = { nodeId: this.nodeId, ip: this.config.ip, resources: this.total, objectPort: this.server?.port ?? 0 };
    const { channel } = await connect<FromNode, ToNode>({
      host: this.config.head.host, port: this.config.head.port, token: this.config.token, version: packageVersion(), role: "node",
      info: { ...hello }, tls: this.config.tls,
    });
    this.head = channel;
    channel.landing = this.landing;
    // A head that joins knows none of the copies here: those nobody here uses go.
    for (const id of [...this.forHead]) if (this.copies.heldOnly(id, FOR_HEAD)) this.letGo(id);
    channel.send({ t: "actors", workers: this.runningActors() });
    this.beat();
    channel.onMessage((m) => this.fromHead(m));
    channel.onClose(() => {
      if (this.head === channel && !this.closed) void this.reconnect();
    });
  }

  /** Tells the head this node is alive, and how full its store is. */
  private beat(): void {
    this.head?.send({ t: "heartbeat", store: { used: this.arena.used(), capacity: this.arena.capacity }, usage: this.usage.sample(this.workers.sampled()) });
  }

  /** The workers that run actors, for a head restarted on its storage to take back. */
  private runningActors(): RunningActors[] {
    const out: RunningActors[] = [];
    for (const [workerId, { env, actorIds }] of this.started) {
      const w = this.byId.get(workerId);
      if (!w || w.exit || !actorIds.size) continue;
      const { uploaded, ...job } = this.jobs.get(w.jobId ?? "") ?? NODE_JOB;
      out.push({ workerId, actorIds: [...actorIds], env, job: uploaded ? { ...job, uploaded: { from: uploaded.from } } : job });
    }
    return out;
  }

  private async reconnect(): Promise<void> {
    this.head = undefined;
    this.config.log(`the head at ${this.config.head.host}:${this.config.head.port} is gone: this node drops its tasks, keeps its actors, and tries to join again`);
    for (const [id, w] of this.byId) if (!this.started.get(id)?.actorIds.size) this.workers.kill(w);
    const deadline = Date.now() + RECONNECT_WINDOW_MS;
    while (!this.closed && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RECONNECT_EVERY_MS));
      try {
        await this.connect();
        this.config.log("joined the head again");
        return;
      } catch {
        // Not back yet.
      }
    }
    if (!this.closed) this.headGone();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    this.head?.close();
    this.pulls.close();
    await this.server?.close();
    await this.workers.close();
    this.copies.clear();
  }

  private fromHead(m: ToNode): void {
    if (m.t === "start-worker") {
      this.localJob(m.job);
      const env = m.env.workingDir === undefined ? m.env : { ...m.env, workingDir: this.dirsHere.get(m.env.workingDir) ?? m.env.workingDir };
      const w = this.workers.startDedicated(env, m.workerId);
      this.byId.set(m.workerId, w);
      this.started.set(m.workerId, { env: m.env, actorIds: new Set() });
      return;
    }
    if (m.t === "drop") {
      // Still unused (a worker may have taken one again since it said so): freed now.
      for (const id of m.ids) if (this.copies.heldOnly(id, FOR_HEAD)) this.letGo(id);
      return;
    }
    if (m.t === "free") {
      this.copies.release(m.ids, MADE_HERE);
      return this.copies.makeRoom();
    }
    const w = this.byId.get(m.workerId);
    if (!w) return;
    if (m.t === "kill-worker") return this.workers.kill(w);
    const actors = this.started.get(w.id)?.actorIds;
    if (m.msg.t === "execute" && m.msg.spec.actor) actors?.add(m.msg.spec.actor.actorId);
    if (m.msg.t === "drop-actor") actors?.delete(m.msg.actorId);
    if (m.msg.t === "execute" && m.msg.spec.numReturns === "streaming") this.streaming.add(m.msg.spec.taskId);
    this.toWorker(w, m.msg);
  }

  /**
   * Sends a message to worker `w` with the values it carries stored here, after the pulls they
   * need; a worker's messages keep their order.
   */
  private toWorker(w: PooledWorker, msg: FromRaylet): void {
    const pulls = this.pullsFor(msg);
    const before = this.outbox.get(w.id);
    if (!pulls && !before) return w.channel.send(this.storeFor(w, msg));
    const sent = Promise.all([before, pulls]).then(([, failed]) => {
      if (w.exit) return;
      // A task whose argument went with its node goes back to the head, to wait for it to be
      // made again (see TaskManager.onRequeue); an actor call fails with the reason.
      if (msg.t === "execute" && !msg.spec.actorId && !msg.spec.actor && [...(failed?.values() ?? [])].some((e) => e.code === "OBJECT_LOST")) {
        this.streaming.delete(msg.spec.taskId);
        // The head counts the functions it carried as sent to the worker: they go with its next task.
        if (msg.functions) this.unsentFunctions.set(w.id, [...(this.unsentFunctions.get(w.id) ?? []), ...msg.functions]);
        this.head?.send({ t: "from-worker", workerId: w.id, msg: { t: "requeue", taskIds: [msg.spec.taskId] } });
        return;
      }
      w.channel.send(this.storeFor(w, msg, failed));
    });
    this.outbox.set(w.id, sent);
    void sent.then(() => this.outbox.get(w.id) === sent && this.outbox.delete(w.id));
  }

  /**
   * Pulls the values of `msg` whose bodies are on other nodes and not here yet, each kept for the
   * head once it lands; resolves with the reasons of those that failed. Undefined: nothing to pull.
   */
  private pullsFor(msg: FromRaylet): Promise<Map<string, ErrorInfo>> | undefined {
    let entries: [string, ObjectValue][] = [];
    if (msg.t === "objects") entries = msg.entries;
    else if (msg.t === "execute" && msg.args) {
      const ids = refArgs(msg.spec);
      entries = msg.args.map((v, i) => [ids[i], v]);
    }
    let waits: Promise<[string, ErrorInfo | undefined]>[] | undefined;
    for (const [id, v] of entries) {
      if (!v.ok || !v.value.away || this.copies.isReady(id)) continue;
      let pull = this.pulling.get(id);
      if (!pull) {
        pull = this.pulls.pull(v.value).then(
          ({ away: _, ...value }) => {
            this.keepForHead(id);
            this.copies.seal(id, { ok: true, value });
            return undefined;
          },
          (err: Error) => {
            // The head counts this node as having it: it is told otherwise.
            if (this.head) sendId(this.head, "unused", id);
            return toErrorInfo(err);
          },
        );
        this.pulling.set(id, pull);
        void pull.then(() => this.pulling.delete(id));
      }
      (waits ??= []).push(pull.then((e) => [id, e]));
    }
    return waits && Promise.all(waits).then((r) => new Map(r.filter((x): x is [string, ErrorInfo] => x[1] !== undefined)));
  }

  /**
   * The job as it runs here, kept from the head's first word of it on: its uploaded working
   * directory and its tasks' unpacked in this node's folder as their packed folders come (each
   * once, with the first worker that needs it).
   */
  private localJob(sent: JobConfig): void {
    let job = this.jobs.get(sent.jobId);
    if (!job) {
      const { dirs: _, ...rest } = sent;
      job = sent.uploaded?.archive ? { ...rest, workingDir: unpackWorkingDir(sent.uploaded.archive, this.config.workDir, sent.jobId) } : rest;
      this.jobs.set(sent.jobId, job);
    }
    for (const [onHead, d] of Object.entries(sent.dirs ?? {})) {
      if (!d.archive || this.dirsHere.has(onHead)) continue;
      const here = unpackWorkingDir(d.archive, this.config.workDir, sent.jobId, d.from);
      this.dirsHere.set(onHead, here);
      (job.dirs ??= {})[here] = { from: d.from };
    }
  }

  /** A message for worker `w` with the values it carries stored here, held for it (`failed`: pulls that failed, and why). */
  private storeFor(w: PooledWorker, msg: FromRaylet, failed?: Map<string, ErrorInfo>): FromRaylet {
    if (msg.t === "execute") msg = this.withUnsentFunctions(w, msg);
    if (msg.t === "execute" && msg.args) {
      const ids = refArgs(msg.spec);
      const held: string[] = [];
      const args = msg.args.map((v, i) => {
        const id = ids[i];
        this.copies.hold([id], msg.spec.taskId);
        const stored = this.copy(id, v, reader(w), failed);
        if (stored.ok) held.push(id);
        else this.unhold(id, () => this.copies.release([id], msg.spec.taskId));
        return stored;
      });
      this.taskCopies.set(msg.spec.taskId, held);
      let tasks = this.tasksOf.get(w.id);
      if (!tasks) this.tasksOf.set(w.id, (tasks = new Set()));
      tasks.add(msg.spec.taskId);
      return { ...msg, args };
    }
    if (msg.t === "objects") {
      return {
        t: "objects",
        entries: msg.entries.map(([id, v]) => {
          this.copies.addRef(id, w.id);
          const stored = this.copy(id, v, reader(w), failed);
          if (!stored.ok) this.unhold(id, () => this.copies.removeRef(id, w.id));
          return [id, stored];
        }),
      };
    }
    return msg;
  }

  /** The execute message with the functions the worker was to get with a task handed back (see toWorker). */
  private withUnsentFunctions(w: PooledWorker, msg: Extract<FromRaylet, { t: "execute" }>): FromRaylet {
    const unsent = this.unsentFunctions.get(w.id);
    if (!unsent) return msg;
    this.unsentFunctions.delete(w.id);
    return { ...msg, functions: [...unsent, ...(msg.functions ?? [])] };
  }

  /**
   * This node's copy of an object's value, made on its first arrival and shared by every worker
   * here that holds it (zero-copy for all of them: `reader` reads its memory, which does not
   * spill meanwhile). With no room for it, the worker is given the reason instead, and nothing
   * is kept: its get or its task fails with ObjectStoreFullError, the node goes on, and a later
   * arrival tries again.
   */
  private copy(id: string, value: ObjectValue, reader: string | undefined, failed?: Map<string, ErrorInfo>): ObjectValue {
    const have = this.copies.deliver(id, reader);
    if (have || !value.ok) return have ?? value;
    const error = failed?.get(id);
    if (error) return { ok: false, error };
    if (value.value.atNode || value.value.away) return { ok: false, error: { code: "SYSTEM_ERROR", name: "RaySystemError", message: `node ${this.nodeId} was told it has object ${id}, which it does not` } };
    let stored: ObjectValue;
    try {
      stored = { ok: true, value: slicesOf(value.value, this.arena, (size) => this.allocate(size), this.landing) };
    } catch (err) {
      if (!(err instanceof ObjectStoreFullError)) throw err;
      return { ok: false, error: toErrorInfo(err) };
    }
    this.copies.seal(id, stored);
    this.keepForHead(id);
    if (reader !== undefined) this.copies.noteReader(id, reader, stored);
    return stored;
  }

  /**
   * Keeps a large value a worker here made as object `id`, until the head says "free"; returns
   * the value that leaves instead, which says where its bodies are. Undefined: not kept (small,
   * or a value of that id is here already, as when a task ran here twice).
   */
  private keep(id: string, value: SerializedValue): SerializedValue | undefined {
    if (!value.slices || !this.server || this.copies.isReady(id)) return undefined;
    this.copies.hold([id], MADE_HERE);
    this.copies.seal(id, { ok: true, value });
    const { slices, ...rest } = value;
    return { ...rest, away: { node: this.nodeId, id, sizes: slices.map((s) => s.size) } };
  }

  /**
   * A put of worker `w`, kept here: the worker reads it in this memory while it holds a ref to
   * it. Returns the value that leaves: where it is, or (on a node that serves nothing) its bytes,
   * the copy here then being one the head may drop.
   */
  private keepPut(w: PooledWorker, id: string, value: SerializedValue): SerializedValue {
    if (!value.slices) return value;
    this.copies.addRef(id, w.id);
    const away = this.keep(id, value);
    if (!away) {
      this.keepForHead(id);
      this.copies.seal(id, { ok: true, value });
    }
    if (w.readsArena) this.copies.noteReader(id, w.id, { ok: true, value });
    return away ?? value;
  }

  /** Kept for the head, which leaves out the bytes of what the node has: freed when it says so. */
  private keepForHead(id: string): void {
    this.copies.hold([id], FOR_HEAD);
    this.forHead.add(id);
  }

  private letGo(id: string): void {
    this.forHead.delete(id);
    this.copies.release([id], FOR_HEAD);
  }

  /** Ends a hold taken for a copy that could not be made, and forgets the copy if nothing else waits for it. */
  private unhold(id: string, release: () => void): void {
    release();
    this.copies.forget(id);
  }

  private fromWorker(w: PooledWorker, msg: ToRaylet): void {
    if (msg.t === "add-ref") for (const id of msg.ids) if (this.copies.has(id)) this.copies.addRef(id, w.id);
    if (msg.t === "remove-ref") for (const id of msg.ids) this.copies.removeRef(id, w.id);
    if (msg.t === "unview") for (const id of msg.ids) this.copies.unview(id, w.id);
    if (msg.t === "task-done") this.taskEnded(w.id, msg.taskId);
    // A worker asked every thread to release what it no longer uses (the head relays that to the
    // drivers too) and waits for room here.
    if (msg.t === "collect-garbage") this.copies.wantRoom(msg.size);
    else if (msg.t === "remove-ref" || msg.t === "unview") this.copies.makeRoom();
    // What stays here leaves as where it is; anything else large leaves as views of this node's
    // memory, which stays as it is until written, and is not needed after.
    const leaving: SerializedValue[] = [];
    const kept = (id: string, v: SerializedValue) => this.keep(id, v) ?? (leaving.push(v), v);
    let out: ToRaylet = msg;
    if (msg.t === "put") out = { ...msg, value: this.keepPut(w, msg.id, msg.value) };
    else if (msg.t === "task-done") {
      const first = this.streaming.delete(msg.taskId) ? 0 : 1;
      out = { ...msg, results: msg.results.map((r, i) => (r.ok ? { ok: true, value: kept(objectIdOf(msg.taskId, i + first), r.value) } : r)) };
    } else if (msg.t === "stream-item" && msg.value.ok) out = { ...msg, value: { ok: true, value: kept(objectIdOf(msg.taskId, msg.index), msg.value.value) } };
    const pinned: number[] = [];
    out = mapValues(out, (v) => viewsOf(v, this.arena, pinned));
    for (const v of leaving) releaseSlices(this.arena, v);
    const head = this.head;
    head?.send({ t: "from-worker", workerId: w.id, msg: out });
    if (pinned.length) (head ? head.onSent(() => unpinAll(this.arena, pinned)) : unpinAll(this.arena, pinned));
  }

  private taskEnded(workerId: string, taskId: string): void {
    this.copies.release(this.taskCopies.get(taskId) ?? [], taskId);
    this.taskCopies.delete(taskId);
    this.tasksOf.get(workerId)?.delete(taskId);
  }

  private workerExited(w: PooledWorker): void {
    for (const taskId of this.tasksOf.get(w.id) ?? []) {
      this.taskEnded(w.id, taskId);
      this.streaming.delete(taskId);
    }
    this.tasksOf.delete(w.id);
    this.copies.releaseWorker(w.id);
    this.byId.delete(w.id);
    this.started.delete(w.id);
    const exit = w.exit!;
    this.head?.send({ t: "worker-exit", workerId: w.id, code: exit.code, why: exit.oom ? "ran out of memory" : exit.error?.message });
  }

  /** Room for `size` bytes in this node's arena, spilling what nobody here reads if it takes that. */
  private allocate(size: number): number {
    let offset = this.arena.allocate(size);
    if (offset < 0 && this.copies.spill(size)) offset = this.arena.allocate(size);
    if (offset >= 0) return offset;
    throw new ObjectStoreFullError(`the object store of node ${this.nodeId} is full: ${size} bytes needed, ${this.arena.capacity - this.arena.used()} free`);
  }
}

/** The worker, if it reads values in this node's arena itself (a thread; a process is sent copies). */
const reader = (w: PooledWorker) => (w.readsArena ? w.id : undefined);

/** The hold a worker node keeps on each copy until the head says it no longer counts on it (see "unused"). */
const FOR_HEAD = "head";
/** The hold on what the node's workers made, until the head says the object is gone everywhere ("free"). */
const MADE_HERE = "made";
