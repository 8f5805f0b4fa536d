// The HTTP proxy over real loopback HTTP (the built-in fetch as client): longest-prefix routes on
// whole segments with the prefix stripped, result conversion, streaming bodies, x-request-id,
// 404 / 500 / 501 / 408 / 503, and a client disconnect aborting the ingress's request.signal.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Latch } from "../helpers/latch.js";
import { serveCluster } from "../helpers/serve-tests.js";

const cluster = serveCluster({ http: { port: 0, requestTimeoutMs: 1500 } });

class Echo {
  constructor(private readonly tag: string) {}
  async fetch(request: Request) {
    const url = new URL(request.url);
    const kind = url.searchParams.get("kind");
    if (kind === "text") return "plain text";
    if (kind === "bytes") return new Uint8Array([1, 2, 3]);
    if (kind === "throw") throw new RangeError("bad input");
    if (kind === "stream") {
      return (async function* () {
        for (let i = 0; i < 3; i++) yield `chunk${i};`;
      })();
    }
    if (kind === "response") {
      const body = new ReadableStream({
        start(c) {
          c.enqueue(new TextEncoder().encode("a"));
          c.enqueue(new TextEncoder().encode("b"));
          c.close();
        },
      });
      return new Response(body, { status: 202, headers: { "x-mine": "1" } });
    }
    if (kind === "hang") {
      await new Promise<void>((resolve) => request.signal.addEventListener("abort", () => resolve(), { once: true }));
      Echo.aborted++;
      return "late";
    }
    if (kind === "aborted") return { aborted: Echo.aborted };
    return { tag: this.tag, path: url.pathname, query: url.search, method: request.method, body: await request.text() };
  }
  static aborted = 0;
}
class NoFetch {
  hello() {
    return "hi";
  }
}

test("routes: longest prefix on whole segments, the prefix stripped, query, method and body kept", async () => {
  await serve.run(serve.deployment(Echo).options({ name: "Root" }).bind("root"), { name: "root", routePrefix: "/" });
  await serve.run(serve.deployment(Echo).options({ name: "Api" }).bind("api"), { name: "api", routePrefix: "/api" });
  const get = async (path: string, init?: RequestInit): Promise<any> => (await fetch(`${cluster.url()}${path}`, init)).json();
  assert.deepEqual(await get("/api/x/y?q=1"), { tag: "api", path: "/x/y", query: "?q=1", method: "GET", body: "" });
  assert.deepEqual(await get("/api"), { tag: "api", path: "/", query: "", method: "GET", body: "" });
  assert.equal((await get("/apix")).tag, "root");
  assert.deepEqual(await get("/api/p", { method: "POST", body: "data" }), { tag: "api", path: "/p", query: "", method: "POST", body: "data" });
  await assert.rejects(serve.run(serve.deployment(Echo).options({ name: "Other" }).bind("x"), { name: "other", routePrefix: "/api" }), /route prefix \/api is already used by application 'api'/);
});

test("results: string as text/plain, bytes as octet-stream, JSON, streamed iterables and Response bodies; x-request-id echoed or made", async () => {
  let res = await fetch(`${cluster.url()}/api?kind=text`, { headers: { "x-request-id": "mine-1" } });
  assert.equal(res.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(res.headers.get("x-request-id"), "mine-1");
  assert.equal(await res.text(), "plain text");
  res = await fetch(`${cluster.url()}/api?kind=bytes`);
  assert.equal(res.headers.get("content-type"), "application/octet-stream");
  assert.deepEqual(new Uint8Array(await res.arrayBuffer()), new Uint8Array([1, 2, 3]));
  assert.ok(res.headers.get("x-request-id"));
  res = await fetch(`${cluster.url()}/api?kind=stream`);
  assert.equal(await res.text(), "chunk0;chunk1;chunk2;");
  res = await fetch(`${cluster.url()}/api?kind=response`);
  assert.equal(res.status, 202);
  assert.equal(res.headers.get("x-mine"), "1");
  assert.equal(await res.text(), "ab");
});

test("404 for no route, 500 when the ingress throws (the replica goes on), 501 without fetch", async () => {
  await serve.deleteApp("root");
  let res = await fetch(`${cluster.url()}/nothing-here`);
  assert.equal(res.status, 404);
  assert.ok(res.headers.get("x-request-id"));
  await res.text();
  res = await fetch(`${cluster.url()}/api?kind=throw`);
  assert.equal(res.status, 500);
  assert.match(await res.text(), /RangeError: bad input/);
  assert.equal((await fetch(`${cluster.url()}/api?kind=text`)).status, 200);
  await serve.run(serve.deployment(NoFetch).bind(), { name: "nofetch", routePrefix: "/nofetch" });
  res = await fetch(`${cluster.url()}/nofetch`);
  assert.equal(res.status, 501);
  await res.text();
});

test("408 after requestTimeoutMs, and the ingress's request.signal aborts; a client disconnect aborts it too", async () => {
  const res = await fetch(`${cluster.url()}/api?kind=hang`);
  assert.equal(res.status, 408);
  await res.text();
  const aborted = async () => ((await (await fetch(`${cluster.url()}/api?kind=aborted`)).json()) as { aborted: number }).aborted;
  for (let i = 0; i < 100 && (await aborted()) < 1; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(await aborted(), 1);
  const client = new AbortController();
  const pending = fetch(`${cluster.url()}/api?kind=hang`, { signal: client.signal }).catch(() => "disconnected");
  await new Promise((r) => setTimeout(r, 200)); // let the request reach the replica
  client.abort();
  assert.equal(await pending, "disconnected");
  for (let i = 0; i < 100 && (await aborted()) < 2; i++) await new Promise((r) => setTimeout(r, 25));
  assert.equal(await aborted(), 2);
});

class Busy {
  constructor(private readonly latch: ray.ActorHandle<{ wait(): Promise<void> }>) {}
  async fetch() {
    await ray.get(this.latch.wait.remote());
    return "done";
  }
}

test("503 when the ingress's maxQueuedRequests is reached", async () => {
  const latch = ray.remote(Latch).options({ maxConcurrency: 10 }).remote();
  await serve.run(serve.deployment(Busy, { maxOngoingRequests: 1, maxQueuedRequests: 0 }).bind(latch), { name: "busy", routePrefix: "/busy" });
  const first = fetch(`${cluster.url()}/busy`);
  let res: Response | undefined;
  for (let i = 0; i < 100; i++) {
    res = await fetch(`${cluster.url()}/busy`);
    if (res.status === 503) break;
    await res.text();
  }
  assert.equal(res!.status, 503);
  await res!.text();
  await ray.get(latch.open.remote());
  assert.equal(await (await first).text(), "done");
});
