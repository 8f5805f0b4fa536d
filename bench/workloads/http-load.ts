/**
 * A closed-loop HTTP load generator for the Serve rows and their peers: `concurrency` clients, each
 * sending its next request as soon as its previous response has been read, over keep-alive
 * connections (node:http, one socket per client), until `maxRequests` were sent or `maxMs` passed,
 * whichever comes first. Loopback only: the benchmark never loads anything but this machine.
 */
import http from "node:http";
import { now, scale } from "./measure.js";

export interface LoadOptions {
  /** http://127.0.0.1:PORT/path (or localhost): loopback only. */
  url: string;
  concurrency: number;
  /** Bound on the requests sent, over all clients. */
  maxRequests: number;
  /** Bound on the run's duration: no request starts after it. */
  maxMs: number;
  method?: string;
  body?: string;
  headers?: Record<string, string>;
}

export interface LoadResult {
  requests: number;
  /** Failed requests and responses other than 2xx. */
  errors: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  const url = new URL(opts.url);
  if (url.protocol !== "http:" || !LOOPBACK.has(url.hostname)) throw new RangeError(`the load generator targets http://127.0.0.1 only, got ${opts.url}`);
  if (!(Number.isInteger(opts.concurrency) && opts.concurrency >= 1)) throw new RangeError(`concurrency must be an integer >= 1, got ${opts.concurrency}`);
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const latencies = new Float64Array(opts.maxRequests);
  let sent = 0;
  let done = 0;
  let errors = 0;
  const start = now();
  const deadline = start + opts.maxMs;
  const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
  const request = () => new Promise<boolean>((resolve) => {
    const req = http.request(url, {
      agent, method: opts.method ?? (body ? "POST" : "GET"),
      headers: { ...opts.headers, ...(body ? { "content-length": String(body.length) } : {}) },
    }, (res) => {
      res.on("data", () => {});
      res.on("end", () => resolve(res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300));
      res.on("error", () => resolve(false));
    });
    req.on("error", () => resolve(false));
    req.end(body);
  });
  const client = async () => {
    while (sent < opts.maxRequests && now() < deadline) {
      sent++;
      const t = now();
      const ok = await request();
      if (!ok) errors++;
      latencies[done++] = now() - t;
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, client));
  const seconds = (now() - start) / 1000;
  agent.destroy();
  const sorted = latencies.subarray(0, done).sort();
  const percentile = (p: number) => (done === 0 ? NaN : sorted[Math.min(done - 1, Math.ceil((p / 100) * done) - 1)]);
  return { requests: done, errors, seconds, requestsPerSecond: done / seconds, p50Ms: percentile(50), p99Ms: percentile(99) };
}

/**
 * The load levels of the Serve rows, the same for tsray Serve and its peers: full load (enough
 * clients to keep the server busy) for throughput, and moderate load for the latency target.
 */
export const LOAD_LEVELS = {
  full: { concurrency: 16 },
  moderate: { concurrency: 4 },
  maxRequests: scale(20_000, 300),
  maxMs: scale(10_000, 2_000),
  warmupRequests: scale(2_000, 100),
};

/**
 * Warm-up, then full and moderate load against `url`: the figures a Serve row reports, as
 * { requestsPerSecond, p50Ms, p99Ms } at full load, the same prefixed `moderate` at moderate load,
 * and the errors of both.
 */
export async function measureHttp(url: string, opts: Pick<LoadOptions, "method" | "body" | "headers"> = {}): Promise<Record<string, number>> {
  const { full, moderate, maxRequests, maxMs, warmupRequests } = LOAD_LEVELS;
  await runLoad({ ...opts, url, concurrency: full.concurrency, maxRequests: warmupRequests, maxMs });
  const f = await runLoad({ ...opts, url, concurrency: full.concurrency, maxRequests, maxMs });
  const m = await runLoad({ ...opts, url, concurrency: moderate.concurrency, maxRequests, maxMs });
  return {
    requestsPerSecond: f.requestsPerSecond, p50Ms: f.p50Ms, p99Ms: f.p99Ms, concurrency: full.concurrency,
    moderateRequestsPerSecond: m.requestsPerSecond, moderateP50Ms: m.p50Ms, moderateP99Ms: m.p99Ms, moderateConcurrency: moderate.concurrency,
    errors: f.errors + m.errors,
  };
}
