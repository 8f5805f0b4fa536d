/**
 * util.Queue: Ray's distributed FIFO queue (ray.util.queue.Queue), backed by an actor so that
 * every task and actor holding the queue talks to the same items.
 *
 * Serialization: a Queue's only own enumerable properties are `actor` (an ActorHandle, which
 * the runtime already knows how to send) and `maxsize`; its methods live on the prototype and
 * use nothing else. The class is registered with the serializer (registerSerializableClass),
 * so a Queue sent to a task arrives as a Queue; `Queue.from(value)` also accepts the plain
 * `{ actor, maxsize }` shape, without creating a new actor.
 */
import { kill } from "../api/actors.js";
import { checkBoolean, checkInteger, checkKnownOptions, checkNonNegativeNumber, describe } from "../common/validate.js";
import { ACTOR_HANDLE_BRAND, type ActorHandleData } from "../serialization/markers.js";
import { isActorHandle } from "../serialization/prepare.js";
import { registerSerializableClass } from "../serialization/revivable.js";
import type { ActorHandle, ActorOptions } from "../types.js";
import { getValue, internalActorClass } from "./internal-remote.js";
import { QueueActor, queueActorModule } from "./queue-actor.js";

/** Raised by a put that finds the queue full (not blocking, or after its timeout), as in Ray. */
export class Full extends Error {
  override readonly name = "Full";
}

/** Raised by a get that finds the queue empty (not blocking, or after its timeout), as in Ray. */
export class Empty extends Error {
  override readonly name = "Empty";
}

export interface QueueOptions {
  /** Most items the queue holds; put then waits. 0 (the default) means unbounded. */
  maxsize?: number;
  /** Options for the queue's actor (resources, name, ...). */
  actorOptions?: ActorOptions;
}

export interface QueueOpOptions {
  /** Wait for room (put) or an item (get). Default true. */
  block?: boolean;
  /** With block: give up after this long with Full / Empty. Default: wait forever. */
  timeoutMs?: number;
}

// Enough concurrent calls that waiting getters and putters never starve the calls that would
// release them (Ray's async actors default to 1000 as well).
const MAX_CONCURRENCY = 1000;
const QueueActorClass = internalActorClass(QueueActor, queueActorModule);
// The actor's class name, to recognise its handles in Queue.from.
const ACTOR_CLASS_NAME = QueueActor.name;

export class Queue<T> {
  /** @internal The queue's actor; an own property so that a sent Queue carries it. */
  readonly actor: ActorHandle<QueueActor>;
  readonly maxsize: number;

  constructor(opts?: QueueOptions) {
    checkKnownOptions("Queue options", opts, ["maxsize", "actorOptions"]);
    const maxsize = opts?.maxsize ?? 0;
    checkInteger("Queue option maxsize", maxsize, 0);
    const actorOptions: ActorOptions = { maxConcurrency: MAX_CONCURRENCY, ...opts?.actorOptions };
    this.maxsize = maxsize;
    this.actor = QueueActorClass.options(actorOptions).remote(maxsize);
  }

  /**
   * The Queue a task or actor received: sent values arrive as plain `{ actor, maxsize }`
   * objects, since structured cloning keeps no prototypes. A Queue is returned as is.
   */
  static from<T = unknown>(value: unknown): Queue<T> {
    if (value instanceof Queue) return value as Queue<T>;
    const v = value as { actor?: unknown; maxsize?: unknown } | null;
    const handle = typeof v === "object" && v !== null ? v.actor : undefined;
    if (!isActorHandle(handle) || (handle as Record<symbol, ActorHandleData>)[ACTOR_HANDLE_BRAND].className !== ACTOR_CLASS_NAME) {
      throw new TypeError(`Queue.from() argument must be a Queue or a Queue received by a task, got ${describe(value)}`);
    }
    checkInteger("Queue.from() argument maxsize", v!.maxsize, 0);
    // Not through the constructor: that would create a new actor.
    const q = Object.create(Queue.prototype) as Queue<T>;
    Object.defineProperties(q, {
      actor: { value: handle, enumerable: true },
      maxsize: { value: v!.maxsize, enumerable: true },
    });
    return q;
  }

  /** Adds `item` at the end; waits for room unless `block` is false. Throws Full when there is none. */
  async put(item: T, opts?: QueueOpOptions): Promise<void> {
    const { block, timeoutMs } = checkOpOptions("Queue.put()", opts);
    const ok = await getValue(this.actor.put.remote([item] as [unknown], block, timeoutMs));
    if (!ok) throw new Full(timeoutMs !== null && block ? `queue still full after ${timeoutMs} ms` : "queue is full");
  }

  /** Removes and returns the first item; waits for one unless `block` is false. Throws Empty when there is none. */
  async get(opts?: QueueOpOptions): Promise<T> {
    const { block, timeoutMs } = checkOpOptions("Queue.get()", opts);
    const box = await getValue(this.actor.get.remote(block, timeoutMs));
    if (box === null) throw new Empty(timeoutMs !== null && block ? `queue still empty after ${timeoutMs} ms` : "queue is empty");
    return box[0] as T;
  }

  size(): Promise<number> {
    return getValue(this.actor.size.remote());
  }

  empty(): Promise<boolean> {
    return getValue(this.actor.empty.remote());
  }

  full(): Promise<boolean> {
    return getValue(this.actor.full.remote());
  }

  /** Ends the queue's actor: waiting and later calls, from every holder, fail with RayActorError. */
  async shutdown(): Promise<void> {
    await kill(this.actor as object);
  }

  /** `await using queue = new Queue()` shuts it down at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.shutdown();
  }
}

function checkOpOptions(what: string, opts: QueueOpOptions | undefined): { block: boolean; timeoutMs: number | null } {
  checkKnownOptions(`${what} options`, opts, ["block", "timeoutMs"]);
  checkBoolean(`${what} option block`, opts?.block);
  checkNonNegativeNumber(`${what} option timeoutMs`, opts?.timeoutMs);
  // As in Ray, a timeout only matters for a blocking call.
  return { block: opts?.block ?? true, timeoutMs: opts?.timeoutMs ?? null };
}

registerSerializableClass(Queue, "tsray.util.Queue");
