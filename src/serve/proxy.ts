/**
 * The HTTP proxy: an actor that owns the port (Node's HTTP server, with @hono/node-server's
 * getRequestListener as the Node↔Web adapter). Workers import this module by its URL
 * (util.remoteExport). For each request it
 *
 * - matches the longest route prefix (whole path segments) of the controller's route table (kept
 *   by a long poll; a miss asks the controller once more before answering 404);
 * - sends the request, prefix stripped, to the app's ingress through this process's router, as a
 *   streaming call of the replica's http() (head first, then body chunks, see http-result.ts);
 * - answers 503 on BackPressureError or an unavailable deployment, 408 after requestTimeoutMs,
 *   500 when the ingress threw (logged with the deployment's name), the replica's own 501 when
 *   the ingress has no fetch; every response carries x-request-id;
 * - cancels the call when the client disconnects (request.signal) or the timeout passes.
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import * as ray from "tsray";
import { getController, type RouteTable } from "./controller-client.js";
import { BackPressureError, DeploymentUnavailableError, RequestCancelledError } from "./errors.js";
import { toWireRequest, type HttpHead } from "./http-result.js";
import { DeploymentResponseGenerator, newRequestMeta } from "./response.js";
import { closeRouters, routerFor } from "./router.js";

/** This module, whose ServeProxy workers import (util.remoteExport). */
export const proxyModule = import.meta.url;

export interface StartOptions {
  proxyLocation?: "EveryNode" | "HeadOnly" | "Disabled";
  http?: {
    host?: string;
    port?: number;
    requestTimeoutMs?: number;
    keepAliveTimeoutMs?: number;
  };
}
type HttpOptions = NonNullable<StartOptions["http"]>;

const encoder = new TextEncoder();

export class ServeProxy {
  readonly #http: HttpOptions;
  #server: Server | undefined;
  #table: RouteTable = { version: "", routes: [] };
  #stopped = false;
  #unwatch: (() => void) | undefined;

  constructor(http: HttpOptions) {
    this.#http = http;
  }

