// The dashboard's static files as the head serves them: from the bundle's folder only, with a
// content-security-policy that keeps the page to its own origin, and nothing else reachable.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { startHttpServer, type HttpServer } from "../../src/dashboard/http-server.js";
import { CONTENT_SECURITY_POLICY, staticRoutes } from "../../src/dashboard/static-routes.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "tsray-static-test-"));
const dir = path.join(tmp, "dashboard-ui");
let server: HttpServer;

before(async () => {
  mkdirSync(dir);
  writeFileSync(path.join(dir, "index.html"), "<!doctype html><title>tsray</title>");
  writeFileSync(path.join(dir, "app.js"), "console.log(1)");
  writeFileSync(path.join(dir, "app.css"), "body{}");
  writeFileSync(path.join(tmp, "secret.txt"), "not for the web");
  symlinkSync(path.join(tmp, "secret.txt"), path.join(dir, "linked.js"));
  server = await startHttpServer({ host: "127.0.0.1", port: 0, log: () => {}, routes: [staticRoutes(dir)] });
});

after(async () => {
  await server.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A GET of `rawPath` exactly as written (no client-side normalization of `..`). */
function get(rawPath: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    http.get(`${server.url}${rawPath}`, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    }).on("error", reject);
  });
}

test("/ is the page, and the bundle's files come with their types and the CSP", async () => {
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.equal(page.headers["content-type"], "text/html; charset=utf-8");
  assert.equal(page.headers["content-security-policy"], CONTENT_SECURITY_POLICY);
  assert.match(CONTENT_SECURITY_POLICY, /default-src 'self'/);
  assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(page.headers["x-content-type-options"], "nosniff");
  assert.match(page.body, /<title>tsray<\/title>/);
  const js = await get("/static/app.js");
  assert.deepEqual([js.status, js.headers["content-type"], js.body], [200, "text/javascript; charset=utf-8", "console.log(1)"]);
  assert.equal((await get("/static/app.css")).headers["content-type"], "text/css; charset=utf-8");
});

test("an unknown file is 404, and no path reaches outside the bundle's folder", async () => {
  assert.equal((await get("/static/nothing.js")).status, 404);
  for (const p of ["/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt", "/static/%2e%2e%2fsecret.txt", "/static/..%5csecret.txt", "/static/linked.js", "/static/"]) {
    const r = await get(p);
    assert.equal(r.status, 404, p);
    assert.doesNotMatch(r.body, /not for the web/, p);
  }
});

test("not its routes: other paths and methods are left to the others", async () => {
  assert.equal((await get("/api/v0/nodes")).status, 404);
  const post = await new Promise<number>((resolve, reject) =>
    http.request(`${server.url}/`, { method: "POST" }, (res) => (res.resume(), resolve(res.statusCode!))).on("error", reject).end());
  assert.equal(post, 404);
});
