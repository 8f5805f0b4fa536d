/**
 * The messages between the head's raylet and a worker node (see node/node-link.ts and
 * node/worker-node.ts). The head places work and owns the jobs' objects; a worker node runs
 * workers for it and relays their messages, which are the same protocol as a local worker's.
 */
import type { JobConfig, WorkerEnv } from "../raylet/worker-pool.js";
import type { FromRaylet, ToRaylet } from "./protocol.js";
import type { NodeUsage } from "../metrics/usage.js";

/** Head → worker node. */
export type ToNode =
  | { t: "start-worker"; workerId: string; env: WorkerEnv; job: JobConfig }
  | { t: "to-worker"; workerId: string; msg: FromRaylet }
  | { t: "kill-worker"; workerId: string }
  /** The head will send these objects' bytes again if needed: the node may free its copies (see "unused"). */
  | { t: "drop"; ids: string[] }
  /** Objects this node made and kept (see SerializedValue.away) are gone everywhere: their bodies here go too. */
  | { t: "free"; ids: string[] };

/** Worker node → head. */
export type FromNode =
  /** Alive; with how full its store is and what it and its workers use (for the dashboard and the metrics). */
  | { t: "heartbeat"; store?: StoreUse; usage?: NodeUsage }
  /**
   * The node's first message: its workers whose actors outlived the head it was in before (a
   * head restarted on its storage takes them back; any other kills them).
   */
  | { t: "actors"; workers: RunningActors[] }
  | { t: "from-worker"; workerId: string; msg: ToRaylet }
  | { t: "worker-exit"; workerId: string; code: number; why?: string }
  /** No worker here uses these copies any more: the head answers "drop" once it no longer counts on them. */
  | { t: "unused"; ids: string[] }
  /** What the workers of a job whose driver is elsewhere printed. */
  | { t: "log"; jobId: string; text: string; stderr: boolean };

export interface StoreUse {
  used: number;
  capacity: number;
}

/** What a worker node says of itself in its handshake. */
export interface NodeHello {
  nodeId: string;
  ip: string;
  resources: Record<string, number>;
  /**
   * Where it serves the bodies of the objects it keeps (see object-store/object-pulls.ts), on
   * `ip`; 0 when it keeps none (on TLS: it has no certificate to serve with, so its workers'
   * values go to the head as bytes).
   */
  objectPort: number;
}

/** A worker of a worker node and the actors it runs. */
export interface RunningActors {
  workerId: string;
  actorIds: string[];
  env: WorkerEnv;
  /** Its job, without the packed working directory. */
  job: JobConfig;
}

/** How often a worker node tells the head it is alive. */
export const HEARTBEAT_MS = 1000;
/** A node silent this long is marked dead (TSRAY_HEALTH_CHECK_TIMEOUT_MS overrides it). */
export const HEALTH_CHECK_TIMEOUT_MS = 10_000;
