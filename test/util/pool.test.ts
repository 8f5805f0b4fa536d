import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

const { Pool } = ray.util;

before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function collect<R>(it: AsyncIterable<R>): Promise<R[]> {
  const out: R[] = [];
  for await (const x of it) out.push(x);
  return out;
}

test("map over 100,000 numbers", async () => {
  const pool = new Pool();
  const xs = range(100_000);
  const ys = await pool.map((x: number) => x * 10, xs);
  assert.equal(ys.length, xs.length);
  for (let i = 0; i < xs.length; i++) if (ys[i] !== xs[i] * 10) assert.fail(`ys[${i}] = ${ys[i]}`);
  await pool.close();
});

test("items are chunked: about processes * 4 tasks by default, or by chunksize", async () => {
  const pool = new Pool({ processes: 2 });
  const taskOf = () => ray.getRuntimeContext().taskId;
  assert.equal(new Set(await pool.map(taskOf, range(1000))).size, 8); // 1000 / (2 * 4) = 125 per chunk
  assert.equal(new Set(await pool.map(taskOf, range(1000), { chunksize: 300 })).size, 4);
  assert.equal(new Set(await pool.map(taskOf, range(3))).size, 3);
  assert.deepEqual(await pool.map(taskOf, []), []);
});

test("typed arrays, generators and async functions", async () => {
  const pool = new Pool({ processes: 2 });
  const xs = new Float64Array(10_000).map((_, i) => i / 2);
  const ys = await pool.map((x: number) => x * 2, xs);
  assert.equal(ys.length, xs.length);
  assert.equal(ys[9_999], 9_999);
  function* gen() {
    yield* ["a", "b", "c"];
  }
  assert.deepEqual(await pool.map(async (s: string) => s.toUpperCase(), gen()), ["A", "B", "C"]);
});

test("imap yields in input order, imapUnordered yields every result", async () => {
  const pool = new Pool({ processes: 2 });
  assert.deepEqual(await collect(pool.imap((x: number) => x + 1, range(50), { chunksize: 3 })), range(50).map((x) => x + 1));
  const unordered = await collect(pool.imapUnordered((x: number) => -x, range(50), { chunksize: 7 }));
  assert.deepEqual(unordered.sort((a, b) => b - a), range(50).map((x) => -x));
});

// Item 1 is held until the test puts into the queue: a result must not wait for later chunks.
type Held = { q: ray.util.Queue<string>; i: number };
async function heldAt(hold: number, { q, i }: Held): Promise<number> {
  if (i === hold) await ray.util.Queue.from<string>(q).get();
  return i;
}

