/**
 * The HTTP proxy: an actor that owns the port (Node's HTTP server). Workers import this module by
 * its URL (util.remoteExport). It keeps the controller's route table (a long poll) and hands each
 * request to proxy-request.ts, which
 *
 * - matches the longest route prefix (whole path segments; a miss asks the controller once more
 *   before answering 404);
 * - sends the request, prefix stripped, to the app's ingress through this process's router, as a
 *   streaming call of the replica's http() (head first, then body chunks, see http-result.ts);
 * - answers 503 on BackPressureError or an unavailable deployment, 408 after requestTimeoutMs,
 *   500 when the ingress threw (logged with the deployment's name), the replica's own 501 when
 *   the ingress has no fetch; every response carries x-request-id;
 * - cancels the call when the client disconnects or the timeout passes.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as ray from "tsray";
import { getController, type RouteTable } from "./controller-client.js";
import { serveHttpRequest, type Route } from "./proxy-request.js";
import { closeRouters } from "./router.js";

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
    const context = { route: (pathname: string) => this.#route(pathname), requestTimeoutMs: this.#http.requestTimeoutMs };
    const server = createServer((req, res) => void serveHttpRequest(req, res, context));
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

  #match(pathname: string): Route | undefined {
    let best: Route | undefined;
    for (const route of this.#table.routes) {
      const p = route.prefix;
      const under = p === "/" || pathname === p || pathname.startsWith(`${p}/`);
      if (under && (best === undefined || p.length > best.prefix.length)) best = route;
    }
    return best;
  }

  /** The route of a path; on a miss the table may lag a deploy that just finished, so the controller is asked once more. */
  #route(pathname: string): Route | undefined | Promise<Route | undefined> {
    return this.#match(pathname) ?? (async () => {
      try {
        this.#table = await ray.get((await getController()).listenRoutes.remote(""));
      } catch { /* answered 404 */ }
      return this.#match(pathname);
    })();
  }
}
