/**
 * The router of one deployment in one process (a driver, a proxy, a replica): it learns the live
 * replicas and the deployment's limits from the controller (a long poll that answers when they
 * change, see controller.ts listen()), and gives each call a replica:
 *
 * - power of two choices on queue length: two random replicas with room, the one with fewer of
 *   this router's calls in flight (the replica itself also holds at most maxOngoingRequests at
 *   once, for calls from several routers: see replica.ts); a call with a multiplexed model id
 *   prefers the replicas that hold its model (model-choice.ts);
 * - at most maxOngoingRequests of this router's calls on one replica; more wait here, in order,
 *   and past maxQueuedRequests waiting a call fails with BackPressureError;
 * - a replica whose actor died (a call failed with RayActorError) or that refused a call because
 *   it is stopping gets no more calls, before the controller's next list even says so; waiting
 *   calls go to the live ones, and a call that never ran there goes back to the front of the
 *   queue (retry-rule.ts, response.ts);
 * - with autoscaling, every metricsIntervalMs it reports its ongoing requests (queued here + sent
 *   and not settled) to the controller (autoscaler.ts); an idle router stops reporting.
 */
import { randomUUID } from "node:crypto";
import * as ray from "tsray";
import { BackPressureError, DeploymentUnavailableError, RequestCancelledError } from "./errors.js";
import { getController, type ReplicaAccess, type RoutingUpdate } from "./controller-client.js";
import { chooseReplica } from "./model-choice.js";
import type { FailureRouter } from "./retry-rule.js";

export interface Slot {
  readonly replica: ReplicaAccess;
  release(): void;
}

interface Entry extends ReplicaAccess {
  inFlight: number;
  modelIds: ReadonlySet<string>;
}

interface Waiter {
  modelId: string;
  resolve(slot: Slot): void;
  reject(err: unknown): void;
}

const routers = new Map<string, Router>();
/** The controller answers a long poll within 10 s; past this one, it is asked again. */
const LISTEN_LIMIT_MS = 15_000;
/** A model sent to a replica that had not reported it is expected there this long, or until reported. */
const EXPECTED_MODEL_MS = 30_000;
/** How long a call whose replica is gone waits for the controller to say how it ended. */
const FATE_WAIT_MS = 10_000;

export function routerFor(appName: string, deploymentName: string): Router {
  const key = `${appName}#${deploymentName}`;
  let router = routers.get(key);
  if (router === undefined || router.closed) routers.set(key, (router = new Router(appName, deploymentName)));
  return router;
}

/** Ends every router of this process (serve.shutdown()): waiting calls fail, long polls stop. */
export function closeRouters(reason: string): void {
  for (const router of routers.values()) router.close(reason);
  routers.clear();
}

const NO_MODELS: ReadonlyMap<string, string> = new Map();
/** The withdraw() of a call that had its replica at once: never in the queue. */
const HAD_A_REPLICA = (): boolean => false;
/** How long a replica that refused a call as full gets no calls, at first; doubled at each refusal in a row, up to the max. */
const FULL_BACKOFF_MS = 5;
const FULL_BACKOFF_MAX_MS = 200;

export class Router implements FailureRouter {
  closed = false;
  #replicas: Entry[] = [];
  readonly #dead = new Set<string>();
  /** Replicas the controller stopped gracefully (RoutingUpdate.drained). */
  #drained = new Set<string>();
  /** Calls waiting for the controller to say how a replica that is gone ended (fateOf). */
  readonly #fateWaiters = new Map<string, Set<() => void>>();
  /** Model id → the replica a call for it went to before any replica reported it (model-choice.ts). */
  readonly #expected = new Map<string, { replicaId: string; until: number }>();
  #maxOngoing = 5;
  #maxQueued = -1;
  #unavailable: string | undefined;
  #known = false;
  #version = "";
  readonly #queue: Waiter[] = [];
  #listening = false;
  readonly #routerId = randomUUID();
  #metricsTimer: NodeJS.Timeout | undefined;
  #metricsIntervalMs: number | null = null;
  #lastReported = 0;
  /** Calls sent to a replica and not settled, also on replicas no longer listed (draining). */
  #sent = 0;
  /** The replicas of the controller's latest list, running or stopping (also those this router stopped using). */
  #listed = new Set<string>();
  /** Replicas that refused a call because other callers filled them: not tried again until `until`. */
  readonly #full = new Map<string, { until: number; refusals: number }>();

  constructor(readonly appName: string, readonly deploymentName: string) {}

