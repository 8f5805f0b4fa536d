/**
 * The raylet: the node's hub. It owns the node's resources, object table, worker pool, task
 * and actor managers, and answers the messages of every core worker on the node (the driver
 * through an in-process channel, workers through their threads' ports, drivers and worker
 * processes of other processes through sockets). On a head, it also places work on the worker
 * nodes that joined, whose workers it sees as its own (see node/node-link.ts).
 */
import os from "node:os";
import { forceCancelRefused, ObjectStoreFullError, toErrorInfo, type ErrorInfo } from "../common/errors.js";
import { taskIdOfObject } from "../common/ids.js";
import type { Gcs, PlacementGroupEntry } from "../gcs/gcs.js";
import { Recovery, restartOf } from "./recovery.js";
import { refArgs } from "./dependencies.js";
import { afterFinalizers } from "../common/gc-assist.js";
import { keepingProcessAlive } from "../common/keep-alive.js";
import { ROOM_WAIT_MS, type SharedArena } from "../object-store/shared-arena.js";
import type { ObjectRow, ObjectTable, ObjectValue, Waiter } from "../object-store/object-table.js";
import type { Channel } from "../rpc/channel.js";
import { sendId, sendObject, type FromRaylet, type TaskSpec, type ToRaylet } from "../rpc/protocol.js";
import { ActorManager } from "./actor-manager.js";
import { BoundaryChannel } from "./boundary-channel.js";
import { FunctionTable } from "./function-table.js";
import { MemoryMonitor } from "./memory-monitor.js";
import { PlacementGroups, type PlacementStrategy } from "./placement-groups.js";
import { ResourceScheduler } from "./resource-scheduler.js";
import { add, ResourcePool } from "./resources.js";
import { adoptReturns, discardAll, sealReturns, TaskManager } from "./task-manager.js";
import { WorkerPool, type JobConfig, type PooledWorker, type RemoteNodeLink, type WorkerPoolOptions } from "./worker-pool.js";
import type { Landing } from "../object-store/landing.js";
import { NodeChoice } from "./node-choice.js";
import { ObjectPulls, type PeerSettings } from "../object-store/object-pulls.js";
import { RemoteObjects } from "./remote-objects.js";
import { TaskEvents } from "./task-events.js";
import { Histogram, LATENCY_BOUNDS } from "../metrics/histogram.js";
import { UsageSampler, type NodeUsage } from "../metrics/usage.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";

/** A node's resources, workers and store, as the metrics report them. */
export interface NodeStats {
  nodeId: string;
  total: Record<string, number>;
  available: Record<string, number>;
  workers: number;
  /** Unknown for a worker node that has not said yet. */
  store?: { used: number; capacity: number };
  usage?: NodeUsage;
}

export interface RayletOptions {
  nodeId: string;
  address: string;
  gcs: Gcs;
  table: ObjectTable;
  arena: SharedArena;
  /** Where values from other processes land in the arena as they arrive (see Landing). */
  landing: Landing;
  /** A head's: how it proves itself to the worker nodes it pulls objects from. */
  peers?: PeerSettings;
  resources: ResourcePool;
  /** The node's own job: an embedded cluster's driver and its workers run it. */
  defaultJob: JobConfig;
  workerPool: Omit<WorkerPoolOptions, "onMessage" | "onExit" | "job" | "boundary" | "log" | "remote">;
  log: (message: string) => void;
}

/** A core worker connected to this raylet. */
interface Client {
  /** Its worker id: what the object table records its holds under. */
  id: string;
  channel: Channel<FromRaylet, ToRaylet>;
  send(msg: FromRaylet): void;
  /** Sends an object's value once sealed: one function for all of the client's subscriptions. */
  deliver: Waiter;
  /**
   * Tells the owner that a task's return is sealed, unasked: its value when small; when it has
   * memory in the arena, only that it is ready (the owner asks for it when it wants it, so that
   * until then it reads none of that memory, which may spill).
   */
  notify: Waiter;
  worker?: PooledWorker;
  /** The job it runs code of, when not the node's own: stamped on the tasks it submits. */
  jobId?: string;
}

