/**
 * The actor pool of an operator whose stages include a class UDF: ActorUdfHost actors
 * (actor-udf-host.ts) that the executor submits inputs to as it submits tasks (executor.ts,
 * taskOperator, which keeps the order, the window and the budget of both kinds of operator).
 *
 * - Size: a fixed pool starts all its actors; an autoscaling one starts initialSize (default
 *   minSize) and adds one actor at a time while every actor is busy and inputs wait (never while
 *   another is still starting, so a burst does not start the whole range at once), up to maxSize
 *   (default: the cluster's CPUs). Once the upstream is exhausted, an idle actor above minSize
 *   is closed and killed.
 * - Each actor gets up to maxTasksInFlightPerActor inputs at once (queued in the actor, run one
 *   at a time: a stateful UDF is never called re-entrantly); `window`, maxSize × that many, is
 *   how many inputs the executor may have in the pool at once.
 * - An actor whose worker dies fails its in-flight calls with RayActorError; those inputs go back
 *   to the queue for any actor, and the actor is asked `ready()`, which answers once the runtime
 *   has restarted it (maxRestarts) or fails if it is gone for good (it leaves the pool; another
 *   may start). A UDF that throws is retried under retryExceptions / maxRetries as a task is;
 *   after that its block is output as the failed ref it is, so the error (or errored-blocks.ts)
 *   handles it downstream. A constructor that throws fails the execution.
 * - The pool ends with the execution: at a normal end each actor's UDF is close()d, then every
 *   actor is killed; an early close (break, error) kills them at once, without close().
 */
import * as ray from "tsray";
import type { ActorOptions, TaskOptions } from "tsray";
import type { BlockRef } from "./block.js";
import type { TaskOutput } from "./block-task.js";
import type { DataContext } from "./context.js";
import type { OperatorStats } from "./execution-stats.js";
import { ActorUdfHost, actorUdfHostModule } from "./actor-udf-host.js";
import type { ActorPoolSpec, StageSpec } from "./plan.js";

const HostActor = ray.util.remoteExport(actorUdfHostModule, ActorUdfHost);
/** Times an input may lose its actor before its block fails with that error; also how many actors beyond maxSize may be lost for good. */
const MAX_ACTOR_LOSSES = 3;

/** What the pool runs: an operator of fusion.ts with kind "actors". */
export interface ActorPoolOperator {
  readonly name: string;
  readonly stages: readonly StageSpec[];
  /** Resources of each actor, and the UDF's task-style retry options. */
  readonly taskOptions: TaskOptions;
  readonly pool: ActorPoolSpec;
}

type Host = ray.ActorHandle<ActorUdfHost>;
interface PoolActor {
  readonly handle: Host;
  /** starting: constructing the UDF; checking: lost a call, waiting to hear if it restarted. */
  state: "starting" | "ready" | "checking" | "gone";
  readonly inFlight: Set<Work>;
}
/** What a call returns, as a task of a task operator does: the first block, and the figures with any further blocks. */
export type PoolOutputs = [first: BlockRef, more: ray.ObjectRef<TaskOutput>];
interface Work {
  /** The task-style arguments: the input (a read or a block ref), then bundled block refs. */
  readonly args: readonly unknown[];
  readonly index: number;
  attempts: number;
  actorLosses: number;
  settled: boolean;
  readonly result: Promise<PoolOutputs>;
  resolve(outputs: PoolOutputs): void;
  reject(error: unknown): void;
}

export class ActorPool {
  readonly #op: ActorPoolOperator;
  readonly #context: DataContext;
  readonly #stats: OperatorStats;
  readonly #minSize: number;
  readonly #maxSize: number;
  readonly #perActor: number;
  readonly #actorClass: ray.ActorClass<typeof ActorUdfHost>;
  readonly #actors = new Set<PoolActor>();
  /** Every actor started, to kill at the end whatever became of it. */
  readonly #started: Host[] = [];
  /** Inputs waiting for an actor, lowest index first. */
  #queue: Work[] = [];
  #inputsDone = false;
  #lostForGood = 0;
  #failure: unknown;
  /** Actors leaving the pool (closing); waited for at the end. */
  readonly #retiring: Promise<unknown>[] = [];