  /**
   * A replica slot: `now` when one has room at once, else `slot` resolves with one once one has;
   * release() the slot when the call settled.
   * `modelId`: the call's multiplexed model id ("" for none). `retry`: a call that never ran on the
   * replica it had: it goes first and is not counted against maxQueuedRequests.
   */
  acquire(modelId = "", retry = false): { now: Slot; slot?: undefined; withdraw(): boolean } | { now?: undefined; slot: Promise<Slot>; withdraw(): boolean } {
    this.#listen();
    let waiter: Waiter | undefined;
    // A replica with room now: the slot is given at once, without a promise to wait on (the common case).
    const free = this.#unavailable === undefined && this.#known && (retry || this.#queue.length === 0) ? this.#pick(modelId) : undefined;
    if (free !== undefined) return { now: this.#slotOf(free), withdraw: HAD_A_REPLICA };
    const slot = new Promise<Slot>((resolve, reject) => {
      if (this.#unavailable !== undefined) return reject(new DeploymentUnavailableError(this.#unavailable));
      if (!retry && this.#known && this.#maxQueued >= 0 && this.#queue.length >= this.#maxQueued) {
        return reject(new BackPressureError(`deployment '${this.deploymentName}' of application '${this.appName}' has ${this.#queue.length} requests queued at this caller (maxQueuedRequests ${this.#maxQueued})`));
      }
      waiter = { modelId, resolve, reject };
      if (retry) this.#queue.unshift(waiter);
      else this.#queue.push(waiter);
    });
    return {
      slot,
      // A call cancelled while queued leaves the queue (true); false if it had a replica already.
      withdraw: () => {
        const i = waiter === undefined ? -1 : this.#queue.indexOf(waiter);
        if (i < 0) return false;
        this.#queue.splice(i, 1);
        waiter!.reject(new RequestCancelledError("the request was cancelled while queued"));
        return true;
      },
    };
  }

  /**
   * The replica refused a call because it is full (other callers' calls fill it): no call goes to
   * it for a moment, doubled at each refusal in a row (FULL_BACKOFF_MS up to FULL_BACKOFF_MAX_MS);
   * calls wait here meanwhile unless another replica has room.
   */
  markFull(replicaId: string): void {
    const now = Date.now();
    const last = this.#full.get(replicaId);
    const refusals = last !== undefined && now - last.until < FULL_BACKOFF_MAX_MS ? last.refusals + 1 : 1;
    const backoff = Math.min(FULL_BACKOFF_MAX_MS, FULL_BACKOFF_MS * 2 ** (refusals - 1));
    this.#full.set(replicaId, { until: now + backoff, refusals });
    // A timer, not a sleep: the calls waiting here are tried again when the mark ends (or sooner, as slots free).
    setTimeout(() => this.#drain(), backoff);
  }

  /** The replica's actor died, or it refused a call because it is stopping: no more calls to it. */
  markGone(replicaId: string): void {
    this.#dead.add(replicaId);
    this.#replicas = this.#replicas.filter((r) => r.replicaId !== replicaId);
  }

  /**
   * How a replica that failed a call with RayActorError ended: "drained" if the controller
   * stopped it gracefully, "died" otherwise; known once the controller's list no longer has it
   * (or FATE_WAIT_MS passed: "died").
   */
  fateOf(replicaId: string): Promise<"drained" | "died"> {
    this.#listen();
    return new Promise((resolve) => {
      const waiters = this.#fateWaiters.get(replicaId) ?? new Set<() => void>();
      this.#fateWaiters.set(replicaId, waiters);
      const settle = (fate: "drained" | "died") => {
        clearTimeout(timer);
        waiters.delete(check);
        if (waiters.size === 0) this.#fateWaiters.delete(replicaId);
        resolve(fate);
      };
      // Called at every routing update: decided once the replica is listed neither running nor stopping.
      const check = () => {
        if (this.#drained.has(replicaId)) settle("drained");
        else if (!this.#listed.has(replicaId)) settle("died");
      };
      const timer = setTimeout(() => settle("died"), FATE_WAIT_MS);
      waiters.add(check);
      if (this.#known) check();
    });
  }

  close(reason: string): void {
    this.closed = true;
    this.#setMetricsInterval(null);
    this.#unavailable = reason;
    for (const waiter of this.#queue.splice(0)) waiter.reject(new DeploymentUnavailableError(reason));
  }

  #slotOf(entry: Entry): Slot {
    entry.inFlight++;
    this.#sent++;
    let released = false;
    return {
      replica: entry,
      release: () => {
        if (released) return;
        released = true;
        entry.inFlight--;
        this.#sent--;
        this.#drain();
      },
    };
  }

  /** The replicas a call may go to now: those not marked full. */
  #candidates(): Entry[] {
    if (this.#full.size === 0) return this.#replicas;
    const now = Date.now();
    for (const [id, mark] of this.#full) if (now - mark.until > FULL_BACKOFF_MAX_MS) this.#full.delete(id);
    return this.#replicas.filter((r) => (this.#full.get(r.replicaId)?.until ?? 0) <= now);
  }

  #pick(modelId: string): Entry | undefined {
    const replicas = this.#candidates();
    if (modelId === "") return chooseReplica(replicas, this.#maxOngoing, "", NO_MODELS);
    const now = Date.now();
    const expected = new Map<string, string>();
    for (const [model, e] of this.#expected) {
      if (e.until < now) this.#expected.delete(model);
      else expected.set(model, e.replicaId);
    }
    const entry = chooseReplica(replicas, this.#maxOngoing, modelId, expected);
    if (entry !== undefined && !entry.modelIds.has(modelId)) this.#expected.set(modelId, { replicaId: entry.replicaId, until: now + EXPECTED_MODEL_MS });
    return entry;
  }

  #drain(): void {
    while (this.#queue.length > 0) {
      if (this.#unavailable !== undefined) {
        for (const waiter of this.#queue.splice(0)) waiter.reject(new DeploymentUnavailableError(this.#unavailable));
        return;
      }
      const entry = this.#pick(this.#queue[0]!.modelId);
      if (entry === undefined) break;
      this.#queue.shift()!.resolve(this.#slotOf(entry));
    }
    // Calls queued before the limits were known: those past maxQueuedRequests fail now.
    if (this.#maxQueued >= 0 && this.#queue.length > this.#maxQueued) {
      for (const waiter of this.#queue.splice(this.#maxQueued)) {
        waiter.reject(new BackPressureError(`deployment '${this.deploymentName}' of application '${this.appName}' has too many requests queued at this caller (maxQueuedRequests ${this.#maxQueued})`));
      }
    }
  }

  #apply(update: RoutingUpdate): void {
    this.#version = update.version;
    this.#known = true;
    this.#maxOngoing = update.maxOngoingRequests;
    this.#maxQueued = update.maxQueuedRequests;
    this.#setMetricsInterval(update.metricsIntervalMs ?? null);
    this.#unavailable = update.unavailable ?? undefined;
    const old = new Map(this.#replicas.map((r) => [r.replicaId, r]));
    this.#replicas = update.replicas
      .filter((r) => !this.#dead.has(r.replicaId))
      .map((r) => {
        const entry = old.get(r.replicaId) ?? { replicaId: r.replicaId, actor: r.actor, inFlight: 0, modelIds: new Set<string>() };
        entry.modelIds = new Set(r.modelIds ?? []);
        return entry;
      });
    // A model now reported where it was expected needs the expectation no more.
    for (const [model, e] of this.#expected) {
      if (this.#replicas.some((r) => r.replicaId === e.replicaId && r.modelIds.has(model))) this.#expected.delete(model);
    }
    this.#listed = new Set([...update.replicas.map((r) => r.replicaId), ...(update.stopping ?? [])]);
    this.#drained = new Set(update.drained ?? []);
    for (const waiters of [...this.#fateWaiters.values()]) for (const check of [...waiters]) check();
    this.#drain();
  }

  #setMetricsInterval(ms: number | null): void {
    if (ms === this.#metricsIntervalMs) return;
    this.#metricsIntervalMs = ms;
    clearInterval(this.#metricsTimer);
    this.#metricsTimer = undefined;
    if (ms === null || this.closed) return;
    this.#metricsTimer = setInterval(() => this.#reportOngoing(), ms);
    this.#metricsTimer.unref();
  }

  /** Queued here + sent and not settled; reported while non-zero, and the first zero after (then the window ages it out). */
  #reportOngoing(): void {
    if (!ray.isInitialized()) return this.#setMetricsInterval(null);
    const ongoing = this.#queue.length + this.#sent;
    if (ongoing === 0 && this.#lastReported === 0) return;
    this.#lastReported = ongoing;
    void getController()
      .then((controller) => ray.get(controller.recordOngoing.remote(this.appName, this.deploymentName, this.#routerId, ongoing)))
      .catch(() => { /* the controller restarts or Serve shut down: the next report goes through, or none is needed */ });
  }

  /** The long poll on the controller, for as long as this process has tsray and Serve runs. */
  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    void (async () => {
      let failures = 0;
      while (!this.closed && ray.isInitialized()) {
        try {
          const controller = await getController();
          // Bounded: a call caught by a controller restart may never answer (see the report of this change).
          let timer: NodeJS.Timeout | undefined;
          const update = await Promise.race([
            ray.get(controller.listen.remote(this.appName, this.deploymentName, this.#version)),
            new Promise<never>((_, reject) => {
              timer = setTimeout(() => reject(new Error("the controller did not answer the long poll")), LISTEN_LIMIT_MS);
              // Kept alive only while calls wait for what it brings.
              if (this.#queue.length === 0) timer.unref();
            }),
          ]).finally(() => clearTimeout(timer));
          failures = 0;
          this.#apply(update);
        } catch (err) {
          failures++;
          if (!ray.isInitialized()) break;
          // No controller at all (never started or shut down): waiting calls cannot be served.
          if (!this.#known && failures >= 3) this.close(`Serve is not running (no controller): ${(err as Error).message}`);
          await new Promise((r) => setTimeout(r, Math.min(1000, 50 * failures)).unref());
        }
      }
      this.#listening = false;
    })();
  }
}
