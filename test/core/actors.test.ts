import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

class Counter {
  count: number;
  constructor(start = 0) {
    this.count = start;
  }
  inc() {
    return ++this.count;
  }
  get() {
    return this.count;
  }
}
const RemoteCounter = ray.remote(Counter);

test("calls from one caller run in order and see the actor's state", async () => {
  const c1 = RemoteCounter.remote(0);
  const c2 = RemoteCounter.remote(100);
  const results = [];
  for (let i = 0; i < 3; i++) results.push(c1.inc.remote(), c2.inc.remote());
  assert.deepEqual(await ray.get(results), [1, 101, 2, 102, 3, 103]);
});

test("handles can be passed to tasks, which call the actor", async () => {
  const c = RemoteCounter.remote();
  const bump = ray.remote(async function bump(counter: ray.ActorHandle<Counter>, times: number) {
    for (let i = 0; i < times; i++) await ray.get(counter.inc.remote());
    return ray.get(counter.get.remote());
  });
  await ray.get([bump.remote(c, 5), bump.remote(c, 5)]);
  assert.equal(await ray.get(c.get.remote()), 10);
});

test("an unknown method is a TypeError at once", () => {
  const c = RemoteCounter.remote();
  assert.throws(() => (c as any).nope.remote(), /has no method 'nope'/);
});

test("named actors: getActor, namespaces, getIfExists", async () => {
  const named = RemoteCounter.options({ name: "shared-counter" }).remote(7);
  await ray.get(named.inc.remote());
  const found = await ray.getActor<Counter>("shared-counter");
  assert.equal(await ray.get(found.get.remote()), 8);
  const again = RemoteCounter.options({ name: "shared-counter", getIfExists: true }).remote(0);
  assert.equal(await ray.get(again.get.remote()), 8);
  await assert.rejects(ray.getActor("no-such-actor"), /no actor named 'no-such-actor'/);
  await assert.rejects(ray.getActor("shared-counter", { namespace: "elsewhere" }), RangeError);
});

test("a name already taken is refused at creation, in the driver; from a task, the new handle's calls fail", async () => {
  const first = RemoteCounter.options({ name: "taken" }).remote(1);
  assert.throws(() => RemoteCounter.options({ name: "taken" }).remote(2), (e: unknown) => {
    assert.ok(e instanceof ray.RayActorError);
    assert.match((e as Error).message, /an actor named 'taken' already exists in namespace '.+'; use getIfExists to reuse it/);
    return true;
  });
  // In the same turn as the first creation too (its message is handled before the check).
  RemoteCounter.options({ name: "twin" }).remote(1);
  assert.throws(() => RemoteCounter.options({ name: "twin" }).remote(2), ray.RayActorError);
  const fromTask = ray.remote(async function fromTask(ns: string) {
    const again = ray.remote(Counter).options({ name: "taken", namespace: ns }).remote(3);
    return ray.get(again.get.remote());
  });
  await assert.rejects(ray.get(fromTask.remote(ray.getRuntimeContext().namespace)), /an actor named 'taken' already exists/);
  assert.equal(await ray.get(first.get.remote()), 1);
  // Once the actor is dead, its name is free again.
  await ray.kill(first);
  await assert.rejects(ray.get(first.get.remote()), ray.RayActorError);
  const second = RemoteCounter.options({ name: "taken" }).remote(5);
  assert.equal(await ray.get(second.get.remote()), 5);
});

test("kill: pending and later calls fail with RayActorError", async () => {
  const c = RemoteCounter.remote();
  await ray.get(c.inc.remote());
  await ray.kill(c);
  await assert.rejects(ray.get(c.inc.remote()), ray.RayActorError);
});

test("a constructor that throws makes every call fail with RayActorError carrying the cause", async () => {
  const Broken = ray.remote(
    class Broken {
      constructor() {
        throw new SyntaxError("cannot build");
      }
      ping() {
        return 1;
      }
    },
  );
  const b = Broken.remote();
  await assert.rejects(ray.get(b.ping.remote()), (e: unknown) => {
    assert.ok(e instanceof ray.RayActorError);
    assert.match((e as Error).message, /cannot build/);
    return true;
  });
});

test("async methods interleave up to maxConcurrency", async () => {
  const Gate = ray.remote(
    class Gate {
      waiting: (() => void)[] = [];
      async enter() {
        await new Promise<void>((r) => this.waiting.push(r));
        return "passed";
      }
      open() {
        for (const r of this.waiting) r();
        return this.waiting.length;
      }
    },
  ).options({ maxConcurrency: 4 });
  const g = Gate.remote();
  const entered = [g.enter.remote(), g.enter.remote()];
  // open() runs while both enter() calls are suspended: only possible with concurrency.
  let opened = 0;
  while (opened < 2) opened = (await ray.get(g.open.remote())) as number;
  assert.deepEqual(await ray.get(entered), ["passed", "passed"]);
});

test("actors restart up to maxRestarts; calls after a restart reach the new instance", async () => {
  const Fragile = ray.remote(
    class Fragile {
      n = 0;
      inc() {
        return ++this.n;
      }
      die() {
        process.exit(1);
      }
    },
  ).options({ maxRestarts: 1 });
  const f = Fragile.remote();
  assert.equal(await ray.get(f.inc.remote()), 1);
  await assert.rejects(ray.get(f.die.remote()), ray.RayActorError);
  assert.equal(await ray.get(f.inc.remote()), 1);
  await assert.rejects(ray.get(f.die.remote()), ray.RayActorError);
  await assert.rejects(ray.get(f.inc.remote()), ray.ActorDiedError);
});
