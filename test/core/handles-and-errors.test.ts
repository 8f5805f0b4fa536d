import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

class Box {
  items: unknown[] = [];
  add(x: unknown) {
    this.items.push(x);
    return this.items.length;
  }
  all() {
    return this.items;
  }
}
const RemoteBox = ray.remote(Box);

const makeBox = ray.remote(function makeBox(first: string) {
  const box = RemoteBox.remote();
  box.add.remote(first);
  return box;
});

class Forwarder {
  async forward(box: ray.ActorHandle<Box>, x: unknown) {
    return ray.get(box.add.remote(x));
  }
}

const spin = ray.remote(function spin() {
  for (;;);
});
const spawn = ray.remote(async function spawn(childRefs: ray.util.Queue<ray.ObjectRef[]>) {
  await childRefs.put([spin.remote()]);
  for (;;);
});

test("ObjectRefs and ActorHandles survive anywhere inside a value", async () => {
  const box = RemoteBox.remote();
  const ref = ray.put("inner");
  const stored = ray.put({ box, refs: [ref], byKey: new Map([["k", ref]]), set: new Set([box]) });
  const back = (await ray.get(stored)) as { box: ray.ActorHandle<Box>; refs: ray.ObjectRef<string>[]; byKey: Map<string, ray.ObjectRef<string>>; set: Set<unknown> };
  assert.equal(await ray.get(back.refs[0]), "inner");
  assert.equal(await ray.get(back.byKey.get("k")!), "inner");
  assert.equal(await ray.get(back.box.add.remote(1)), 1);
  assert.equal(back.set.size, 1);
});

test("handles are returned from tasks and passed to other actors", async () => {
  const box = (await ray.get(makeBox.remote("from task"))) as ray.ActorHandle<Box>;
  const forwarder = ray.remote(Forwarder).remote();
  assert.equal(await ray.get(forwarder.forward.remote(box, "via actor")), 2);
  assert.deepEqual(await ray.get(box.all.remote()), ["from task", "via actor"]);
});

test("actors can be named in a namespace of their choice", async () => {
  RemoteBox.options({ name: "box", namespace: "team-a" }).remote();
  const found = await ray.getActor<Box>("box", { namespace: "team-a" });
  assert.equal(await ray.get(found.add.remote(1)), 1);
  await assert.rejects(ray.getActor("box"), /no actor named 'box'/);
  const detached = RemoteBox.options({ name: "kept", lifetime: "detached" }).remote();
  assert.equal(await ray.get(detached.add.remote(1)), 1);
});

class Counter {
  n = 0;
  next() {
    return ++this.n;
  }
}

class Phoenix {
  /** Dies the first time it is called (the count lives in another actor, outside this thread). */
  async burnOnce(counter: ray.ActorHandle<Counter>) {
    const n = (await ray.get(counter.next.remote())) as number;
    if (n === 1) process.exit(1);
    return n;
  }
}

test("a call lost in a restart is retried on the new instance with maxTaskRetries", async () => {
  const counter = ray.remote(Counter).remote();
  const p = ray.remote(Phoenix).options({ maxRestarts: 1, maxTaskRetries: 1 }).remote();
  assert.equal(await ray.get(p.burnOnce.remote(counter)), 2);
  const q = ray.remote(Phoenix).options({ maxRestarts: 1 }).remote();
  const fresh = ray.remote(Counter).remote();
  await assert.rejects(ray.get(q.burnOnce.remote(fresh)), ray.RayActorError);
  assert.equal(await ray.get(q.burnOnce.remote(fresh)), 2);
});

test("cancel is recursive by default: the tasks a task submitted are cancelled too", async () => {
  const childRefs = new ray.util.Queue<ray.ObjectRef[]>();
  const parent = spawn.remote(childRefs);
  const [child] = await childRefs.get();
  await ray.cancel(parent, { force: true });
  await assert.rejects(ray.get(parent), ray.TaskCancelledError);
  await assert.rejects(ray.get(child), ray.TaskCancelledError);
});

test("errors form one hierarchy with stable codes", () => {
  const cases: [new (m: string) => Error, string][] = [
    [ray.RayActorError, "ACTOR_ERROR"], [ray.ActorDiedError, "ACTOR_DIED"], [ray.WorkerCrashedError, "WORKER_CRASHED"],
    [ray.NodeDiedError, "NODE_DIED"], [ray.ObjectLostError, "OBJECT_LOST"], [ray.GetTimeoutError, "GET_TIMEOUT"],
    [ray.TaskCancelledError, "TASK_CANCELLED"], [ray.OutOfMemoryError, "OUT_OF_MEMORY"],
    [ray.ObjectStoreFullError, "OBJECT_STORE_FULL"], [ray.RaySystemError, "SYSTEM_ERROR"],
  ];
  for (const [Ctor, code] of cases) {
    const e = new Ctor("m");
    assert.ok(e instanceof ray.RayError);
    assert.ok(e instanceof Error);
    assert.equal((e as ray.RayError & { code: string }).code, code);
    assert.equal(e.name, Ctor.name);
  }
  assert.ok(new ray.ActorDiedError("x") instanceof ray.RayActorError);
  assert.ok(!(new ray.RayActorError("x") instanceof ray.ActorDiedError));
  const t = new ray.RayTaskError("f", new TypeError("bad"));
  assert.equal(t.taskName, "f");
  assert.equal(t.cause.name, "TypeError");
  assert.equal((t as unknown as { code: string }).code, "TASK_ERROR");
});
