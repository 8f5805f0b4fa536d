/**
 * The node's workers: threads of its process by default, worker processes of their own
 * (isolation "process", see worker-processes.ts), and on a head the workers of the worker nodes
 * that joined (see node/node-link.ts). Task workers are reused from an idle list per
 * environment (job, env vars, heap limit, isolation, node); actors get a worker of their own.
 * Threads are unref'd: they never keep the driver process alive by themselves.
 *
 * When a thread ends, however it ends, its exit is handled in this order: the messages it sent
 * before it stopped are handled (a task it finished is finished), then the arena memory it
 * allocated and never reported is freed, then the raylet releases what it held and retries or
 * fails its work.
 */
import type { NodeUsage, SampledWorker } from "../metrics/usage.js";
import { MessageChannel, Worker, type MessagePort, type WorkerOptions } from "node:worker_threads";
import { fileURLToPath } from "node:url";
import { randomHex } from "../common/ids.js";
import { PortChannel, type Channel } from "../rpc/channel.js";
import { Doorbell } from "../rpc/doorbell.js";
import { youngGenerationMb } from "./young-generation.js";
import type { DirectEndpoint, FromRaylet, TaskSpec, ToRaylet } from "../rpc/protocol.js";
import type { ArenaHandle, SharedArena } from "../object-store/shared-arena.js";
import { WorkerProcesses } from "./worker-processes.js";
import type { Landing } from "../object-store/landing.js";
import { LateChannel } from "../rpc/late-channel.js";

export interface WorkerEnv {
  env?: Record<string, string>;
  memoryBytes?: number;
  /** The job the worker runs code of; absent: the node's own (an embedded cluster's driver). */
  jobId?: string;
  /** A worker process of its own rather than a thread (isolation "process", or a working directory). */
  isolation?: "process";
  workingDir?: string;
  /** The worker node it runs on; absent: this one. */
  nodeId?: string;
}

/** A worker node this raylet places work on; its side is node/worker-node.ts. */
export interface RemoteNodeLink {
  readonly nodeId: string;
  /** Starts a worker there. Its channel works at once; values cross as bytes (see BoundaryChannel). */
  startWorker(workerId: string, env: WorkerEnv, job: JobConfig): LaunchedWorker;
  /** A worker running there already (its actors outlived the head before this one). */
  adoptWorker(workerId: string): LaunchedWorker;
  /** Whether the node has a copy of the object (it was sent its bytes, or made it). */
  hasCopy(id: string): boolean;
  /** Where the node serves the objects it keeps. */
  readonly objectAddress: { host: string; port: number };
  /** An object the node keeps is gone everywhere: its copy there goes. */
  free(id: string): void;
  /** How full the node's store was when it last said, and what it and its workers used. */
  readonly store?: { used: number; capacity: number };
  readonly usage?: NodeUsage;
}

/** A worker being started outside this process (a worker process here, a worker on another node). */
export interface LaunchedWorker {
  channel: Channel<FromRaylet, ToRaylet>;
  pid(): number | undefined;
  kill(): void;
  /** Called once, when it has exited and everything it sent has been handled. */
  onExit(listener: (code: number, why?: string) => void): void;
  /** What it prints, when its job forwards logs (see JobConfig.forwardLogs). */
  stdout?: NodeJS.ReadableStream;
  stderr?: NodeJS.ReadableStream;
}

/** The worker a spec needs. */
export function workerEnvOf(spec: Pick<TaskSpec, "env" | "memoryBytes" | "jobId" | "isolation" | "workingDir">): WorkerEnv {
  return { env: spec.env, memoryBytes: spec.memoryBytes, jobId: spec.jobId, isolation: spec.isolation, workingDir: spec.workingDir };
}

/** The job of a standalone node (head or worker node) itself: it runs none of its own code. */
export const NODE_JOB: JobConfig = Object.freeze({ jobId: "00000000", namespace: "", tsx: false, logToDriver: true, env: {} });

