/**
 * The ingress's Request, made whole only when something needs it. Node's Request constructor
 * (undici's) costs about as much as the rest of a no-op request's work in its replica: it makes an
 * AbortController, validates and copies every header, and what it makes outlives young-generation
 * collections. Most ingresses read the method, the URL, the headers, and perhaps a body that came
 * whole. So this Request (an instance of Request, with all its members) holds the wire form and
 * answers those itself; anything else (a streamed body, clone(), formData(), or undici reading
 * its internal state, as `new Request(request)` and `fetch(request)` do) makes the real Request
 * once and goes through it. The method, URL, headers object and signal stay the same throughout;
 * the real Request gets a copy of the headers as they are then, and follows the signal.
 */
import type { FlatHeaders, WireRequest } from "./http-result.js";

interface Parts {
  wire: WireRequest;
  abort: { readonly signal: AbortSignal };
  /** The streamed body's chunks, for a request whose body follows (wire.bodyStreamed). */
  streamedBody: ReadableStream<Uint8Array> | undefined;
  headers?: Headers;
  /** Read by text(), json(), arrayBuffer() or bytes() without the real Request. */
  used?: true;
  real?: Request;
}

const PARTS = Symbol("tsray.serve.requestParts");
type Lazy = { [PARTS]: Parts };

/** The ingress's Request for a request on the wire; `streamedBody`: its chunks, for a request whose body follows. */
export function fromWireRequest(wire: WireRequest, abort: { readonly signal: AbortSignal }, streamedBody?: ReadableStream<Uint8Array>): Request {
  const request = Object.create(prototype) as Request & Lazy;
  request[PARTS] = { wire, abort, streamedBody };
  return request;
}

function parts(self: unknown): Parts {
  const p = (self as Partial<Lazy>)[PARTS];
  if (p === undefined) throw new TypeError("Illegal invocation: not a Request");
  return p;
}

function headersOf(p: Parts): Headers {
  return (p.headers ??= unflatten(p.wire.headers));
}

function unflatten(flat: FlatHeaders): Headers {
  const headers = new Headers();
  for (let i = 0; i < flat.length; i += 2) headers.append(flat[i]!, flat[i + 1]!);
  return headers;
}

function realOf(self: unknown): Request {
  const p = parts(self);
  if (p.real === undefined) {
    const init: RequestInit & { duplex?: "half" } = { method: p.wire.method, headers: headersOf(p), signal: p.abort.signal };
    if (p.streamedBody !== undefined) Object.assign(init, { body: p.streamedBody, duplex: "half" });
    else if (p.wire.body !== null) init.body = p.wire.body;
    p.real = new Request(p.wire.url, init);
    // Its body was read already, without it: the real one's is used up too.
    if (p.used && p.real.body !== null) p.real.arrayBuffer().catch(() => {});
  }
  return p.real;
}

/** The whole body, for a read that needs no real Request; undefined when one is needed. */
function wholeBody(self: unknown): Uint8Array | undefined {
  const p = parts(self);
  if (p.real !== undefined || p.streamedBody !== undefined) return undefined;
  // No body (a GET, say) can be read any number of times, as Request's own.
  if (p.wire.body === null) return new Uint8Array(0);
  if (p.used) throw new TypeError("Body is unusable: the request's body was already read");
  p.used = true;
  return p.wire.body;
}

const decoder = new TextDecoder();

const prototype: object = Object.create(Request.prototype, {
  method: { get() { return parts(this).wire.method; } },
  url: { get() { return parts(this).wire.url; } },
  headers: { get() { return headersOf(parts(this)); } },
  signal: { get() { return parts(this).abort.signal; } },
  bodyUsed: { get() { const p = parts(this); return p.real?.bodyUsed ?? p.used === true; } },
  text: { value(this: Request) { return readWhole(this, (b) => decoder.decode(b), (r) => r.text()); } },
  json: { value(this: Request) { return readWhole(this, (b) => JSON.parse(decoder.decode(b)) as unknown, (r) => r.json()); } },
  arrayBuffer: { value(this: Request) { return readWhole(this, (b) => b.slice().buffer, (r) => r.arrayBuffer()); } },
  bytes: { value(this: Request) { return readWhole(this, (b) => b.slice(), (r) => r.arrayBuffer().then((a) => new Uint8Array(a))); } },
});

async function readWhole<T>(self: Request, fromBytes: (body: Uint8Array) => T, viaReal: (real: Request) => Promise<T>): Promise<T> {
  const body = wholeBody(self);
  return body === undefined ? viaReal(realOf(self)) : fromBytes(body);
}

// Every other member of Request.prototype (body, clone(), formData(), cache...) through the real
// Request; and undici's own state, kept under symbols on the instance, for the code of undici
// that reads it from a Request it is given.
for (const name of Object.getOwnPropertyNames(Request.prototype)) {
  if (name === "constructor" || Object.prototype.hasOwnProperty.call(prototype, name)) continue;
  const d = Object.getOwnPropertyDescriptor(Request.prototype, name)!;
  if (typeof d.value === "function") {
    Object.defineProperty(prototype, name, { value(...args: unknown[]) { return (realOf(this) as unknown as Record<string, (...a: unknown[]) => unknown>)[name]!(...args); } });
  } else if (d.get !== undefined) {
    Object.defineProperty(prototype, name, { get() { return (realOf(this) as unknown as Record<string, unknown>)[name]; } });
  }
}
for (const symbol of Object.getOwnPropertySymbols(new Request("http://127.0.0.1/"))) {
  Object.defineProperty(prototype, symbol, { get() { return (realOf(this) as unknown as Record<symbol, unknown>)[symbol]; } });
}
