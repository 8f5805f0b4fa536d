/**
 * The head's HTTP API for jobs, on the dashboard's host and port, with Ray's REST routes as the
 * model. Every route demands the cluster token (`Authorization: Bearer TOKEN`): a job is code the
 * head runs, and Ray's unauthenticated job API is a known remote-code-execution hole.
 *
 *   PUT  /api/packages/tsray/SHA256   a packed working directory (see archive.ts)
 *   GET  /api/packages/tsray/SHA256   200 if uploaded, else 404
 *   POST /api/jobs/                   { entrypoint, submission_id?, runtime_env?: { working_dir?, env_vars? } }
 *   GET  /api/jobs/                   every job
 *   GET  /api/jobs/ID                 one job: status, entrypoint, times, message
 *   GET  /api/jobs/ID/logs            { logs }
 *   GET  /api/jobs/ID/logs/tail       the logs as they come (chunked), until the job ends
 *   POST /api/jobs/ID/stop            { stopped }
 *
 * And, without the token (Prometheus' scrapers send none, and it changes nothing):
 *
 *   GET  /metrics                     the cluster's metrics (see metrics/prometheus.ts)
 */
import { timingSafeEqual } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { MAX_ARCHIVE_BYTES } from "./archive.js";
import type { JobManager, SubmitRequest } from "./job-manager.js";

export class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export interface JobApi {
  url: string;
  close(): Promise<void>;
}

export async function startJobApi(o: {
  host: string; port: number; token: string; jobs: JobManager; log: (line: string) => void;
  /** The metrics' text, rendered when scraped. */
  metrics: () => string;
}): Promise<JobApi> {
  const expected = Buffer.from(`Bearer ${o.token}`);
  const authorized = (req: http.IncomingMessage) => {
    const given = Buffer.from(req.headers.authorization ?? "");
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && new URL(req.url ?? "/", "http://x").pathname === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
      return res.end(o.metrics());
    }
    if (!authorized(req)) {
      o.log(`refused an HTTP request from ${req.socket.remoteAddress}: ${req.method} ${req.url} without the cluster token`);
      return send(res, 401, { error: "this route needs the cluster token: Authorization: Bearer TOKEN" });
    }
    route(req, res, o.jobs).catch((err: Error) => send(res, err instanceof HttpError ? err.status : 400, { error: err.message }));
  });
  server.requestTimeout = 0; // log tails stay open as long as their job runs
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${o.host.includes(":") ? `[${o.host}]` : o.host}:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, jobs: JobManager): Promise<void> {
  const url = new URL(req.url ?? "/", "http://x");
  const parts = url.pathname.split("/").filter(Boolean);
  const method = req.method ?? "GET";
  if (parts[0] !== "api") throw new HttpError(404, `no route ${url.pathname}`);
  if (parts[1] === "packages" && parts[2] === "tsray" && parts.length === 4) {
    const hash = parts[3];
    if (method === "GET") return jobs.hasPackage(hash) ? send(res, 200, { exists: true }) : send(res, 404, { error: `no package ${hash}` });
    if (method === "PUT") {
      if (!jobs.putPackage(hash, await body(req, MAX_ARCHIVE_BYTES))) throw new HttpError(400, "the package's bytes do not have that sha256");
      return send(res, 200, { uploaded: hash });
    }
  }
  if (parts[1] === "jobs") {
    const id = parts[2];
    if (id === undefined) {
      if (method === "GET") return send(res, 200, jobs.list());
      if (method === "POST") {
        const r = JSON.parse((await body(req, 2 ** 20)).toString("utf8")) as { entrypoint: string; submission_id?: string; runtime_env?: { working_dir?: string; env_vars?: Record<string, string> } };
        const request: SubmitRequest = { entrypoint: r.entrypoint, submission_id: r.submission_id, working_dir: r.runtime_env?.working_dir, env: checkEnv(r.runtime_env?.env_vars) };
        const info = jobs.submit(request);
        return send(res, 200, { submission_id: info.submission_id, job_id: info.submission_id });
      }
    }
    if (id !== undefined && jobs.get(id) === undefined) throw new HttpError(404, `no job ${id}`);
    if (parts.length === 3 && method === "GET") return send(res, 200, jobs.get(id!));
    if (parts[3] === "logs" && parts.length === 4 && method === "GET") return send(res, 200, { logs: jobs.logs(id!) });
    if (parts[3] === "logs" && parts[4] === "tail" && method === "GET") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      const stop = jobs.follow(id!, (text) => res.write(text), () => res.end());
      res.on("close", () => stop?.());
      return;
    }
    if (parts[3] === "stop" && parts.length === 4 && method === "POST") return send(res, 200, { stopped: await jobs.stop(id!) });
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

function checkEnv(env: unknown): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  if (typeof env !== "object" || env === null || Object.values(env).some((v) => typeof v !== "string")) throw new HttpError(400, "runtime_env.env_vars must map names to strings");
  return env as Record<string, string>;
}

function body(req: http.IncomingMessage, limit: number): Promise<Buffer> {
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

function send(res: http.ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
}