/** What a job's workers start with: its identity and its driver's settings. */
export interface JobConfig {
  jobId: string;
  namespace: string;
  /** The driver runs under tsx: workers register it for TypeScript modules. */
  tsx: boolean;
  /** False: the workers drop what they print (init's logToDriver). */
  logToDriver: boolean;
  /** Job-wide environment variables (init's runtimeEnv.env). */
  env: Record<string, string>;
  /** Job-wide working directory (init's runtimeEnv.workingDir): the job's workers are processes there. */
  workingDir?: string;
  /**
   * Set when `workingDir` is an uploaded copy: the folder as the driver has it (modules named
   * there are loaded from the copy), and the packed folder, for worker nodes to unpack theirs.
   */
  uploaded?: { from: string; archive?: Uint8Array };
  /**
   * Working directories of the job's tasks and actors that its driver uploaded, by where the copy
   * is on this node: the folder as the driver has it, and the packed folder (for worker nodes).
   */
  dirs?: Record<string, { from: string; archive?: Uint8Array }>;
  /** The driver is in another process: what the workers print goes to it (see WorkerPoolOptions.onLog). */
  forwardLogs?: boolean;
}

/** Settings every worker of the node starts with (sent as workerData). */
export interface WorkerBootData {
  workerId: string;
  nodeId: string;
  jobId: string;
  namespace: string;
  arena: ArenaHandle;
  /** What marks the arena chunks this thread allocates (see SharedArena). */
  arenaTag: number;
  tsx: boolean;
  mainUrl: string;
  /** The worker's end of its channel to the raylet. */
  port: MessagePort;
  /** The worker sleeps on this bell while idle; the raylet rings it with each message. */
  doorbell: SharedArrayBuffer;
  /** The main thread's bell, which the worker rings (marking `slot`) after each message it sends. */
  replyBell: SharedArrayBuffer;
  slot: number;
  /** False: the worker drops what it prints (init's logToDriver). */
  logToDriver: boolean;
}

export interface PooledWorker {
  readonly id: string;
  readonly key: string;
  /** The job it runs code of (absent: the node's own). */
  readonly jobId?: string;
  /** The worker node it runs on (absent: this one). */
  readonly nodeId?: string;
  readonly channel: Channel<FromRaylet, ToRaylet>;
  /** Function ids this worker has been sent. */
  readonly knownFunctions: Set<string>;
  /** A thread of this process, reading objects in the arena itself (others are sent copies). */
  readonly readsArena: boolean;
  dedicated: boolean;
  /** Why it ended, once it has. */
  exit?: { code: number; oom: boolean; error?: Error; intended: boolean };
  /** A worker process's pid (isolation "process"); undefined for a thread, or before it spawned. */
  pid(): number | undefined;
  /** Where a worker process of this node takes direct calls, once it said (see core-worker/direct-calls.ts). */
  direct?: DirectEndpoint;
}

/** A worker thread of the node's process: its port can be drained, its bell watched. */
interface ThreadWorker extends PooledWorker {
  readonly kind: "thread";
  readonly thread: Worker;
  readonly channel: PortChannel<FromRaylet, ToRaylet>;
  /** The bell the worker sleeps on while idle. */
  readonly bell: Doorbell;
  /** Its id in the OS, once it said it is ready (Linux only). */
  tid?: number;
}

/** A worker outside this process: a worker process of this node, or a worker of another node. */
interface ExternalWorker extends PooledWorker {
  readonly kind: "external";
  kill(): void;
}

type Pooled = ThreadWorker | ExternalWorker;

