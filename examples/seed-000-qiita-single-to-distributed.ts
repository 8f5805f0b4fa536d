// Seed 000 (Japanese, Qiita, @Yosemat1): "[Python]分散処理ライブラリRayを使ってシングルプロセスアプリを
// "完全に"そのまま分散処理アプリに変換する方法" — turning a single-process app into a distributed one
// with Ray, "completely" unchanged. Every Ray snippet of the article, translated to tsray.
//
// Sleeps are scaled down so the program runs in a few seconds: 1 s in the article is SECOND = 200 ms here.
import * as ray from "tsray";
import { setTimeout as sleep } from "node:timers/promises";

const SECOND = 200; // 1 s in the article

/** A list printed as Python prints it: [0, 1, 2, 3]. */
const show = (xs: readonly unknown[]) => `[${xs.join(", ")}]`;

// The article's comment says "with at least 4 cores, this will take 1 second": four logical CPUs
// let the four sleeping tasks run at once even on a smaller machine (they sleep, they don't compute).
await ray.init({ numCpus: 4 });

// ---------------------------------------------------------------------------------------------
// 基本操作 (basics): four tasks in parallel.

const f = ray.remote(async function f(x: number) {
  await sleep(1 * SECOND);
  return x;
});

let start = performance.now();
// Start 4 tasks in parallel.
const resultIds: ray.ObjectRef<number>[] = [];
for (let i = 0; i < 4; i++) resultIds.push(f.remote(i));
// Wait for the tasks to complete and retrieve the results.
// With at least 4 cores, this will take 1 second (here: 200 ms).
const results = await ray.get(resultIds); // [0, 1, 2, 3]
console.log("results:", show(results));
console.log(`4 tasks of 1 "second" each took ${Math.round(performance.now() - start)} ms (1 "second" = ${SECOND} ms)`);
// tsray starts its worker threads with init, in the background; the first tasks of a program wait
// for them to boot (about a second), so the first measurement is longer. Once they run:
start = performance.now();
await ray.get([0, 1, 2, 3].map((i) => f.remote(i)));
console.log(`again, with the workers running: ${Math.round(performance.now() - start)} ms`);

// ---------------------------------------------------------------------------------------------
// A dynamic task graph: multiply_matrices starts as soon as both matrices exist; the driver
// never waits for x and y itself. numpy becomes a small row-major Float64Array matrix type.