/**
 * `readsArena`: the client reads the values it is sent in the arena itself (it is not sent
 * copies). `here`: values whose bodies are on another node are pulled here before the client is
 * sent them (a client of this node; a worker of a worker node pulls them itself).
 */
function makeClient(table: ObjectTable, id: string, channel: Channel<FromRaylet, ToRaylet>, readsArena: boolean, here: ((send: Waiter) => Waiter) | undefined, worker?: PooledWorker): Client {
  const send: Waiter = readsArena
    ? (value, oid) => {
        table.noteReader(oid, id, value);
        sendObject(channel, oid, value);
      }
    : (value, oid) => sendObject(channel, oid, value);
  const deliver = here ? here(send) : send;
  const large = (v: ObjectValue) => v.ok && (v.value.slices || v.value.away);
  const notify: Waiter = (value, oid) => (large(value) ? sendId(channel, "sealed", oid) : deliver(value, oid));
  return { id, channel, send: (m) => channel.send(m), deliver, notify, worker, jobId: worker?.jobId };
}

type RequestHandler = (...args: any[]) => unknown;

const CORES = os.availableParallelism();
/** How long the driver watches for results before it goes back to its event loop. */
const WATCH_MS = 0.5;

export class Raylet {
  readonly workers: WorkerPool;
  readonly tasks: TaskManager;
  readonly actors: ActorManager;
  readonly placementGroups: PlacementGroups;
  readonly scheduler: ResourceScheduler;
  readonly memoryMonitor: MemoryMonitor;
  private readonly functions = new FunctionTable();
  private readonly clients = new Map<PooledWorker, Client>();
  /** Every connected core worker by worker id: owners are sent their tasks' returns. */
  private readonly clientsById = new Map<string, Client>();
  private readonly requests: Record<string, RequestHandler>;
  private driver?: Client;
  private lastCollectAt = { top: 0, time: 0 };
  /** Bytes of task returns kept on worker nodes so far (see collectOnGrowth). */
  private grownAway = 0;
  /** Collections asked for with an acknowledgement, by ack number: the workers still to answer. */
  private readonly collections = new Map<number, { left: Set<PooledWorker>; done(): void }>();
  private nextAck = 1;
  private watching = false;
  private closed = false;
  /** Jobs of drivers in other processes, by id, and their drivers. */
  private readonly jobs = new Map<string, JobConfig>();
  private readonly jobDrivers = new Map<string, Client>();
  /** Worker nodes this raylet places work on, while they are in the cluster. */
  private readonly remoteNodes = new Map<string, { pool: ResourcePool; link: RemoteNodeLink }>();
  private readonly choice: NodeChoice;
  /** What became of the tasks placed here, for the state API and the metrics. */
  readonly events = new TaskEvents();
  /** Objects whose bodies are on worker nodes (see remote-objects.ts). */
  private readonly remote: RemoteObjects;
  private readonly pulls?: ObjectPulls;
  private readonly here = (send: Waiter): Waiter => this.remote.here(send);
  /** The in-process driver's collection, when it has one (see connectDriver). */
  private collectDriver?: () => void;

