/**
 * Which replica a call goes to (router.ts asks, with the replicas it knows and its own calls in
 * flight on each): power of two choices on queue length, and for a call with a multiplexed model
 * id, Ray's preference order (its MultiplexMixin ranks) without Ray's wait:
 *
 *   1. replicas that hold the model, with room: the less loaded of two random ones;
 *   2. else (none holds it, or all that do are full), among the replicas with room, those that
 *      hold the fewest models, so a new model lands where it evicts least (Ray's ranks 2 and 3:
 *      the fewest-models replicas, then any); none has room: undefined, the call waits.
 *
 * Ray lets a call wait up to a second for a full replica holding its model; tsray never holds a
 * call back while another replica has room (a load is slower than a wait only sometimes, and a
 * router that waits can starve). "Holds" is what replicas reported (the controller's long poll)
 * plus, per model, the replica this router last sent it to when none had it: the report of that
 * load comes later, and until it does the model's next calls go there too instead of loading it
 * on another replica.
 */

export interface Candidate {
  readonly replicaId: string;
  /** This router's calls sent to it and not settled. */
  readonly inFlight: number;
  /** The model ids it reported loaded. */
  readonly modelIds: ReadonlySet<string>;
}

/** The less loaded of two random candidates (the only one if one). */
export function powerOfTwo<C extends Candidate>(open: readonly C[]): C | undefined {
  if (open.length <= 1) return open[0];
  const a = Math.floor(Math.random() * open.length);
  let b = Math.floor(Math.random() * (open.length - 1));
  if (b >= a) b++;
  return open[a]!.inFlight <= open[b]!.inFlight ? open[a] : open[b];
}

/**
 * The replica for a call, or undefined if none has room (`inFlight < maxOngoing`). `expected`:
 * model id → the replica it was sent to before any reported it (see the module comment).
 */
export function chooseReplica<C extends Candidate>(replicas: readonly C[], maxOngoing: number, modelId: string,
  expected: ReadonlyMap<string, string>): C | undefined {
  const open = replicas.filter((r) => r.inFlight < maxOngoing);
  if (modelId === "" || open.length === 0) return powerOfTwo(open);
  const holders = open.filter((r) => r.modelIds.has(modelId) || expected.get(modelId) === r.replicaId);
  if (holders.length > 0) return powerOfTwo(holders);
  // Models per replica: reported, and expected ones not reported yet.
  const counts = new Map(open.map((r) => [r.replicaId, r.modelIds.size]));
  for (const [model, replicaId] of expected) {
    const r = open.find((x) => x.replicaId === replicaId);
    if (r !== undefined && !r.modelIds.has(model)) counts.set(replicaId, counts.get(replicaId)! + 1);
  }
  const fewest = Math.min(...counts.values());
  return powerOfTwo(open.filter((r) => counts.get(r.replicaId) === fewest));
}
