// The quick start: tasks, objects and an actor on the embedded single-node cluster.
import * as ray from "tsray";

const info = await ray.init();
console.log(`tsray started: node ${info.nodeId.slice(0, 8)}, namespace ${info.namespace}`);

// A task: any function, run in a worker thread.
const square = ray.remote(function square(x: number) {
  return x * x;
});
const refs = [1, 2, 3, 4].map((x) => square.remote(x));
console.log("squares:", await ray.get(refs));

// Objects: a large array is put once into shared memory and read by tasks without copies.
const big = ray.put(new Float64Array(1_000_000).fill(0.5));
const sum = ray.remote(function sum(xs: Float64Array) {
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += xs[i];
  return s;
});
console.log("sum of a million halves:", await ray.get(sum.remote(big)));

// An actor: a class whose instance lives in a worker of its own.
class Counter {
  count = 0;
  inc() {
    return ++this.count;
  }
}
const counter = ray.remote(Counter).remote();
counter.inc.remote();
counter.inc.remote();
console.log("counter:", await ray.get(counter.inc.remote()));

await ray.shutdown();
