import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

const add = ray.remote(function add(a: number, b: number) {
  return a + b;
});

test("a task runs in a worker and its result comes back through get", async () => {
  assert.equal(await ray.get(add.remote(1, 2)), 3);
  assert.deepEqual(await ray.get([add.remote(1, 1), add.remote(2, 2)]), [2, 4]);
});

test("while get waits, the driver's own timers and tasks keep running", async () => {
  // The driver may watch for results instead of sleeping, but only for a moment at a time.
  const slow = ray.remote(async function slow() {
    await new Promise((r) => setTimeout(r, 300));
    return "done";
  });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  const [value] = await Promise.all([ray.get(slow.remote()), ray.get(add.remote(1, 2))]);
  clearInterval(timer);
  assert.equal(value, "done");
  assert.ok(ticks >= 10, `the driver's 5 ms timer fired ${ticks} times in 300 ms`);
});

test("top-level ObjectRef arguments are resolved; nested ones arrive as refs", async () => {
  const inner = ray.remote(function inner(direct: number, nested: { r: unknown }[]) {
    return [typeof direct, nested[0].r instanceof ray.ObjectRef];
  });
  const r = ray.put(5);
  assert.deepEqual(await ray.get(inner.remote(r, [{ r }])), ["number", true]);
});

// Shipped functions see the module's top level, not the locals of the test that uses them.
const leaf = ray.remote(function leaf(x: number) {
  return x * 2;
});
const parent = ray.remote(async function parent(x: number) {
  return (await ray.get(leaf.remote(x))) + 1;
});

test("a closure over a local fails with a RayTaskError naming the identifier", async () => {
  const factor = 3;
  const scale = ray.remote(function scale(x: number) {
    return x * factor;
  });
  await ray.get(scale.remote(1)).then(
    () => assert.fail("expected a ReferenceError"),
    (e: unknown) => {
      assert.ok(e instanceof ray.RayTaskError);
      assert.equal(e.cause.name, "ReferenceError");
      assert.match(e.cause.message, /factor is not defined: a remote function cannot take along the variables of the functions around it; pass factor to the task as an argument/);
    },
  );
});

// Top-level values computed or changed when the module runs: never silently undefined (nor a
// global of the same name) in a worker, but an error that names them and says what to do.
const startedAt = Date.now();
function twice(n: number) {
  return n * 2;
}
const four = twice(2);
let calls = 0;
calls++;
const name = "shadows nothing";
const usesTopLevel = ray.remote(function usesTopLevel(which: string) {
  if (which === "startedAt") return startedAt;
  if (which === "four") return four;
  if (which === "calls") return calls;
  return name;
});

test("top-level values a task cannot take along fail with an error that names them and says what to do", async () => {
  assert.equal(await ray.get(usesTopLevel.remote("name")), "shadows nothing");
  for (const binding of ["startedAt", "four", "calls"]) {
    await assert.rejects(ray.get(usesTopLevel.remote(binding)), (e: unknown) => {
      assert.ok(e instanceof ray.RayTaskError);
      assert.equal(e.cause.name, "ReferenceError");
      assert.match(e.cause.message, new RegExp(`^${binding} is a top-level binding of file:.*tasks\\.test\\.ts that workers do not have`));
      assert.match(e.cause.message, new RegExp(`Pass ${binding} to the task as an argument`));
      return true;
    });
  }
});

test("tasks can submit tasks and get them, even when every CPU is waiting on children", async () => {
  // Four parents on two CPUs: each blocks in get, giving its CPU to its child.
  assert.deepEqual(await ray.get([1, 2, 3, 4].map((x) => parent.remote(x))), [3, 5, 7, 9]);
});

test("a generator function needs numReturns: \"streaming\" (a TypeError at the call site says so), or yields numReturns values", async () => {
  const letters = ray.remote(function* letters() {
    yield "a";
    yield "b";
  });
  assert.throws(() => letters.remote(), /letters is a generator function: call letters\.options\(\{ numReturns: "streaming" \}\)\.remote\(\.\.\.\) to receive what it yields/);
  const [a, b] = letters.options({ numReturns: 2 }).remote() as unknown as ray.ObjectRef<string>[];
  assert.deepEqual(await ray.get([a!, b!]), ["a", "b"]);
  const makesOne = ray.remote(function makesOne() {
    return (function* inner() {
      yield 1;
    })();
  });
  await assert.rejects(ray.get(makesOne.remote()), /makesOne returned a generator, which cannot be sent back as one value: give it numReturns: "streaming"/);
});

test("numReturns: n gives n refs", async () => {
  const split = ray.remote(function split(s: string) {
    return [s.length, s.toUpperCase()];
  }).options({ numReturns: 2 });
  const [len, upper] = split.remote("abc");
  assert.equal(await ray.get(len), 3);
  assert.equal(await ray.get(upper), "ABC");
});

test("streaming generators yield refs as values are produced (sync and async)", async () => {
  const gen = ray.remote(function* count(n: number) {
    for (let i = 0; i < n; i++) yield i;
  }).options({ numReturns: "streaming" });
  const seen: number[] = [];
  for await (const ref of gen.remote(4)) seen.push(await ray.get(ref));
  assert.deepEqual(seen, [0, 1, 2, 3]);

  const agen = ray.remote(async function* words() {
    yield "a";
    await new Promise((r) => setImmediate(r));
    yield "b";
    throw new RangeError("no more");
  }).options({ numReturns: "streaming" });
  const it = agen.remote();
  assert.equal(await ray.get((await it.next()).value), "a");
  assert.equal(await ray.get((await it.next()).value), "b");
  await assert.rejects(it.next(), (e: unknown) => e instanceof ray.RayTaskError && (e.cause as Error).name === "RangeError");
});

test("a failure propagates through every dependent task", async () => {
  const boom = ray.remote(function boom() {
    throw new TypeError("bad input");
  });
  const ref = add.remote(boom.remote() as never, 1);
  await assert.rejects(ray.get(ref), (e: unknown) => {
    assert.ok(e instanceof ray.RayTaskError);
    assert.equal(e.taskName, "boom");
    assert.equal(e.cause.name, "TypeError");
    assert.equal(e.cause.message, "bad input");
    assert.match(e.cause.stack ?? "", /boom/);
    return true;
  });
});

test("cancel drops a queued task and interrupts a running one", async () => {
  const spin = ray.remote(function spin() {
    for (;;);
  });
  const running = spin.remote();
  const running2 = spin.remote();
  const queued = add.remote(1, 1);
  await ray.cancel(queued);
  await assert.rejects(ray.get(queued), ray.TaskCancelledError);
  await ray.cancel(running, { force: true });
  await ray.cancel(running2);
  await assert.rejects(ray.get(running), ray.TaskCancelledError);
  await assert.rejects(ray.get(running2), ray.TaskCancelledError);
  // The node goes on.
  assert.equal(await ray.get(add.remote(2, 2)), 4);
});

test("an argument that cannot be sent is a TypeError at the call site, naming its path", () => {
  assert.throws(() => add.remote(1, { callback: () => 1 } as never), /args\[1\]\.callback is a function/);
  assert.throws(() => add.remote(Symbol("s") as never, 1), /args\[0\] is a symbol/);
});

test("bad options are errors that name the option", () => {
  assert.throws(() => add.options({ numCpu: 1 } as never), /unknown option 'numCpu'/);
  assert.throws(() => add.options({ numCpus: -1 }), RangeError);
  assert.throws(() => add.options({ resources: { gpu_x: -2 } }), /resources\.gpu_x/);
});
