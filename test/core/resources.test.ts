import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

before(() => ray.init({ numCpus: 2, resources: { accel: 1 } }));
after(() => ray.shutdown());

const context = ray.remote(function context() {
  const c = ray.getRuntimeContext();
  return { taskId: c.taskId, actorId: c.actorId, resources: c.assignedResources(), workerId: c.workerId };
});

class Holder {
  where() {
    const c = ray.getRuntimeContext();
    return { actorId: c.actorId, resources: c.assignedResources() };
  }
}

test("nodes and cluster resources describe the embedded node", async () => {
  const nodes = await ray.nodes();
  assert.equal(nodes.length, 1);
  assert.equal(nodes[0].alive, true);
  assert.equal(nodes[0].isHead, true);
  const total = await ray.clusterResources();
  assert.equal(total.CPU, 2);
  assert.equal(total.accel, 1);
});

test("getRuntimeContext inside tasks and actors", async () => {
  const inTask = (await ray.get(context.remote())) as { taskId?: string; actorId?: string; resources: Record<string, number>; workerId: string };
  assert.match(inTask.taskId ?? "", /^[0-9a-f]+$/);
  assert.equal(inTask.actorId, undefined);
  assert.deepEqual(inTask.resources, { CPU: 1 });
  assert.notEqual(inTask.workerId, ray.getRuntimeContext().workerId);
  const h = ray.remote(Holder).options({ resources: { accel: 1 } }).remote();
  const inActor = (await ray.get(h.where.remote())) as { actorId?: string; resources: Record<string, number> };
  assert.match(inActor.actorId ?? "", /^[0-9a-f]+$/);
  assert.deepEqual(inActor.resources, { CPU: 1, accel: 1 });
  // The actor holds its custom resource while alive; a task needing it waits.
  assert.equal((await ray.availableResources()).accel, undefined);
  const needsAccel = context.options({ resources: { accel: 1 } }).remote();
  const [ready] = await ray.wait([needsAccel], { timeoutMs: 200 });
  assert.equal(ready.length, 0);
  await ray.kill(h);
  assert.deepEqual(((await ray.get(needsAccel)) as { resources: object }).resources, { CPU: 1, accel: 1 });
  assert.equal((await ray.availableResources()).accel, 1);
  assert.equal(ray.getRuntimeContext().taskId, undefined);
});

test("a task no node can run stays pending and the log says why", async () => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    const impossible = context.options({ numGpus: 1 }).remote();
    const [ready] = await ray.wait([impossible], { timeoutMs: 100 });
    assert.equal(ready.length, 0);
    assert.ok(lines.some((l) => /task context needs \{.*GPU: 1.*\}.*stays pending/.test(l)), lines.join(""));
    await ray.cancel(impossible);
    await assert.rejects(ray.get(impossible), ray.TaskCancelledError);
  } finally {
    process.stderr.write = write;
  }
});

test("placement groups reserve bundles; tasks and actors run inside them; removal gives them back", async () => {
  const pg = ray.util.placementGroup([{ CPU: 1 }, { CPU: 1 }], "PACK", { name: "pair" });
  await pg.ready();
  assert.equal((await ray.availableResources()).CPU, undefined);
  const inBundle = context.options({ schedulingStrategy: { type: "placement_group", placementGroup: pg, bundleIndex: 1 } });
  assert.deepEqual(((await ray.get(inBundle.remote())) as { resources: object }).resources, { CPU: 1 });
  const actor = ray.remote(Holder).options({ schedulingStrategy: { type: "placement_group", placementGroup: pg } }).remote();
  assert.ok(((await ray.get(actor.where.remote())) as { actorId: string }).actorId);
  // A plain task must wait: every CPU is reserved by the group.
  const outside = context.remote();
  const [ready] = await ray.wait([outside], { timeoutMs: 200 });
  assert.equal(ready.length, 0);
  await ray.util.removePlacementGroup(pg);
  await ray.get(outside);
  assert.equal((await ray.availableResources()).CPU, 2);
});

test("STRICT_SPREAD over more bundles than nodes stays pending; bad bundles are errors", async () => {
  const pg = ray.util.placementGroup([{ CPU: 1 }, { CPU: 1 }], "STRICT_SPREAD");
  const outcome = await Promise.race([pg.ready().then(() => "ready"), new Promise((r) => setTimeout(r, 100, "pending"))]);
  assert.equal(outcome, "pending");
  await ray.util.removePlacementGroup(pg);
  assert.throws(() => ray.util.placementGroup([]), TypeError);
  assert.throws(() => ray.util.placementGroup([{ CPU: -1 }]), RangeError);
  assert.throws(() => ray.util.placementGroup([{ CPU: 1 }], "TIGHT" as never), /strategy/);
});

test("util.getPlacementGroup finds a group by name in its namespace until it is removed; bad names are errors", async () => {
  const pg = ray.util.placementGroup([{ CPU: 1 }], "PACK", { name: "found-by-name" });
  const found = await ray.util.getPlacementGroup("found-by-name");
  assert.equal(found.id, pg.id);
  await found.ready();
  const task = context.options({ schedulingStrategy: { type: "placement_group", placementGroup: found } });
  assert.deepEqual((await ray.get(task.remote())).resources, { CPU: 1 });
  await assert.rejects(ray.util.getPlacementGroup("found-by-name", { namespace: "elsewhere" }), /no placement group named 'found-by-name' in namespace 'elsewhere'/);
  await ray.util.removePlacementGroup(pg);
  await assert.rejects(ray.util.getPlacementGroup("found-by-name"), /no placement group named 'found-by-name'/);
  await assert.rejects(ray.util.getPlacementGroup(""), TypeError);
  await assert.rejects(ray.util.getPlacementGroup("x", { space: "y" } as never), /space/);
});
