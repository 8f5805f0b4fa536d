import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

/** A task that receives a function as a value and calls it (as a library's task body would). */
const applyShipped = ray.remote(async function applyShipped(shipped: ray.util.ShippedFunction<(x: number) => number>, x: number) {
  const fn = await ray.util.loadFunction(shipped);
  return fn(x);
});

function triple(x: number): number {
  return x * 3;
}

test("shipFunction: a function travels to a task as plain data and runs there", async () => {
  const shipped = ray.util.shipFunction(triple);
  assert.equal(shipped.name, "triple");
  assert.deepEqual(structuredClone(shipped), shipped);
  assert.equal(await ray.get(applyShipped.remote(shipped, 5)), 15);
  assert.equal(await ray.get(applyShipped.remote(ray.util.shipFunction((x: number) => x + 1), 5)), 6);
});

test("shipFunction: a closure over a local variable fails in the task with an error naming it", async () => {
  const offset = Number(process.env.NO_SUCH_OFFSET ?? 7);
  await assert.rejects(ray.get(applyShipped.remote(ray.util.shipFunction((x: number) => x + offset), 1)), (err: unknown) => {
    assert.ok(err instanceof ray.RayTaskError);
    assert.match((err as Error).message, /offset/);
    return true;
  });
});

test("shipFunction, loadFunction and remoteExport refuse what they cannot take", async () => {
  assert.throws(() => ray.util.shipFunction(42 as never), TypeError);
  await assert.rejects(ray.util.loadFunction({ kind: "nope" } as never), TypeError);
  assert.throws(() => ray.util.remoteExport("not a url", triple), TypeError);
  assert.throws(() => ray.util.remoteExport(import.meta.url, (x: number) => x), TypeError);
});
