/**
 * One HTTP request through the proxy, on Node's own request and response: the proxy never needs a
 * Web Request (the replica builds the ingress's from the wire form, see http-result.ts), so none is
 * made here, nor a Response, stream or AbortSignal per request. The request goes, prefix stripped,
 * to the app's ingress (the replica's httpMany, with the other requests of this turn, see
 * http-calls.ts), its body whole when it is short and of known length, else streamed after it at
 * the replica's pace, and to another replica if the first refused the request (body-pump.ts); a
 * response that arrives whole in the first batch (most do) is written with its length in one go, a
 * longer one chunk by chunk as the replica produces it, with the socket's backpressure.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ReplicaAccess, RouteTable } from "./controller-client.js";
import { BackPressureError, causeOf, DeploymentUnavailableError, RequestCancelledError } from "./errors.js";
import { BodyPump } from "./body-pump.js";
import { getOnce } from "./get-once.js";
import type { HttpHead, WireRequest } from "./http-result.js";
import { DeploymentResponseGenerator, newRequestMeta, type StreamBatch } from "./response.js";
import { requestTarget, type RequestTarget } from "./request-target.js";
import { routerFor } from "./router.js";
import { sendHttp } from "./http-calls.js";

export type Route = RouteTable["routes"][number];

export interface ProxyRequestContext {
  /** The route serving a path, if any (the proxy asks the controller once more on a miss). */
  route(pathname: string): Route | undefined | Promise<Route | undefined>;
  requestTimeoutMs: number | undefined;
}

