/**
 * One autoscaling deployment's replica count decision (Ray Serve's default policy): the routers
 * of every caller report their ongoing requests (queued at the caller + sent to replicas and not
 * settled) every metricsIntervalMs; each router's reports are averaged over lookBackPeriodMs and
 * summed, and desired = ceil(sum / targetOngoingRequests) clamped to [minReplicas, maxReplicas].
 * A decision to go up (down) is applied only once it held for upscaleDelayMs (downscaleDelayMs).
 *
 * Routers, not replicas, report: only they see the calls still queued at the caller (and with
 * minReplicas 0 there is no replica to report at all), and what they sent includes what runs.
 */
import type { ResolvedAutoscaling } from "./options.js";

interface Report {
  at: number;
  ongoing: number;
}

export class Autoscaler {
  readonly #reports = new Map<string, Report[]>();
  #config: ResolvedAutoscaling;
  #target: number;
  /** Since when the decision has pointed the same way (up or down) from #target. */
  #pending: { up: boolean; since: number } | undefined;
  /** No decision before a whole window of reports came in (a new deployment, a restarted controller). */
  readonly #startedAt: number;

  constructor(config: ResolvedAutoscaling, now = Date.now()) {
    this.#config = config;
    this.#target = config.initialReplicas;
    this.#startedAt = now;
  }

  /** The replica count decided on. */
  get target(): number {
    return this.#target;
  }

  /** A restarted controller goes on from the replicas it took over, not from initialReplicas. */
  resume(replicas: number): void {
    this.#target = Math.min(this.#config.maxReplicas, Math.max(this.#config.minReplicas, replicas));
  }

  /** New bounds (an update of the deployment): the decision so far stays, within them. */
  configure(config: ResolvedAutoscaling): void {
    this.#config = config;
    this.#target = Math.min(config.maxReplicas, Math.max(config.minReplicas, this.#target));
    this.#pending = undefined;
  }

  record(routerId: string, ongoing: number, now = Date.now()): void {
    let reports = this.#reports.get(routerId);
    if (reports === undefined) this.#reports.set(routerId, (reports = []));
    reports.push({ at: now, ongoing });
  }

  /** The average ongoing requests over the look-back window, summed over routers. */
  ongoing(now = Date.now()): number {
    let total = 0;
    for (const [routerId, reports] of this.#reports) {
      // A router that stopped reporting (idle, or its process gone) ages out of the window.
      while (reports.length > 0 && reports[0]!.at < now - this.#config.lookBackPeriodMs) reports.shift();
      if (reports.length === 0) {
        this.#reports.delete(routerId);
        continue;
      }
      total += reports.reduce((sum, r) => sum + r.ongoing, 0) / reports.length;
    }
    return total;
  }

  /** Decides again (every reconcile); true if the target changed. */
  decide(now = Date.now()): boolean {
    const c = this.#config;
    if (now - this.#startedAt < c.lookBackPeriodMs) return false;
    const desired = Math.min(c.maxReplicas, Math.max(c.minReplicas, Math.ceil(this.ongoing(now) / c.targetOngoingRequests)));
    if (desired === this.#target) {
      this.#pending = undefined;
      return false;
    }
    const up = desired > this.#target;
    if (this.#pending?.up !== up) this.#pending = { up, since: now };
    if (now - this.#pending.since < (up ? c.upscaleDelayMs : c.downscaleDelayMs)) return false;
    this.#target = desired;
    this.#pending = undefined;
    return true;
  }
}
