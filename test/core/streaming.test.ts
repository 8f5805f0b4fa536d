// Streaming generators: bounded run-ahead (backpressure), and closing them: read to the end,
// broken out of, returned, disposed, or dropped. A closed generator's unread items are freed and
// its task stops.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { settledStore } from "../helpers/store.js";

const MB = 2 ** 20;
before(() => ray.init({ numCpus: 2, objectStoreMemory: 256 * MB }));
after(() => ray.shutdown());

class Progress {
  produced = 0;
  closed = false;
  produce() {
    return ++this.produced;
  }
  close() {
    this.closed = true;
  }
  read() {
    return { produced: this.produced, closed: this.closed };
  }
}
const RemoteProgress = ray.remote(Progress);

const counting = ray.remote(async function* counting(progress: ray.ActorHandle<Progress>, n: number) {
  try {
    for (let i = 1; i <= n; i++) {
      await ray.get(progress.produce.remote());
      yield i;
    }
  } finally {
    progress.close.remote();
  }
});

/** Asks the actor until `done(state)` holds; each ask is a round trip to it. */
async function until(progress: ray.ActorHandle<Progress>, done: (s: { produced: number; closed: boolean }) => boolean) {
  for (;;) {
    const state = await ray.get(progress.read.remote());
    if (done(state)) return state;
  }
}

test("a generator runs at most generatorBackpressureNumObjects items ahead of its consumer", { timeout: 60_000 }, async () => {
  const progress = RemoteProgress.remote();
  const gen = counting.options({ numReturns: "streaming", generatorBackpressureNumObjects: 3 }).remote(progress, 40);
  // With nothing consumed it gets 3 items ahead, and no further.
  await until(progress, (s) => s.produced >= 3);
  let consumed = 0;
  for await (const ref of gen) {
    assert.equal(await ray.get(ref), ++consumed);
    const { produced } = await ray.get(progress.read.remote());
    assert.ok(produced <= consumed + 3, `produced ${produced} with ${consumed} consumed`);
  }
  assert.equal(consumed, 40);
});

test("without a limit (-1) a generator runs to its end unread", { timeout: 60_000 }, async () => {
  const progress = RemoteProgress.remote();
  const gen = counting.options({ numReturns: "streaming", generatorBackpressureNumObjects: -1 }).remote(progress, 50);
  await until(progress, (s) => s.closed);
  let n = 0;
  for await (const ref of gen) assert.equal(await ray.get(ref), ++n);
  assert.equal(n, 50);
});

test("breaking out of for await stops the generator's task", { timeout: 60_000 }, async () => {
  const progress = RemoteProgress.remote();
  const gen = counting.options({ numReturns: "streaming" }).remote(progress, 1_000_000);
  let n = 0;
  for await (const ref of gen) {
    if (++n === 3) break;
    await ray.get(ref);
  }
  // The task was cancelled: its finally ran, long before a million items.
  const { produced } = await until(progress, (s) => s.closed);
  assert.ok(produced < 1000, `produced ${produced}`);
  assert.deepEqual(await gen.next(), { done: true, value: undefined });
});

test("return(), using and dropping a generator close it too", { timeout: 60_000 }, async () => {
  const viaReturn = RemoteProgress.remote();
  const g1 = counting.options({ numReturns: "streaming" }).remote(viaReturn, 1_000_000);
  await g1.next();
  await g1.return();
  await until(viaReturn, (s) => s.closed);

  const viaUsing = RemoteProgress.remote();
  {
    await using g2 = counting.options({ numReturns: "streaming" }).remote(viaUsing, 1_000_000);
    await g2.next();
  }
  await until(viaUsing, (s) => s.closed);

  const viaGc = RemoteProgress.remote();
  startAndDrop(viaGc);
  // Collections in every thread, until the dropped generator is finalized and closes its stream.
  while (!(await ray.get(viaGc.read.remote())).closed) await settledStore(0, 1);
});

/** Starts a generator and drops it, in a frame of its own (a suspended async frame could keep it). */
function startAndDrop(progress: ray.ActorHandle<Progress>): void {
  counting.options({ numReturns: "streaming" }).remote(progress, 1_000_000);
}

test("abandoned generators free what they produced: four of six 16 MB items leave a 256 MB store empty", async () => {
  const sixteens = ray.remote(function* sixteens() {
    for (let i = 0; i < 6; i++) yield new Float64Array((16 * MB) / 8).fill(i);
  }).options({ numReturns: "streaming", generatorBackpressureNumObjects: -1 });
  // In a function of its own, so that no suspended frame keeps the last generator.
  const readOneThenAbandon = async (close: boolean) => {
    const gen = sixteens.remote();
    const first = await gen.next();
    assert.equal(((await ray.get(first.value as ray.ObjectRef<Float64Array>)) as Float64Array)[0], 0);
    if (close) await gen.return();
  };
  for (let k = 0; k < 4; k++) await readOneThenAbandon(k % 2 === 0); // odd ones are simply dropped
  assert.equal((await settledStore()).usedBytes, 0);
  using big = ray.put(new Float64Array((200 * MB) / 8));
  assert.ok(big);
});

test("a generator's failure is thrown by next(), after the items before it", async () => {
  const failing = ray.remote(function* failing() {
    yield 1;
    throw new RangeError("no more");
  }).options({ numReturns: "streaming" });
  const gen = failing.remote();
  const first = await gen.next();
  assert.equal(await ray.get(first.value as ray.ObjectRef<number>), 1);
  await assert.rejects(gen.next(), (e: unknown) => e instanceof ray.RayTaskError && /no more/.test((e as Error).message));
  assert.deepEqual(await gen.next(), { done: true, value: undefined });
});

test("every item yielded before a failure is delivered, however the end and the item race (300 runs)", async () => {
  // The end of a failed stream is sent to its owner at once, its last item only on subscription:
  // the item must not be lost when the end overtakes it.
  const failingLate = ray.remote(async function* failingLate() {
    yield "a";
    await new Promise((r) => setImmediate(r));
    yield "b";
    throw new RangeError("no more");
  }).options({ numReturns: "streaming" });
  for (let run = 0; run < 300; run++) {
    const seen: string[] = [];
    await assert.rejects(async () => {
      for await (const ref of failingLate.remote()) seen.push(await ray.get(ref));
    }, /no more/);
    assert.deepEqual(seen, ["a", "b"], `run ${run}`);
  }
});

test("generatorBackpressureNumObjects is checked where it is given", () => {
  assert.throws(() => counting.options({ numReturns: "streaming", generatorBackpressureNumObjects: 0 }), /generatorBackpressureNumObjects must be at least 1, or -1/);
  assert.throws(() => counting.options({ generatorBackpressureNumObjects: 1.5 }), /generatorBackpressureNumObjects must be an integer/);
});