  constructor(private readonly o: RayletOptions) {
    let spilling = false;
    this.scheduler = new ResourceScheduler(o.log, () => {
      if (spilling || !this.remoteNodes.size) return;
      spilling = true;
      try {
        this.tasks.spillback(this.pools());
      } finally {
        spilling = false;
      }
    });
    this.workers = new WorkerPool({
      ...o.workerPool,
      job: (jobId) => (jobId === undefined ? o.defaultJob : (this.jobs.get(jobId) ?? o.defaultJob)),
      boundary: (channel, workerId) => this.boundary(channel, workerId),
      remote: (nodeId) => this.remoteNodes.get(nodeId)?.link,
      onLog: (jobId, text, stderr) => this.forwardLog(jobId, text, stderr),
      log: o.log,
      onMessage: (w, msg) => this.handle(this.clientOf(w), msg),
      onExit: (w) => this.onWorkerExit(w),
    });
    if (o.peers) {
      this.pulls = new ObjectPulls({
        ...o.peers, landing: o.landing, allocate: (size) => this.allocate(size), budgetBytes: Math.max(64 * 2 ** 20, o.arena.capacity / 4),
      });
    }
    this.remote = new RemoteObjects({
      table: o.table,
      pulls: this.pulls,
      address: (nodeId) => this.remoteNodes.get(nodeId)?.link.objectAddress,
      free: (away) => this.remoteNodes.get(away.node)?.link.free(away.id),
      reconstruct: (lineage) => this.tasks.reconstruct(lineage),
    });
    const execute = (w: PooledWorker, spec: TaskSpec, functions?: FunctionDescriptor[]) => {
      this.events.running(spec.taskId, w.nodeId ?? o.nodeId, w.id);
      this.remote.execute(w, spec, functions);
    };
    const ended = (spec: TaskSpec, results: ObjectValue[]) => this.events.ended(spec.taskId, results);
    this.placementGroups = new PlacementGroups(() => this.pools(), this.scheduler, o.log);
    this.choice = new NodeChoice(o.resources, o.nodeId, () => this.pools(), (spec) => this.argBytesOnNodes(spec));
    const poolFor = (spec: TaskSpec) => this.poolFor(spec);
    const ownerOf = (spec: TaskSpec) => this.clientsById.get(spec.ownerId)?.notify;
    this.tasks = new TaskManager({
      table: o.table, scheduler: this.scheduler, workers: this.workers, functions: this.functions, poolFor, ownerOf, cancelGraceMs: 1000, execute,
      submitted: (spec) => this.events.submitted(spec),
      queued: (spec) => this.events.queued(spec.taskId),
      finished: (spec, attempts, results) => {
        this.remote.finished(spec, attempts, results);
        ended(spec, results);
      },
    });
    this.actors = new ActorManager({
      table: o.table, scheduler: this.scheduler, workers: this.workers, functions: this.functions, directory: o.gcs.actors, poolFor, ownerOf,
      restartOf: (spec) => restartOf(spec, this.functions, this.jobs), execute, ended,
    });
    this.recovery = new Recovery({
      actors: this.actors, functions: this.functions, jobs: this.jobs, workers: this.workers, placementGroups: this.placementGroups,
      nodeJobId: o.defaultJob.jobId, nodePool: (nodeId) => this.remoteNodes.get(nodeId)?.pool,
    });
    this.memoryMonitor = new MemoryMonitor({
      threshold: 0.95, intervalMs: 250, stopNewestTask: () => this.tasks.stopNewest(), log: o.log,
    });
    this.memoryMonitor.start();
    this.requests = {
      getActor: (name: string, namespace: string) => {
        const e = o.gcs.actors.lookup(namespace, name);
        if (!e || e.state === "DEAD") throw new RangeError(`no actor named '${name}' in namespace '${namespace}'`);
        return e.data;
      },
      nodes: () => o.gcs.nodes(),
      clusterResources: () => this.resourceView().total,
      availableResources: () => this.resourceView().available,
      createPlacementGroup: (id: string, bundles: Record<string, number>[], strategy: PlacementStrategy, opts: Omit<PlacementGroupEntry, "id" | "bundles" | "strategy">) => {
        this.placementGroups.create(id, bundles, strategy, opts.name);
        o.gcs.savePlacementGroup({ id, bundles, strategy, ...opts });
      },
      placementGroupReady: async (id: string) => {
        // A group a restarted head recovered exists again once recovery is over.
        if (!this.placementGroups.has(id)) await this.recovery.over();
        return this.placementGroups.ready(id);
      },
      removePlacementGroup: (id: string) => this.removePlacementGroup(id),
      getPlacementGroup: (name: string, namespace: string) => {
        const pg = o.gcs.placementGroupNamed(namespace, name);
        if (!pg) throw new RangeError(`no placement group named '${name}' in namespace '${namespace}'`);
        return pg.id;
      },
      kvGet: (key: string) => o.gcs.kvGet(key),
      kvPut: (key: string, value: unknown) => o.gcs.kvPut(key, value),
      memoryStats: () => this.memoryStats(),
      streamProduced: (taskId: string) => this.tasks.streams.produced(taskId),
      directEndpoint: async (actorId: string) => (await this.actors.directEndpoint(actorId)) ?? null,
    };
  }

