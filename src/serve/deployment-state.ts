/**
 * One deployment's replicas, as the controller keeps them (Ray's DeploymentState). reconcile(),
 * called every 100 ms and after every change, moves the replicas towards the target:
 *
 * - Starts replicas (actors in worker processes of their own, named
 *   SERVE_REPLICA::<app>#<deployment>#<replicaId> in namespace "serve") until the target count of
 *   the current version are STARTING or RUNNING. A replica is RUNNING (and routed to) once its
 *   ready() answered: constructed, init, reconfigure(userConfig), checkHealth.
 * - A start that fails counts; after min(maxConstructorRetryCount, 3 x target) failures with no
 *   replica running, the deployment is DEPLOY_FAILED (run() then rejects with the error).
 * - A new version (code, arguments, resources) rolls: up to max(1, 20% of target) new replicas
 *   start beside the old ones, and an old one stops only once a new one is RUNNING, so never fewer
 *   than target run. userConfig and maxOngoingRequests changes apply in place.
 * - A replica whose actor died (its watch() call failed) is dropped and replaced; one whose
 *   checkHealth threw or hung past healthCheckTimeoutMs 3 times in a row is stopped and replaced.
 * - With autoscaling (autoscaler.ts) the target follows the routers' reports of ongoing requests;
 *   status() says UPSCALING / DOWNSCALING until the replicas match it again.
 * - Stopping is graceful: unrouted first (routers are told it is stopping), then drain() (new
 *   calls refused, running requests finish, up to gracefulShutdownTimeoutMs, then the user's
 *   shutdown()), then the actor is killed. A replica whose drain() answered is listed as drained
 *   for a while: a call that failed with its kill had not started (retry-rule.ts).
 * - The multiplexed model ids each replica reports (recordModelIds) go to the routers with it.
 */
import { randomUUID } from "node:crypto";
import * as ray from "tsray";
import type { DeploymentSpec } from "./app-spec.js";
import { Autoscaler } from "./autoscaler.js";
import { SERVE_NAMESPACE, type ReplicaHandle, type RoutingUpdate } from "./controller-client.js";
import { ServeReplica, replicaModule } from "./replica.js";

export type DeploymentStatus = "UPDATING" | "HEALTHY" | "UNHEALTHY" | "DEPLOY_FAILED" | "UPSCALING" | "DOWNSCALING";
export type ReplicaStateName = "STARTING" | "UPDATING" | "RECOVERING" | "RUNNING" | "STOPPING";
export interface ReplicaDetails {
  replicaId: string;
  state: ReplicaStateName;
  nodeId: string;
  actorName: string;
  pid: number;
  version: string;
}
export interface DeploymentStatusOverview {
  status: DeploymentStatus;
  message: string;
  targetNumReplicas: number;
  replicas: ReplicaDetails[];
}

interface Replica {
  readonly replicaId: string;
  readonly actorName: string;
  readonly actor: ReplicaHandle;
  readonly version: string;
  state: ReplicaStateName;
  pid: number;
  nodeId: string;
  healthFailures: number;
  healthCheckAt: number;
  checking: boolean;
  readonly startedAt: number;
  /** The multiplexed model ids it reported loaded (model-reports.ts). */
  modelIds: string[];
}

const ReplicaActor = ray.util.remoteExport(replicaModule, ServeReplica);
/** Health checks failed in a row after which a replica is replaced (Ray's threshold). */
const HEALTH_FAILURES = 3;
/**
 * Actor call slots of a replica: it admits requests itself (maxOngoingRequests, which may change
 * in place; those waiting can be refused when it stops), so the actor's own limit only has to
 * stay out of the way, with room beyond for the calls that are not requests (health, cancel,
 * next, watch).
 */
const CALL_SLOTS = 1000;
const CONTROL_SLOTS = 32;
/** How long a replica may start before status() says it seems stuck. */
const PENDING_START_MS = 30_000;
/** How long a drained replica stays listed as such for routers (RoutingUpdate.drained). */
const DRAINED_LISTED_MS = 60_000;