  /** Starts the pool's first actors. `context`: the dataset's, current in every call; `stats`: the operator's, counting actors. */
  constructor(op: ActorPoolOperator, cpus: number, context: DataContext, stats: OperatorStats) {
    this.#op = op;
    this.#context = context;
    this.#stats = stats;
    const spec = op.pool;
    this.#minSize = spec.minSize;
    this.#maxSize = Math.max(spec.minSize, spec.maxSize ?? Math.max(1, Math.floor(cpus)));
    this.#perActor = spec.maxTasksInFlightPerActor;
    const { maxRetries: _r, retryExceptions: _e, ...resources } = op.taskOptions;
    // The actors ask for the UDF's resources, else take tsray's actor default (a CPU to be placed, none
    // while alive), unlike Ray Data's, which holds a CPU per actor: a pool would then hold every CPU that
    // the read or map tasks feeding it need, and wait for them forever. The pool's size bounds its CPU use.
    this.#actorClass = HostActor.options({ ...resources, maxRestarts: spec.maxRestarts } satisfies ActorOptions);
    for (let i = 0; i < (spec.initialSize ?? this.#minSize); i++) this.#startActor();
  }

  /** Inputs in the pool at once: a full pool's worth. */
  get window(): number {
    return this.#maxSize * this.#perActor;
  }

  /** Runs an input on the first actor free; the outputs' refs once an actor has run it (failed refs if it failed). */
  submit(args: readonly unknown[], index: number): Promise<PoolOutputs> {
    let resolve!: (outputs: PoolOutputs) => void;
    let reject!: (error: unknown) => void;
    const result = new Promise<PoolOutputs>((res, rej) => ((resolve = res), (reject = rej)));
    // Awaited when its turn comes; not an unhandled rejection before that.
    result.catch(() => {});
    const work: Work = { args, index, attempts: 0, actorLosses: 0, settled: false, result, resolve, reject };
    if (this.#failure !== undefined) reject(this.#failure);
    else this.#enqueue(work);
    return result;
  }

  inputsDone(): void {
    this.#inputsDone = true;
    for (const actor of this.#actors) this.#retireIfIdle(actor);
  }

  /** The normal end: every UDF's close(). */
  async closeAll(): Promise<void> {
    await Promise.all([...this.#actors].map((actor) => ray.get(actor.handle.close.remote())));
    await Promise.all(this.#retiring);
  }

  /** Kills every actor the pool started (`early`: without waiting for those closing), and waits until they are dead. */
  async killAll(early: boolean): Promise<void> {
    if (!early) await Promise.allSettled(this.#retiring);
    this.#failure ??= new Error("internal: the actor pool has ended");
    // A call to a killed actor fails once it is dead: the pool ends when its actors have.
    await Promise.allSettled(this.#started.map(async (handle) => {
      await ray.kill(handle, { noRestart: true });
      await ray.get(handle.ready.remote()).catch(() => {});
    }));
  }

  #startActor(): void {
    const handle = this.#actorClass.remote([...this.#op.stages], ...(this.#constructorArgs() as never[]));
    const actor: PoolActor = { handle, state: "starting", inFlight: new Set() };
    this.#actors.add(actor);
    this.#started.push(handle);
    this.#stats.numActors = this.#started.length;
    ray.get(handle.ready.remote()).then(
      () => {
        if (actor.state === "starting") actor.state = "ready";
        this.#dispatch();
      },
      (error: unknown) => {
        // The runtime reports a constructor that threw as the UDF's error; an actor lost while starting as an actor error.
        if (error instanceof ray.RayActorError) this.#lost(actor, error);
        else this.#fail(error);
      },
    );
  }

  #constructorArgs(): readonly unknown[] {
    for (const stage of this.#op.stages) if ("fnConstructorArgs" in stage && stage.fnConstructorArgs !== undefined) return stage.fnConstructorArgs;
    return [];
  }

  #enqueue(work: Work): void {
    // Lowest index first, so that a requeued input is not overtaken by later ones.
    let at = this.#queue.length;
    while (at > 0 && this.#queue[at - 1]!.index > work.index) at--;
    this.#queue.splice(at, 0, work);
    this.#dispatch();
  }

  #dispatch(): void {
    while (this.#queue.length > 0 && this.#failure === undefined) {
      const actor = this.#leastBusy();
      if (actor === undefined) {
        if (this.#canScaleUp()) {
          this.#startActor();
          continue;
        }
        return;
      }
      this.#send(this.#queue.shift()!, actor);
    }
  }

  /** The usable actor with a free slot and the fewest inputs, ready ones first. */
  #leastBusy(): PoolActor | undefined {
    let best: PoolActor | undefined;
    for (const actor of this.#actors) {
      if ((actor.state !== "ready" && actor.state !== "starting") || actor.inFlight.size >= this.#perActor) continue;
      const rank = (a: PoolActor) => a.inFlight.size + (a.state === "starting" ? 0.5 : 0);
      if (best === undefined || rank(actor) < rank(best)) best = actor;
    }
    return best;
  }

  /** Every actor busy and inputs waiting: one more actor, unless one is still starting or the pool is full. */
  #canScaleUp(): boolean {
    let live = 0;
    for (const actor of this.#actors) {
      if (actor.state === "starting") return false;
      if (actor.state !== "gone") live++;
    }
    return live < this.#maxSize;
  }

  #send(work: Work, actor: PoolActor): void {
    actor.inFlight.add(work);
    work.attempts++;
    const [input, ...bundled] = work.args;
    // Named as the operator, so that a UDF's error names it as a task's would ("Task MapBatches(Model) failed").
    const outputs = actor.handle.process.options({ name: this.#op.name, numReturns: 2 })
      .remote(input as never, work.index, this.#context, ...(bundled as never[])) as unknown as PoolOutputs;
    ray.get(outputs[1]).then(
      () => {
        actor.inFlight.delete(work);
        this.#settle(work, outputs);
        this.#retireIfIdle(actor);
        this.#dispatch();
      },
      (error: unknown) => {
        actor.inFlight.delete(work);
        if (error instanceof ray.RayActorError) {
          // The actor's worker died: the input goes to another actor (or to this one once restarted).
          // An input that has taken its actor down this often is taken to be what kills it: its block fails.
          if (++work.actorLosses > MAX_ACTOR_LOSSES) this.#settle(work, outputs);
          else this.#enqueue(work);
          this.#lost(actor, error);
        } else if (this.#retries(work, error)) {
          this.#enqueue(work);
        } else {
          this.#settle(work, outputs);
          this.#retireIfIdle(actor);
          this.#dispatch();
        }
      },
    );
  }

  /** A thrown error is retried as a task's would be: with retryExceptions (all, or these error names), up to maxRetries. */
  #retries(work: Work, error: unknown): boolean {
    const { retryExceptions, maxRetries = 3 } = this.#op.taskOptions;
    if (!retryExceptions || (maxRetries !== -1 && work.attempts > maxRetries)) return false;
    if (retryExceptions === true) return true;
    const name = (error as { cause?: { name?: unknown } }).cause?.name;
    return typeof name === "string" && retryExceptions.includes(name);
  }

  #settle(work: Work, outputs: PoolOutputs): void {
    if (work.settled) return;
    work.settled = true;
    work.resolve(outputs);
  }

  /** An actor lost a call: it answers ready() once restarted, else it is gone and leaves the pool. */
  #lost(actor: PoolActor, error: unknown): void {
    if (actor.state === "checking" || actor.state === "gone") return;
    actor.state = "checking";
    ray.get(actor.handle.ready.remote()).then(
      () => {
        if (actor.state === "checking") actor.state = "ready";
        this.#dispatch();
      },
      () => {
        actor.state = "gone";
        this.#actors.delete(actor);
        // Its inputs were requeued and a new actor may take its place, unless actors keep dying (a worker that
        // crashes at start): then the execution fails with the actor's error.
        if (++this.#lostForGood > this.#maxSize + MAX_ACTOR_LOSSES) this.#fail(error);
        this.#dispatch();
      },
    );
  }

  #live(): number {
    let n = 0;
    for (const actor of this.#actors) if (actor.state !== "gone") n++;
    return n;
  }

  /** Once upstream is done and nothing waits, an idle actor above the minimum closes and leaves. */
  #retireIfIdle(actor: PoolActor): void {
    if (!this.#inputsDone || this.#queue.length > 0 || actor.inFlight.size > 0 || actor.state !== "ready") return;
    if (this.#live() <= this.#minSize) return;
    actor.state = "gone";
    this.#actors.delete(actor);
    const closing = ray.get(actor.handle.close.remote()).finally(() => ray.kill(actor.handle, { noRestart: true }));
    // A close() that throws fails the execution at its end (closeAll), not as an unhandled rejection now.
    closing.catch(() => {});
    this.#retiring.push(closing);
  }

  /** The execution cannot go on: every waiting and later input fails with `error`. */
  #fail(error: unknown): void {
    if (this.#failure !== undefined) return;
    this.#failure = error;
    for (const work of this.#queue) work.reject(error);
    this.#queue = [];
    for (const actor of this.#actors) for (const work of actor.inFlight) work.reject(error);
  }
}
