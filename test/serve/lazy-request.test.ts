// The Request an ingress receives (made whole only when needed, see src/serve/lazy-request.ts)
// behaves as a Request everywhere a user's code may take it: its members, its body read once,
// clone(), `new Request(request)` and `fetch(request)` (over real loopback HTTP), and its signal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { inspect } from "node:util";
import type { WireRequest } from "../../src/serve/http-result.js";
import { fromWireRequest } from "../../src/serve/lazy-request.js";
import { LazyAbort } from "../../src/serve/lazy-abort.js";

const encode = (s: string) => new TextEncoder().encode(s);

function wire(over: Partial<WireRequest> = {}): WireRequest {
  return { url: "http://127.0.0.1:8000/predict?x=1", method: "POST", headers: ["content-type", "application/json", "x-a", "1", "x-a", "2"], body: encode('{"n":3}'), ...over };
}

test("it is a Request with the wire's method, URL, headers and the call's signal", () => {
  const abort = new LazyAbort();
  const request = fromWireRequest(wire(), abort);
  assert.ok(request instanceof Request);
  assert.equal(Object.prototype.toString.call(request), "[object Request]");
  assert.equal(request.method, "POST");
  assert.equal(request.url, "http://127.0.0.1:8000/predict?x=1");
  assert.equal(new URL(request.url).searchParams.get("x"), "1");
  assert.equal(request.headers.get("x-a"), "1, 2");
  assert.equal(request.headers, request.headers, "one headers object");
  request.headers.set("x-b", "set by the ingress");
  assert.equal(request.headers.get("x-b"), "set by the ingress");
  assert.equal(request.signal.aborted, false);
  abort.abort(new Error("client left"));
  assert.equal(request.signal.aborted, true);
  // Members it does not answer itself come from the real Request.
  assert.equal(request.cache, "default");
  assert.equal(request.redirect, "follow");
  assert.match(inspect(request), /predict/);
});

test("a whole body is read once, by any of the readers; a second read rejects", async () => {
  const request = fromWireRequest(wire(), new LazyAbort());
  assert.equal(request.bodyUsed, false);
  assert.deepEqual(await request.json(), { n: 3 });
  assert.equal(request.bodyUsed, true);
  await assert.rejects(request.text(), TypeError);
  await assert.rejects(request.arrayBuffer(), TypeError);
  assert.throws(() => request.clone(), TypeError, "a used body cannot be cloned");
  await assert.rejects(fromWireRequest(wire({ body: encode("not json") }), new LazyAbort()).json(), SyntaxError);

  assert.equal(await fromWireRequest(wire(), new LazyAbort()).text(), '{"n":3}');
  assert.deepEqual(new Uint8Array(await fromWireRequest(wire(), new LazyAbort()).arrayBuffer()), encode('{"n":3}'));
  const b = fromWireRequest(wire(), new LazyAbort()) as Request & { bytes(): Promise<Uint8Array> };
  assert.deepEqual(await b.bytes(), encode('{"n":3}'));
  // A body read as a stream, and as a form.
  const streamed = fromWireRequest(wire(), new LazyAbort());
  assert.equal(await new Response(streamed.body).text(), '{"n":3}');
  assert.equal(streamed.bodyUsed, true);
  const form = fromWireRequest(wire({ headers: ["content-type", "application/x-www-form-urlencoded"], body: encode("a=1&b=two") }), new LazyAbort());
  assert.equal((await form.formData()).get("b"), "two");
});

test("a request without a body reads as empty, any number of times, as Request's own", async () => {
  const request = fromWireRequest(wire({ method: "GET", body: null, headers: [] }), new LazyAbort());
  assert.equal(request.body, null);
  assert.equal(await request.text(), "");
  assert.equal(await request.text(), "");
  assert.equal(request.bodyUsed, false);
});

test("a streamed body comes through the real Request's stream", async () => {
  const chunks = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(encode("part1,"));
      c.enqueue(encode("part2"));
      c.close();
    },
  });
  const request = fromWireRequest(wire({ body: null, bodyStreamed: true }), new LazyAbort(), chunks);
  assert.equal(await request.text(), "part1,part2");
  assert.equal(request.bodyUsed, true);
});

test("clone(), new Request(request) and fetch(request) carry the body, headers and signal", async () => {
  const request = fromWireRequest(wire(), new LazyAbort());
  request.headers.set("x-b", "kept");
  const copy = request.clone();
  assert.equal(await copy.text(), '{"n":3}');
  assert.equal(copy.headers.get("x-b"), "kept");
  assert.deepEqual(await request.json(), { n: 3 }, "the original still has its body after clone()");

  const abort = new LazyAbort();
  const rebuilt = new Request(fromWireRequest(wire(), abort), { headers: { "x-c": "3" } });
  assert.equal(rebuilt.method, "POST");
  assert.equal(rebuilt.headers.get("x-c"), "3");
  assert.equal(await rebuilt.text(), '{"n":3}');
  abort.abort(new Error("client left"));
  assert.equal(rebuilt.signal.aborted, true, "a Request made from it follows its signal");

  // Forwarded as is to another server, as a proxying ingress would.
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c));
    req.on("end", () => res.end(`${req.method} ${req.url} ${req.headers["x-a"]} ${body}`));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const forwarded = fromWireRequest(wire({ url: `http://127.0.0.1:${port}/upstream?q=2` }), new LazyAbort());
    const res = await fetch(forwarded);
    assert.equal(await res.text(), 'POST /upstream?q=2 1, 2 {"n":3}');
  } finally {
    server.close();
  }
});