  /** The cluster's resources as this raylet places work: every node's, in all and free now. */
  resourceView(): { total: Record<string, number>; available: Record<string, number> } {
    const total: Record<string, number> = {};
    const available: Record<string, number> = {};
    for (const pool of this.pools()) {
      add(total, pool.total);
      add(available, pool.available);
    }
    return { total, available: positive(available) };
  }

  /** Every live node's resources, this one's first. */
  private pools(): ResourcePool[] {
    return [this.o.resources, ...[...this.remoteNodes.values()].map((n) => n.pool)];
  }

  /** A worker node joined: work may be placed there. */
  addNode(link: RemoteNodeLink, total: Record<string, number>): void {
    this.remoteNodes.set(link.nodeId, { link, pool: new ResourcePool(total, link.nodeId) });
    this.scheduler.dispatch();
  }

  /**
   * A worker node left or died. Work waiting for its resources is placed again elsewhere; its
   * workers' exits (which its link reports) retry or fail what ran there, as for a crashed thread.
   */
  removeNode(nodeId: string, why: string): void {
    const n = this.remoteNodes.get(nodeId);
    if (!n) return;
    this.remoteNodes.delete(nodeId);
    n.pool.closed = true;
    this.remote.nodeGone(nodeId);
    this.scheduler.closePool(n.pool, { code: "NODE_DIED", name: "NodeDiedError", message: `node ${nodeId} ${why}` });
  }

  get nodeId(): string {
    return this.o.nodeId;
  }

  /** How full this node's store is. */
  storeUse(): { used: number; capacity: number } {
    return { used: this.o.arena.used(), capacity: this.o.arena.capacity };
  }

  /**
   * Every live node's resources, workers and store, this one's first (for the metrics and the
   * Nodes page). Samples this node's CPU use: call it for that, not for what storeUse says.
   */
  nodeStats(): NodeStats[] {
    const workers = new Map<string, number>();
    for (const w of this.workers.workers()) {
      const id = w.nodeId ?? this.o.nodeId;
      workers.set(id, (workers.get(id) ?? 0) + 1);
    }
    const stats = (nodeId: string, pool: ResourcePool, store?: { used: number; capacity: number }, usage?: NodeUsage): NodeStats => ({
      nodeId, total: pool.total, available: pool.available, workers: workers.get(nodeId) ?? 0, store, usage,
    });
    return [
      stats(this.o.nodeId, this.o.resources, this.storeUse(), this.usage.sample(this.workers.sampled())),
      ...[...this.remoteNodes].map(([id, n]) => stats(id, n.pool, n.link.store, n.link.usage)),
    ];
  }

  /** What this node and its workers use (CPU since the last sample, memory). */
  private readonly usage = new UsageSampler();

  /** How long this node took to answer requests (`request` messages), by method. */
  readonly requestLatency = new Map<string, Histogram>();

  /** The objects of this node's table, as the state API lists them. */
  objects(): ObjectRow[] {
    return this.o.table.describe();
  }

  /** A restarted head taking back what its storage kept (see recovery.ts). */
  readonly recovery: Recovery;

  private removePlacementGroup(id: string): void {
    this.placementGroups.remove(id);
    this.o.gcs.removePlacementGroup(id);
  }

  /**
   * Connects the in-process driver (an embedded cluster's). `collect`: collects its garbage and
   * hands its releases to this raylet now (it runs in this thread, so making room can wait for it).
   */
  connectDriver(channel: Channel<FromRaylet, ToRaylet>, workerId: string, collect?: () => void): void {
    this.collectDriver = collect;
    const client = makeClient(this.o.table, workerId, channel, true, this.here);
    this.driver = client;
    this.clientsById.set(workerId, client);
    channel.onMessage((m) => this.handle(client, m));
  }

