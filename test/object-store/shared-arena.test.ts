// The arena's allocator: sequences of allocations, reports, frees and threads stopped half-way
// (fast-check, against a model), and real threads terminated at random instants while they
// allocate. After every stopped thread the store recovers: nothing stays taken that no live
// thread or stored object holds, and in the end every byte is free again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import fc from "fast-check";
import { CHUNK_BYTES, chunkMap, SharedArena, STORE_TAG } from "../../src/object-store/shared-arena.js";

const CHUNKS = 64;

interface Allocation {
  offset: number;
  size: number;
  /** The thread slot that allocated it, or "store" once reported. */
  owner: number | "store";
}

type Command =
  | { op: "allocate"; thread: number; chunks: number; extra: number }
  | { op: "report"; pick: number }
  | { op: "freeOwn"; pick: number }
  | { op: "freeStored"; pick: number }
  | { op: "stop"; thread: number; partial: number };

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ op: fc.constant("allocate" as const), thread: fc.nat(2), chunks: fc.integer({ min: 1, max: 20 }), extra: fc.nat(CHUNK_BYTES - 1) }),
  fc.record({ op: fc.constant("report" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("freeOwn" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("freeStored" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("stop" as const), thread: fc.nat(2), partial: fc.nat(6) }),
);

const chunksOf = (a: { size: number }) => Math.ceil(a.size / CHUNK_BYTES);

/** Every live allocation owns its chunks with the right tag; nothing else is taken, but what stopped threads left. */
function checkInvariants(store: SharedArena, threads: SharedArena[], live: Allocation[], strays: Set<number>): void {
  const map = chunkMap(store.handle());
  const expected = new Int32Array(map.length);
  for (const a of live) {
    const tag = a.owner === "store" ? STORE_TAG : threads[a.owner].tag;
    for (let c = a.offset / CHUNK_BYTES; c < a.offset / CHUNK_BYTES + chunksOf(a); c++) {
      assert.equal(expected[c], 0, `chunk ${c} is given twice`);
      expected[c] = tag;
    }
  }
  for (let c = 0; c < map.length; c++) {
    if (strays.has(c)) continue;
    assert.equal(map[c], expected[c], `chunk ${c}: tag ${map[c]}, expected ${expected[c]}`);
  }
  if (strays.size === 0) assert.equal(store.used(), live.reduce((n, a) => n + chunksOf(a), 0) * CHUNK_BYTES);
}

test("allocate, report, free and stopped threads keep the chunk map exact (property)", () => {
  fc.assert(
    fc.property(fc.array(command, { maxLength: 80 }), (commands) => {
      const store = SharedArena.create(CHUNKS * CHUNK_BYTES);
      const threads = [0, 1, 2].map(() => SharedArena.attach(store.handle(), store.newTag()));
      const live: Allocation[] = [];
      // Chunks a stopped thread had taken when it stopped, not recovered yet.
      const strays = new Set<number>();
      const pickOf = (pick: number, owner: (a: Allocation) => boolean) => {
        const candidates = live.filter(owner);
        return candidates.length ? candidates[pick % candidates.length] : undefined;
      };
      for (const c of commands) {
        switch (c.op) {
          case "allocate": {
            const size = (c.chunks - 1) * CHUNK_BYTES + 1 + c.extra;
            const offset = threads[c.thread].allocate(size);
            if (offset >= 0) live.push({ offset, size, owner: c.thread });
            else assert.ok(!store.fits(size), "allocate failed although a run was free");
            break;
          }
          case "report": {
            const a = pickOf(c.pick, (x) => x.owner !== "store");
            if (a) {
              store.claim(a.offset, a.size);
              a.owner = "store";
            }
            break;
          }
          case "freeOwn":
          case "freeStored": {
            const a = pickOf(c.pick, (x) => (c.op === "freeStored") === (x.owner === "store"));
            if (!a) break;
            (a.owner === "store" ? store : threads[a.owner]).free(a.offset, a.size);
            live.splice(live.indexOf(a), 1);
            break;
          }
          case "stop": {
            // The thread stops in the middle of taking a run: some free chunks carry its tag, its
            // count does not. Then its exit is seen: the store takes back all it did not report.
            const t = threads[c.thread];
            const map = chunkMap(store.handle());
            for (let i = 0, left = c.partial; i < map.length && left > 0; i++) {
              if (map[i] === 0) {
                map[i] = t.tag;
                strays.add(i);
                left--;
              }
            }
            checkInvariants(store, threads, live, strays);
            store.recover(t.tag);
            strays.clear();
            for (let i = live.length - 1; i >= 0; i--) if (live[i].owner === c.thread) live.splice(i, 1);
            threads[c.thread] = SharedArena.attach(store.handle(), store.newTag());
            break;
          }
        }
        checkInvariants(store, threads, live, strays);
      }
      for (const t of threads) store.recover(t.tag);
      for (const a of live) if (a.owner === "store") store.free(a.offset, a.size);
      assert.equal(store.used(), 0);
      assert.ok(chunkMap(store.handle()).every((w) => w === 0));
      // Nothing is lost to fragmentation either: the whole arena is one free run again.
      assert.equal(store.allocate(CHUNKS * CHUNK_BYTES), 0);
    }),
    { numRuns: 300 },
  );
});

test("threads terminated at random instants while allocating leave nothing taken after recovery", async () => {
  const store = SharedArena.create(1024 * CHUNK_BYTES);
  const stored: [offset: number, size: number][] = [];
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const module = new URL("./fixtures/allocating-thread.ts", import.meta.url).href;
  const bootstrap = new URL("../fixtures/ts-thread.mjs", import.meta.url);

  // The store claims what a thread reports, as the raylet claims an object when its message
  // comes, and frees some of it, as objects come and go.
  const report = (message: unknown) => {
    const [offset, size] = message as [number, number];
    store.claim(offset, size);
    stored.push([offset, size]);
    while (stored.length > 24) {
      const [o, s] = stored.splice(Math.floor(random() * stored.length), 1)[0];
      store.free(o, s);
    }
  };
  for (let round = 0; round < 12; round++) {
    const threads = [0, 1, 2].map(() => {
      const { port1, port2 } = new MessageChannel();
      const tag = store.newTag();
      const workerData = { module, handle: store.handle(), tag, seed: Math.floor(random() * 1e9), port: port2 };
      const worker = new Worker(bootstrap, { workerData, transferList: [port2] });
      const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
      // The first report proves the thread is in its loop.
      const started = new Promise<void>((resolve) => port1.on("message", (m) => (report(m), resolve())));
      return { worker, tag, port: port1, exited, started };
    });
    await Promise.all(threads.map((t) => t.started));
    for (const t of threads) {
      // Meanwhile the main thread allocates too: it never waits on a stopped thread.
      const mine = store.allocate(CHUNK_BYTES * 3);
      if (mine >= 0) store.free(mine, CHUNK_BYTES * 3);
      await t.worker.terminate();
      await t.exited;
      // As the raylet does with a dead worker: its last messages first, then what it never reported.
      for (let m = receiveMessageOnPort(t.port); m; m = receiveMessageOnPort(t.port)) report(m.message);
      store.recover(t.tag);
      t.port.close();
    }
    // Only the store's objects are left taken.
    const map = chunkMap(store.handle());
    const held = stored.reduce((n, [, s]) => n + Math.ceil(s / CHUNK_BYTES), 0);
    assert.equal(map.filter((w) => w !== 0).length, held, `round ${round}`);
    assert.ok(map.every((w) => w === 0 || w === STORE_TAG), `round ${round}: a stopped thread's chunk was left`);
    assert.equal(store.used(), held * CHUNK_BYTES);
  }
  for (const [o, s] of stored.splice(0)) store.free(o, s);
  assert.equal(store.used(), 0);
  assert.equal(store.allocate(1024 * CHUNK_BYTES), 0);
});

test("a thread waiting for room wakes when memory is freed, and gives up after its deadline", () => {
  const store = SharedArena.create(8 * CHUNK_BYTES);
  const all = store.allocate(8 * CHUNK_BYTES);
  assert.equal(store.allocate(1), -1);
  assert.equal(store.fits(CHUNK_BYTES), false);
  const seen = store.frees();
  store.free(all, 8 * CHUNK_BYTES);
  // The free happened after `seen`: the wait returns at once.
  store.waitForFree(seen, 10_000);
  assert.equal(store.fits(8 * CHUNK_BYTES), true);
});
