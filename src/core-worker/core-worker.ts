/**
 * The core worker: one per thread that runs user code (the driver, each worker thread). It
 * submits tasks, puts and gets objects, counts this thread's references, and talks to the
 * node's raylet through one batching channel. Inside worker threads the TaskExecutor uses it
 * to run tasks; see task-executor.ts.
 */
import { fromErrorInfo, RayError, type ErrorInfo } from "../common/errors.js";
import { objectIdOf, TaskIdGenerator } from "../common/ids.js";
import { ROOM_WAIT_MS, type SharedArena } from "../object-store/shared-arena.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { Channel } from "../rpc/channel.js";
import { sendId, type FromRaylet, type TaskSpec, type ToRaylet } from "../rpc/protocol.js";
import type { ActorHandleData } from "../serialization/markers.js";
import { deserialize, serialize, type SerializeContext } from "../serialization/serializer.js";
import { decodingWith } from "../serialization/custom-serializers.js";
import type { SerializedValue } from "../serialization/serialized-value.js";
import type { FunctionDescriptor } from "./function-manager/descriptor.js";
import { ObjectRef, setRefCounter } from "./object-ref.js";
import { CurrentTask, type TaskContext } from "./current-task.js";
import { ObjectWaits } from "./object-waits.js";
import { ReferenceTracker } from "./reference-tracker.js";
import { DirectCalls } from "./direct-calls.js";
import { afterFinalizers, canSweep, forceGc } from "../common/gc-assist.js";
import { keepingProcessAlive } from "../common/keep-alive.js";

const SWEEPS = canSweep();

export interface CoreWorkerInfo {
  workerId: string;
  nodeId: string;
  jobId: string;
  namespace: string;
  mode: "driver" | "worker";
}

export type { TaskContext } from "./current-task.js";

/** What an embedded node, running in the driver's own thread, can do synchronously for it. */
export interface LocalNode {
  /** Waits, briefly, for workers to release memory until `size` bytes fit. */
  reclaim(size: number): boolean;
  /** The driver waits for objects: the node may watch for them rather than sleep (see Raylet.awaitResults). */
  awaitResults(stillWaiting: () => boolean): void;
  /** Whether a live actor has this name in this namespace. */
  actorNameTaken(namespace: string, name: string): boolean;
}

/** Makes actor handles from their data; provided by the actor-handle module (avoids a cycle). */
export type ActorHandleFactory = (data: ActorHandleData, fresh: boolean) => object;

export class CoreWorker {
  readonly tracker: ReferenceTracker;
  private readonly current = new CurrentTask();
  private readonly taskIds = new TaskIdGenerator();
  private readonly waits: ObjectWaits;
  private readonly serializeContext: SerializeContext;
  private readonly sentFunctions = new Set<string>();
  private readonly pendingRequests = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  private nextRequestId = 1;
  /** Direct calls to actors in worker processes: for threads of the node's own process (see direct-calls.ts). */
  private readonly direct?: DirectCalls;
  closed = false;

  constructor(
    readonly info: CoreWorkerInfo,
    private readonly channel: Channel<ToRaylet, FromRaylet>,
    /** The node's shared memory; absent in a driver of another process, whose values carry their bodies. */
    readonly arena: SharedArena | undefined,
    private readonly makeActorHandle: ActorHandleFactory,
    /** Worker threads route execute/cancel messages to their executor. */
    private readonly onTaskMessage?: (msg: FromRaylet) => void,
    /** In the driver of an embedded node: the node's synchronous help (see LocalNode). */
    private readonly local?: LocalNode,
  ) {
    this.waits = new ObjectWaits((ids, ready) => this.channel.send(ready ? { t: "subscribe", ids, ready } : { t: "subscribe", ids }), (id) => this.tracker.holds(id));
    this.tracker = new ReferenceTracker(channel, (id) => {
      this.waits.drop(id);
      this.direct?.dropped(id);
    }, (id) => this.unview(id));
    if (arena) {
      this.direct = new DirectCalls({
        workerId: info.workerId,
        send: (msg) => this.channel.send(msg),
        request: (method, ...args) => this.request(method, ...args),
        arrived: (id, value) => this.waits.arrived(id, value),
      });
      this.tracker.isLocal = this.direct.isLocal;
    }
    this.serializeContext = {
      arena,
      bodies: !arena,
      makeRoom: (size) => this.makeRoom(size),
      // Only the driver of an embedded node: its releases reach the store at once (see makeRoom).
      beforeFreshMemory: local ? (size) => this.reuseWarmMemory(size) : undefined,
    };
    setRefCounter(this.tracker);
    channel.onMessage((m) => this.handle(m));
  }

