/**
 * The embedded single-node cluster that `init()` starts inside the calling process: GCS,
 * object store, raylet with its worker threads, and the driver's core worker, built in
 * dependency order and closed in reverse. Nothing outlives `close()`.
 */
import { readdirSync } from "node:fs";
import os from "node:os";
import { randomUUID } from "node:crypto";
import { CoreWorker } from "../core-worker/core-worker.js";
import { makeActorHandle } from "../core-worker/actor-handle.js";
import { runsUnderTsx } from "../core-worker/function-manager/describe.js";
import { coreWorker } from "../core-worker/runtime.js";
import { randomHex } from "../common/ids.js";
import { Gcs } from "../gcs/gcs.js";
import { ObjectTable } from "../object-store/object-table.js";
import { SharedArena } from "../object-store/shared-arena.js";
import { LocalChannel } from "../rpc/channel.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import { Raylet } from "../raylet/raylet.js";
import { ResourcePool } from "../raylet/resources.js";

export interface NodeConfig {
  numCpus?: number;
  numGpus?: number;
  resources?: Record<string, number>;
  objectStoreMemory?: number;
  namespace?: string;
  logToDriver?: boolean;
  env?: Record<string, string>;
}

export class EmbeddedNode {
  readonly nodeId = randomHex(14);
  readonly jobId = randomHex(4);
  readonly namespace: string;
  readonly address = "127.0.0.1";
  readonly gcs: Gcs;
  readonly arena: SharedArena;
  readonly table: ObjectTable;
  readonly raylet: Raylet;
  readonly driver: CoreWorker;

  constructor(config: NodeConfig) {
    this.namespace = config.namespace ?? randomUUID();
    const cpus = config.numCpus ?? os.availableParallelism();
    const gpus = config.numGpus ?? detectGpus();
    const storeBytes = config.objectStoreMemory ?? Math.floor(os.totalmem() * 0.3);
    const total: Record<string, number> = {
      CPU: cpus,
      memory: Math.floor(os.totalmem() * 0.7),
      object_store_memory: storeBytes,
      [`node:${this.address}`]: 1,
      ...config.resources,
    };
    if (gpus) total.GPU = gpus;
    if (!total.CPU) delete total.CPU;

    this.gcs = new Gcs();
    this.gcs.registerNode({ nodeId: this.nodeId, address: this.address, alive: true, isHead: true, resources: { ...total } });
    this.gcs.addJob({ jobId: this.jobId, namespace: this.namespace, startTime: Date.now(), status: "RUNNING" });
    this.arena = SharedArena.create(storeBytes);
    let raylet: Raylet | undefined;
    this.table = new ObjectTable(this.arena, (actorId) => raylet?.actors.onOutOfScope(actorId));
    this.raylet = raylet = new Raylet({
      nodeId: this.nodeId,
      address: this.address,
      gcs: this.gcs,
      table: this.table,
      arena: this.arena,
      resources: new ResourcePool(total),
      log: (message) => process.stderr.write(`tsray: ${message}\n`),
      defaultJob: { jobId: this.jobId, namespace: this.namespace, tsx: runsUnderTsx(), logToDriver: config.logToDriver ?? true, env: config.env ?? {} },
      workerPool: { nodeId: this.nodeId, arena: this.arena },
    });
    const [driverEnd, rayletEnd] = LocalChannel.pair<ToRaylet, FromRaylet>();
    const driverId = randomHex(6);
    this.raylet.connectDriver(rayletEnd, driverId);
    this.driver = new CoreWorker(
      { workerId: driverId, nodeId: this.nodeId, jobId: this.jobId, namespace: this.namespace, mode: "driver" },
      driverEnd,
      this.arena,
      (data, fresh) => makeActorHandle(coreWorker, data, fresh),
      undefined,
      {
        reclaim: (size) => this.raylet.reclaim(size),
        awaitResults: (stillWaiting) => this.raylet.awaitResults(stillWaiting),
        actorNameTaken: (namespace, name) => this.raylet.actors.liveActorNamed(namespace, name) !== undefined,
      },
    );
    // Two task workers ahead of demand, started while the caller of init waits (the driver has
    // nothing else to run then): a first task, or a first pair of parallel ones, finds them ready.
    this.ready = this.raylet.workers.prestart(Math.min(Math.ceil(cpus), 2));
  }

  /** Resolves once the workers started ahead of demand are ready. */
  readonly ready: Promise<void>;

  async close(): Promise<void> {
    this.driver.close();
    await this.raylet.close();
    this.table.clear();
    this.gcs.finishJob(this.jobId, "SUCCEEDED");
  }
}

/** GPUs the NVIDIA driver reports on Linux; 0 elsewhere. */
function detectGpus(): number {
  try {
    return readdirSync("/proc/driver/nvidia/gpus").length;
  } catch {
    return 0;
  }
}
