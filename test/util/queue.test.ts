import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

const { Queue, Full, Empty } = ray.util;

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

// A Queue sent to a task arrives as { actor, maxsize }; Queue.from makes it a Queue again.
const producer = ray.remote(async function producer(q: ray.util.Queue<number>, n: number) {
  const queue = ray.util.Queue.from<number>(q);
  for (let i = 0; i < n; i++) await queue.put(i);
  return n;
});

const consumer = ray.remote(async function consumer(q: ray.util.Queue<number>, n: number) {
  const queue = ray.util.Queue.from<number>(q);
  const got: number[] = [];
  for (let i = 0; i < n; i++) got.push(await queue.get());
  return got;
});

class Collector {
  private readonly queue: ray.util.Queue<string>;
  constructor(q: ray.util.Queue<string>) {
    this.queue = ray.util.Queue.from(q);
  }
  async take(n: number): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await this.queue.get());
    return out;
  }
  async give(item: string): Promise<void> {
    await this.queue.put(item);
  }
}
const CollectorActor = ray.remote(Collector);

test("constructor checks maxsize and options", () => {
  assert.throws(() => new Queue({ maxsize: -1 }), { name: "RangeError", message: /maxsize/ });
  assert.throws(() => new Queue({ maxsize: 1.5 }), { name: "TypeError", message: /maxsize/ });
  assert.throws(() => new Queue({ maxsize: "3" as never }), { name: "TypeError", message: /maxsize/ });
  assert.throws(() => new Queue({ size: 3 } as never), { name: "TypeError", message: /size/ });
});

test("put and get are FIFO; size, empty and full report the state", async () => {
  const q = new Queue<string>({ maxsize: 2 });
  assert.equal(q.maxsize, 2);
  assert.equal(await q.empty(), true);
  await q.put("a");
  await q.put("b");
  assert.equal(await q.size(), 2);
  assert.equal(await q.full(), true);
  assert.equal(await q.get(), "a");
  assert.equal(await q.get(), "b");
  assert.equal(await q.empty(), true);
  assert.equal(await q.full(), false);
  await q.shutdown();
});

test("maxsize 0 is unbounded", async () => {
  const q = new Queue<number>();
  for (let i = 0; i < 50; i++) await q.put(i, { block: false });
  assert.equal(await q.full(), false);
  assert.equal(await q.size(), 50);
  await q.shutdown();
});

test("non-blocking and timed-out calls throw Full and Empty", async () => {
  const q = new Queue<number>({ maxsize: 1 });
  await assert.rejects(q.get({ block: false }), (e: unknown) => e instanceof Empty && (e as Error).name === "Empty");
  await assert.rejects(q.get({ timeoutMs: 10 }), Empty);
  await q.put(1);
  await assert.rejects(q.put(2, { block: false }), (e: unknown) => e instanceof Full && (e as Error).name === "Full");
  await assert.rejects(q.put(2, { timeoutMs: 10 }), Full);
  // The timed-out put left nothing behind.
  assert.equal(await q.size(), 1);
  assert.equal(await q.get(), 1);
  assert.equal(await q.size(), 0);
  await q.shutdown();
});

test("a blocking get is satisfied by a later put", async () => {
  const q = new Queue<number>();
  let settled = false;
  const pending = q.get().then((v) => {
    settled = true;
    return v;
  });
  // Calls from one caller reach the actor in order: the get is parked before size() answers.
  assert.equal(await q.size(), 0);
  assert.equal(settled, false);
  await q.put(7);
  assert.equal(await pending, 7);
  await q.shutdown();
});

test("a blocking put is admitted once a get makes room", async () => {
  const q = new Queue<string>({ maxsize: 1 });
  await q.put("first");
  const blocked = q.put("second");
  assert.equal(await q.get(), "first");
  await blocked;
  assert.equal(await q.get(), "second");
  await q.shutdown();
});

test("ObjectRefs and typed arrays pass through unchanged", async () => {
  const q = new Queue<unknown>();
  const ref = ray.put({ big: "value" });
  await q.put(ref);
  await q.put(new Float64Array([1, 2, 3]));
  const back = await q.get();
  assert.ok(back instanceof ray.ObjectRef);
  assert.deepEqual(await ray.get(back as ray.ObjectRef<unknown>), { big: "value" });
  assert.deepEqual(await q.get(), new Float64Array([1, 2, 3]));
  await q.shutdown();
});

test("a producer task and a consumer task share one queue", async () => {
  const q = new Queue<number>({ maxsize: 3 }); // small: both sides have to wait for each other
  const got = consumer.remote(q, 20);
  const made = producer.remote(q, 20);
  assert.equal(await ray.get(made), 20);
  assert.deepEqual(await ray.get(got), Array.from({ length: 20 }, (_, i) => i));
  assert.equal(await q.empty(), true);
  await q.shutdown();
});

test("an actor holding the queue puts and gets", async () => {
  const q = new Queue<string>();
  const collector = CollectorActor.remote(q);
  await q.put("x");
  await q.put("y");
  assert.deepEqual(await ray.get(collector.take.remote(2)), ["x", "y"]);
  await ray.get(collector.give.remote("from-actor"));
  assert.equal(await q.get(), "from-actor");
  await q.shutdown();
});

test("a queue received by a task is a Queue", async () => {
  const q = new Queue<number>();
  const check = ray.remote((x: unknown) => x instanceof ray.util.Queue);
  assert.equal(await ray.get(check.remote(q)), true);
  await q.shutdown();
});

test("Queue.from rejects what is not a queue", () => {
  assert.throws(() => Queue.from({}), { name: "TypeError", message: /Queue.from/ });
  assert.throws(() => Queue.from({ actor: ray.remote(Collector).remote(new Queue()), maxsize: 0 }), TypeError);
  const q = new Queue();
  assert.equal(Queue.from(q), q);
});

test("bad call options are TypeError / RangeError", async () => {
  const q = new Queue<number>();
  await assert.rejects(q.put(1, { timeoutMs: -5 }), { name: "RangeError", message: /timeoutMs/ });
  await assert.rejects(q.get({ block: "no" as never }), { name: "TypeError", message: /block/ });
  await assert.rejects(q.get({ timeout: 1 } as never), { name: "TypeError", message: /timeout/ });
  await q.shutdown();
});

test("after shutdown the queue's calls fail with RayActorError", async () => {
  const q = new Queue<number>();
  await q.put(1);
  await q.shutdown();
  await assert.rejects(q.get(), ray.RayActorError);
});

test("await using shuts the queue down at the end of the block", async () => {
  let queue: InstanceType<typeof Queue<number>>;
  {
    await using q = new Queue<number>();
    queue = q;
    await q.put(1);
    assert.equal(await q.get(), 1);
  }
  await assert.rejects(queue.put(2), ray.RayActorError);
});
