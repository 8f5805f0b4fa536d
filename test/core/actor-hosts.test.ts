// Past the node's limit of actor threads, light actors share host threads.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";

process.env.TSRAY_MAX_ACTOR_THREADS = "2";
before(() => ray.init({ numCpus: 2 }));
after(() => ray.shutdown());

class Cell {
  value: number;
  constructor(v: number) {
    this.value = v;
  }
  get() {
    return this.value;
  }
  set(v: number) {
    this.value = v;
    return v;
  }
  where() {
    return ray.getRuntimeContext().workerId;
  }
}
const RemoteCell = ray.remote(Cell);

test("many actors share threads, each keeping its own state", async () => {
  const cells = Array.from({ length: 40 }, (_, i) => RemoteCell.remote(i));
  assert.deepEqual(await ray.get(cells.map((c) => c.get.remote())), Array.from({ length: 40 }, (_, i) => i));
  await ray.get(cells.map((c, i) => c.set.remote(i * 10)));
  assert.deepEqual(await ray.get(cells.map((c) => c.get.remote())), Array.from({ length: 40 }, (_, i) => i * 10));
  const threads = new Set(await ray.get(cells.map((c) => c.where.remote())));
  // Two actors with threads of their own, the other 38 on shared hosts of up to 32.
  assert.ok(threads.size >= 3 && threads.size <= 4, `${threads.size} threads`);
});

test("killing an actor on a shared host leaves its neighbours running", async () => {
  const cells = Array.from({ length: 6 }, (_, i) => RemoteCell.remote(i));
  await ray.get(cells.map((c) => c.get.remote()));
  await ray.kill(cells[4]);
  await assert.rejects(ray.get(cells[4].get.remote()), ray.ActorDiedError);
  assert.equal(await ray.get(cells[5].get.remote()), 5);
});
