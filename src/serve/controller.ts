/**
 * The Serve controller: one detached named actor (SERVE_CONTROLLER_ACTOR, namespace "serve") that
 * owns the applications, their deployments' replicas, the route table and the proxies (one per
 * node, proxy-state.ts). Workers import this module by its URL (util.remoteExport). Calls
 * interleave (an async actor with many calls at once: long polls wait here), so every decision is
 * made synchronously between awaits; one reconcile loop (deployment-state.ts) does all the
 * starting and stopping.
 */
import { randomUUID } from "node:crypto";
import * as ray from "tsray";
import type { AppSpec } from "./app-spec.js";
import { SERVE_NAMESPACE, type RouteTable, type RoutingUpdate } from "./controller-client.js";
import { DeploymentState, type DeploymentStatusOverview } from "./deployment-state.js";
import { RayServeError } from "./errors.js";
import type { StartOptions } from "./proxy.js";
import { ProxyState, type ProxyDetails, type ProxyLocation, type ProxyRecord, type ProxyStatus } from "./proxy-state.js";
import { ServeStateStore, STATE_STORE_NAME, stateStoreModule } from "./state-store.js";

export type ApplicationStatus = "NOT_STARTED" | "DEPLOYING" | "DEPLOY_FAILED" | "RUNNING" | "UNHEALTHY" | "DELETING";
export interface ApplicationStatusOverview {
  status: ApplicationStatus;
  message: string;
  routePrefix: string | null;
  deployments: Record<string, DeploymentStatusOverview>;
}
export type { ProxyStatus } from "./proxy-state.js";
export interface ServeStatus {
  proxies: Record<string, ProxyStatus>;
  applications: Record<string, ApplicationStatusOverview>;
}

/** What run() waits for: the app's status once it is no longer deploying, and the start error if it failed. */
export interface AppOutcome {
  status: ApplicationStatus | "MISSING";
  message: string;
  error?: { name: string; message: string; stack?: string };
}

interface AppState {
  spec: AppSpec;
  deleting: boolean;
  wasRunning: boolean;
}

/** This module, whose ServeController workers import (util.remoteExport). */
export const controllerModule = import.meta.url;

const StoreActor = ray.util.remoteExport(stateStoreModule, ServeStateStore);
const RECONCILE_MS = 100;
const LONG_POLL_MS = 10_000;

