/**
 * The embedded single-node cluster that `init()` starts inside the calling process: GCS, the
 * node (object store, raylet with its worker threads) and the driver's core worker, built in
 * dependency order and closed in reverse. Nothing outlives `close()`.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { startDashboardServer, type HttpServer } from "../dashboard/http-server.js";
import { stateRoutes } from "../dashboard/state-routes.js";
import { staticRoutes } from "../dashboard/static-routes.js";
import { logRoutes } from "../dashboard/log-routes.js";
import { serveRoutes } from "../dashboard/serve-routes.js";
import { packageVersion } from "../common/version.js";
import { renderMetrics } from "../metrics/prometheus.js";
import { StateService } from "./state-service.js";
import { CoreWorker } from "../core-worker/core-worker.js";
import { makeActorHandle } from "../core-worker/actor-handle.js";
import { runsUnderTsx } from "../core-worker/function-manager/describe.js";
import { coreWorker } from "../core-worker/runtime.js";
import { randomHex } from "../common/ids.js";
import { Gcs } from "../gcs/gcs.js";
import type { ObjectTable } from "../object-store/object-table.js";
import type { SharedArena } from "../object-store/shared-arena.js";
import { LocalChannel } from "../rpc/channel.js";
import type { FromRaylet, ToRaylet } from "../rpc/protocol.js";
import type { Raylet } from "../raylet/raylet.js";
import { NodeCore, type NodeResourcesConfig } from "./node-core.js";

export interface NodeConfig extends NodeResourcesConfig {
  namespace?: string;
  logToDriver?: boolean;
  env?: Record<string, string>;
  workingDir?: string;
}

export class EmbeddedNode {
  readonly jobId = randomHex(4);
  readonly namespace: string;
  readonly address = "127.0.0.1";
  readonly gcs = new Gcs();
  readonly node: NodeCore;
  readonly driver: CoreWorker;

  constructor(config: NodeConfig) {
    this.namespace = config.namespace ?? randomUUID();
    this.node = new NodeCore({
      ...config,
      ip: this.address,
      gcs: this.gcs,
      defaultJob: { jobId: this.jobId, namespace: this.namespace, tsx: runsUnderTsx(), logToDriver: config.logToDriver ?? true, env: config.env ?? {}, workingDir: config.workingDir },
      log: this.log,
    });
    this.gcs.registerNode({ nodeId: this.nodeId, address: this.address, alive: true, isHead: true, resources: { ...this.node.total } });
    this.gcs.addJob({ jobId: this.jobId, namespace: this.namespace, startTime: Date.now(), status: "RUNNING" });
    const [driverEnd, rayletEnd] = LocalChannel.pair<ToRaylet, FromRaylet>();
    const driverId = randomHex(6);
    this.raylet.connectDriver(rayletEnd, driverId, () => {
      this.driver.collect();
      driverEnd.flushNow();
    });
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
    this.ready = this.raylet.workers.prestart(Math.min(Math.ceil(this.node.cpus), 2));
  }

  get nodeId(): string {
    return this.node.nodeId;
  }
  get raylet(): Raylet {
    return this.node.raylet;
  }
  get arena(): SharedArena {
    return this.node.arena;
  }
  get table(): ObjectTable {
    return this.node.table;
  }

  /** Resolves once the workers started ahead of demand are ready. */
  readonly ready: Promise<void>;

  /** Serves the dashboard (its pages, the state API, the metrics) on `host:port` (see startDashboardServer); returns its URL. */
  async serveDashboard(host: string, port: number): Promise<string> {
    const state = new StateService(this.gcs, this.raylet);
    const info = { address: this.address, head_node_id: this.nodeId, version: packageVersion(), started_at: Date.now() };
    // No state-changing route here yet; a token nobody has keeps other machines from reading.
    // serveRoutes: this process is the driver, connected already.
    const routes = [stateRoutes(state, () => renderMetrics(this.gcs, this.raylet), info), logRoutes(this.nodeId, undefined), serveRoutes(), staticRoutes()];
    this.dashboard = await startDashboardServer({ host, port, token: randomBytes(24).toString("hex"), log: this.log, routes });
    return this.dashboard.url;
  }

  private dashboard?: HttpServer;
  private readonly log = (message: string) => process.stderr.write(`tsray: ${message}\n`);

  async close(): Promise<void> {
    await this.dashboard?.close();
    this.driver.close();
    await this.node.close();
    this.gcs.finishJob(this.jobId, "SUCCEEDED");
  }
}
