/** Ray's ray.util: placement groups, ActorPool, Queue and a multiprocessing-style Pool. */
export { placementGroup, removePlacementGroup } from "../api/placement-group.js";
export type { PlacementGroup } from "../api/placement-group.js";
