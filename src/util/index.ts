/** Ray's ray.util: placement groups, ActorPool, Queue and a multiprocessing-style Pool. */
export { getPlacementGroup, placementGroup, removePlacementGroup } from "../api/placement-group.js";
export type { PlacementGroup } from "../api/placement-group.js";
export { ActorPool } from "./actor-pool.js";
export { Queue, Full, Empty } from "./queue.js";
export type { QueueOptions, QueueOpOptions } from "./queue.js";
export { Pool } from "./pool.js";
export type { PoolOptions, MapOptions } from "./pool.js";
export { shipFunction, loadFunction, remoteExport } from "./shipped-function.js";
export type { ShippedFunction } from "./shipped-function.js";
export { registerSerializer, deregisterSerializer } from "../serialization/custom-serializers.js";
export type { Serializer } from "../serialization/custom-serializers.js";