export interface WorkerPoolOptions {
  nodeId: string;
  arena: SharedArena;
  /** Where values from worker processes land in the arena as they arrive (see Landing). */
  landing?: Landing;
  /** The job of a worker environment's `jobId` (undefined: the node's own). */
  job(jobId: string | undefined): JobConfig;
  /** A worker node's link, while it is in the cluster. */
  remote(nodeId: string): RemoteNodeLink | undefined;
  /** The raylet's end of a channel to a worker process, whose values cross the node's boundary. */
  boundary(channel: Channel<FromRaylet, ToRaylet>, workerId: string): Channel<FromRaylet, ToRaylet>;
  log(line: string): void;
  /** Output of the workers of a job with `forwardLogs`, as it comes. */
  onLog?(jobId: string, text: string, stderr: boolean): void;
  onMessage(worker: PooledWorker, msg: ToRaylet): void;
  onExit(worker: PooledWorker): void;
}

const here = import.meta.url;
const ext = here.endsWith(".ts") ? "ts" : "js";
const BOOTSTRAP = fileURLToPath(new URL("../worker/bootstrap.mjs", here));
const WORKER_MAIN = new URL(`../worker/worker-main.${ext}`, here).href;
/** Threads the main thread can tell apart when they ring its bell: more than a node runs. */
const REPLY_SLOTS = 4096;

/**
 * The process's Node options for its worker threads, without tsx's preloads: on Node 20 a
 * thread that re-runs `--import tsx` pays for loading tsx and esbuild (tens of ms each) and
 * still does not get its hooks; the bootstrap registers tsx itself when a module needs it.
 * Undefined (inherit) when there is nothing to leave out. Options Node refuses in a thread (V8
 * and process-wide ones, which inheriting skips silently) are dropped when it first says so.
 */
let workerExecArgv = withoutTsx(process.execArgv);

function newThread(options: WorkerOptions): Worker {
  for (;;) {
    try {
      return new Worker(BOOTSTRAP, { ...options, execArgv: workerExecArgv });
    } catch (err) {
      const refused = (err as { code?: string }).code === "ERR_WORKER_INVALID_EXEC_ARGV" ? /flags: (.*)$/.exec((err as Error).message)?.[1]?.split(", ") : undefined;
      const kept = refused && workerExecArgv?.filter((arg) => !refused.includes(arg));
      if (!kept || kept.length === workerExecArgv!.length) throw err;
      workerExecArgv = kept;
    }
  }
}

function withoutTsx(argv: readonly string[]): string[] | undefined {
  const out: string[] = [];
  const preload = /^--(import|require|loader|experimental-loader)(=(.*))?$/;
  const isTsx = (value: string) => /(^|[/\\])tsx([/\\]|$)/.test(value);
  for (let i = 0; i < argv.length; i++) {
    const m = preload.exec(argv[i]!);
    if (!m) {
      out.push(argv[i]!);
      continue;
    }
    const value = m[3] ?? argv[i + 1] ?? "";
    if (m[3] === undefined) i++;
    if (!isTsx(value)) out.push(`--${m[1]}=${value}`);
  }
  return out.length === argv.length ? undefined : out;
}

export class WorkerPool {
  private readonly idle = new Map<string, Pooled[]>();
  private readonly all = new Set<Pooled>();
  private closing = false;
  /** Workers ring it after posting, so the main thread can watch for their replies (see watchReplies). */
  private readonly replyBell = Doorbell.withSlots(REPLY_SLOTS);
  private readonly bySlot: (ThreadWorker | undefined)[] = [];
  private readonly freeSlots: number[] = [];
  /** Workers started ahead of demand and not ready yet, with what to tell when they are (see prestart). */
  private readonly booting = new Map<PooledWorker, () => void>();
  private readonly processes: WorkerProcesses;

  constructor(private readonly opts: WorkerPoolOptions) {
    this.processes = new WorkerProcesses(opts.nodeId, () => workerExecArgv, opts.log, opts.landing);
  }

  /** Whether work of this environment runs in a worker process (its own, or its job's working directory). */
  runsInProcess(env: WorkerEnv): boolean {
    return env.isolation === "process" || this.opts.job(env.jobId).workingDir !== undefined;
  }

