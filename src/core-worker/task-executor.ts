/**
 * Runs tasks and actor calls inside a worker thread: rebuilds the function or class from its
 * descriptor, decodes arguments (zero-copy views for large arrays), runs the code inside a
 * task context, and sends back results: one per return, or a stream of items for generators.
 */
import { TaskCancelledError, taskErrorInfo, type ErrorInfo } from "../common/errors.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { Channel } from "../rpc/channel.js";
import type { DirectRan, FromActor, FromRaylet, TaskSpec, ToActor } from "../rpc/protocol.js";
import { releaseSlices } from "../serialization/serializer.js";
import { decodingWith } from "../serialization/custom-serializers.js";
import type { CoreWorker, TaskContext } from "./core-worker.js";
import type { FunctionDescriptor } from "./function-manager/descriptor.js";
import { explainMissingBinding, loadCallable } from "./function-manager/load.js";
import { Fifo } from "../common/fifo.js";
import { ActorHost, type Execution } from "./actor-host.js";
import { DEFAULT_GENERATOR_BACKPRESSURE } from "./task-options.js";

type AnyFn = (...args: unknown[]) => unknown;

const NO_VALUES: ObjectValue[] = [];
/** How often a worker reports the direct calls that ended in it. */
const DIRECT_REPORT_MS = 1000;

/** A streaming task's progress against its consumer (see `stream`). */
interface Flow {
  /** The highest item index the consumer took. */
  consumed: number;
  /** Called when `consumed` grows. */
  wake?: () => void;
}

export class TaskExecutor {
  private readonly descriptors = new Map<string, FunctionDescriptor>();
  private readonly running = new Map<string, TaskContext>();
  /** Streaming tasks running here, by task id. */
  private readonly flows = new Map<string, Flow>();
  /** Set once this worker hosts an actor. */
  private actors?: ActorHost;
  /** Normal tasks sent ahead (pipelined): they run one after another. */
  private readonly pending = new Fifo<Execution>();
  private busy = false;
  /** Gets the running task waits in; while > 0, queued tasks go back to the raylet. */
  private blocked = 0;
  /** What log lines are prefixed with when no task is running (an actor's name). */
  idleName = "worker";
  /** Told each time the executor has nothing left to run. */
  onIdle: () => void = () => {};
  /** Direct calls running or queued here, by task id: the connection their caller sent them on, and when they came. */
  private readonly direct = new Map<string, { caller: Channel<FromActor, ToActor>; at: number }>();
  /** Direct calls that ended since the last report to the node (see reportDirect). */
  private ranDirect: DirectRan[] = [];

  constructor(private readonly cw: CoreWorker) {
    cw.onBlocked = (blocked) => this.setBlocked(blocked);
  }

  private host(): ActorHost {
    return (this.actors ??= new ActorHost(
      { run: (spec, args, body, resources, mayInterleave) => this.run(spec, args, body, resources, mayInterleave), load: (id) => this.load(id), fail: (spec, error) => this.sendResults(spec, [{ ok: false, error }]) },
      () => this.onIdle(),
    ));
  }

  /** `caller`: the connection a direct call came on (see direct-calls.ts), which its results go back on. */
  onMessage(msg: FromRaylet, caller?: Channel<FromActor, ToActor>): void {
    if (msg.t === "execute") {
      if (caller) this.direct.set(msg.spec.taskId, { caller, at: Date.now() });
      if (msg.functions) for (const d of msg.functions) this.descriptors.set(d.id, d);
      const { spec } = msg;
      const args = msg.args ?? NO_VALUES;
      // An argument its node could not store (no room) fails the task with that error, as a failed dependency does.
      const undelivered = args.find((v) => !v.ok);
      if (undelivered) return this.sendResults(spec, [undelivered]);
      if (spec.actor) {
        const host = this.host();
        this.idleName = host.size === 0 ? spec.actor.className : "actor-host";
        void host.construct(spec, args);
      } else if (spec.actorId) this.host().call(spec, args);
      else {
        this.pending.push({ spec, args });
        if (this.blocked) this.handBack();
        else this.pumpTasks();
      }
    } else if (msg.t === "cancel-task") {
      this.cancel(msg.taskId);
    } else if (msg.t === "stream-consumed") {
      const flow = this.flows.get(msg.taskId);
      if (flow && msg.index > flow.consumed) {
        flow.consumed = msg.index;
        flow.wake?.();
      }
    } else if (msg.t === "drop-actor") {
      this.actors?.drop(msg.actorId);
      // What the dropped instance held goes back to the store without waiting for a later collection.
      this.cw.collectWhenIdle?.();
    }
  }

  /** Nothing running or waiting to run. */
  idle(): boolean {
    if (this.running.size) return false;
    return this.actors ? this.actors.idle() : !this.busy && this.pending.length === 0;
  }

