// What the embedded node's object store holds, seen after every thread has collected its
// garbage: for tests that check that nothing leaked.
import { embeddedNode } from "../../src/api/lifecycle.js";

export interface StoreUse {
  usedBytes: number;
  objects: number;
}

/** The store's use once every thread has collected (and answered that it has). */
export async function storeUse(): Promise<StoreUse> {
  const node = embeddedNode();
  if (!node) throw new Error("no embedded node is running");
  const { usedBytes, objects } = await node.raylet.memoryStats();
  return { usedBytes, objects };
}

/**
 * Collects everywhere until the store is down to `bytes` in use, a few rounds at most: a round's
 * releases can make more garbage (a freed object's refs, a generator's items), found by the next.
 * Resolves to the last reading, for the caller to assert on.
 */
export async function settledStore(bytes = 0, rounds = 8): Promise<StoreUse> {
  let use = await storeUse();
  for (let i = 1; i < rounds && use.usedBytes > bytes; i++) use = await storeUse();
  return use;
}
