/**
 * What every node runs, embedded in a driver or standalone: its resources, its object store
 * (the shared arena and the object table) and its raylet with the worker threads. Built in
 * dependency order and closed in reverse; the embedded cluster adds an in-process driver, a
 * standalone node a listener (see embedded-node.ts, cluster-node.ts).
 */
import { readdirSync } from "node:fs";
import os from "node:os";
import { randomHex } from "../common/ids.js";
import type { Gcs } from "../gcs/gcs.js";
import { ObjectTable } from "../object-store/object-table.js";
import { Landing } from "../object-store/landing.js";
import { SharedArena } from "../object-store/shared-arena.js";
import { SpillFiles } from "../object-store/spill-files.js";
import type { PeerSettings } from "../object-store/object-pulls.js";
import { Raylet } from "../raylet/raylet.js";
import { ResourcePool } from "../raylet/resources.js";
import type { JobConfig } from "../raylet/worker-pool.js";
import { sessionRoot } from "./session.js";

export interface NodeResourcesConfig {
  numCpus?: number;
  numGpus?: number;
  resources?: Record<string, number>;
  objectStoreMemory?: number;
}

export interface NodeCoreConfig extends NodeResourcesConfig {
  /** Chosen by whoever made the node's session folder first; new otherwise. */
  nodeId?: string;
  /** The node's IP address, as other processes reach it. */
  ip: string;
  gcs: Gcs;
  /** The job of the node's own driver (embedded), or of nothing (standalone). */
  defaultJob: JobConfig;
  log: (message: string) => void;
  /** A head's: how it proves itself to the worker nodes it pulls objects from. */
  peers?: PeerSettings;
}

export class NodeCore {
  readonly nodeId: string;
  readonly ip: string;
  readonly cpus: number;
  readonly total: Record<string, number>;
  readonly arena: SharedArena;
  readonly table: ObjectTable;
  /** Where values from other processes land in the arena as they come off a socket. */
  readonly landing: Landing;
  readonly raylet: Raylet;

  constructor(config: NodeCoreConfig) {
    this.nodeId = config.nodeId ?? randomHex(14);
    this.ip = config.ip;
    this.cpus = config.numCpus ?? os.availableParallelism();
    const { total, storeBytes } = nodeResources(config, this.ip);
    this.total = total;
    this.arena = SharedArena.create(storeBytes);
    this.landing = new Landing(this.arena);
    let raylet: Raylet | undefined;
    this.table = new ObjectTable(this.arena, (actorId) => raylet?.actors.onOutOfScope(actorId), new SpillFiles(sessionRoot(), this.nodeId));
    this.raylet = raylet = new Raylet({
      nodeId: this.nodeId,
      address: this.ip,
      gcs: config.gcs,
      table: this.table,
      arena: this.arena,
      landing: this.landing,
      resources: new ResourcePool(total),
      log: config.log,
      defaultJob: config.defaultJob,
      peers: config.peers,
      workerPool: { nodeId: this.nodeId, arena: this.arena, landing: this.landing },
    });
  }

  async close(): Promise<void> {
    await this.raylet.close();
    this.table.clear();
  }
}

/** GPUs the NVIDIA driver reports on Linux; 0 elsewhere. */
/** A node's resources from its configuration (defaults: the machine's) and its store's size. */
export function nodeResources(config: NodeResourcesConfig, ip: string): { total: Record<string, number>; storeBytes: number } {
  const cpus = config.numCpus ?? os.availableParallelism();
  const gpus = config.numGpus ?? detectGpus();
  const storeBytes = config.objectStoreMemory ?? Math.floor(os.totalmem() * 0.3);
  const total: Record<string, number> = {
    CPU: cpus,
    memory: Math.floor(os.totalmem() * 0.7),
    object_store_memory: storeBytes,
    [`node:${ip}`]: 1,
    ...config.resources,
  };
  if (gpus) total.GPU = gpus;
  if (!total.CPU) delete total.CPU;
  return { total, storeBytes };
}

function detectGpus(): number {
  try {
    return readdirSync("/proc/driver/nvidia/gpus").length;
  } catch {
    return 0;
  }
}
