/** util.placementGroup, util.removePlacementGroup and util.getPlacementGroup. */
import { checkKnownOptions, checkResourceMap, checkString, describe } from "../common/validate.js";
import { randomHex } from "../common/ids.js";
import { coreWorker } from "../core-worker/runtime.js";

export interface PlacementGroup {
  readonly id: string;
  ready(): Promise<void>;
}

const STRATEGIES = ["PACK", "SPREAD", "STRICT_PACK", "STRICT_SPREAD"] as const;
type Strategy = (typeof STRATEGIES)[number];

class PlacementGroupHandle implements PlacementGroup {
  constructor(readonly id: string) {}
  async ready(): Promise<void> {
    await coreWorker().request("placementGroupReady", this.id);
  }
  toString(): string {
    return `PlacementGroup(${this.id})`;
  }
}

export function placementGroup(bundles: Record<string, number>[], strategy: Strategy = "PACK", opts?: { name?: string; lifetime?: "detached" }): PlacementGroup {
  if (!Array.isArray(bundles) || bundles.length === 0) throw new TypeError(`placementGroup() argument bundles must be a non-empty list of resource maps, got ${describe(bundles)}`);
  bundles.forEach((b, i) => {
    checkResourceMap(`placementGroup() bundles[${i}]`, b);
    if (Object.values(b).every((v) => v === 0)) throw new RangeError(`placementGroup() bundles[${i}] asks for no resources`);
  });
  if (!STRATEGIES.includes(strategy)) throw new TypeError(`placementGroup() argument strategy must be one of ${STRATEGIES.join(", ")}, got ${describe(strategy)}`);
  checkKnownOptions("placementGroup() options", opts, ["name", "lifetime"]);
  checkString("placementGroup() option name", opts?.name);
  if (opts?.lifetime !== undefined && opts.lifetime !== "detached") throw new TypeError(`placementGroup() option lifetime must be "detached" or left out`);
  // The id is chosen here so tasks can name the group at once; messages reach the raylet in order.
  const id = randomHex(14);
  const cw = coreWorker();
  const detached = opts?.lifetime === "detached";
  cw.request("createPlacementGroup", id, bundles, strategy, { name: opts?.name, namespace: cw.info.namespace, detached, jobId: cw.info.jobId }).catch(() => {});
  return new PlacementGroupHandle(id);
}

export async function removePlacementGroup(pg: PlacementGroup): Promise<void> {
  if (!(pg instanceof PlacementGroupHandle)) throw new TypeError(`removePlacementGroup() argument must be a PlacementGroup, got ${describe(pg)}`);
  await coreWorker().request("removePlacementGroup", pg.id);
}

/** The live placement group named `name` in the namespace (default: the caller's), from anywhere in the cluster. */
export async function getPlacementGroup(name: string, opts?: { namespace?: string }): Promise<PlacementGroup> {
  if (typeof name !== "string" || name === "") throw new TypeError(`getPlacementGroup() argument name must be a non-empty string, got ${describe(name)}`);
  checkKnownOptions("getPlacementGroup() options", opts, ["namespace"]);
  checkString("getPlacementGroup() option namespace", opts?.namespace);
  const cw = coreWorker();
  return new PlacementGroupHandle(await cw.request<string>("getPlacementGroup", name, opts?.namespace ?? cw.info.namespace));
}
