// A loop that puts a large array and runs a task on it, as a user's first program does. Each
// round's object is garbage once the round ends; the next round's put must land in its memory
// (pages already touched, several times faster to fill than fresh ones), so the loop needs the
// memory of one copy, not two. A cluster of its own: the store's high-water mark starts at zero.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { embeddedNode } from "../../src/api/lifecycle.js";

const MB = 2 ** 20;
before(() => ray.init({ numCpus: 2, objectStoreMemory: 512 * MB }));
after(() => ray.shutdown());

test("a put-and-task loop over a 64 MB array reuses the previous round's memory", async () => {
  const big = new Float64Array((64 * MB) / 8).fill(1);
  const sum = ray.remote(function sum(xs: Float64Array) {
    let s = 0;
    for (let i = 0; i < xs.length; i += 4096) s += xs[i];
    return s;
  });
  for (let round = 0; round < 4; round++) assert.equal(await ray.get(sum.remote(ray.put(big))), big.length / 4096);
  const highWater = embeddedNode()!.arena.highWater();
  assert.ok(highWater < 2 * 64 * MB, `the store grew to ${(highWater / MB).toFixed(0)} MB for a 64 MB object`);
});