test("imap yields a finished chunk before later chunks finish", async () => {
  const pool = new Pool({ processes: 2 });
  const q = new ray.util.Queue<string>();
  const it = pool.imap((x: Held) => heldAt(1, x), [{ q, i: 0 }, { q, i: 1 }], { chunksize: 1 })[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  await q.put("go");
  assert.deepEqual(await it.next(), { done: false, value: 1 });
  assert.equal((await it.next()).done, true);
  await q.shutdown();
});

test("imapUnordered yields a later chunk first when it finishes first", async () => {
  const pool = new Pool({ processes: 2 });
  const q = new ray.util.Queue<string>();
  const it = pool.imapUnordered((x: Held) => heldAt(0, x), [{ q, i: 0 }, { q, i: 1 }], { chunksize: 1 })[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { done: false, value: 1 });
  await q.put("go");
  assert.deepEqual(await it.next(), { done: false, value: 0 });
  assert.equal((await it.next()).done, true);
  await q.shutdown();
});

test("starmap and apply spread argument lists", async () => {
  const pool = new Pool({ processes: 2 });
  assert.deepEqual(await pool.starmap((a: number, b: number) => a * b, [[1, 2], [3, 4], [5, 6]]), [2, 12, 30]);
  assert.equal(await pool.apply((a: string, b: number) => a.repeat(b), ["ab", 3]), "ababab");
});

test("errors in fn reject with RayTaskError", async () => {
  const pool = new Pool({ processes: 2 });
  const boom = (x: number) => {
    if (x === 17) throw new RangeError("no 17");
    return x;
  };
  await assert.rejects(pool.map(boom, range(40), { chunksize: 5 }), (e: unknown) => e instanceof ray.RayTaskError && /no 17/.test((e as Error).message));
  await assert.rejects(collect(pool.imap(boom, range(40))), ray.RayTaskError);
  // The pool still works afterwards.
  assert.deepEqual(await pool.map(boom, [1, 2]), [1, 2]);
});

test("close waits for running calls, then calls fail", async () => {
  const pool = new Pool({ processes: 1 });
  const running = pool.map((x: number) => x + 1, range(100));
  await pool.close();
  assert.deepEqual(await running, range(100).map((x) => x + 1));
  await assert.rejects(pool.map((x: number) => x, [1]), /closed/);
  await assert.rejects(pool.starmap((x: number) => x, [[1]]), /closed/);
  await assert.rejects(pool.apply((x: number) => x, [1]), /closed/);
  assert.throws(() => pool.imap((x: number) => x, [1]), /closed/);
  assert.throws(() => pool.imapUnordered((x: number) => x, [1]), /closed/);
});

test("bad input is TypeError / RangeError naming the argument", async () => {
  assert.throws(() => new Pool({ processes: 0 }), { name: "RangeError", message: /processes/ });
  assert.throws(() => new Pool({ processes: 1.5 }), { name: "TypeError", message: /processes/ });
  assert.throws(() => new Pool({ procs: 2 } as never), { name: "TypeError", message: /procs/ });
  const pool = new Pool({ processes: 2 });
  await assert.rejects(pool.map(42 as never, [1]), { name: "TypeError", message: /fn/ });
  await assert.rejects(pool.map((x: number) => x, 42 as never), { name: "TypeError", message: /items/ });
  await assert.rejects(pool.map((x: number) => x, [1], { chunksize: 0 }), { name: "RangeError", message: /chunksize/ });
  await assert.rejects(pool.starmap((x: number) => x, [[1], 2 as never]), { name: "TypeError", message: /items\[1\]/ });
  await assert.rejects(pool.apply((x: number) => x, 1 as never), { name: "TypeError", message: /args/ });
  // Found when the chunk is sent: the error names the item.
  await assert.rejects(pool.map((x: unknown) => x, [1, 2, () => 3], { chunksize: 1 }), { name: "TypeError", message: /items\[2\] is a function/ });
  assert.throws(() => pool.imap((x: number) => x, [1], { chunksize: -1 }), { name: "RangeError", message: /chunksize/ });
});

test("await using terminates the pool at the end of the block: running chunks are stopped, unfinished calls reject", async () => {
  let map: Promise<unknown[]> | undefined;
  let pool: InstanceType<typeof Pool>;
  {
    await using p = new Pool({ processes: 2 });
    pool = p;
    assert.deepEqual(await p.map((x: number) => x + 1, [1, 2, 3]), [2, 3, 4]);
    // Never ends on its own: only terminate can stop it.
    map = p.map(function spin(x: number) {
      for (;;) if (x < 0) return x;
    }, range(8), { chunksize: 1 });
    map.catch(() => {});
  }
  await assert.rejects(map, (e: unknown) => e instanceof ray.RayError);
  await assert.rejects(pool.map((x: number) => x, [1]), /the pool is closed/);
  // The pool's threads were stopped, so the node's CPUs are free again.
  assert.deepEqual(await new Pool().map((x: number) => x * 2, [1, 2]), [2, 4]);
});

test("processes bounds the chunks that run at once, also below the node's CPUs", async () => {
  // Each chunk records when it ran, and runs long enough that two allowed at once would overlap.
  const spans = await new Pool({ processes: 1 }).map((_: number) => {
    const start = performance.timeOrigin + performance.now();
    while (performance.timeOrigin + performance.now() - start < 20);
    return [start, performance.timeOrigin + performance.now()];
  }, range(6), { chunksize: 1 });
  const sorted = spans.sort((a, b) => a[0]! - b[0]!);
  for (let i = 1; i < sorted.length; i++) assert.ok(sorted[i]![0]! >= sorted[i - 1]![1]!, `chunks ${i - 1} and ${i} overlapped`);
});
