// Seed 004's Counter, translated: deployed with serve.run() on route prefix /Counter, queried
// over HTTP (the built-in fetch) and through the handle run() returns; both reach one replica.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as serve from "tsray/serve";
import { serveCluster } from "../helpers/serve-tests.js";

class Counter {
  count = 0;
  increment() {
    this.count += 1;
    return { count: this.count };
  }
  fetch(_request: Request) {
    return this.increment();
  }
}

const cluster = serveCluster({ http: { port: 0 } }, 4);

test("seed 004: the Counter answers over HTTP and through its handle, one replica counting both", async () => {
  const handle = await serve.run(serve.deployment(Counter).bind(), { routePrefix: "/Counter" });
  const res = await fetch(`${cluster.url()}/Counter`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.ok(res.headers.get("x-request-id"));
  assert.deepEqual(await res.json(), { count: 1 });
  assert.deepEqual(await handle.increment.remote(), { count: 2 });
  const st = await serve.status();
  assert.equal(st.applications.default!.status, "RUNNING");
  const dep = st.applications.default!.deployments.Counter!;
  assert.equal(dep.status, "HEALTHY");
  assert.equal(dep.replicas.length, 1);
  assert.notEqual(dep.replicas[0]!.pid, process.pid);
  assert.match(dep.replicas[0]!.actorName, /^SERVE_REPLICA::default#Counter#/);
});
