/**
 * The head's (and an embedded cluster's) HTTP port, the dashboard's: the job API, the state API,
 * the metrics, the dashboard's pages. What may change state (a job submitted or stopped, an actor
 * killed) is a POST, PUT or DELETE that must carry the cluster token (`Authorization: Bearer
 * TOKEN`); a refusal is answered 401 and logged. Reads (GET) need the token only from another
 * machine: on loopback they are the user's own, as the CLI's are. `/metrics` needs none
 * (Prometheus' scrapers send none, and it tells no secret).
 */
import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import { isIP, type AddressInfo } from "node:net";

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Answers the request and returns true, or returns false: not its route. */
export type Routes = (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => boolean | Promise<boolean>;

export interface HttpServer {
  url: string;
  close(): Promise<void>;
}

/** Ray's dashboard port, which tsray's takes too. */
export const DEFAULT_DASHBOARD_PORT = 8265;

export interface HttpServerOptions {
  host: string;
  port: number;
  token?: string;
  log: (line: string) => void;
  routes: Routes[];
}

/**
 * The dashboard's server on `port`; when that is the default port and it is taken (another
 * cluster on this machine), on a free one, said in one line.
 */
export async function startDashboardServer(o: HttpServerOptions): Promise<HttpServer> {
  try {
    return await startHttpServer(o);
  } catch (err) {
    if ((err as { code?: string }).code !== "EADDRINUSE" || o.port !== DEFAULT_DASHBOARD_PORT) throw err;
    const server = await startHttpServer({ ...o, port: 0 });
    o.log(`port ${DEFAULT_DASHBOARD_PORT} is taken: the dashboard listens at ${server.url}`);
    return server;
  }
}

export async function startHttpServer(o: HttpServerOptions): Promise<HttpServer> {
  const expected = o.token === undefined ? undefined : Buffer.from(`Bearer ${o.token}`);
  const authorized = (req: http.IncomingMessage) => {
    if (!expected) return true;
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const read = req.method === "GET" || req.method === "HEAD";
    const open = url.pathname === "/metrics" || (read && isLoopback(req.socket.remoteAddress) && namedByAddress(req.headers.host));
    if (!open && !authorized(req)) {
      o.log(`refused an HTTP request from ${req.socket.remoteAddress}: ${req.method} ${req.url} without the cluster token`);
      return sendJson(res, 401, { error: "this route needs the cluster token: Authorization: Bearer TOKEN" });
    }
    void route(o.routes, req, res, url);
  });
  server.requestTimeout = 0; // log tails stay open as long as what they follow runs
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  // Every address, reached here through loopback.
  const host = o.host === "0.0.0.0" ? "127.0.0.1" : o.host === "::" ? "::1" : o.host;
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function route(routes: Routes[], req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
  try {
    for (const r of routes) if (await r(req, res, url)) return;
    throw new HttpError(404, `no route ${req.method} ${url.pathname}`);
  } catch (err) {
    sendJson(res, err instanceof HttpError ? err.status : 400, { error: (err as Error).message });
  }
}

/**
 * Whether the Host the request names is an address or localhost, not a domain name: a web page
 * elsewhere cannot then read the API through a name it rebinds to 127.0.0.1 (DNS rebinding).
 */
function namedByAddress(host: string | undefined): boolean {
  const name = (host ?? "").replace(/:\d+$/, "");
  return name === "localhost" || isIP(name.replace(/^\[(.*)\]$/, "$1")) !== 0;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127."));
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}

/** The request's body, refused past `limit` bytes. */
export function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `the request body is larger than ${limit} bytes`));
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}
