// Many HTTP requests at once through one proxy and one replica (the proxy sends those of one turn
// in one call, see src/serve/http-calls.ts): each gets its own response, a slow request never
// holds back the fast ones sent with it, and a failing or streamed one among them is answered as
// it would be alone. And a Hono app as an ingress.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Hono } from "hono";
import { Latch } from "../helpers/latch.js";
import { serveCluster } from "../helpers/serve-tests.js";

const cluster = serveCluster();

class Mixed {
  constructor(private readonly latch: ray.ActorHandle<Latch>) {}
  async fetch(request: Request) {
    const url = new URL(request.url);
    const id = url.searchParams.get("id");
    const kind = url.searchParams.get("kind");
    if (kind === "slow") await ray.get(this.latch.wait.remote());
    if (kind === "fail") throw new RangeError(`request ${id} fails`);
    if (kind === "stream") return (async function* () { yield `${id}:`; yield "a"; yield "b"; })();
    return { id, kind };
  }
}

test("concurrent requests: each its own answer, the fast ones not held back by slow ones", { timeout: 120_000 }, async () => {
  const latch = ray.remote(Latch).options({ maxConcurrency: 100 }).remote();
  await serve.run(serve.deployment(Mixed, { maxOngoingRequests: 200 }).bind(latch), { name: "mixed", routePrefix: "/" });
  const send = (id: number, kind: string) => fetch(`${cluster.url()}/?id=${id}&kind=${kind}`);
  const kindOf = (i: number) => (i % 10 === 0 ? "slow" : i % 10 === 3 ? "fail" : i % 10 === 7 ? "stream" : "fast");
  const ids = Array.from({ length: 120 }, (_, i) => i);
  const responses = new Map(ids.map((i) => [i, send(i, kindOf(i))]));

  // Everything but the slow ones is answered while those wait on the latch.
  for (const i of ids.filter((i) => kindOf(i) !== "slow")) {
    const res = await responses.get(i)!;
    const kind = kindOf(i);
    if (kind === "fail") {
      assert.equal(res.status, 500);
      assert.match(await res.text(), new RegExp(`RangeError: request ${i} fails`));
    } else if (kind === "stream") {
      assert.equal(res.status, 200);
      assert.equal(await res.text(), `${i}:ab`);
    } else {
      assert.deepEqual(await res.json(), { id: String(i), kind: "fast" });
    }
  }
  await ray.get(latch.open.remote());
  for (const i of ids.filter((i) => kindOf(i) === "slow")) {
    assert.deepEqual(await (await responses.get(i)!).json(), { id: String(i), kind: "slow" });
  }
});

// The promise for Web-standard ingress: a Hono app's fetch is a deployment's fetch.
class HonoApi {
  readonly app = new Hono()
    .get("/hello/:name", (c) => c.json({ hello: c.req.param("name"), q: c.req.query("q") ?? null }))
    .post("/echo", async (c) => c.text(`got ${await c.req.text()}`, 201, { "x-echo": "1" }));
  fetch(request: Request) {
    return this.app.fetch(request);
  }
}

test("a Hono app as the ingress: its routes under the app's prefix, params, query, body, status and headers", async () => {
  await serve.run(serve.deployment(HonoApi).bind(), { name: "hono", routePrefix: "/hono" });
  const hello = await fetch(`${cluster.url()}/hono/hello/ada?q=1`);
  assert.equal(hello.status, 200);
  assert.deepEqual(await hello.json(), { hello: "ada", q: "1" });
  const echo = await fetch(`${cluster.url()}/hono/echo`, { method: "POST", body: "data" });
  assert.equal(echo.status, 201);
  assert.equal(echo.headers.get("x-echo"), "1");
  assert.equal(await echo.text(), "got data");
  assert.equal((await fetch(`${cluster.url()}/hono/nothing`)).status, 404);
});

class Tagged {
  async fetch(request: Request) {
    const tag = new URL(request.url).searchParams.get("tag");
    await new Promise((r) => setTimeout(r, 5));
    return { tag, requestId: serve.getRequestContext().requestId };
  }
}

test("requests that share a client's x-request-id each get their own answer, the id as the client gave it", async () => {
  await serve.run(serve.deployment(Tagged).bind(), { name: "tagged", routePrefix: "/tagged" });
  const responses = await Promise.all(Array.from({ length: 20 }, (_, i) => fetch(`${cluster.url()}/tagged?tag=${i}`, { headers: { "x-request-id": "same-id" } })));
  const bodies = await Promise.all(responses.map((r) => r.json()));
  bodies.forEach((body, i) => assert.deepEqual(body, { tag: String(i), requestId: "same-id" }));
  for (const r of responses) assert.equal(r.headers.get("x-request-id"), "same-id");
});