export class ServeController {
  readonly #incarnation = randomUUID().slice(0, 8);
  #counter = 0;
  readonly #apps = new Map<string, AppState>();
  readonly #deployments = new Map<string, DeploymentState>();
  readonly #waiters = new Map<string, Set<() => void>>();
  #routesVersion: string;
  readonly #proxies = new ProxyState(
    (record) => void ray.get(this.#store.put.remote(`proxy:${record.nodeId}`, record)).catch(() => {}),
    (nodeId) => void ray.get(this.#store.delete.remote(`proxy:${nodeId}`)).catch(() => {}),
  );
  #proxiesConfigured = false;
  readonly #timer: NodeJS.Timeout;
  #reconciling = false;

  /** Set by #recover() before anything writes to it. */
  #store!: ray.ActorHandle<ServeStateStore>;
  /** Settles once what a previous controller left (state-store.ts) is taken over; every call waits for it. */
  readonly #recovered: Promise<void>;

  constructor() {
    this.#routesVersion = this.#nextVersion();
    this.#recovered = this.#recover().catch((err) => {
      console.error(`Serve controller: could not take over the previous controller's state, starting empty: ${(err as Error).message}`);
    });
    this.#timer = setInterval(() => void this.#reconcile(), RECONCILE_MS);
  }

  /** A restarted controller: the apps, their running replicas (RECOVERING, not restarted) and the proxies, read back. */
  async #recover(): Promise<void> {
    try {
      // A restarted controller finds its predecessor's store by name.
      this.#store = (await ray.getActor(STATE_STORE_NAME, { namespace: SERVE_NAMESPACE })) as ray.ActorHandle<ServeStateStore>;
    } catch {
      this.#store = StoreActor.options({ name: STATE_STORE_NAME, namespace: SERVE_NAMESPACE, lifetime: "detached", getIfExists: true, numCpus: 0 }).remote();
    }
    const entries = new Map(await ray.get(this.#store.entries.remote()));
    const proxyConfig = entries.get("proxies") as { location: ProxyLocation; http: NonNullable<StartOptions["http"]> } | undefined;
    if (proxyConfig !== undefined) {
      this.#proxiesConfigured = true;
      this.#proxies.configure(proxyConfig.location, proxyConfig.http);
    }
    const adoptions: Promise<void>[] = [
      this.#proxies.adopt([...entries].filter(([k]) => k.startsWith("proxy:")).map(([, v]) => v as ProxyRecord)),
    ];
    for (const [k, value] of entries) {
      if (!k.startsWith("app:")) continue;
      const spec = value as AppSpec;
      this.#apps.set(spec.name, { spec, deleting: false, wasRunning: true });
      for (const d of spec.deployments) {
        const dk = key(spec.name, d.name);
        const state = new DeploymentState(spec.name, d, () => this.#publish(dk));
        this.#deployments.set(dk, state);
        const records = (entries.get(`replicas:${dk}`) ?? []) as Parameters<DeploymentState["adopt"]>[0][];
        adoptions.push(...records.map((r) => state.adopt(r)));
      }
    }
    await Promise.all(adoptions);
    for (const state of this.#deployments.values()) state.resumeAutoscaling();
    for (const dk of this.#deployments.keys()) this.#publish(dk);
    this.#publishRoutes();
  }

  /**
   * Starts the proxies where `location` says (proxy-state.ts), once: later calls get the first
   * configuration's. Resolves with the head's proxy URL, or null with proxies disabled.
   */
  async startProxies(location: ProxyLocation, http: NonNullable<StartOptions["http"]>): Promise<string | null> {
    await this.#recovered;
    if (!this.#proxiesConfigured) {
      this.#proxiesConfigured = true;
      this.#proxies.configure(location, http);
      void ray.get(this.#store.put.remote("proxies", { location, http })).catch(() => {});
    }
    if (!this.#proxies.configured) return null;
    try {
      return await this.#proxies.headUrl();
    } catch (err) {
      // The head's proxy cannot listen: start() fails with why, and may be called again.
      this.#proxiesConfigured = false;
      await this.#proxies.stopAll();
      void ray.get(this.#store.delete.remote("proxies")).catch(() => {});
      throw err;
    }
  }

  /** Each proxy's node, status, URL and message (status() has the statuses only). */
  async proxyDetails(): Promise<ProxyDetails[]> {
    await this.#recovered;
    return this.#proxies.details();
  }

  /** Deploys or updates an application; run() then waits with waitApp(). */
  async deployApp(spec: AppSpec): Promise<void> {
    await this.#recovered;
    if (spec.routePrefix !== null) {
      for (const [name, app] of this.#apps) {
        if (name !== spec.name && !app.deleting && app.spec.routePrefix === spec.routePrefix) {
          throw new RayServeError(`route prefix ${spec.routePrefix} is already used by application '${name}': give application '${spec.name}' another`);
        }
      }
    }
    const existing = this.#apps.get(spec.name);
    if (existing?.deleting) throw new RayServeError(`application '${spec.name}' is being deleted; deploy it again once deleteApp() resolved`);
    const names = new Set(spec.deployments.map((d) => d.name));
    if (existing !== undefined) {
      for (const old of existing.spec.deployments) {
        if (!names.has(old.name)) this.#deployments.get(key(spec.name, old.name))?.delete();
      }
    }
    for (const d of spec.deployments) {
      const k = key(spec.name, d.name);
      const state = this.#deployments.get(k);
      if (state === undefined || state.deleting) {
        this.#deployments.set(k, new DeploymentState(spec.name, d, () => this.#publish(k)));
        this.#publish(k);
      } else {
        state.update(d);
      }
    }
    this.#apps.set(spec.name, { spec, deleting: false, wasRunning: existing?.wasRunning ?? false });
    void ray.get(this.#store.put.remote(`app:${spec.name}`, spec));
    this.#publishRoutes();
    void this.#reconcile();
  }

  /** Resolves once the app is RUNNING, failed, or gone (or after timeoutMs, with its status then). */
  async waitApp(name: string, timeoutMs: number): Promise<AppOutcome> {
    await this.#recovered;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const outcome = this.#outcome(name);
      if (outcome.status !== "DEPLOYING" && outcome.status !== "DELETING") return outcome;
      if (Date.now() >= deadline) return outcome;
      await this.#wait(`app:${name}`, deadline - Date.now());
    }
  }

  /** Deletes an application; resolves once its replicas stopped. */
  async deleteApp(name: string): Promise<void> {
    await this.#recovered;
    const app = this.#apps.get(name);
    if (app === undefined) return;
    app.deleting = true;
    for (const d of app.spec.deployments) this.#deployments.get(key(name, d.name))?.delete();
    this.#publishRoutes();
    void this.#reconcile();
    while (this.#apps.get(name) === app) await this.#wait(`app:${name}`, LONG_POLL_MS);
  }

  /**
   * serve.deploy(): afterwards exactly these applications run (the others are deleted, these
   * deployed or updated as by deployApp()), and `config` is what lastConfig() answers, kept in the
   * state store so that a restarted controller still knows it. The caller checked the specs
   * against each other (names, route prefixes).
   */
  async deployConfig(specs: AppSpec[], config: unknown): Promise<void> {
    await this.#recovered;
    const wanted = new Set(specs.map((s) => s.name));
    // Each deleteApp() marks its app deleting once it has awaited the settled #recovered, a
    // continuation queued before the await below, so the apps that go free their route prefixes
    // before deployApp() checks them.
    for (const name of [...this.#apps.keys()]) if (!wanted.has(name)) void this.deleteApp(name);
    await this.#recovered;
    for (const spec of specs) {
      // Left out by a config just before and still draining: deployed again once it is gone.
      while (this.#apps.get(spec.name)?.deleting) await this.#wait(`app:${spec.name}`, LONG_POLL_MS);
      await this.deployApp(spec);
    }
    await ray.get(this.#store.put.remote("config", config));
  }

  /** The config serve.deploy() gave last (null if none since Serve started). */
  async lastConfig(): Promise<unknown> {
    await this.#recovered;
    return (await ray.get(this.#store.get.remote("config"))) ?? null;
  }

  /** Deletes every application and stops the proxies (whose ports are then free); the caller then kills this actor. */
  async shutdown(): Promise<void> {
    await Promise.all([...this.#apps.keys()].map((name) => this.deleteApp(name)));
    clearInterval(this.#timer);
    await this.#proxies.stopAll();
    await ray.kill(this.#store).catch(() => {});
  }

  async status(): Promise<ServeStatus> {
    await this.#recovered;
    const applications: Record<string, ApplicationStatusOverview> = {};
    for (const name of this.#apps.keys()) {
      const app = this.#apps.get(name)!;
      const deployments: Record<string, DeploymentStatusOverview> = {};
      for (const d of app.spec.deployments) {
        const state = this.#deployments.get(key(name, d.name));
        if (state !== undefined) deployments[d.name] = state.overview();
      }
      const outcome = this.#outcome(name);
      applications[name] = { status: outcome.status as ApplicationStatus, message: outcome.message, routePrefix: app.spec.routePrefix, deployments };
    }
    return { proxies: this.#proxies.status(), applications };
  }

  /** The ingress deployment of an application, for getAppHandle(). */
  async ingressOf(appName: string): Promise<string | null> {
    await this.#recovered;
    const app = this.#apps.get(appName);
    return app === undefined || app.deleting ? null : app.spec.ingress;
  }

  async hasDeployment(appName: string, deploymentName: string): Promise<boolean> {
    await this.#recovered;
    const state = this.#deployments.get(key(appName, deploymentName));
    return state !== undefined && !state.deleting;
  }

  /** Long poll of a router: answers at once if `version` is not the current one, else when it changes (or after a while). */
  async listen(appName: string, deploymentName: string, version: string): Promise<RoutingUpdate> {
    await this.#recovered;
    const k = key(appName, deploymentName);
    if (this.#routingOf(k).version === version) await this.#wait(`dep:${k}`, LONG_POLL_MS);
    return this.#routingOf(k);
  }

  /** A router's ongoing requests (queued at it + sent and not settled), every metricsIntervalMs: autoscaling's input. */
  recordOngoing(appName: string, deploymentName: string, routerId: string, ongoing: number): void {
    this.#deployments.get(key(appName, deploymentName))?.recordOngoing(routerId, ongoing);
  }

  /** A replica's multiplexed model ids, at every change (model-reports.ts): published to the routers. */
  recordModelIds(appName: string, deploymentName: string, replicaId: string, modelIds: string[]): void {
    this.#deployments.get(key(appName, deploymentName))?.recordModelIds(replicaId, modelIds);
  }

  /** Long poll of a proxy for the route table. */
  async listenRoutes(version: string): Promise<RouteTable> {
    await this.#recovered;
    if (this.#routesVersion === version) await this.#wait("routes", LONG_POLL_MS);
    return this.#routes();
  }

  #routes(): RouteTable {
    const routes: RouteTable["routes"] = [];
    for (const [appName, app] of this.#apps) {
      if (!app.deleting && app.spec.routePrefix !== null) routes.push({ prefix: app.spec.routePrefix, appName, ingress: app.spec.ingress });
    }
    return { version: this.#routesVersion, routes };
  }

  #routingOf(k: string): RoutingUpdate {
    const state = this.#deployments.get(k);
    if (state === undefined) {
      const [app, dep] = k.split("#");
      return { version: `${this.#incarnation}:none`, unavailable: `deployment '${dep}' of application '${app}' does not exist (deleted, or never deployed)`, replicas: [], maxOngoingRequests: 5, maxQueuedRequests: -1, metricsIntervalMs: null };
    }
    return state.routing();
  }

  #outcome(name: string): AppOutcome {
    const app = this.#apps.get(name);
    if (app === undefined) return { status: "MISSING", message: `no application '${name}'` };
    if (app.deleting) return { status: "DELETING", message: "" };
    const states = app.spec.deployments.map((d) => this.#deployments.get(key(name, d.name))).filter((s): s is DeploymentState => s !== undefined);
    const failed = states.find((s) => s.status === "DEPLOY_FAILED");
    if (failed !== undefined) return { status: "DEPLOY_FAILED", message: failed.message, ...(failed.lastError ? { error: failed.lastError } : {}) };
    // Scaling with load is running: the app is not redeploying.
    if (states.every((s) => s.status === "HEALTHY" || s.status === "UPSCALING" || s.status === "DOWNSCALING")) {
      app.wasRunning = true;
      return { status: "RUNNING", message: "" };
    }
    const unhealthy = states.find((s) => s.status === "UNHEALTHY");
    if (unhealthy !== undefined && app.wasRunning) return { status: "UNHEALTHY", message: unhealthy.message };
    return { status: "DEPLOYING", message: states.find((s) => s.message !== "")?.message ?? "" };
  }

  #nextVersion(): string {
    return `${this.#incarnation}:${++this.#counter}`;
  }

  #publish(k: string): void {
    const state = this.#deployments.get(k);
    state?.setRoutingVersion(this.#nextVersion());
    if (state !== undefined) void ray.get(this.#store.put.remote(`replicas:${k}`, state.record())).catch(() => {});
    this.#wake(`dep:${k}`);
    this.#wake(`app:${k.split("#")[0]}`);
  }

  #publishRoutes(): void {
    this.#routesVersion = this.#nextVersion();
    this.#wake("routes");
  }

  #wait(topic: string, ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let set = this.#waiters.get(topic);
      if (set === undefined) this.#waiters.set(topic, (set = new Set()));
      const done = () => {
        clearTimeout(timer);
        set!.delete(done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      set.add(done);
    });
  }

  #wake(topic: string): void {
    const set = this.#waiters.get(topic);
    if (set === undefined) return;
    this.#waiters.delete(topic);
    for (const done of set) done();
  }

  async #reconcile(): Promise<void> {
    if (this.#reconciling) return;
    this.#reconciling = true;
    try {
      await this.#recovered;
      for (const [k, state] of this.#deployments) {
        state.reconcile();
        if (state.deleting && state.isStopped()) {
          this.#deployments.delete(k);
          this.#wake(`dep:${k}`);
        }
      }
      for (const [name, app] of this.#apps) {
        if (app.deleting && app.spec.deployments.every((d) => !this.#deployments.has(key(name, d.name)))) {
          this.#apps.delete(name);
          void ray.get(this.#store.delete.remote(`app:${name}`)).catch(() => {});
          for (const d of app.spec.deployments) void ray.get(this.#store.delete.remote(`replicas:${key(name, d.name)}`)).catch(() => {});
          this.#wake(`app:${name}`);
        }
      }
      this.#proxies.reconcile(this.#replicaNodes());
    } finally {
      this.#reconciling = false;
    }
  }

  /** The nodes where some replica runs (or starts, once it said where). */
  #replicaNodes(): Set<string> {
    const nodes = new Set<string>();
    for (const state of this.#deployments.values()) {
      for (const r of state.overview().replicas) if (r.nodeId !== "") nodes.add(r.nodeId);
    }
    return nodes;
  }
}

function key(appName: string, deploymentName: string): string {
  return `${appName}#${deploymentName}`;
}