  send(msg: ToRaylet): void {
    this.channel.send(msg);
  }

  // -------------------------------------------------------------------------------------------
  // Submission

  newTaskId(): string {
    return this.taskIds.next();
  }

  /**
   * Whether a live actor already has this name, when this thread can know at once (the driver of
   * an embedded node, once its earlier messages are handled); undefined elsewhere: the node then
   * refuses the creation itself, and the new handle's calls fail.
   */
  actorNameTaken(namespace: string, name: string): boolean | undefined {
    if (!this.local) return undefined;
    this.channel.flushNow();
    return this.local.actorNameTaken(namespace, name);
  }

  /**
   * Called before a spec that runs in a working directory of its own is submitted: a driver in
   * another process uploads the folder then (once), so that the nodes run it from a copy.
   */
  beforeSubmitIn?: (workingDir: string) => void;

  /** Makes sure the raylet knows the function before a task names it. */
  registerFunction(desc: FunctionDescriptor): void {
    if (this.sentFunctions.has(desc.id)) return;
    this.sentFunctions.add(desc.id);
    this.channel.send({ t: "register-function", desc });
  }

  /**
   * Submits a spec. The holds of `transfers` (objects put for its arguments) pass to the spec:
   * they are given up only after the submit, which takes holds of its own.
   */
  submit(spec: TaskSpec, transfers: string[], returnIds: string[]): void {
    this.waits.expect(returnIds);
    if (spec.workingDir !== undefined) this.beforeSubmitIn?.(spec.workingDir);
    this.channel.send({ t: "submit", spec });
    for (let i = 0; i < transfers.length; i++) sendId(this.channel, "remove-ref", transfers[i]);
  }

  /**
   * Submits an actor call directly to its actor's process when it can (see direct-calls.ts);
   * false when it must go through the node.
   */
  submitDirect(spec: TaskSpec, returnIds: string[]): boolean {
    if (!this.direct?.trySend(spec, returnIds)) return false;
    this.waits.expect(returnIds);
    return true;
  }

  /** Whether this thread's calls to the actor go to its process directly now (see direct-calls.ts). */
  callsDirectly(actorId: string): boolean {
    return this.direct?.isOpen(actorId) ?? false;
  }

  /** An ObjectRef leaves this thread (in an argument or a value): the node must know its object. */
  passOn(id: string): void {
    this.direct?.passOn(id);
  }

  /** Cancels the task whose return is `objectId` (see ray.cancel). */
  cancel(objectId: string, force: boolean, recursive: boolean): void {
    if (this.direct?.cancel(objectId, force)) return;
    this.channel.send({ t: "cancel", objectId, force, recursive });
  }

  /** Runs `fn` as task `ctx` (see CurrentTask.run). */
  runTask<T>(ctx: TaskContext, fn: () => Promise<T>, mayInterleave: boolean): Promise<T> {
    return this.current.run(ctx, fn, mayInterleave);
  }

  /** The current task, for parent links and runtime context. */
  currentTask(): TaskContext | undefined {
    return this.current.get();
  }

  // -------------------------------------------------------------------------------------------
  // Objects

  serializeValue(value: unknown, path: string): SerializedValue {
    const v = serialize(value, this.serializeContext, path);
    if (v.refs && this.direct) for (let i = 0; i < v.refs.length; i++) this.direct.passOn(v.refs[i]);
    if (v.segments && !this.arena) {
      throw new TypeError(
        `${path} contains a SharedArrayBuffer, which cannot be shared with a cluster in another process: ` +
          `send a typed array over an ordinary ArrayBuffer (it is copied to the node)`,
      );
    }
    return v;
  }

  /** The last collection for warm memory: whether it freed anything, and the high-water mark then. */
  private lastWarmCollect?: { freed: boolean; highWater: number };

  /**
   * A large put would land in memory never touched: collect first, so that objects dropped since
   * (the previous round of a put/get loop) give their warm memory, and the store does not grow.
   * A collection that freed nothing is not repeated until the store has grown by 64 MB more
   * (a program keeping what it puts gains nothing from it).
   */
  private reuseWarmMemory(size: number): void {
    const arena = this.arena!;
    // Below a store this small, no run of `size` bytes has ever been touched.
    if (arena.highWater() < size) return;
    const last = this.lastWarmCollect;
    if (last && !last.freed && arena.highWater() - last.highWater < 64 * 2 ** 20) return;
    const used = arena.used();
    this.collect();
    this.channel.flushNow();
    this.lastWarmCollect = { freed: arena.used() < used, highWater: arena.highWater() };
  }