export class DeploymentState {
  #spec: DeploymentSpec;
  readonly #replicas = new Map<string, Replica>();
  /** Replicas stopped gracefully: id → when. */
  readonly #drained = new Map<string, number>();
  #failedStarts = 0;
  #failed = false;
  #wasHealthy = false;
  #routingVersion = "";
  #autoscaler: Autoscaler | undefined;
  /** Set when the autoscaler moved the target, until the replicas match it. */
  #scaling: "UPSCALING" | "DOWNSCALING" | undefined;
  deleting = false;
  message = "";
  lastError: { name: string; message: string; stack?: string } | undefined;

  constructor(readonly appName: string, spec: DeploymentSpec, readonly publish: () => void) {
    this.#spec = spec;
    if (spec.options.autoscaling !== undefined) this.#autoscaler = new Autoscaler(spec.options.autoscaling);
  }

  get name(): string {
    return this.#spec.name;
  }

  get status(): DeploymentStatus {
    if (this.#failed) return "DEPLOY_FAILED";
    const target = this.#target();
    const replicas = [...this.#replicas.values()].filter((r) => r.state !== "STOPPING");
    const current = replicas.filter((r) => r.version === this.#spec.version);
    const running = current.filter((r) => r.state === "RUNNING" || r.state === "RECOVERING").length;
    // Scaled down: until the drained replicas are gone.
    if (this.#scaling === "DOWNSCALING" && replicas.length <= target && this.#replicas.size > replicas.length) return this.#scaling;
    if (running === target && replicas.length === target) {
      this.#wasHealthy = true;
      this.#scaling = undefined;
      return "HEALTHY";
    }
    if (this.#scaling !== undefined && current.length === replicas.length) return this.#scaling;
    return this.#wasHealthy && running < target && current.length === replicas.length ? "UNHEALTHY" : "UPDATING";
  }

  update(spec: DeploymentSpec): void {
    const old = this.#spec;
    this.#spec = spec;
    const auto = spec.options.autoscaling;
    if (auto === undefined) this.#autoscaler = undefined;
    else if (this.#autoscaler === undefined) this.#autoscaler = new Autoscaler(auto);
    else this.#autoscaler.configure(auto);
    this.#scaling = undefined;
    this.#failed = false;
    this.#failedStarts = 0;
    this.message = "";
    this.lastError = undefined;
    if (spec.version === old.version) {
      const running = [...this.#replicas.values()].filter((r) => r.state === "RUNNING" && r.version === spec.version);
      if (JSON.stringify(spec.options.userConfig) !== JSON.stringify(old.options.userConfig) && spec.options.userConfig !== undefined) {
        for (const r of running) void ray.get(r.actor.reconfigure.remote(spec.options.userConfig)).catch((err) => this.#noteError(err, "reconfigure"));
      }
      if (spec.options.maxOngoingRequests !== old.options.maxOngoingRequests) {
        for (const r of running) void ray.get(r.actor.setMaxOngoingRequests.remote(spec.options.maxOngoingRequests)).catch(() => {});
      }
    }
    this.publish();
  }

  delete(): void {
    this.deleting = true;
    this.publish();
  }

  isStopped(): boolean {
    return this.#replicas.size === 0;
  }

  /** The replica count aimed for now: numReplicas, or the autoscaler's latest decision. */
  #target(): number {
    return this.deleting ? 0 : this.#autoscaler?.target ?? this.#spec.options.numReplicas;
  }

  /** After adopt()s: the autoscaler goes on from the replicas taken over. */
  resumeAutoscaling(): void {
    this.#autoscaler?.resume([...this.#replicas.values()].filter((r) => r.state !== "STOPPING").length);
  }

  /** A router's report of its ongoing requests (autoscaler.ts); ignored without autoscaling. */
  recordOngoing(routerId: string, ongoing: number): void {
    this.#autoscaler?.record(routerId, ongoing);
  }

  /** A replica's report of its loaded multiplexed model ids; published when they changed. */
  recordModelIds(replicaId: string, modelIds: string[]): void {
    const replica = this.#replicas.get(replicaId);
    if (replica === undefined || JSON.stringify(replica.modelIds) === JSON.stringify(modelIds)) return;
    replica.modelIds = modelIds;
    if (replica.state === "RUNNING" || replica.state === "RECOVERING") this.publish();
  }

  setRoutingVersion(version: string): void {
    this.#routingVersion = version;
  }

  routing(): RoutingUpdate {
    const unavailable = this.deleting ? `deployment '${this.name}' of application '${this.appName}' was deleted`
      : this.#failed ? `deployment '${this.name}' of application '${this.appName}' failed to deploy: ${this.message}` : null;
    const now = Date.now();
    for (const [id, at] of this.#drained) if (now - at > DRAINED_LISTED_MS) this.#drained.delete(id);
    return {
      version: this.#routingVersion,
      unavailable,
      replicas: unavailable !== null ? [] : [...this.#replicas.values()]
        .filter((r) => r.state === "RUNNING" || r.state === "RECOVERING")
        .map((r) => ({ replicaId: r.replicaId, actor: r.actor, modelIds: r.modelIds })),
      stopping: [...this.#replicas.values()].filter((r) => r.state === "STOPPING").map((r) => r.replicaId),
      drained: [...this.#drained.keys()],
      maxOngoingRequests: this.#spec.options.maxOngoingRequests,
      maxQueuedRequests: this.#spec.options.maxQueuedRequests,
      metricsIntervalMs: this.#spec.options.autoscaling?.metricsIntervalMs ?? null,
    };
  }

  overview(): DeploymentStatusOverview {
    return {
      status: this.status,
      message: this.message,
      targetNumReplicas: this.#target(),
      replicas: [...this.#replicas.values()].map((r) => ({
        replicaId: r.replicaId, state: r.state, nodeId: r.nodeId, actorName: r.actorName, pid: r.pid, version: r.version,
      })),
    };
  }

  /** The replicas a restarted controller should take over (state-store.ts); stopping ones to stop again. */
  record(): { replicaId: string; actorName: string; version: string; stopping?: boolean }[] {
    return [...this.#replicas.values()].filter((r) => r.state === "RUNNING" || r.state === "RECOVERING" || (r.state === "STOPPING" && r.pid !== 0))
      .map((r) => ({ replicaId: r.replicaId, actorName: r.actorName, version: r.version, ...(r.state === "STOPPING" ? { stopping: true } : {}) }));
  }

  /**
   * Takes over a replica a previous controller started: RECOVERING (and routed to) until it says
   * where it runs, then RUNNING; gone if its actor is.
   */
  async adopt(record: { replicaId: string; actorName: string; version: string; stopping?: boolean }): Promise<void> {
    let actor: ReplicaHandle;
    try {
      actor = (await ray.getActor(record.actorName, { namespace: SERVE_NAMESPACE })) as ReplicaHandle;
    } catch {
      return; // died meanwhile: reconcile() replaces it
    }
    const replica: Replica = {
      replicaId: record.replicaId, actorName: record.actorName, actor, version: record.version, state: "RECOVERING",
      pid: 0, nodeId: "", healthFailures: 0, healthCheckAt: Date.now() + this.#spec.options.healthCheckPeriodMs, checking: false,
      startedAt: Date.now(), modelIds: [],
    };
    this.#replicas.set(replica.replicaId, replica);
    try {
      const { pid, nodeId, modelIds } = await ray.get(actor.info.remote());
      replica.pid = pid;
      replica.nodeId = nodeId;
      replica.modelIds = modelIds ?? [];
      if (replica.state === "RECOVERING") replica.state = "RUNNING";
      this.#watch(replica);
      // Its previous controller was stopping it: drained again (calls there answered or refused), then killed.
      if (record.stopping && replica.state === "RUNNING") this.#stop(replica);
    } catch {
      this.#replicas.delete(replica.replicaId);
    }
    this.publish();
  }

  reconcile(): void {
    if (this.#autoscaler !== undefined && !this.deleting && !this.#failed) {
      const before = this.#autoscaler.target;
      if (this.#autoscaler.decide()) {
        this.#scaling = this.#autoscaler.target > before ? "UPSCALING" : "DOWNSCALING";
        this.publish();
      }
    }
    const target = this.#target();
    const live = [...this.#replicas.values()].filter((r) => r.state !== "STOPPING");
    const current = live.filter((r) => r.version === this.#spec.version);
    const old = live.filter((r) => r.version !== this.#spec.version);
    if (this.deleting) {
      for (const r of live) this.#stop(r);
      return;
    }
    // Start the current version up to target, at most `surge` at a time while old ones still run.
    const surge = old.length > 0 ? Math.max(1, Math.floor(0.2 * target)) : Infinity;
    let starting = current.filter((r) => r.state === "STARTING").length;
    for (let n = current.length; n < target && starting < surge && !this.#failed; n++, starting++) this.#start();
    // Too many of the current version: stop the starting ones first.
    const excess = current.length - target;
    if (excess > 0) {
      const byStartingFirst = [...current].sort((a, b) => Number(b.state === "STARTING") - Number(a.state === "STARTING"));
      for (const r of byStartingFirst.slice(0, excess)) this.#stop(r);
    }
    // Old versions stop as new ones run: never fewer than target running.
    const currentRunning = current.filter((r) => r.state === "RUNNING").length;
    const oldToStop = Math.max(0, Math.min(old.length, currentRunning + old.length - target));
    const oldByStartingFirst = [...old].sort((a, b) => Number(b.state === "STARTING") - Number(a.state === "STARTING"));
    for (const r of oldByStartingFirst.slice(0, oldToStop)) this.#stop(r);
    this.#checkHealth();
    this.#notePendingStarts();
  }

  /** A replica starting for long is most often waiting for resources no node has free: status() says so (Ray warns). */
  #notePendingStarts(): void {
    const slow = [...this.#replicas.values()].find((r) => r.state === "STARTING" && Date.now() - r.startedAt > PENDING_START_MS);
    if (slow === undefined || this.message.startsWith("deployment '")) return;
    this.message = `replica ${slow.replicaId} has been starting for ${Math.round((Date.now() - slow.startedAt) / 1000)} s: is the cluster short of the resources it asks (${JSON.stringify(this.#spec.options.rayActorOptions)})?`;
  }

  #start(): void {
    const replicaId = randomUUID().replace(/-/g, "").slice(0, 8);
    const actorName = `SERVE_REPLICA::${this.appName}#${this.name}#${replicaId}`;
    const spec = this.#spec;
    const o = spec.options;
    const actor = ReplicaActor.options({
      name: actorName, namespace: SERVE_NAMESPACE, lifetime: "detached", isolation: "process",
      // Over the cluster's nodes, as Ray Serve spreads a deployment's replicas (one node's loss then takes few of them).
      schedulingStrategy: "SPREAD",
      maxConcurrency: Math.max(CALL_SLOTS, 2 * o.maxOngoingRequests + CONTROL_SLOTS), ...o.rayActorOptions,
    }).remote({
      appName: this.appName, deployment: this.name, replicaId, shipped: spec.shipped, isClass: spec.isClass, args: spec.args,
      maxOngoingRequests: o.maxOngoingRequests, ...(o.userConfig !== undefined ? { userConfig: o.userConfig } : {}),
    });
    const replica: Replica = {
      replicaId, actorName, actor, version: spec.version, state: "STARTING", pid: 0, nodeId: "",
      healthFailures: 0, healthCheckAt: Date.now() + o.healthCheckPeriodMs, checking: false, startedAt: Date.now(), modelIds: [],
    };
    this.#replicas.set(replicaId, replica);
    void ray.get(actor.ready.remote()).then(
      ({ pid, nodeId }) => {
        replica.pid = pid;
        replica.nodeId = nodeId;
        if (replica.state !== "STARTING") return;
        replica.state = "RUNNING";
        this.#failedStarts = 0;
        if (this.message.includes("has been starting")) this.message = "";
        this.#watch(replica);
        this.publish();
      },
      (err) => {
        if (replica.state === "STOPPING") return;
        this.#failedStarts++;
        this.#noteError(err, "start");
        this.#replicas.delete(replicaId);
        void ray.kill(actor, { noRestart: true }).catch(() => {});
        const limit = Math.min(o.maxConstructorRetryCount, 3 * Math.max(1, this.#target()));
        const running = [...this.#replicas.values()].some((r) => r.state === "RUNNING");
        if (this.#failedStarts >= limit && !running && spec === this.#spec) this.#failed = true;
        this.publish();
      },
    );
  }

  /** Learns of the actor's death: its watch() call fails then. */
  #watch(replica: Replica): void {
    void ray.get(replica.actor.watch.remote()).catch(() => {
      if (replica.state === "STOPPING" || this.#replicas.get(replica.replicaId) !== replica) return;
      this.message = `replica ${replica.replicaId} died; replacing it`;
      this.#replicas.delete(replica.replicaId);
      this.publish();
    });
  }

  #checkHealth(): void {
    const now = Date.now();
    const o = this.#spec.options;
    for (const replica of this.#replicas.values()) {
      if (replica.state !== "RUNNING" || replica.checking || now < replica.healthCheckAt) continue;
      replica.checking = true;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`checkHealth did not answer within ${o.healthCheckTimeoutMs} ms`)), o.healthCheckTimeoutMs);
      });
      void Promise.race([ray.get(replica.actor.checkHealth.remote()), timeout]).then(
        () => { replica.healthFailures = 0; },
        (err) => {
          replica.healthFailures++;
          this.#noteError(err, "health check");
          if (replica.healthFailures >= HEALTH_FAILURES && replica.state === "RUNNING") {
            this.message = `replica ${replica.replicaId} failed ${HEALTH_FAILURES} health checks in a row (${this.message}); replacing it`;
            this.#stop(replica);
          }
        },
      ).finally(() => {
        clearTimeout(timer);
        replica.checking = false;
        replica.healthCheckAt = Date.now() + o.healthCheckPeriodMs;
      });
    }
  }

  #stop(replica: Replica): void {
    if (replica.state === "STOPPING") return;
    const wasStarting = replica.state === "STARTING";
    replica.state = "STOPPING";
    this.publish();
    const graceMs = this.#spec.options.gracefulShutdownTimeoutMs;
    void (async () => {
      // A starting replica got no calls.
      let drained = wasStarting;
      if (!wasStarting) {
        let timer: NodeJS.Timeout | undefined;
        drained = await Promise.race([
          ray.get(replica.actor.drain.remote(graceMs)).then(() => true, () => false),
          // drain() itself hangs no longer than graceMs plus the user's shutdown(); this bounds the latter.
          new Promise<boolean>((r) => { timer = setTimeout(() => r(false), graceMs + 10_000); }),
        ]);
        clearTimeout(timer);
      }
      await ray.kill(replica.actor, { noRestart: true }).catch(() => {});
      if (drained) this.#drained.set(replica.replicaId, Date.now());
      this.#replicas.delete(replica.replicaId);
      this.publish();
    })();
  }

  #noteError(err: unknown, what: string): void {
    const cause = (err as { cause?: unknown })?.cause instanceof Error ? (err as { cause: Error }).cause : err as Error;
    const name = cause?.name ?? "Error";
    const message = cause?.message ?? String(err);
    this.lastError = { name, message, ...(cause?.stack ? { stack: cause.stack } : {}) };
    this.message = `deployment '${this.name}' of application '${this.appName}': a replica's ${what} failed: ${name}: ${message}`;
  }
}
