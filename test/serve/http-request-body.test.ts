// HTTP request bodies: short ones of known length travel whole with their request; longer ones,
// and those without a length, are streamed to the ingress as the client sends them, at the
// ingress's pace.
import { before, test } from "node:test";
import assert from "node:assert/strict";
import * as ray from "tsray";
import * as serve from "tsray/serve";
import { Latch } from "../helpers/latch.js";
import { serveCluster, until } from "../helpers/serve-tests.js";
import { embeddedNode } from "../../src/api/lifecycle.js";

const cluster = serveCluster();

/** Reads the body as a stream: its size, a checksum, and how many reads it took. */
class Reader {
  constructor(private readonly firstSeen: ray.ActorHandle<Latch>) {}
  async fetch(request: Request) {
    const path = new URL(request.url).pathname;
    if (path === "/ignore") return "not read";
    const reader = request.body!.getReader();
    let bytes = 0;
    let sum = 0;
    let reads = 0;
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      reads++;
      bytes += value.byteLength;
      for (const b of value) sum = (sum + b) % 2 ** 32;
      if (path === "/echo") {
        text += new TextDecoder().decode(value);
        // The client sends its second part only once the ingress has read the first.
        if (text.includes("first")) await ray.get(this.firstSeen.open.remote());
      }
    }
    return { bytes, sum, reads, text: path === "/echo" ? text : undefined };
  }
}

let firstSeen: ray.ActorHandle<Latch>;

before(async () => {
  firstSeen = ray.remote(Latch).options({ maxConcurrency: 10 }).remote();
  await serve.run(serve.deployment(Reader).bind(firstSeen), { name: "bodies", routePrefix: "/" });
});

test("a large body of known length streams through: every byte arrives, in more than one read", async () => {
  const body = new Uint8Array(8 * 2 ** 20).map((_, i) => (i * 7) % 251);
  let sum = 0;
  for (const b of body) sum = (sum + b) % 2 ** 32;
  const res = await fetch(`${cluster.url()}/count`, { method: "POST", body });
  assert.equal(res.status, 200);
  const got = (await res.json()) as { bytes: number; sum: number; reads: number };
  assert.equal(got.bytes, body.byteLength);
  assert.equal(got.sum, sum);
  assert.ok(got.reads > 1, `read in ${got.reads} chunks`);
});

test("a body without a length reaches the ingress while the client still sends it", { timeout: 120_000 }, async () => {
  const encoder = new TextEncoder();
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(encoder.encode("first;"));
      await ray.get(firstSeen.wait.remote()); // would never return if the proxy waited for the whole body
      controller.enqueue(encoder.encode("second"));
      controller.close();
    },
  });
  const res = await fetch(`${cluster.url()}/echo`, { method: "POST", body: stream, duplex: "half" } as RequestInit);
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { text: string }).text, "first;second");
});

test("a short body of known length travels whole; a streamed body the ingress never reads does not hold the response", async () => {
  const small = await fetch(`${cluster.url()}/count`, { method: "POST", body: "hello" });
  assert.deepEqual(await small.json(), { bytes: 5, sum: [..."hello"].reduce((a, c) => a + c.charCodeAt(0), 0), reads: 1 });
  const ignored = await fetch(`${cluster.url()}/ignore`, { method: "POST", body: new Uint8Array(6 * 2 ** 20) });
  assert.equal(ignored.status, 200);
  assert.equal(await ignored.text(), "not read");
  // The proxy and replica go on serving.
  const again = await fetch(`${cluster.url()}/count`, { method: "POST", body: new Uint8Array(3 * 2 ** 20).fill(1) });
  assert.equal(((await again.json()) as { bytes: number }).bytes, 3 * 2 ** 20);
});

/** One request at a time; hold() keeps the slot until `release` opens. */
class Narrow {
  constructor(private readonly started: ray.ActorHandle<Latch>, private readonly release: ray.ActorHandle<Latch>) {}
  async hold() {
    await ray.get(this.started.open.remote());
    await ray.get(this.release.wait.remote());
  }
  async fetch(request: Request) {
    const body = new Uint8Array(await request.arrayBuffer());
    let sum = 0;
    for (const b of body) sum = (sum + b) % 2 ** 32;
    return { bytes: body.byteLength, sum };
  }
}

test("a streamed body whose replica refuses the request (full with another caller's call) goes whole to it once it has room", { timeout: 120_000 }, async () => {
  const started = ray.remote(Latch).options({ maxConcurrency: 10 }).remote();
  const release = ray.remote(Latch).options({ maxConcurrency: 10 }).remote();
  const handle = await serve.run(serve.deployment(Narrow, { maxOngoingRequests: 1 }).bind(started, release), { name: "narrow", routePrefix: "/narrow" });
  const held = handle.hold.remote(); // the driver's call takes the one slot
  await ray.get(started.wait.remote());
  // The proxy (another caller) sends a request with a streamed body: the full replica refuses it,
  // having read nothing of the body, which the proxy keeps and sends again with the request.
  const body = new Uint8Array(3 * 2 ** 20).map((_, i) => (i * 13) % 251);
  let sum = 0;
  for (const b of body) sum = (sum + b) % 2 ** 32;
  const response = fetch(`${cluster.url()}/narrow/upload`, { method: "POST", body });
  await until("a refusal of the full replica", async () =>
    embeddedNode()!.raylet.events.rows().some((r) => r.error_type === "ServeReplicaFullRefusal") || undefined, 30_000);
  await ray.get(release.open.remote());
  await held;
  const res = await response;
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { bytes: body.byteLength, sum });
});
