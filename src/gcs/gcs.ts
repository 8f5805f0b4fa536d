/**
 * The Global Control Service: cluster metadata. Nodes and their health, jobs, the actor
 * directory, placement groups and a key-value store, over a storage interface (in memory, or
 * Redis: then a restarted head recovers them, see `recover`).
 */
import { ActorDirectory } from "./actor-directory.js";
import { InMemoryStorage, type GcsStorage } from "./storage.js";

export interface NodeEntry {
  nodeId: string;
  address: string;
  alive: boolean;
  isHead: boolean;
  resources: Record<string, number>;
}

export interface JobEntry {
  jobId: string;
  namespace: string;
  startTime: number;
  endTime?: number;
  status: "RUNNING" | "SUCCEEDED" | "FAILED" | "STOPPED";
  /** What the driver runs (its script), when it said. */
  entrypoint?: string;
}

export interface PlacementGroupEntry {
  id: string;
  name?: string;
  namespace: string;
  bundles: Record<string, number>[];
  strategy: "PACK" | "SPREAD" | "STRICT_PACK" | "STRICT_SPREAD";
  detached: boolean;
  /** The job that made it: it is removed when that job ends, unless detached. */
  jobId?: string;
}

/** What a restarted head takes back from its storage once its worker nodes join again. */
export interface Recovered {
  /** Worker nodes that were alive when the head went. */
  nodes: string[];
  /** Detached actors that were alive (RESTARTING now), by id. */
  actors: string[];
  /** Detached placement groups, to reserve again. */
  placementGroups: PlacementGroupEntry[];
}

export class Gcs {
  readonly actors: ActorDirectory;

  constructor(readonly storage: GcsStorage = new InMemoryStorage()) {
    this.actors = new ActorDirectory(storage);
  }

  registerNode(node: NodeEntry): void {
    this.storage.put("nodes", node.nodeId, node);
  }

  markNodeDead(nodeId: string): void {
    const n = this.storage.get<NodeEntry>("nodes", nodeId);
    if (n) this.storage.put("nodes", nodeId, { ...n, alive: false });
  }

  nodes(): NodeEntry[] {
    return this.storage.list<NodeEntry>("nodes").map(([, n]) => n);
  }

  addJob(job: JobEntry): void {
    this.storage.put("jobs", job.jobId, job);
  }

  jobs(): JobEntry[] {
    return this.storage.list<JobEntry>("jobs").map(([, j]) => j);
  }

  finishJob(jobId: string, status: JobEntry["status"]): void {
    const j = this.storage.get<JobEntry>("jobs", jobId);
    if (j) this.storage.put("jobs", jobId, { ...j, status, endTime: Date.now() });
  }

  savePlacementGroup(pg: PlacementGroupEntry): void {
    this.storage.put("placement_groups", pg.id, pg);
  }

  removePlacementGroup(id: string): void {
    this.storage.delete("placement_groups", id);
  }

  placementGroups(): PlacementGroupEntry[] {
    return this.storage.list<PlacementGroupEntry>("placement_groups").map(([, pg]) => pg);
  }

  placementGroupNamed(namespace: string, name: string): PlacementGroupEntry | undefined {
    return this.placementGroups().find((pg) => pg.name === name && pg.namespace === namespace);
  }



  /**
   * The tables as a head left them when it went (killed, say), made true again: its drivers went
   * with it, so their jobs failed and took their actors and placement groups; worker nodes are
   * dead until they join again. Detached actors and placement groups are what it takes back.
   */
  recover(): Recovered {
    const now = Date.now();
    const nodes = this.nodes().filter((n) => n.alive && !n.isHead).map((n) => n.nodeId);
    for (const n of this.nodes()) if (n.alive) this.storage.put("nodes", n.nodeId, { ...n, alive: false });
    for (const j of this.jobs()) if (j.status === "RUNNING") this.storage.put("jobs", j.jobId, { ...j, status: "FAILED", endTime: now });
    const actors: string[] = [];
    for (const a of this.actors.list()) {
      if (a.state === "DEAD") continue;
      if (a.detached && a.creation) {
        this.actors.setState(a.data.actorId, "RESTARTING");
        actors.push(a.data.actorId);
      } else {
        this.actors.setState(a.data.actorId, "DEAD");
        this.actors.unregisterName(a.data.actorId);
      }
    }
    const placementGroups: PlacementGroupEntry[] = [];
    for (const pg of this.placementGroups()) {
      if (pg.detached) placementGroups.push(pg);
      else this.removePlacementGroup(pg.id);
    }
    return { nodes, actors, placementGroups };
  }

  kvGet(key: string): unknown {
    return this.storage.get("kv", key);
  }

  kvPut(key: string, value: unknown): void {
    this.storage.put("kv", key, value);
  }
}
