/**
 * The Global Control Service: cluster metadata. Nodes and their health, jobs, the actor
 * directory, placement groups and a key-value store, over a storage interface.
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

  kvGet(key: string): unknown {
    return this.storage.get("kv", key);
  }

  kvPut(key: string, value: unknown): void {
    this.storage.put("kv", key, value);
  }
}