  /**
   * The arena has no room for `size` bytes: collect garbage, release the shared memory of refs
   * and views that are gone, and hand the releases to the store now (in the driver, the store
   * runs in this thread, so they are applied when flushNow returns). Then ask every other thread
   * to do the same and wait, at most ROOM_WAIT_MS, for a free run that fits. False if none came:
   * the put fails with ObjectStoreFullError.
   */
  private makeRoom(size: number): boolean {
    const arena = this.arena!;
    if (size > arena.capacity) return false; // nothing freed or spilled would make it fit
    this.collect();
    this.channel.flushNow();
    if (arena.fits(size)) return true;
    if (this.local) return this.local.reclaim(size);
    // A worker thread: the store runs on the main thread, which is free to work meanwhile.
    this.channel.send({ t: "collect-garbage", size });
    this.channel.flushNow();
    const deadline = performance.now() + ROOM_WAIT_MS;
    for (;;) {
      const seen = arena.frees();
      if (arena.fits(size)) return true;
      const left = deadline - performance.now();
      if (left <= 0) return false;
      arena.waitForFree(seen, left);
    }
  }

  /** Collects garbage and releases, now, the shared memory that refs and views held. */
  collect(): void {
    forceGc();
    this.tracker.sweep();
  }

  /** Collects now, and answers once the releases it caused are sent (finalizers run in later turns). */
  private collectAndAnswer(ack: number): void {
    this.collect();
    afterFinalizers(() => this.channel.send({ t: "collected", ack }));
  }

  put<T>(value: T): ObjectRef<T> {
    const v = this.serializeValue(value, "value");
    const id = objectIdOf(this.newTaskId(), 0);
    // A large value is not kept here: its memory is the store's to spill until a get asks for it.
    if (!v.slices) this.waits.values.set(id, { ok: true, value: v });
    this.channel.send({ t: "put", id, value: v });
    return new ObjectRef<T>(id, true, v.slices !== undefined);
  }

  /** Resolves each ref to its value, in order; rejects as soon as one has failed. */
  async get(refs: readonly ObjectRef<unknown>[], timeoutMs?: number): Promise<unknown[]> {
    const ids = refs.map((r) => r.hex());
    const { values } = this.waits;
    const missing = ids.filter((id) => !values.has(id));
    if (missing.length) await this.fetch(missing, timeoutMs, true);
    // Where collected refs and views can only be released by finalizers (no synchronous sweep),
    // let a turn of the event loop pass under memory pressure so that a tight put/get loop's do run.
    else if (!SWEEPS && this.arena && this.arena.used() > this.arena.capacity / 2) await new Promise((r) => setImmediate(r));
    // A value of a registered class whose serializer this thread lacks: its module is imported, and the decode runs again.
    const decoded = await decodingWith(() => ids.map((id) => this.decode(id, values.get(id)!)));
    for (const id of ids) this.letGo(id);
    return decoded;
  }

  /**
   * After a decode of a value the store sent: if it has memory in the arena and the decode kept
   * no view of it (bodies copied out), lets the store know this thread reads none of it any more.
   */
  letGo(id: string, value = this.waits.values.get(id)): void {
    if (value?.ok && value.value.slices && !this.tracker.viewing(id)) this.unview(id);
  }

  /** This thread reads none of `id`'s memory any more, though it may hold refs: the store may spill it. */
  private unview(id: string): void {
    this.waits.stash(id);
    sendId(this.channel, "unview", id);
  }

  /** Waits for `numReturns` of `refs` to be ready (or the timeout); keeps input order. */
  async wait(refs: readonly ObjectRef<unknown>[], numReturns: number, timeoutMs?: number): Promise<[ObjectRef[], ObjectRef[]]> {
    const ids = refs.map((r) => r.hex());
    if (this.waits.readyCount(ids) < numReturns) await this.blockWhile(() => this.waits.some(ids, numReturns, timeoutMs, this.current.onInterrupt));
    const ready: ObjectRef[] = [];
    const notReady: ObjectRef[] = [];
    for (const ref of refs) {
      if (this.waits.isReady(ref.hex()) && ready.length < numReturns) ready.push(ref);
      else notReady.push(ref);
    }
    return [ready, notReady];
  }

  /** The sealed value of `id` if this thread has it, without waiting. */
  peek(id: string): ObjectValue | undefined {
    return this.waits.values.get(id);
  }

  /** Whether `id` is sealed, as far as this thread knows (its value here or in the store). */
  isReady(id: string): boolean {
    return this.waits.isReady(id);
  }

  /** Stops expecting `id`, which will never be sealed (see ObjectWaits.forget). */
  forget(id: string): void {
    this.waits.forget(id);
  }

