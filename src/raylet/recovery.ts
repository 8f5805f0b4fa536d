/**
 * A head restarted on its GCS storage taking back what the storage kept: detached actors still
 * running on worker nodes are adopted as they are when their nodes join again; detached
 * placement groups are reserved again once those nodes are back; detached actors that are not
 * (they ran on the head that went, or their node stayed away) start again from their
 * constructors where the storage kept what that takes, else they are dead.
 */
import type { Restart } from "../gcs/actor-directory.js";
import type { PlacementGroupEntry } from "../gcs/gcs.js";
import type { RunningActors } from "../rpc/node-protocol.js";
import type { TaskSpec } from "../rpc/protocol.js";
import type { ActorManager } from "./actor-manager.js";
import type { FunctionTable } from "./function-table.js";
import type { PlacementGroups } from "./placement-groups.js";
import type { ResourcePool } from "./resources.js";
import type { JobConfig, WorkerPool } from "./worker-pool.js";

export interface RecoveryDeps {
  actors: ActorManager;
  functions: FunctionTable;
  /** The raylet's jobs of drivers in other processes (those of recovered actors join them). */
  jobs: Map<string, JobConfig>;
  workers: WorkerPool;
  placementGroups: PlacementGroups;
  /** The job of the node itself (not a driver's). */
  nodeJobId: string;
  /** A worker node's resources, while it is in the cluster. */
  nodePool(nodeId: string): ResourcePool | undefined;
}

export class Recovery {
  /** Set while the head waits for its worker nodes to bring back what ran there. */
  private waiting?: Promise<void>;

  constructor(private readonly d: RecoveryDeps) {}

  /**
   * Starts recovering: the actors' calls wait until their nodes join again and bring them back
   * (`adopt`); once `over` resolves (with why the rest are lost: every node that was alive is
   * back, or the wait is over), the groups are reserved again and the actors not back restart
   * or die.
   */
  start(actors: { creation: TaskSpec; restart?: Restart }[], groups: PlacementGroupEntry[], over: Promise<string>): void {
    for (const { creation, restart } of actors) {
      this.d.actors.recovering(creation, restart !== undefined);
      if (!restart) continue;
      this.d.functions.register(restart.fn);
      // Its driver is gone: what its workers print goes to this node's log.
      if (restart.job && !this.d.jobs.has(restart.job.jobId)) this.d.jobs.set(restart.job.jobId, { ...restart.job, forwardLogs: false });
    }
    this.waiting = over.then((why) => {
      this.waiting = undefined;
      for (const g of groups) this.d.placementGroups.create(g.id, g.bundles, g.strategy, g.name);
      for (const { creation } of actors) this.d.actors.abandon(creation.actor!.actorId, why);
    });
  }

  /** Resolves once recovery is over (at once if none is going on). */
  async over(): Promise<void> {
    await this.waiting;
  }

  /**
   * Actors running on a worker of node `nodeId`, which joined: taken back as they are. False
   * when they are not the ones recovered (the worker is then to be stopped).
   */
  adopt(nodeId: string, running: RunningActors): boolean {
    const pool = this.d.nodePool(nodeId);
    if (!pool) return false;
    const { job } = running;
    if (job.jobId !== this.d.nodeJobId && !this.d.jobs.has(job.jobId)) this.d.jobs.set(job.jobId, job);
    const w = this.d.workers.adopt({ ...running.env, nodeId }, running.workerId);
    if (!w) return false;
    if (this.d.actors.adopt(w, running.actorIds, pool)) return true;
    this.d.workers.kill(w);
    return false;
  }
}

/**
 * What a detached actor needs to start again from its constructor after a head restart: its
 * class and its job's settings, when its arguments are all inline (no refs, nothing in the
 * arena) and its code is not in an uploaded folder (which the storage does not keep).
 */
export function restartOf(spec: TaskSpec, functions: FunctionTable, jobs: Map<string, JobConfig>): Restart | undefined {
  const fn = functions.get(spec.fnId);
  const job = spec.jobId === undefined ? undefined : jobs.get(spec.jobId);
  if (!fn || spec.nestedRefs?.length || spec.args.some((a) => "ref" in a || a.v.slices) || spec.workingDir || job?.uploaded || job?.dirs) return undefined;
  return { fn, job };
}