  private pumpTasks(): void {
    if (this.busy) return;
    if (!this.pending.length) return this.onIdle();
    const { spec, args } = this.pending.shift()!;
    this.busy = true;
    void this.run(spec, args, async (decoded) => ((await this.load(spec.fnId)) as AnyFn)(...decoded), spec.resources).finally(() => {
      this.busy = false;
      this.pumpTasks();
    });
  }

  /**
   * The running task waits for other tasks: the ones queued behind it here could be what it
   * waits for, so they go back to the raylet to run elsewhere.
   */
  private setBlocked(blocked: boolean): void {
    if (this.actors) return;
    this.blocked += blocked ? 1 : -1;
    if (blocked) this.handBack();
  }

  private handBack(): void {
    if (!this.pending.length) return;
    const taskIds = this.pending.takeAll().map((p) => p.spec.taskId);
    this.cw.send({ t: "requeue", taskIds });
  }

  /** The task running in the current async context, if any. */
  current(): TaskContext | undefined {
    return this.cw.currentTask();
  }

  async load(fnId: string | undefined): Promise<unknown> {
    const desc = fnId === undefined ? undefined : this.descriptors.get(fnId);
    if (!desc) throw new Error(`function ${fnId} was never sent to this worker`);
    return loadCallable(desc);
  }

  private decodeArgs(spec: TaskSpec, values: ObjectValue[]): unknown[] {
    let k = 0;
    const decoded = spec.args.map((a) => ("v" in a ? this.cw.decodeInline(a.v) : this.cw.decode(a.ref, values[k++])));
    k = 0;
    for (const a of spec.args) if ("ref" in a) this.cw.letGo(a.ref, values[k++]);
    return decoded;
  }

  private async run(
    spec: TaskSpec, argValues: ObjectValue[], body: (args: unknown[]) => Promise<unknown>, resources: Record<string, number>, mayInterleave = false,
  ): Promise<void> {
    const ctx: TaskContext = { taskId: spec.taskId, name: spec.name, actorId: spec.actorId, cancelled: false, interrupts: new Set(), resources };
    this.running.set(spec.taskId, ctx);
    const started = performance.now();
    let results: ObjectValue[];
    try {
      results = await this.cw.runTask(ctx, async () => {
        const value = await body(await decodingWith(() => this.decodeArgs(spec, argValues)));
        if (ctx.cancelled) throw new TaskCancelledError(`task ${spec.name} was cancelled`);
        if (spec.numReturns === "streaming") return [await this.stream(spec, value, ctx)];
        return this.encodeReturns(spec, isIterator(value) ? await yielded(spec, value) : value);
      }, mayInterleave);
    } catch (err) {
      results = [{ ok: false, error: ctx.cancelled ? cancelled(spec) : taskErrorInfo(spec.name, explainMissingBinding(err)) }];
    } finally {
      this.running.delete(spec.taskId);
    }
    this.sendResults(spec, results, performance.now() - started);
  }

  private encodeReturns(spec: TaskSpec, value: unknown): ObjectValue[] {
    const n = spec.numReturns as number;
    if (n === 1) return [{ ok: true, value: this.cw.serializeValue(value, "return value") }];
    if (!Array.isArray(value) || value.length !== n) {
      throw new TypeError(`${spec.name} has numReturns ${n}, so it must return an array of ${n} values; it returned ${Array.isArray(value) ? `an array of ${value.length}` : typeof value}`);
    }
    const out: ObjectValue[] = [];
    try {
      for (let i = 0; i < n; i++) out.push({ ok: true, value: this.cw.serializeValue(value[i], `return value[${i}]`) });
    } catch (err) {
      // The task fails as a whole: the returns serialized so far will never be sent.
      for (const r of out) if (r.ok) releaseSlices(this.cw.arena!, r.value);
      throw err;
    }
    return out;
  }

  /**
   * Sends each yielded value as it is produced; the end object holds the count. At most
   * `spec.backpressure` items go ahead of the consumer: past that the generator is not asked for
   * its next item until the consumer takes one, and meanwhile its CPU goes back to the node (so
   * a consumer that needs a CPU to take items cannot deadlock with it).
   */
  private async stream(spec: TaskSpec, gen: unknown, ctx: TaskContext): Promise<ObjectValue> {
    if (!gen || typeof (gen as AsyncIterable<unknown>)[Symbol.asyncIterator] !== "function" && typeof (gen as Iterable<unknown>)[Symbol.iterator] !== "function") {
      throw new TypeError(`${spec.name} has numReturns "streaming", so it must be a generator function (function* or async function*)`);
    }
    const ahead = spec.backpressure ?? DEFAULT_GENERATOR_BACKPRESSURE;
    const flow: Flow = { consumed: 0 };
    this.flows.set(spec.taskId, flow);
    let i = 0;
    try {
      for await (const item of gen as AsyncIterable<unknown>) {
        i++;
        this.cw.send({ t: "stream-item", taskId: spec.taskId, index: i, value: { ok: true, value: this.cw.serializeValue(item, `yielded value ${i}`) } });
        // A cancel (its consumer closed the generator) stops it between items.
        if (ctx.cancelled) throw new TaskCancelledError(`task ${spec.name} was cancelled`);
        if (ahead >= 0 && i - flow.consumed >= ahead) await this.cw.blockWhile(() => untilConsumed(flow, ctx, i + 1 - ahead));
      }
    } finally {
      this.flows.delete(spec.taskId);
    }
    return { ok: true, value: this.cw.serializeValue(i, "count") };
  }