  /** Waits until every id has a value here; with `failFast`, rejects at the first failure. */
  async fetch(ids: string[], timeoutMs: number | undefined, failFast: boolean): Promise<void> {
    await this.blockWhile(() => this.waits.all(ids, timeoutMs, failFast, this.current.onInterrupt));
  }

  decode(id: string, value: ObjectValue): unknown {
    if (!value.ok) throw fromErrorInfo(value.error);
    return deserialize(value.value, {
      arena: this.arena,
      reviveRef: (inner) => new ObjectRef(inner, false),
      reviveActor: (data) => this.makeActorHandle(data, false),
      onSharedView: (view) => this.tracker.trackView(id, view),
    });
  }

  /** Deserializes a value that is not an object of the store (an inline task argument). */
  decodeInline(value: SerializedValue): unknown {
    return deserialize(value, {
      arena: this.arena,
      reviveRef: (inner) => new ObjectRef(inner, false),
      reviveActor: (data) => this.makeActorHandle(data, false),
    });
  }

  // -------------------------------------------------------------------------------------------
  // Requests answered by the raylet or the GCS behind it

  request<T>(method: string, ...args: unknown[]): Promise<T> {
    const reqId = this.nextRequestId++;
    this.channel.send({ t: "request", reqId, method, args });
    return this.keepingAlive(
      new Promise<T>((resolve, reject) => {
        this.pendingRequests.set(reqId, { resolve: resolve as (v: unknown) => void, reject });
      }),
    );
  }

  // -------------------------------------------------------------------------------------------

  private handle(msg: FromRaylet): void {
    switch (msg.t) {
      case "objects":
        for (const [id, value] of msg.entries) {
          this.direct?.viaNode(id);
          this.waits.arrived(id, value);
        }
        return;
      case "sealed":
        if (this.direct) for (const id of msg.ids) this.direct.viaNode(id);
        return this.waits.sealed(msg.ids);
      case "reply": {
        const p = this.pendingRequests.get(msg.reqId);
        if (!p) return;
        this.pendingRequests.delete(msg.reqId);
        if (msg.ok) p.resolve(msg.value);
        else p.reject(fromErrorInfo(msg.error as ErrorInfo));
        return;
      }
      case "log":
        // A driver of a cluster in another process: what its job's workers printed.
        (msg.stderr ? process.stderr : process.stdout).write(msg.text);
        return;
      case "collect":
        if (msg.ack !== undefined) return this.collectAndAnswer(msg.ack);
        if (this.collectWhenIdle) this.collectWhenIdle();
        else this.collect();
        return;
      default:
        this.onTaskMessage?.(msg);
    }
  }

  /**
   * Runs a wait. In a worker, the task gives its CPU back to the node while blocked, so a node
   * whose tasks all wait on their children does not deadlock. In the driver, the wait keeps the
   * process alive (the runtime's own threads and ports do not).
   */
  async blockWhile(wait: () => Promise<void>): Promise<void> {
    // Only a task's CPU goes back: an actor holds none while it runs (the node ignores its waits).
    const task = this.currentTask();
    const ctx = task?.actorId === undefined ? task : undefined;
    if (ctx) {
      this.channel.send({ t: "blocked", taskId: ctx.taskId });
      this.onBlocked?.(true);
    }
    try {
      const waiting = wait();
      // In the driver, results may be watched for rather than slept for (see Raylet.awaitResults).
      if (this.local && this.waits.hasWaiters()) this.local.awaitResults(this.waits.hasWaiters);
      await this.keepingAlive(waiting);
    } finally {
      if (ctx) {
        this.channel.send({ t: "unblocked", taskId: ctx.taskId });
        this.onBlocked?.(false);
      }
    }
  }

  /** In worker threads: defers a requested collection until no task runs (see worker-main). */
  collectWhenIdle?: () => void;

  /** Told when the running task starts and stops waiting in get/wait (the executor hands back queued tasks). */
  onBlocked?: (blocked: boolean) => void;

  /** In the driver, `p` with the process kept alive until it settles (worker threads end with their node). */
  private keepingAlive<T>(p: Promise<T>): Promise<T> {
    return this.info.mode === "driver" ? keepingProcessAlive(p) : p;
  }

  /** Disconnects: every get, wait and request still pending rejects with a RayError that says why. */
  close(why = "tsray was shut down while this call was waiting (ray.shutdown())"): void {
    if (this.closed) return;
    this.closed = true;
    this.tracker.close();
    this.direct?.close();
    setRefCounter(undefined);
    const err = () => new RayError(why);
    this.waits.close(err);
    for (const p of this.pendingRequests.values()) p.reject(err());
    this.pendingRequests.clear();
    this.channel.close();
  }
}