  /** An idle worker for this environment, or a new one. */
  acquire(env: WorkerEnv): PooledWorker {
    const key = envKey(env);
    const list = this.idle.get(key);
    const w = list?.pop();
    if (w) return w;
    return this.start(env, key, false);
  }

  private start(env: WorkerEnv, key: string, dedicated: boolean, id = randomHex(6)): Pooled {
    if (env.nodeId === undefined && !this.runsInProcess(env)) return this.startThread(env, key, dedicated, id);
    const job = this.opts.job(env.jobId);
    let launched: LaunchedWorker;
    if (env.nodeId === undefined) {
      launched = this.processes.launch(id, job, { ...job.env, ...env.env }, env.workingDir ?? job.workingDir, env.memoryBytes);
      if (job.forwardLogs) this.forwardLogs(job.jobId, launched.stdout ?? null, launched.stderr ?? null);
    } else {
      const link = this.opts.remote(env.nodeId);
      // Its node just left: a worker that has exited already, so that its work is placed again.
      launched = link ? link.startWorker(id, env, job) : exitedAtOnce(`node ${env.nodeId} left the cluster`);
    }
    return this.startExternal(id, env, key, dedicated, launched);
  }

  /** A new worker that belongs to one actor for its whole life (`id`: one chosen by the caller). */
  startDedicated(env: WorkerEnv, id = randomHex(6)): PooledWorker {
    return this.start(env, envKey(env), true, id);
  }

  /** A worker of a worker node that is running already (see RemoteNodeLink.adoptWorker), dedicated to its actors. */
  adopt(env: WorkerEnv & { nodeId: string }, id: string): PooledWorker | undefined {
    const link = this.opts.remote(env.nodeId);
    return link && this.startExternal(id, env, envKey(env), true, link.adoptWorker(id));
  }

  release(w: PooledWorker): void {
    if (w.exit || w.dedicated || this.closing) return;
    const pooled = w as Pooled;
    const list = this.idle.get(w.key);
    if (list) list.push(pooled);
    else this.idle.set(w.key, [pooled]);
  }

  /**
   * Starts `n` task workers ahead of demand, so the first tasks do not wait for a thread to boot
   * (about 100 ms). Resolves once each is ready (or has exited: then its work will say why).
   */
  prestart(n: number, jobId?: string): Promise<void> {
    const started: Promise<void>[] = [];
    const env: WorkerEnv = { jobId };
    // Worker processes start as they are needed (a job with a working directory has only those).
    if (this.runsInProcess(env)) return Promise.resolve();
    for (let i = this.idle.get(envKey(env))?.length ?? 0; i < n; i++) {
      const w = this.startThread(env, envKey(env), false);
      started.push(new Promise<void>((resolve) => (this.booting.set(w, resolve), w.thread.once("exit", () => resolve()))));
      this.release(w);
    }
    return Promise.all(started).then(() => {});
  }

  /** The job ended: its idle task workers stop (busy ones and actors end with their work). */
  endJob(jobId: string): void {
    for (const [key, list] of this.idle) {
      if (!list.length || list[0].jobId !== jobId) continue;
      this.idle.delete(key);
      for (const w of list) this.kill(w);
    }
  }

  /** Stops a worker now (cancel with force, kill, memory monitor). Its exit is reported as intended. */
  kill(w: PooledWorker, opts: { oom?: boolean } = {}): void {
    if (w.exit) return;
    w.exit = { code: 1, oom: opts.oom ?? false, intended: !opts.oom };
    const pooled = w as Pooled;
    this.removeIdle(pooled);
    if (pooled.kind === "thread") void pooled.thread.terminate();
    else pooled.kill();
  }

  /** Handles what every worker thread has sent, now (see PortChannel.drain). */
  drain(): void {
    for (const w of this.all) if (w.kind === "thread") w.channel.drain();
  }

  workers(): Iterable<PooledWorker> {
    return this.all;
  }