  private sendResults(spec: TaskSpec, results: ObjectValue[], ms = 0): void {
    const direct = this.direct.get(spec.taskId);
    if (!direct) return this.cw.send({ t: "task-done", taskId: spec.taskId, results, ms });
    this.direct.delete(spec.taskId);
    this.reportDirect(spec, direct.at, results);
    const { caller } = direct;
    // Results that hold refs or large bodies go through the node, which keeps what they refer to
    // alive and stores their bodies; it sends them on to the caller.
    if (results.every(isPlain)) caller.send({ t: "task-done", taskId: spec.taskId, results, ms });
    else this.cw.send({ t: "direct-done", taskId: spec.taskId, ownerId: spec.ownerId, numReturns: spec.numReturns as number, results });
  }

  /**
   * The node never saw a direct call: it hears of those that ended here a second at a time (as
   * Ray's workers report task events), for the state API and the dashboard.
   */
  private reportDirect(spec: TaskSpec, startedAt: number, results: ObjectValue[]): void {
    const failure = results.find((r) => !r.ok);
    const call: DirectRan = { taskId: spec.taskId, name: spec.name, actorId: spec.actorId!, startedAt, endedAt: Date.now() };
    if (failure && !failure.ok) call.error = failure.error;
    if (this.ranDirect.push(call) > 1) return;
    setTimeout(() => {
      const calls = this.ranDirect;
      this.ranDirect = [];
      this.cw.send({ t: "direct-ran", calls });
    }, DIRECT_REPORT_MS).unref();
  }

  private cancel(taskId: string): void {
    const ctx = this.running.get(taskId);
    if (ctx) {
      ctx.cancelled = true;
      const err = new TaskCancelledError(`task ${ctx.name} was cancelled`);
      for (const interrupt of ctx.interrupts) interrupt(err);
      return;
    }
    const fail = (spec: TaskSpec) => this.sendResults(spec, [{ ok: false, error: cancelled(spec) }]);
    if (this.actors) this.actors.cancelQueued(taskId, fail);
    else {
      const c = this.pending.removeWhere((x) => x.spec.taskId === taskId);
      if (c) fail(c.spec);
    }
  }
}

/** A generator object (sync or async), as a generator function returns. */
function isIterator(value: unknown): value is AsyncIterable<unknown> {
  const tag = Object.prototype.toString.call(value);
  return tag === "[object Generator]" || tag === "[object AsyncGenerator]";
}

/** The values a generator yields, as the returns of a task with numReturns > 1 (as in Ray). */
async function yielded(spec: TaskSpec, gen: AsyncIterable<unknown>): Promise<unknown[]> {
  if (spec.numReturns === 1) {
    throw new TypeError(`${spec.name} returned a generator, which cannot be sent back as one value: give it numReturns: "streaming" to receive what it yields`);
  }
  const values: unknown[] = [];
  for await (const v of gen) values.push(v);
  return values;
}

/** Resolves once the consumer took item `index`; rejects if the task is cancelled meanwhile. */
function untilConsumed(flow: Flow, ctx: TaskContext, index: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (ctx.cancelled) return reject(new TaskCancelledError(`task ${ctx.name} was cancelled`));
    const interrupt = (err: Error) => reject(err);
    ctx.interrupts.add(interrupt);
    flow.wake = () => {
      if (flow.consumed < index) return;
      flow.wake = undefined;
      ctx.interrupts.delete(interrupt);
      resolve();
    };
  });
}

/** A result that is all bytes of its own: no refs, no bodies, no shared memory. */
function isPlain(r: ObjectValue): boolean {
  if (!r.ok) return true;
  const v = r.value;
  return !v.refs?.length && !v.slices && !v.bodies && !v.segments && !v.away;
}

function cancelled(spec: TaskSpec): ErrorInfo {
  return { code: "TASK_CANCELLED", name: "TaskCancelledError", message: `task ${spec.name} was cancelled` };
}