  /**
   * Connects the driver of `job` from another process; its values cross this node's boundary
   * (see BoundaryChannel). Returns what to call when it is gone: its job then ends here (its
   * holds, tasks, and actors but the detached ones, and its idle workers), and the job's outcome:
   * SUCCEEDED when the driver said goodbye before it went, FAILED when it vanished.
   */
  connectRemoteDriver(channel: Channel<FromRaylet, ToRaylet>, workerId: string, job: JobConfig): () => "SUCCEEDED" | "FAILED" {
    const client = makeClient(this.o.table, workerId, this.boundary(channel, workerId), false, this.here);
    client.jobId = job.jobId;
    this.jobs.set(job.jobId, job);
    this.jobDrivers.set(job.jobId, client);
    this.clientsById.set(workerId, client);
    let goodbye = false;
    client.channel.onMessage((m) => (m.t === "goodbye" ? (goodbye = true) : this.handle(client, m)));
    return () => {
      this.jobDrivers.delete(job.jobId);
      this.clientsById.delete(workerId);
      this.o.table.releaseWorker(workerId);
      this.tasks.streams.ownerExited(workerId);
      this.tasks.endJob(job.jobId);
      this.actors.endJob(job.jobId);
      this.workers.endJob(job.jobId);
      for (const pg of this.o.gcs.placementGroups()) if (pg.jobId === job.jobId && !pg.detached) this.removePlacementGroup(pg.id);
      return goodbye ? "SUCCEEDED" : "FAILED";
    };
  }

  /** Where a working directory of a job's driver is on this node: its uploaded copy, if it was uploaded. */
  private localDir(jobId: string | undefined, dir: string): string {
    const job = jobId === undefined ? undefined : this.jobs.get(jobId);
    if (!job) return dir;
    if (job.uploaded?.from === dir) return job.workingDir!;
    for (const [local, d] of Object.entries(job.dirs ?? {})) if (d.from === dir) return local;
    // A folder another job's driver uploaded, named by an actor of this job that creates actors
    // on that driver's behalf (a detached one outliving its own job, as tsray Serve's controller
    // creates the replicas a later driver deploys): this job takes the copy on, so its workers
    // run there and worker nodes get the folder with the job, as with its own uploads.
    const copy = this.uploadedCopy(dir);
    if (copy === undefined) return dir;
    (job.dirs ??= {})[copy.local] = { from: dir, archive: copy.archive };
    return copy.local;
  }

  /** The latest uploaded copy of a driver's folder, of any job. */
  private uploadedCopy(dir: string): { local: string; archive?: Uint8Array } | undefined {
    let found: { local: string; archive?: Uint8Array } | undefined;
    for (const job of this.jobs.values()) {
      if (job.uploaded?.from === dir && job.workingDir !== undefined) found = { local: job.workingDir, archive: job.uploaded.archive };
      for (const [local, d] of Object.entries(job.dirs ?? {})) if (d.from === dir) found = { local, archive: d.archive };
    }
    return found;
  }

  /** A job of a driver in another process, to change as it sets up (an uploaded working directory). */
  job(jobId: string): JobConfig | undefined {
    return this.jobs.get(jobId);
  }

  /** Answers requests named `method` too (the node's own, beyond the raylet's). */
  handleRequest(method: string, handler: RequestHandler): void {
    this.requests[method] = handler;
  }

  /** What a job's workers printed (here or on a worker node), for its driver in another process. */
  forwardLog(jobId: string, text: string, stderr: boolean): void {
    this.jobDrivers.get(jobId)?.send({ t: "log", text, stderr });
    // And into the node's own log, where the dashboard's Logs page reads it.
    (stderr ? process.stderr : process.stdout).write(text);
  }

  /** `channel` to a core worker of another process, whose values cross this node's boundary. */
  boundary(channel: Channel<FromRaylet, ToRaylet>, workerId: string): BoundaryChannel {
    const { table, arena } = this.o;
    return new BoundaryChannel(channel, {
      arena,
      landing: this.o.landing,
      allocate: (size) => this.allocate(size),
      putFailed: (id, err) => {
        table.expect(id, workerId);
        table.seal(id, { ok: false, error: toErrorInfo(err) });
      },
    });
  }

