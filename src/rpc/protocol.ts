/**
 * The typed messages between a core worker (driver or worker thread) and its node's raylet.
 * Version 1. The same messages travel over an in-process channel, a MessagePort between
 * threads, and (for other nodes) a socket: one protocol, several carriers.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { SerializedValue } from "../serialization/serialized-value.js";
import type { Channel } from "./channel.js";

export const PROTOCOL_VERSION = 1;

export type TaskArg = { v: SerializedValue } | { ref: string };

export type SchedulingSpec =
  | { type: "DEFAULT" }
  | { type: "SPREAD" }
  | { type: "node_affinity"; nodeId: string; soft: boolean }
  | { type: "placement_group"; placementGroupId: string; bundleIndex: number };

/** Everything the node needs to run a task or an actor method. */
export interface TaskSpec {
  taskId: string;
  /** Shown in logs, errors and the dashboard. */
  name: string;
  /** Function id (tasks) or class id (actor creation); absent for actor methods. */
  fnId?: string;
  args: TaskArg[];
  /** Object ids the args contain below their top level; the spec holds them until the task ends. */
  nestedRefs?: string[];
  /** Number of return objects, or "streaming" for generators. */
  numReturns: number | "streaming";
  resources: Record<string, number>;
  maxRetries: number;
  /** Absent: false. */
  retryExceptions?: boolean | string[];
  /** The worker that submitted the task: it owns the returns. */
  ownerId: string;
  parentTaskId?: string;
  /** Absent: DEFAULT. Fields left at their defaults are left out: specs cross threads by the thousand. */
  scheduling?: SchedulingSpec;
  /** Environment variables for the worker (runtimeEnv.env). */
  env?: Record<string, string>;
  /** Heap limit for the worker, from the `memory` option. */
  memoryBytes?: number;
  /** Streaming tasks: items the task may run ahead of its consumer (-1: no limit). Absent: the default. */
  backpressure?: number;
  /** Set for an actor method call. */
  actorId?: string;
  method?: string;
  /** Set for actor creation. */
  actor?: ActorCreationSpec;
  /** The job whose code it runs, set by the node from its submitter; absent: the node's own job. */
  jobId?: string;
  /** Runs in a worker process of its own (isolation "process", or a working directory). */
  isolation?: "process";
  /** The worker process's working directory (runtimeEnv.workingDir), absolute. */
  workingDir?: string;
}

export interface ActorCreationSpec {
  actorId: string;
  className: string;
  methods: string[];
  name?: string;
  namespace: string;
  detached: boolean;
  maxRestarts: number;
  maxTaskRetries: number;
  maxConcurrency: number;
  /** With `name`: reuse a live actor of that name instead of failing. */
  getIfExists: boolean;
  /** True when the actor asked for resources explicitly and holds them while alive. */
  holdsResources: boolean;
}

/** Messages from a core worker to the raylet. */
export type ToRaylet =
  | { t: "register-function"; desc: FunctionDescriptor }
  | { t: "submit"; spec: TaskSpec }
  | { t: "put"; id: string; value: SerializedValue }
  /** The sender now holds these objects (a ref, handle or view arrived), or no longer does. */
  | { t: "add-ref"; ids: string[] }
  | { t: "remove-ref"; ids: string[] }
  /** The sender reads none of these objects' memory any more, though it may hold refs to them: they may spill. */
  | { t: "unview"; ids: string[] }
  /** Send these objects' values once sealed; `ready`: only that they are sealed, for large ones (a wait). */
  | { t: "subscribe"; ids: string[]; ready?: true }
  /** The owner of a streaming task handed item `index` to its consumer (the task may run further ahead). */
  | { t: "stream-consumed"; taskId: string; index: number }
  /** The owner of a streaming task closed its generator: the items not consumed are not wanted. */
  | { t: "stream-closed"; taskId: string }
  | { t: "cancel"; objectId: string; force: boolean; recursive: boolean }
  | { t: "kill-actor"; actorId: string; noRestart: boolean }
  | { t: "request"; reqId: number; method: string; args: unknown[] }
  /**
   * Returns of direct calls (see core-worker/direct-calls.ts) that the sender passed on: the
   * node holds them for the sender from now on, sealed with their value once it has arrived.
   * `late`: the values of returns passed on before they came, for whoever still holds them.
   */
  | { t: "own"; entries: [id: string, value: ObjectValue | undefined][]; late?: true }
  /**
   * Direct calls whose connection to their actor closed before they answered: the node takes
   * them as calls in flight on `workerId` when it died (retried on a restart, or failed).
   */
  | { t: "direct-lost"; actorId: string; workerId: string; specs: TaskSpec[] }
  /** A driver of another process is done (shutdown, or its process exits): its job succeeded. */
  | { t: "goodbye" }
  /** The sender's arena allocation failed: ask every thread to release what it no longer uses. */
  | { t: "collect-garbage"; size: number }
  /** A worker collected garbage as asked with `ack` (see FromRaylet collect). */
  | { t: "collected"; ack: number }
  // From workers only:
  /** The worker thread has started and waits for work. */
  /** `tid`: a worker thread's id in the OS (Linux), whose CPU time the node reads (see metrics/usage.ts). */
  | { t: "ready"; tid?: number; direct?: DirectEndpoint }
  | { t: "task-done"; taskId: string; results: ObjectValue[]; ms: number }
  /**
   * A direct call's results that cannot go back over its connection (they hold refs or large
   * bodies): the node stores them for `ownerId`, the caller, and sends them to it.
   */
  | { t: "direct-done"; taskId: string; ownerId: string; numReturns: number; results: ObjectValue[] }
  /** Direct calls this worker ran, reported a second at a time for the state API (as Ray's task events). */
  | { t: "direct-ran"; calls: DirectRan[] }
  /** Tasks a worker was sent but will not start (its running task blocked): schedule them elsewhere. */
  | { t: "requeue"; taskIds: string[] }
  | { t: "stream-item"; taskId: string; index: number; value: ObjectValue }
  | { t: "blocked"; taskId: string }
  | { t: "unblocked"; taskId: string };