  /** This node's own workers (not those of worker nodes), as the usage sampler reads them. */
  sampled(): SampledWorker[] {
    const out: SampledWorker[] = [];
    for (const w of this.all) if (w.nodeId === undefined) out.push({ id: w.id, tid: w.kind === "thread" ? w.tid : undefined, pid: () => w.pid() });
    return out;
  }

  /** Threads not asleep on their bell: running something, starting, or about to sleep. */
  busyThreads(): number {
    let n = 0;
    for (const w of this.all) if (w.kind === "thread" && !w.bell.ownerSleeps()) n++;
    return n;
  }

  /**
   * Watches, for up to `ms`, for a worker to post to the main thread, and handles what the
   * workers that rang have sent, now. The main thread is then spared a wake-up from its event
   * loop, which costs more than a short round trip to a thread on some machines.
   * True if something came.
   */
  watchReplies(ms: number): boolean {
    let came = false;
    const take = (slot: number) => {
      came = true;
      this.bySlot[slot]?.channel.drain();
    };
    const seen = this.replyBell.rings();
    this.replyBell.take(take, this.bySlot.length);
    if (!came && this.replyBell.watch(seen, ms)) this.replyBell.take(take, this.bySlot.length);
    return came;
  }

  /** The ring count of the main thread's bell now, to pass to `sleepForReplies`. */
  replyRings(): number {
    return this.replyBell.rings();
  }

  /** Blocks the main thread until a worker posts to it, or `ms` pass (a put waiting for room). */
  sleepForReplies(seen: number, ms: number): void {
    this.replyBell.sleep(seen, ms);
  }

  async close(): Promise<void> {
    this.closing = true;
    const threads = [...this.all].map((w) => {
      w.exit ??= { code: 0, oom: false, intended: true };
      w.channel.close();
      return w.kind === "thread" ? w.thread.terminate() : undefined;
    });
    this.all.clear();
    this.idle.clear();
    this.bySlot.length = 0;
    await Promise.allSettled([...threads, this.processes.close()]);
  }

  private startExternal(id: string, env: WorkerEnv, key: string, dedicated: boolean, launched: LaunchedWorker): ExternalWorker {
    const w: ExternalWorker = {
      kind: "external", id, key, dedicated, jobId: env.jobId, nodeId: env.nodeId, knownFunctions: new Set(), readsArena: false,
      channel: this.opts.boundary(launched.channel, id),
      pid: launched.pid,
      kill: launched.kill,
    };
    this.all.add(w);
    w.channel.onMessage((msg) => {
      if (msg.t !== "ready") return this.opts.onMessage(w, msg);
      if (env.nodeId === undefined) w.direct = msg.direct;
      this.isReady(w);
    });
    launched.onExit((code, why) => {
      this.all.delete(w);
      this.removeIdle(w);
      w.exit ??= { code, oom: false, intended: false, error: why ? new Error(why) : undefined };
      if (!this.closing) this.opts.onExit(w);
      w.channel.close();
    });
    return w;
  }

