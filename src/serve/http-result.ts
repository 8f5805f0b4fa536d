/**
 * HTTP between the proxy and the ingress replica. A Request cannot cross an actor call, so it goes
 * as plain data (WireRequest) and is rebuilt on the replica with the request's signal
 * (lazy-request.ts); its body comes along whole when it is short and of known length, else it is
 * streamed after it (`bodyStreamed`, see request-bodies.ts). The ingress's result goes back as a
 * stream of parts: first the head ({ status, headers }), then body chunks as they are produced,
 * converted as serve.d.ts says: a Response as is (its body streamed), a string as text/plain, a
 * Uint8Array as application/octet-stream, an AsyncIterable of those chunk by chunk, anything
 * else as JSON.
 */
import { fromWireRequest } from "./lazy-request.js";

/**
 * Headers on the wire: name, value, name, value... (as Node's rawHeaders): one array to
 * serialize per request rather than one per header.
 */
export type FlatHeaders = string[];

export interface WireRequest {
  url: string;
  method: string;
  headers: FlatHeaders;
  body: Uint8Array | null;
  /** The body follows in chunks (replica.bodyChunk); `body` is then null. */
  bodyStreamed?: true;
}

export interface HttpHead {
  status: number;
  headers: FlatHeaders;
}

/** `headers` as a flat list (see FlatHeaders). */
export function flatten(headers: Headers): FlatHeaders {
  const flat: FlatHeaders = [];
  for (const [name, value] of headers) flat.push(name, value);
  return flat;
}

export async function toWireRequest(request: Request, url: string): Promise<WireRequest> {
  const body = request.method === "GET" || request.method === "HEAD" ? null : new Uint8Array(await request.arrayBuffer());
  return { url, method: request.method, headers: flatten(request.headers), body: body !== null && body.byteLength > 0 ? body : null };
}

type HttpPart = HttpHead | Uint8Array | string;

/**
 * The ingress's result as a head and then body chunks (Uint8Array or string): an array when the
 * result is whole (a string, bytes, JSON), which the replica hands over at once, without a turn
 * of an async generator per part.
 */
export function toHttpParts(result: unknown): HttpPart[] | AsyncGenerator<HttpPart> {
  if (result instanceof Response) return responseParts(result);
  if (typeof result === "string") return [{ status: 200, headers: ["content-type", "text/plain; charset=utf-8"] }, result];
  if (result instanceof Uint8Array) return [{ status: 200, headers: ["content-type", "application/octet-stream"] }, result];
  if (typeof result === "object" && result !== null && typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    return chunkParts(result as AsyncIterable<unknown>);
  }
  return [{ status: 200, headers: ["content-type", "application/json"] }, JSON.stringify(result === undefined ? null : result)];
}

async function* responseParts(response: Response): AsyncGenerator<HttpPart> {
  yield { status: response.status, headers: flatten(response.headers) };
  if (response.body === null) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

async function* chunkParts(chunks: AsyncIterable<unknown>): AsyncGenerator<HttpPart> {
  let headSent = false;
  for await (const chunk of chunks) {
    if (!headSent) {
      headSent = true;
      const type = typeof chunk === "string" ? "text/plain; charset=utf-8" : "application/octet-stream";
      yield { status: 200, headers: ["content-type", type] };
    }
    if (typeof chunk !== "string" && !(chunk instanceof Uint8Array)) throw new TypeError(`an ingress's streamed chunks must be strings or Uint8Arrays, got ${chunk === null ? "null" : typeof chunk}`);
    yield chunk;
  }
  if (!headSent) yield { status: 200, headers: ["content-type", "text/plain; charset=utf-8"] };
}

// A Request argument and a Response result of a handle call cross whole, body buffered, as
// plain data under these keys (neither can be serialized as it is).
const REQUEST_KEY = "__tsrayServeRequest";
const RESPONSE_KEY = "__tsrayServeResponse";

export async function encodeHandleArg(arg: unknown): Promise<unknown> {
  return arg instanceof Request ? { [REQUEST_KEY]: await toWireRequest(arg, arg.url) } : arg;
}

// `in` first: reading an unknown property of some values throws (an ActorHandle passed as an argument).
export function decodeHandleArg(arg: unknown, abort: { readonly signal: AbortSignal }): unknown {
  const wire = typeof arg === "object" && arg !== null && REQUEST_KEY in arg ? (arg as Record<string, unknown>)[REQUEST_KEY] : undefined;
  return wire === undefined ? arg : fromWireRequest(wire as WireRequest, abort);
}

export async function encodeHandleResult(result: unknown): Promise<unknown> {
  if (!(result instanceof Response)) return result;
  const body = result.body === null ? null : new Uint8Array(await result.arrayBuffer());
  return { [RESPONSE_KEY]: { status: result.status, statusText: result.statusText, headers: [...result.headers], body } };
}

export function decodeHandleResult(result: unknown): unknown {
  const wire = typeof result === "object" && result !== null && RESPONSE_KEY in result ? (result as Record<string, unknown>)[RESPONSE_KEY] : undefined;
  if (wire === undefined) return result;
  const w = wire as { status: number; statusText: string; headers: [string, string][]; body: Uint8Array | null };
  return new Response(w.body, { status: w.status, statusText: w.statusText, headers: w.headers });
}