/** Bodies of known length up to this size travel whole with their request; others are streamed. */
const WHOLE_BODY_LIMIT = 2 ** 20;
/** Statuses whose responses have no body. */
const NO_BODY = new Set([101, 204, 205, 304]);
/** Set by Node's server itself, whatever the ingress said. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "x-request-id"]);

export async function serveHttpRequest(req: IncomingMessage, res: ServerResponse, ctx: ProxyRequestContext): Promise<void> {
  const header = req.headers["x-request-id"];
  // One id when the client gives none: the request's, and its call's.
  const callId = randomUUID();
  const requestId = (typeof header === "string" && header) || callId;
  const host = req.headers.host ?? "127.0.0.1";
  let target: RequestTarget;
  try {
    target = requestTarget(req.url ?? "/", host);
  } catch {
    return writeText(res, 400, `Bad Request: cannot parse the URL ${JSON.stringify(req.url)}`, requestId);
  }
  const route = await ctx.route(target.pathname);
  if (route === undefined) return writeText(res, 404, `Not Found: no application serves ${target.pathname}`, requestId);
  const url = target.withPathname(route.prefix === "/" ? target.pathname : target.pathname.slice(route.prefix.length) || "/");

  const bodiless = req.method === "GET" || req.method === "HEAD";
  const streamed = !bodiless && streamsBody(req);
  let body: Uint8Array | null = null;
  if (bodiless) req.resume(); // nothing to wait for
  else if (!streamed) {
    try {
      body = await readBody(req);
    } catch {
      return; // the client went away while sending its body
    }
  }
  const wire: WireRequest = { url, method: req.method ?? "GET", headers: withoutPseudoHeaders(req.rawHeaders), body, ...(streamed ? { bodyStreamed: true as const } : {}) };
  const modelId = req.headers.serve_multiplexed_model_id;
  const meta = newRequestMeta(route.appName, typeof modelId === "string" ? modelId : "", route.prefix, requestId, callId);
  const pump = streamed ? new BodyPump(req, requestId) : undefined;
  const start = (replica: ReplicaAccess, args: unknown[]): Promise<StreamBatch> => {
    try {
      pump?.sendTo(replica.replicaId, (chunk) => getOnce(replica.actor.bodyChunk.remote(meta.callId, chunk)));
    } catch (err) {
      return Promise.reject(err);
    }
    return sendHttp(replica, meta, args[0] as WireRequest);
  };
  const call = new DeploymentResponseGenerator<HttpHead | Uint8Array | string>(routerFor(route.appName, route.ingress), meta, start, [wire]);

  let timedOut = false;
  const timer = ctx.requestTimeoutMs === undefined ? undefined : setTimeout(() => {
    timedOut = true;
    call.cancel();
  }, ctx.requestTimeoutMs);
  // The client disconnected before the whole response was written: the call is cancelled.
  const onClose = () => { if (!res.writableFinished) call.cancel(); };
  res.on("close", onClose); // removed below (not once(): its wrapper is garbage per request)

  const batches = call.batches();
  try {
    const first = await batches.next();
    if (first.done || first.value.items.length === 0) throw new Error("internal: the replica sent no response head");
    const [head, ...chunks] = first.value.items as [HttpHead, ...(Uint8Array | string)[]];
    if (NO_BODY.has(head.status)) {
      writeHead(res, head, requestId, undefined);
      res.end();
    } else if (first.value.done) {
      const whole = Buffer.concat(chunks.map(toBuffer));
      writeHead(res, head, requestId, whole.byteLength);
      res.end(whole);
    } else {
      await writeStreamed(res, head, requestId, chunks, batches);
    }
  } catch (err) {
    if (res.headersSent) {
      console.error(`Serve: the response of deployment '${route.ingress}' (application '${route.appName}') to request ${requestId} failed while streaming: ${describe(err)}`);
      res.destroy(err as Error);
    } else if (!res.destroyed) {
      const [status, message] = errorStatus(err, timedOut, ctx.requestTimeoutMs, route, requestId);
      writeText(res, status, message, requestId);
    }
  } finally {
    // Ends the call (its router slot is released then), also when the response came whole.
    void batches.return(undefined as never);
    clearTimeout(timer);
    res.off("close", onClose);
  }
}

async function writeStreamed(res: ServerResponse, head: HttpHead, requestId: string, first: (Uint8Array | string)[], rest: AsyncGenerator<StreamBatch>): Promise<void> {
  writeHead(res, head, requestId, undefined);
  const write = async (chunks: unknown[]) => {
    for (const chunk of chunks) {
      if (res.destroyed) return;
      if (!res.write(toBuffer(chunk as Uint8Array | string))) await new Promise((resolve) => { res.once("drain", resolve); res.once("close", resolve); });
    }
  };
  await write(first);
  for await (const batch of rest) {
    if (res.destroyed) break; // the client left; leaving the loop cancels the call
    await write(batch.items);
  }
  res.end();
}

function writeHead(res: ServerResponse, head: HttpHead, requestId: string, length: number | undefined): void {
  const flat: string[] = [];
  const h = head.headers;
  // Names come lowercase from the replica (Headers' own, or its literals).
  for (let i = 0; i < h.length; i += 2) if (!HOP_BY_HOP.has(h[i]!)) flat.push(h[i]!, h[i + 1]!);
  flat.push("x-request-id", requestId);
  if (length !== undefined) flat.push("content-length", String(length));
  res.writeHead(head.status, flat);
}

function writeText(res: ServerResponse, status: number, message: string, requestId: string): void {
  const body = Buffer.from(message);
  res.writeHead(status, ["content-type", "text/plain; charset=utf-8", "x-request-id", requestId, "content-length", String(body.byteLength)]);
  res.end(body);
}

function errorStatus(err: unknown, timedOut: boolean, timeoutMs: number | undefined, route: Route, requestId: string): [number, string] {
  if (timedOut) return [408, `Request Timeout: request ${requestId} took longer than ${timeoutMs} ms`];
  if (err instanceof RequestCancelledError) return [499, "Client Closed Request"];
  if (err instanceof BackPressureError || err instanceof DeploymentUnavailableError) return [503, `Service Unavailable: ${err.message}`];
  console.error(`Serve: deployment '${route.ingress}' (application '${route.appName}') failed on request ${requestId}: ${describe(err)}`);
  const cause = causeOf(err) as Error;
  return [500, `Internal Server Error: ${cause?.name ?? "Error"}: ${cause?.message ?? String(err)}`];
}

/**
 * Whether the body of a request that may have one (not a GET or HEAD) is streamed to the replica
 * rather than sent whole with the request: one without a length (chunked), or longer than
 * WHOLE_BODY_LIMIT.
 */
function streamsBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length === undefined ? req.headers["transfer-encoding"] !== undefined : Number(length) > WHOLE_BODY_LIMIT;
}

async function readBody(req: IncomingMessage): Promise<Uint8Array | null> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  if (chunks.length === 0) return null;
  const whole = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return whole.byteLength === 0 ? null : new Uint8Array(whole.buffer, whole.byteOffset, whole.byteLength);
}

/** Node's raw headers (name, value, name, value...), HTTP/2 pseudo-headers left out. */
function withoutPseudoHeaders(raw: string[]): string[] {
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.startsWith(":")) return raw.filter((_, j) => !raw[j - (j % 2)]!.startsWith(":"));
  }
  return raw;
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  return typeof chunk === "string" ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

function describe(err: unknown): string {
  const cause = causeOf(err);
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(err);
}
