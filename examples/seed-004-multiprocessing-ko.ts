// Seed 004 (Korean): "[Ray] Multiprocessing library Ray" — Ray as a replacement for Python's
// multiprocessing: a Pool comparison, a tree reduce, calling ray.get once, ray.put for large
// objects, ray.shutdown. Every Ray Core snippet of the article, translated to tsray.
//
// Left out: the Ray Tune, RLlib, Train and Serve snippets (those libraries are not part of tsray
// yet).
// Sleeps are scaled down so the program runs in a few seconds: 1 s is SECOND = 200 ms here.
import * as ray from "tsray";
import { setTimeout as sleep } from "node:timers/promises";

const SECOND = 200; // 1 s

/** Milliseconds since `start`, rounded. */
const msSince = (start: number) => Math.round(performance.now() - start);

await ray.init();

// ---------------------------------------------------------------------------------------------
// python multiprocessing: the article maps `mul` over a million random numbers, once with a list
// comprehension and once with multiprocessing.Pool(processes=16), which is much slower (every item
// is pickled to and from the processes). tsray's drop-in is ray.util.Pool: the same map, run by
// tasks, with the array cut into chunks that travel as typed-array slices.

function mul(x: number) {
  return x * 10;
}

{
  const arr = Float64Array.from({ length: 1_000_000 }, () => Math.random()); // np.random.random(1000000)

  // list comprehension
  let start = performance.now();
  const local = Array.from(arr, (x) => mul(x));
  console.log(`list comprehension: ${local.length} results in ${msSince(start)} ms`); // article: 558 ms

  // multiprocessing → ray.util.Pool (`with Pool(...) as p:` closes the pool at the end)
  start = performance.now();
  const p = new ray.util.Pool({ processes: 16 });
  let result: number[];
  try {
    result = await p.map(mul, arr);
  } finally {
    await p.close();
  }
  console.log(`Pool(processes=16).map: ${result.length} results in ${msSince(start)} ms`); // article: 3.54 s
  console.log(`same results: ${result.every((y, i) => y === local[i])}`);
}

// ---------------------------------------------------------------------------------------------
// Ray 사용법: 100 tasks make random data, then a tree reduce adds them up pairwise.

/** np.random.normal(size=n): standard normal samples by Box–Muller. */
function randomNormal(n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - Math.random()));
    const theta = 2 * Math.PI * Math.random();
    out[i] = r * Math.cos(theta);
    if (i + 1 < n) out[i + 1] = r * Math.sin(theta);
  }
  return out;
}

const generateData = ray.remote(function generate_data() {
  return randomNormal(1000);
});

const aggregateData = ray.remote(function aggregate_data(x: Float64Array, y: Float64Array) {
  // x + y, elementwise (a new array: the inputs may be read-only views of the object store)
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i] + y[i];
  return out;
});

{
  // Generate some random data. This launches 100 tasks that will be scheduled on
  // various nodes. The resulting data will be distributed around the cluster.
  const data = Array.from({ length: 100 }, () => generateData.remote());

  // Perform a tree reduce.
  while (data.length > 1) {
    data.push(aggregateData.remote(data.shift()!, data.shift()!));
  }

  // Fetch the result.
  const [sum] = await ray.get(data);
  let mean = 0;
  for (const v of sum) mean += v / sum.length;
  let variance = 0;
  for (const v of sum) variance += (v - mean) ** 2 / sum.length;
  // A sum of 100 standard normals has standard deviation 10.
  console.log(`tree reduce: ${data.length} array of ${sum.length} values, mean ${mean.toFixed(2)}, std ${Math.sqrt(variance).toFixed(2)}`);
}

// ---------------------------------------------------------------------------------------------
// Call ray.get once: getting inside the loop waits for each task before submitting the next.
// (The article does not define do_some_work; this is the one from Ray's documentation, whose
// tip it quotes: sleep 1 s, return x.)

const doSomeWork = ray.remote(async function do_some_work(x: number) {
  await sleep(1 * SECOND);
  return x;
});

{
  let start = performance.now();
  const results1 = [];
  for (let x = 0; x < 4; x++) results1.push(await ray.get(doSomeWork.remote(x))); // (X)
  console.log(`get in the loop (X): [${results1.join(", ")}] in ${msSince(start)} ms`);

  start = performance.now();
  const results2 = await ray.get([0, 1, 2, 3].map((x) => doSomeWork.remote(x))); // (O)
  console.log(`one get (O): [${results2.join(", ")}] in ${msSince(start)} ms`);
}

// ---------------------------------------------------------------------------------------------
// ray.put and large objects.

{
  const xId = ray.put("example");
  console.log(await ray.get(xId)); // "example"
}

const noWork = ray.remote(function no_work(x: unknown) {
  return;
});

{
  // The article uses np.zeros((5000, 5000)) (200 MB); 1000 x 1000 float64 (8 MB) here.
  // (In the article, the list comprehension's loop variable shadows x, so it actually passes
  // 0..19; its text is about passing the big array, which is what happens here.)
  const x = new Float64Array(1000 * 1000);

  // Passed by value, the array is copied into the object store for every call...
  let start = performance.now();
  let results = Array.from({ length: 20 }, () => noWork.remote(x));
  await ray.get(results);
  console.log(`20 tasks, array passed by value: ${msSince(start)} ms`);

  // ...put once, every task reads the same shared memory (a zero-copy, read-only view).
  start = performance.now();
  const xRef = ray.put(x);
  results = Array.from({ length: 20 }, () => noWork.remote(xRef));
  await ray.get(results);
  console.log(`20 tasks, array put once: ${msSince(start)} ms`);
}

// ray.shutdown(): releases the workers. tsray's worker threads live inside this process, so no
// zombie process can outlive it (the article's docker restart is not needed).
await ray.shutdown();

// ---------------------------------------------------------------------------------------------
// Ray Dashboard: init serves it (port 8265, a free one if that is taken); the article's options
// open it to other machines. Its state API tells each resource's use (the pages come later).
{
  const numCpus = 2;
  const { dashboardUrl } = await ray.init({ numCpus, ignoreReinitError: true, dashboardHost: "0.0.0.0", dashboardPort: 8265, includeDashboard: true });
  console.log(`dashboard: ${dashboardUrl}`);
  const status = (await (await fetch(`${dashboardUrl}/api/cluster_status`)).json()) as { total: Record<string, number> };
  console.log(`CPUs the dashboard reports: ${status.total.CPU}`);
  await ray.shutdown();
}
