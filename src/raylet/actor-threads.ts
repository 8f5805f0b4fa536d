/**
 * Which thread each actor lives on. Past a limit of actors with threads of their own, light
 * actors (no resources asked for, no env, no heap limit) share host threads, a number to a
 * thread: a thread costs tens of MB and the kernel's map count, so thousands of actor threads
 * would bring the node down. The first actors keep a thread each, for parallelism and isolation.
 */
import type { TaskSpec } from "../rpc/protocol.js";
import type { ResourcePool } from "./resources.js";
import { workerEnvOf, type PooledWorker, type WorkerPool } from "./worker-pool.js";

export const MAX_OWN_ACTOR_THREADS = 64;
export const ACTORS_PER_HOST = 32;
/** The limit in force: TSRAY_MAX_ACTOR_THREADS overrides it (tests use a small one). */
const ownThreadLimit = (): number => Number(process.env.TSRAY_MAX_ACTOR_THREADS) || MAX_OWN_ACTOR_THREADS;

/** What this module needs of an actor's record. */
export interface Seated {
  creation: TaskSpec;
  /** Whose resources it took: its node's (or a bundle's on that node). */
  pool: ResourcePool;
  /** Set by `seat`: true when the actor shares a host thread. */
  shared: boolean;
}

export class ActorThreads<A extends Seated> {
  private readonly byWorker = new Map<PooledWorker, Set<A>>();
  /** Shared host threads and how many actors each holds. */
  private readonly hosts = new Map<PooledWorker, number>();
  private ownThreads = 0;

  constructor(private readonly workers: WorkerPool) {}

  /** A thread for the actor: one of its own or, past the limit, a seat on a shared host. */
  seat(rec: A): PooledWorker {
    const w = this.threadFor(rec);
    let recs = this.byWorker.get(w);
    if (!recs) this.byWorker.set(w, (recs = new Set()));
    recs.add(rec);
    return w;
  }

  /** Actors already running on `w` (a restarted head takes them back): `w` is theirs, shared if they are more than one. */
  adopt(recs: A[], w: PooledWorker): void {
    this.byWorker.set(w, new Set(recs));
    const shared = recs.length > 1;
    for (const rec of recs) rec.shared = shared;
    if (shared) this.hosts.set(w, recs.length);
    else this.ownThreads++;
  }

  /** The actor leaves its shared host (killed there); the thread and its other actors live on. */
  leave(rec: A, w: PooledWorker): void {
    this.byWorker.get(w)?.delete(rec);
    const n = this.hosts.get(w);
    if (n !== undefined) this.hosts.set(w, n - 1);
  }

  /** The thread ended: the actors that lived on it. */
  ended(w: PooledWorker): Iterable<A> {
    const recs = this.byWorker.get(w);
    if (!recs) return [];
    this.byWorker.delete(w);
    this.hosts.delete(w);
    for (const rec of recs) if (!rec.shared) this.ownThreads--;
    return recs;
  }

  private threadFor(rec: A): PooledWorker {
    const spec = rec.creation;
    const env = { ...workerEnvOf(spec), nodeId: rec.pool.nodeId };
    // An actor in a process of its own never shares it (that is what it asked for).
    const light = !spec.actor!.holdsResources && !spec.env && !spec.memoryBytes && !this.workers.runsInProcess(env);
    if (!light || this.ownThreads < ownThreadLimit()) {
      rec.shared = false;
      this.ownThreads++;
      return this.workers.startDedicated(env);
    }
    rec.shared = true;
    // A host runs the actors of one job: its thread carries that job's settings.
    for (const [w, n] of this.hosts) {
      if (n < ACTORS_PER_HOST && !w.exit && w.jobId === spec.jobId && w.nodeId === env.nodeId) {
        this.hosts.set(w, n + 1);
        return w;
      }
    }
    const host = this.workers.startDedicated({ jobId: spec.jobId, nodeId: env.nodeId });
    this.hosts.set(host, 1);
    return host;
  }
}
