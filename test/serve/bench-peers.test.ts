// The benchmark pieces of Serve's rows: the closed-loop HTTP load generator keeps its bounds and
// counts failures, and the peers (a plain Node server, Hono on Node) run and print their figures.
// Figures are not asserted: speed goals live in the benchmark's own report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { runLoad } from "../../bench/workloads/http-load.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

async function withServer(handler: http.RequestListener, fn: (url: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test("runLoad sends at most maxRequests over `concurrency` keep-alive clients and reports percentiles", async () => {
  let inFlight = 0;
  let most = 0;
  const sockets = new Set<unknown>();
  await withServer((req, res) => {
    sockets.add(req.socket);
    inFlight++;
    most = Math.max(most, inFlight);
    setImmediate(() => {
      inFlight--;
      res.end("{}");
    });
  }, async (url) => {
    const result = await runLoad({ url, concurrency: 3, maxRequests: 60, maxMs: 60_000 });
    assert.equal(result.requests, 60);
    assert.equal(result.errors, 0);
    assert.ok(result.p50Ms > 0 && result.p50Ms <= result.p99Ms);
    assert.ok(result.requestsPerSecond > 0);
  });
  assert.ok(most <= 3, `at most 3 requests at once, saw ${most}`);
  assert.ok(sockets.size <= 3, `connections are kept alive and reused: ${sockets.size}`);
});

test("runLoad counts non-2xx responses as errors, stops at maxMs, and refuses non-loopback targets", async () => {
  await withServer((_req, res) => {
    res.statusCode = 500;
    res.end("no");
  }, async (url) => {
    const result = await runLoad({ url, concurrency: 2, maxRequests: 10, maxMs: 60_000 });
    assert.equal(result.errors, 10);
  });
  await withServer((_req, res) => res.end("{}"), async (url) => {
    const result = await runLoad({ url, concurrency: 1, maxRequests: 1_000_000, maxMs: 0 });
    assert.equal(result.requests, 0, "no request starts after maxMs");
  });
  await assert.rejects(runLoad({ url: "http://example.com/", concurrency: 1, maxRequests: 1, maxMs: 1 }), RangeError);
});

for (const mode of ["plain", "hono"]) {
  test(`the ${mode} peer serves the no-op endpoint and prints its figures`, { timeout: 120_000 }, async () => {
    const { stdout } = await run(process.execPath, ["--import", "tsx", "bench/workloads/serve-peers.ts", mode], {
      cwd: root, env: { ...process.env, TSRAY_BENCH_SMOKE: "1" },
    });
    const result = JSON.parse(stdout.trim().split("\n").pop()!) as Record<string, number>;
    assert.equal(result.errors, 0);
    for (const key of ["requestsPerSecond", "p50Ms", "p99Ms", "moderateRequestsPerSecond", "moderateP50Ms", "moderateP99Ms"]) {
      assert.ok(result[key] > 0, `${key}: ${result[key]}`);
    }
  });
}