  /** Room in the arena for a body from another process, after the workers released what they could. */
  private allocate(size: number): number {
    let offset = this.o.arena.allocate(size);
    if (offset < 0 && this.reclaim(size)) offset = this.o.arena.allocate(size);
    if (offset >= 0) return offset;
    throw new ObjectStoreFullError(`object store is full: ${size} bytes needed, ${this.o.arena.capacity - this.o.arena.used()} of ${this.o.arena.capacity} free`);
  }

  private clientOf(w: PooledWorker): Client {
    let c = this.clients.get(w);
    if (!c) {
      this.clients.set(w, (c = makeClient(this.o.table, w.id, w.channel, w.readsArena, w.nodeId === undefined ? this.here : undefined, w)));
      this.clientsById.set(w.id, c);
    }
    return c;
  }

  private handle(client: Client, msg: ToRaylet): void {
    const { table } = this.o;
    switch (msg.t) {
      case "register-function":
        return this.functions.register(msg.desc);
      case "submit":
        if (client.jobId !== undefined) msg.spec.jobId ??= client.jobId;
        if (msg.spec.workingDir !== undefined) msg.spec.workingDir = this.localDir(msg.spec.jobId, msg.spec.workingDir);
        this.events.submitted(msg.spec);
        if (msg.spec.actor) return this.actors.create(msg.spec);
        if (msg.spec.actorId) return this.actors.call(msg.spec);
        return this.tasks.submit(msg.spec);
      case "put":
        table.expect(msg.id, client.id);
        table.seal(msg.id, { ok: true, value: msg.value });
        if (msg.value.slices) this.collectOnGrowth(client === this.driver);
        return;
      case "add-ref":
        for (const id of msg.ids) table.addRef(id, client.id);
        return;
      case "remove-ref":
        for (const id of msg.ids) table.removeRef(id, client.id);
        return table.makeRoom();
      case "unview":
        for (const id of msg.ids) table.unview(id, client.id);
        return table.makeRoom();
      case "stream-consumed":
        return this.tasks.streams.consumed(msg.taskId, msg.index);
      case "stream-closed":
        return this.tasks.streams.closed(msg.taskId);
      case "collected":
        return this.collected(msg.ack, client.worker);
      case "subscribe":
        for (const id of msg.ids) table.whenReady(id, msg.ready ? client.notify : client.deliver);
        return;
      case "cancel": {
        const taskId = taskIdOfObject(msg.objectId);
        if (this.tasks.has(taskId)) this.tasks.cancel(taskId, msg.force, msg.recursive);
        else if (msg.force && this.actors.isActorTask(taskId)) this.o.log(forceCancelRefused(taskId));
        else this.actors.cancel(taskId);
        return;
      }
      case "collect-garbage":
        this.collectEverywhere();
        this.collectDriver?.();
        // The worker may be on a worker node whose store holds what these drivers' refs keep.
        for (const d of this.jobDrivers.values()) d.send({ t: "collect" });
        // What the collections free comes later; objects nobody reads go to disk now if that is
        // what it takes, and those the collections let go of as they do (see "unview"). A worker
        // node spills for its own workers.
        if (client.worker?.nodeId === undefined) table.wantRoom(msg.size);
        return;
      case "kill-actor":
        return this.actors.kill(msg.actorId, msg.noRestart);
      case "own":
        for (const [id, value] of msg.entries) {
          if (!table.has(id)) {
            // A late value nobody holds any more (the work it was passed to let it go) is dropped.
            if (msg.late) {
              table.discard(value!);
              continue;
            }
            table.expect(id, client.id);
          }
          if (value) table.seal(id, value);
        }
        return;
      case "direct-ran":
        if (client.worker) for (const call of msg.calls) this.events.ranDirect(call, { nodeId: this.o.nodeId, workerId: client.worker.id, jobId: client.jobId });
        return;
      case "direct-lost":
        return this.actors.directLost(msg.actorId, msg.workerId, msg.specs);
      case "direct-done": {
        const owner = this.clientsById.get(msg.ownerId);
        // Its caller is gone (a thread that exited): nobody will ever hold these returns.
        if (!client.worker || !owner) return discardAll(table, msg.results);
        adoptReturns(table, msg, owner.notify);
        return sealReturns(table, msg, msg.results);
      }
      case "request":
        return void this.answer(client, msg.reqId, msg.method, msg.args);
      case "goodbye":
        return;
      case "task-done":
        if (!client.worker) return discardAll(table, msg.results);
        if (msg.results.some((r) => r.ok && (r.value.slices || r.value.away))) this.collectOnGrowth(false, msg.results);
        if (client.worker.dedicated) return this.actors.onDone(client.worker, msg.taskId, msg.results);
        return this.tasks.onDone(client.worker, msg.taskId, msg.results, msg.ms);
      case "requeue":
        if (client.worker) this.tasks.onRequeue(client.worker, msg.taskIds);
        return;
      case "stream-item":
        if (client.worker) this.tasks.onStreamItem(client.worker, msg.taskId, msg.index, msg.value);
        else table.discard(msg.value);
        return;
      case "blocked":
      case "unblocked":
        if (client.worker && !client.worker.dedicated) this.tasks.onBlocked(client.worker, msg.taskId, msg.t === "blocked");
        return;
    }
  }