  /** Listens; resolves with the URL. */
  async ready(): Promise<string> {
    const host = this.#http.host ?? "127.0.0.1";
    const listener = getRequestListener((request) => this.#handle(request), { overrideGlobalObjects: false });
    const server = createServer(listener);
    server.keepAliveTimeout = this.#http.keepAliveTimeoutMs ?? 90_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.#http.port ?? 8000, host, () => resolve());
    });
    this.#server = server;
    this.#pollRoutes();
    const { port } = server.address() as AddressInfo;
    return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  }

  /** Never answers while the proxy lives: the controller learns of its death by this call failing. */
  async watch(): Promise<void> {
    await new Promise<void>((resolve) => { this.#unwatch = resolve; });
  }

  /**
   * No new connections; resolves once the open ones finished their requests (idle keep-alive
   * ones are closed at once), or after timeoutMs, when the rest are cut. The controller then
   * stops this proxy: its node has no replica left.
   */
  async drain(timeoutMs: number): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
      new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
    ]);
    clearTimeout(timer);
    await this.stop();
  }

  /** Closes the server and every connection: the port is free once this resolves. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unwatch?.();
    closeRouters("Serve is shutting down");
    const server = this.#server;
    if (server === undefined) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  #pollRoutes(): void {
    void (async () => {
      while (!this.#stopped) {
        try {
          const controller = await getController();
          let timer: NodeJS.Timeout | undefined;
          this.#table = await Promise.race([
            ray.get(controller.listenRoutes.remote(this.#table.version)),
            // Bounded: a call caught by a controller restart may never answer.
            new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error("no answer")), 15_000); }),
          ]).finally(() => clearTimeout(timer));
        } catch {
          if (this.#stopped || !ray.isInitialized()) return;
          await new Promise((r) => setTimeout(r, 200).unref());
        }
      }
    })();
  }

  #match(pathname: string): RouteTable["routes"][number] | undefined {
    let best: RouteTable["routes"][number] | undefined;
    for (const route of this.#table.routes) {
      const p = route.prefix;
      const under = p === "/" || pathname === p || pathname.startsWith(`${p}/`);
      if (under && (best === undefined || p.length > best.prefix.length)) best = route;
    }
    return best;
  }

  async #handle(request: Request): Promise<Response> {
    const requestId = request.headers.get("x-request-id") || randomUUID();
    const url = new URL(request.url);
    let route = this.#match(url.pathname);
    if (route === undefined) {
      // The table may lag a deploy that just finished: ask once more.
      try {
        this.#table = await ray.get((await getController()).listenRoutes.remote(""));
      } catch { /* answered 404 below */ }
      route = this.#match(url.pathname);
    }
    if (route === undefined) return text(404, `Not Found: no application serves ${url.pathname}`, requestId);
    if (route.prefix !== "/") url.pathname = url.pathname.slice(route.prefix.length) || "/";
    const wire = await toWireRequest(request, url.toString());
    const meta = newRequestMeta(route.appName, request.headers.get("serve_multiplexed_model_id") ?? "", route.prefix, requestId);
    const call = new DeploymentResponseGenerator<HttpHead | Uint8Array | string>(
      routerFor(route.appName, route.ingress), meta, (actor, args) => actor.http.remote(meta, args[0] as typeof wire), [wire]);
    let timedOut = false;
    const timeoutMs = this.#http.requestTimeoutMs;
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      call.cancel();
    }, timeoutMs);
    const onAbort = () => call.cancel();
    request.signal.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      request.signal.removeEventListener("abort", onAbort);
    };
    const parts = call[Symbol.asyncIterator]();
    let head: HttpHead;
    try {
      const first = await parts.next();
      if (first.done) throw new Error("internal: the replica sent no response head");
      head = first.value as HttpHead;
    } catch (err) {
      done();
      return this.#errorResponse(err, timedOut, route, requestId);
    }
    const headers = new Headers(head.headers);
    headers.set("x-request-id", requestId);
    if ([101, 204, 205, 304].includes(head.status)) {
      done();
      void parts.return?.(undefined);
      return new Response(null, { status: head.status, headers });
    }
    const body = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        try {
          const next = await parts.next();
          if (next.done) {
            done();
            controller.close();
          } else {
            const chunk = next.value as Uint8Array | string;
            controller.enqueue(typeof chunk === "string" ? encoder.encode(chunk) : chunk);
          }
        } catch (err) {
          done();
          console.error(`Serve: the response of deployment '${route.ingress}' (application '${route.appName}') to request ${requestId} failed while streaming: ${describe(err)}`);
          controller.error(err);
        }
      },
      cancel: () => {
        done();
        call.cancel();
      },
    });
    return new Response(body, { status: head.status, headers });
  }

  #errorResponse(err: unknown, timedOut: boolean, route: RouteTable["routes"][number], requestId: string): Response {
    if (timedOut) return text(408, `Request Timeout: request ${requestId} took longer than ${this.#http.requestTimeoutMs} ms`, requestId);
    if (err instanceof RequestCancelledError) return text(499, "Client Closed Request", requestId);
    if (err instanceof BackPressureError || err instanceof DeploymentUnavailableError) return text(503, `Service Unavailable: ${err.message}`, requestId);
    console.error(`Serve: deployment '${route.ingress}' (application '${route.appName}') failed on request ${requestId}: ${describe(err)}`);
    const cause = err instanceof ray.RayTaskError && err.cause instanceof Error ? err.cause : err as Error;
    return text(500, `Internal Server Error: ${cause?.name ?? "Error"}: ${cause?.message ?? String(err)}`, requestId);
  }
}

function text(status: number, message: string, requestId: string): Response {
  return new Response(message, { status, headers: { "content-type": "text/plain; charset=utf-8", "x-request-id": requestId } });
}

function describe(err: unknown): string {
  const cause = err instanceof ray.RayTaskError && err.cause instanceof Error ? err.cause : err as Error;
  return cause instanceof Error ? `${cause.name}: ${cause.message}` : String(err);
}
