// Past the node's limit of actor threads, light actors share host threads.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import { Gate } from "../helpers/gate.js";
import { settledStore } from "../helpers/store.js";

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

test("an actor killed on a shared host frees what it held and what its calls still return", async () => {
  class Hoarder {
    kept: Float64Array[] = [];
    keep(xs: Float64Array) {
      this.kept.push(xs);
      return this.kept.length;
    }
    async slowBig(gate: ray.ActorHandle<Gate>) {
      await ray.get(gate.wait.remote("release"));
      return new Float64Array(2 ** 20);
    }
  }
  // Fill the two threads of their own first, so these share a host.
  const others = [RemoteCell.remote(0), RemoteCell.remote(1)];
  await ray.get(others.map((c) => c.get.remote()));
  const gate = ray.remote({ maxConcurrency: 10 })(Gate).remote();
  const hoarder = ray.remote(Hoarder).options({ maxConcurrency: 2 }).remote();
  const neighbour = RemoteCell.remote(7);
  assert.equal(await ray.get(hoarder.keep.remote(new Float64Array(2 ** 20))), 1);
  const inFlight = hoarder.slowBig.remote(gate);
  await ray.kill(hoarder);
  await assert.rejects(ray.get(inFlight), ray.RayActorError);
  // The call's result still arrives from the host, after its actor is gone: it is dropped.
  await ray.get(gate.open.remote("release"));
  assert.equal(await ray.get(neighbour.get.remote()), 7);
  assert.equal((await settledStore()).usedBytes, 0);
});