  private startThread(env: WorkerEnv, key: string, dedicated: boolean, id = randomHex(6)): ThreadWorker {
    // A channel of its own rather than the worker's built-in port: it can be drained synchronously.
    const { port1, port2 } = new MessageChannel();
    const doorbell = new Doorbell();
    // Its slot on the main thread's bell; past the bell's slots, -1: its replies wait for the event loop.
    const slot = this.freeSlots.pop() ?? (this.bySlot.length < REPLY_SLOTS ? this.bySlot.length : -1);
    const arenaTag = this.opts.arena.newTag();
    const job = this.opts.job(env.jobId);
    const workerData: WorkerBootData = {
      port: port2,
      doorbell: doorbell.buffer,
      replyBell: this.replyBell.buffer,
      slot,
      workerId: id,
      nodeId: this.opts.nodeId,
      jobId: job.jobId,
      namespace: job.namespace,
      arena: this.opts.arena.handle(),
      arenaTag,
      tsx: job.tsx,
      mainUrl: WORKER_MAIN,
      logToDriver: job.logToDriver,
    };
    const thread = newThread({
      workerData,
      transferList: [port2],
      env: { ...process.env, ...job.env, ...env.env },
      resourceLimits: {
        maxYoungGenerationSizeMb: youngGenerationMb(),
        ...(env.memoryBytes ? { maxOldGenerationSizeMb: Math.max(16, Math.floor(env.memoryBytes / 2 ** 20)) } : {}),
      },
      // Output goes straight to this process's stdout and stderr, prefixed by the worker itself:
      // reading it here instead would keep the worker's port referenced, and the process alive.
      // Except for a driver elsewhere, which is sent what its job's workers print.
      stdout: job.forwardLogs,
      stderr: job.forwardLogs,
    });
    if (job.forwardLogs) this.forwardLogs(job.jobId, thread.stdout, thread.stderr);
    const w: ThreadWorker = {
      kind: "thread", id, key, thread, dedicated, jobId: env.jobId,
      channel: new PortChannel<FromRaylet, ToRaylet>(port1, doorbell),
      bell: doorbell,
      knownFunctions: new Set(),
      readsArena: true,
      pid: () => undefined,
    };
    this.all.add(w);
    if (slot >= 0) this.bySlot[slot] = w;
    w.channel.onMessage((msg) => {
      if (msg.t !== "ready") return this.opts.onMessage(w, msg);
      w.tid = msg.tid;
      this.isReady(w);
    });
    let error: Error | undefined;
    thread.on("error", (err) => {
      error = err;
    });
    thread.on("exit", (code) => {
      this.all.delete(w);
      if (slot >= 0) {
        this.bySlot[slot] = undefined;
        this.freeSlots.push(slot);
      }
      this.removeIdle(w);
      const oom = (error as { code?: string } | undefined)?.code === "ERR_WORKER_OUT_OF_MEMORY";
      if (!w.exit) w.exit = { code, oom, error, intended: false };
      else if (oom) w.exit.oom = true;
      if (!this.closing) {
        // What it sent before it stopped still counts; what it allocated and never sent is freed.
        w.channel.drain();
        this.opts.arena.recover(arenaTag);
        this.opts.onExit(w);
      }
      w.channel.close();
    });
    // Last: adding a "message" listener refs a port again.
    w.channel.unref();
    thread.unref();
    return w;
  }

  private forwardLogs(jobId: string, stdout: NodeJS.ReadableStream | null, stderr: NodeJS.ReadableStream | null): void {
    stdout?.on("data", (d: Buffer) => this.opts.onLog?.(jobId, d.toString("utf8"), false));
    stderr?.on("data", (d: Buffer) => this.opts.onLog?.(jobId, d.toString("utf8"), true));
  }

  private isReady(w: PooledWorker): void {
    this.booting.get(w)?.();
    this.booting.delete(w);
  }

  private removeIdle(w: Pooled): void {
    const list = this.idle.get(w.key);
    if (!list) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
  }
}

/** What tells worker environments apart: workers of one key are interchangeable. */
export function envKey(env: WorkerEnv): string {
  if (!env.env && !env.memoryBytes && !env.isolation && env.nodeId === undefined) return env.jobId ?? "";
  return JSON.stringify([env.jobId ?? "", env.memoryBytes ?? 0, Object.entries(env.env ?? {}).sort(), env.isolation ?? "", env.workingDir ?? "", env.nodeId ?? ""]);
}

/** A worker that could not start and has exited already. */
function exitedAtOnce(why: string): LaunchedWorker {
  const channel = new LateChannel<FromRaylet, ToRaylet>();
  channel.close();
  return { channel, pid: () => undefined, kill: () => {}, onExit: (listener) => queueMicrotask(() => listener(1, why)) };
}