interface Matrix {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** One standard normal sample (Box–Muller), for np.random.normal. */
function randomNormal(): number {
  const u = 1 - Math.random(); // in (0, 1]: log(u) is finite
  const v = Math.random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** np.dot for two matrices. */
function dot(x: Matrix, y: Matrix): Matrix {
  if (x.cols !== y.rows) throw new Error(`shapes (${x.rows},${x.cols}) and (${y.rows},${y.cols}) not aligned`);
  const out = new Float64Array(x.rows * y.cols);
  for (let i = 0; i < x.rows; i++) {
    for (let k = 0; k < x.cols; k++) {
      const a = x.data[i * x.cols + k];
      for (let j = 0; j < y.cols; j++) out[i * y.cols + j] += a * y.data[k * y.cols + j];
    }
  }
  return { rows: x.rows, cols: y.cols, data: out };
}

const createMatrix = ray.remote(function create_matrix(size: [number, number]): Matrix {
  const [rows, cols] = size;
  const data = new Float64Array(rows * cols);
  for (let i = 0; i < data.length; i++) data[i] = randomNormal();
  return { rows, cols, data };
});

const multiplyMatrices = ray.remote(function multiply_matrices(x: Matrix, y: Matrix): Matrix {
  return dot(x, y);
});

// The article uses 1000 x 1000; 300 x 300 keeps this plain-JavaScript dot product quick.
const N = 300;
const xId = createMatrix.remote([N, N]);
const yId = createMatrix.remote([N, N]);
const zId = multiplyMatrices.remote(xId, yId); // ObjectRefs as arguments: no waiting here

// Get the results.
const z = await ray.get(zId);
let sumSq = 0;
for (const v of z.data) sumSq += v * v;
console.log(`z shape: [${z.rows}, ${z.cols}]`);
// Each entry of X·Y is a sum of N products of two N(0,1) samples: its std is about sqrt(N).
console.log(`z std: ${Math.sqrt(sumSq / z.data.length).toFixed(2)} (sqrt(${N}) = ${Math.sqrt(N).toFixed(2)})`);

// ---------------------------------------------------------------------------------------------
// オブジェクトをプロセス間で共有する (sharing objects between processes): an actor.

class Counter {
  x: number;
  constructor() {
    this.x = 0;
  }
  inc() {
    this.x += 1;
  }
  get_value() {
    return this.x;
  }
}

// Create an actor process.
const c = ray.remote(Counter).remote();

// Check the actor's counter value.
console.log(await ray.get(c.get_value.remote())); // 0

// Increment the counter twice and check the value again.
c.inc.remote();
c.inc.remote();
console.log(await ray.get(c.get_value.remote())); // 2

// ---------------------------------------------------------------------------------------------
// The replay buffer: one actor, filled by three sender tasks that hold its handle, sampled by the
// driver. The class is plain TypeScript: ray.remote(StupidReplayBuffer) does not change it, so the
// same class serves the RayWrapper section below.

/** random.shuffle: Fisher–Yates, in place. */
function shuffle<T>(xs: T[]): void {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
}

class StupidReplayBuffer {
  memory: string[];
  constructor() {
    this.memory = [];
  }

  // insertする!
  insert(value: string) {
    this.memory.push(value);
  }

  // randomに拾ってくる!
  sample() {
    shuffle(this.memory);
    return this.memory[this.memory.length - 1];
  }
}

const StupidReplayBufferActor = ray.remote(StupidReplayBuffer);

/** How many rounds the article's `while True` loops run here, so the program ends. */
const ROUNDS = 5;

const stupidSender = ray.remote(async function stupid_sender(buffer: ray.ActorHandle<StupidReplayBuffer>, stupidWord: string) {
  // 毎秒アホな言葉をbufferに追加する! (every "second", add a stupid word to the buffer)
  for (let round = 0; round < ROUNDS; round++) {
    buffer.insert.remote(stupidWord);
    await sleep(1 * SECOND);
  }
});

{
  const buffer = StupidReplayBufferActor.remote();
  const stupidword = ["pakupaku", "hogehoge", "mogumogu"];
  const senders = [];
  for (const word of stupidword) senders.push(stupidSender.remote(buffer, word));

  // 毎秒アホな言葉をランダムに引っ張ってきて表示する! (every "second", print a random stupid word)
  for (let round = 0; round < ROUNDS; round++) {
    await sleep(1 * SECOND);
    const futureId = buffer.sample.remote();
    console.log("sample:", await ray.get(futureId));
  }
  // pakupaku
  // mogumogu
  // pakupaku
  // hogehoge
  // ...
  await ray.get(senders); // the senders' loops are bounded too: let them finish
}

// ---------------------------------------------------------------------------------------------
// 既存のコードに@ray.remoteさえも付けたくない人は (not even a decorator on existing code):
// a wrapper runs the unchanged class as an actor and keeps its interface (insert and sample
// without .remote()). One difference: getting a value from another worker is asynchronous in
// TypeScript, so sample() returns a Promise.

class RayWrapper {
  buffer: ray.ActorHandle<StupidReplayBuffer>;

  /**
   * ReplayBufferクラスを全く書き換えずにリモートプロセスで走らせるラッパー
   * (runs the ReplayBuffer class in a worker without changing a line of it)
   * @param bufferCls the class to wrap (the class, not an instance)
   */
  constructor(bufferCls: new () => StupidReplayBuffer) {
    this.buffer = ray.remote(bufferCls).remote();
  }

  insert(value: string): void {
    this.buffer.insert.remote(value);
  }

  async sample(): Promise<string> {
    return await ray.get(this.buffer.sample.remote());
  }
}

{
  // StupidReplayBuffer()ではない! (not an instance: the class itself)
  const bufferCls = StupidReplayBuffer;
  const buffer = new RayWrapper(bufferCls);
  buffer.insert("pakupaku");
  console.log("wrapped sample:", await buffer.sample()); // pakupaku
}

await ray.shutdown();