  /**
   * The arena has no room for `size` bytes and the driver's own garbage is collected: ask the
   * workers to release theirs and wait, synchronously (a put is synchronous), handling their
   * messages as they come, until there is room or `waitMs` pass.
   */
  reclaim(size: number, waitMs = ROOM_WAIT_MS): boolean {
    this.collectEverywhere();
    this.collectDriver?.();
    const deadline = performance.now() + waitMs;
    for (;;) {
      const seen = this.workers.replyRings();
      this.workers.drain();
      if (this.o.arena.fits(size)) return true;
      // Objects nobody reads (any more: the workers' releases come in meanwhile) go to disk.
      if (this.o.table.spill(size) && this.o.arena.fits(size)) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      this.workers.sleepForReplies(seen, left);
    }
  }

  /**
   * Every thread collects garbage and releases what it no longer holds; resolves once each has
   * answered (or exited). Then the store holds only what something still refers to.
   */
  async collectAll(): Promise<void> {
    this.driver?.send({ t: "collect" });
    const driverDone = new Promise<void>((resolve) => afterFinalizers(resolve));
    const left = new Set(this.workers.workers());
    if (!left.size) return driverDone;
    const ack = this.nextAck++;
    const workersDone = new Promise<void>((resolve) => {
      this.collections.set(ack, { left, done: resolve });
      for (const w of left) {
        w.channel.send({ t: "collect", ack });
        w.channel.flushNow();
      }
    });
    await keepingProcessAlive(Promise.all([driverDone, workersDone]));
  }

  /** Bytes of the store in use and objects in the table, once every thread has collected (for tests and `tsray memory`). */
  async memoryStats(): Promise<{ usedBytes: number; capacityBytes: number; objects: number; objectBytes: number }> {
    await this.collectAll();
    const { objects, bytes } = this.o.table.stats();
    return { usedBytes: this.o.arena.used(), capacityBytes: this.o.arena.capacity, objects, objectBytes: bytes };
  }

  private collected(ack: number, w: PooledWorker | undefined): void {
    const c = this.collections.get(ack);
    if (!c || !w) return;
    c.left.delete(w);
    if (c.left.size) return;
    this.collections.delete(ack);
    c.done();
  }

  /**
   * The driver awaits results (see WorkerPool.watchReplies): after this turn of its event loop,
   * watch for them for a moment instead of sleeping, and again while they keep coming and the
   * driver still waits. Only on a spare core: the watching must not slow the threads it waits for.
   */
  awaitResults(stillWaiting: () => boolean): void {
    if (this.watching || this.closed) return;
    this.watching = true;
    setImmediate(() => {
      this.watching = false;
      if (this.closed || !stillWaiting() || this.workers.busyThreads() >= CORES) return;
      if (this.workers.watchReplies(WATCH_MS)) this.awaitResults(stillWaiting);
    });
  }