/**
 * Where a worker process takes direct calls (see core-worker/direct-calls.ts): a Unix socket in
 * its node's private folder, and the token a caller proves there.
 */
export interface DirectEndpoint {
  path: string;
  token: string;
}

/** The node's answer to a caller that asks where to call an actor directly: its endpoint, the actor's own id and its process. */
export interface DirectRoute extends DirectEndpoint {
  actorId: string;
  workerId: string;
}

/** A direct call that ended, as its actor's process reports it (times in ms since the epoch). */
export interface DirectRan {
  taskId: string;
  name: string;
  actorId: string;
  startedAt: number;
  endedAt: number;
  /** Absent: it finished. */
  error?: ErrorInfo;
}

/** What a caller sends an actor's process over a direct connection: the same messages as the node's. */
export type ToActor = Extract<FromRaylet, { t: "execute" | "cancel-task" }>;
/** What comes back: a call's results, as the node would be sent them. */
export type FromActor = Extract<ToRaylet, { t: "task-done" }>;

/**
 * Sends an id-list message about `id` (add-ref, sealed, unused...), folded into the channel's
 * last unsent one of its kind: a thousand ids in one turn travel as one message.
 */
export function sendId<M extends { t: string }>(channel: Pick<Channel<M, unknown>, "send" | "unsent">, t: Extract<M, { ids: string[] }>["t"], id: string): void {
  const last = channel.unsent() as { t: string; ids?: string[] } | undefined;
  if (last?.t === t && last.ids) last.ids.push(id);
  else channel.send({ t, ids: [id] } as unknown as M);
}

/** Sends a sealed object, folded into the channel's last unsent `objects` message. */
export function sendObject(channel: Pick<Channel<FromRaylet, unknown>, "send" | "unsent">, id: string, value: ObjectValue): void {
  const last = channel.unsent();
  if (last?.t === "objects") last.entries.push([id, value]);
  else channel.send({ t: "objects", entries: [[id, value]] });
}

/** Messages from the raylet to a core worker. */
export type FromRaylet =
  | { t: "objects"; entries: [id: string, value: ObjectValue][] }
  /** Objects the receiver owns are sealed; their values (large) are sent when it subscribes. */
  | { t: "sealed"; ids: string[] }
  /** What the job's workers printed, already prefixed, for a driver in another process to print. */
  | { t: "log"; text: string; stderr: boolean }
  | { t: "reply"; reqId: number; ok: true; value: unknown }
  | { t: "reply"; reqId: number; ok: false; error: ErrorInfo }
  /** Collect garbage now and release the shared memory of what was collected; with `ack`, answer `collected`. */
  | { t: "collect"; ack?: number }
  // To workers only:
  /** `args`: the values of the spec's ref arguments; both lists are left out when empty. */
  | { t: "execute"; spec: TaskSpec; args?: ObjectValue[]; functions?: FunctionDescriptor[] }
  | { t: "cancel-task"; taskId: string }
  /** The consumer of a streaming task took item `index`. */
  | { t: "stream-consumed"; taskId: string; index: number }
  /** An actor on a shared host was killed: forget its instance. */
  | { t: "drop-actor"; actorId: string };