  /**
   * Shared memory keeps growing into fresh pages: have every thread collect garbage, so the
   * objects whose refs and views are dead get freed and later puts reuse warm memory (faulting
   * in fresh pages costs several times the copy). At most every 100 ms, per 64 MB of growth.
   */
  private collectOnGrowth(putByDriver = false, results?: ObjectValue[]): void {
    // What worker nodes keep grows their stores: counted as growth here too.
    for (const r of results ?? []) if (r.ok && r.value.away) this.grownAway += r.value.away.sizes.reduce((a, b) => a + b, 0);
    const top = this.o.arena.highWater() + this.grownAway;
    if (top - this.lastCollectAt.top < 64 * 2 ** 20 || Date.now() - this.lastCollectAt.time < 100) return;
    this.lastCollectAt = { top, time: Date.now() };
    // After the rest of this batch: a task submitted with the new object reaches its worker
    // before the request, and runs before the worker collects (workers collect when idle).
    // Before its own large puts the driver has decided whether a collection can help
    // (CoreWorker.reuseWarmMemory): not asked again after them, its program would wait for it.
    queueMicrotask(() => {
      this.collectEverywhere(false);
      if (!putByDriver) this.driver?.send({ t: "collect" });
      for (const d of this.jobDrivers.values()) d.send({ t: "collect" });
    });
  }

  /** `now`: the request goes at once, not with the next batch (a put waiting for room). */
  private collectEverywhere(now = true): void {
    for (const w of this.workers.workers()) {
      w.channel.send({ t: "collect" });
      if (now) w.channel.flushNow();
    }
  }

  private async answer(client: Client, reqId: number, method: string, args: unknown[]): Promise<void> {
    const handler = this.requests[method];
    const started = performance.now();
    try {
      if (!handler) throw new TypeError(`unknown request '${method}'`);
      const value = await handler(...args);
      client.send({ t: "reply", reqId, ok: true, value });
    } catch (err) {
      client.send({ t: "reply", reqId, ok: false, error: toErrorInfo(err) });
    }
    if (!handler) return;
    let h = this.requestLatency.get(method);
    if (!h) this.requestLatency.set(method, (h = new Histogram(LATENCY_BOUNDS)));
    h.observe((performance.now() - started) / 1000);
  }

  /** A worker thread ended (its last messages handled, its unreported memory freed by the pool). */
  private onWorkerExit(w: PooledWorker): void {
    this.clients.delete(w);
    this.clientsById.delete(w.id);
    this.o.table.releaseWorker(w.id);
    this.tasks.streams.ownerExited(w.id);
    for (const ack of [...this.collections.keys()]) this.collected(ack, w);
    if (w.dedicated) this.actors.onWorkerExit(w);
    else this.tasks.onWorkerExit(w);
  }

  /** The bytes of the spec's ref arguments in the store that each worker node has a copy of. */
  private argBytesOnNodes(spec: TaskSpec): Map<string, number> {
    const out = new Map<string, number>();
    for (const id of refArgs(spec)) {
      const size = this.o.table.sizeOf(id);
      if (!size) continue;
      const v = this.o.table.get(id);
      const madeOn = v?.ok ? v.value.away?.node : undefined;
      for (const [nodeId, { link }] of this.remoteNodes) if (nodeId === madeOn || link.hasCopy(id)) out.set(nodeId, (out.get(nodeId) ?? 0) + size);
    }
    return out;
  }

  private poolFor(spec: TaskSpec): ResourcePool | ErrorInfo {
    const s = spec.scheduling;
    if (!s && !this.remoteNodes.size) return this.o.resources;
    if (s?.type === "placement_group") return this.placementGroups.poolFor(s.placementGroupId, s.bundleIndex, spec.resources);
    return this.choice.choose(spec);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.memoryMonitor.stop();
    this.pulls?.close();
    this.tasks.clear();
    for (const c of this.collections.values()) c.done();
    this.collections.clear();
    await this.workers.close();
  }
}

function positive(r: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(r)) if (v > 0) out[k] = v;
  return out;
}
