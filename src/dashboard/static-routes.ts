/**
 * The dashboard's pages: the bundled front end (scripts/build-dashboard.mjs writes it to
 * dist/dashboard-ui/), served from the package's own files.
 *
 *   GET /                 index.html
 *   GET /static/NAME      one of the bundle's files (app.js, app.css...), else 404
 *
 * Only the names found in the folder are served, so no request path (`..`, `%2f`, a symlink's
 * name) can reach another file. Every answer carries a content-security-policy that lets the
 * page load and connect to nothing but this origin, and run no inline script.
 */
import { existsSync, lstatSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type http from "node:http";
import type { Routes } from "./http-server.js";

/** Where the build puts the bundle: from src/dashboard/ and dist/dashboard/ alike. */
export const DASHBOARD_UI_DIR = fileURLToPath(new URL("../../dist/dashboard-ui/", import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
  "object-src 'none'", "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
].join("; ");

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
};

export function staticRoutes(dir: string = DASHBOARD_UI_DIR): Routes {
  return (req, res, url) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const p = url.pathname;
    if (p === "/" || p === "/index.html") return serve(req, res, dir, "index.html");
    if (!p.startsWith("/static/")) return false;
    return serve(req, res, dir, p.slice("/static/".length));
  };
}

function serve(req: http.IncomingMessage, res: http.ServerResponse, dir: string, name: string): true {
  const type = CONTENT_TYPES[path.extname(name)];
  const headers = { "content-security-policy": CONTENT_SECURITY_POLICY, "x-content-type-options": "nosniff" };
  if (!type || !bundled(dir).has(name)) {
    const why = existsSync(path.join(dir, "index.html")) ? `no file ${name}` : "the dashboard is not built (npm run build)";
    res.writeHead(404, { ...headers, "content-type": "text/plain; charset=utf-8" });
    res.end(req.method === "HEAD" ? undefined : `404: ${why}\n`);
    return true;
  }
  const body = readFileSync(path.join(dir, name));
  // Revalidated on each visit: the files keep their names from one build to the next.
  res.writeHead(200, { ...headers, "content-type": type, "content-length": body.length, "cache-control": "no-cache" });
  res.end(req.method === "HEAD" ? undefined : body);
  return true;
}

/** The plain files of the bundle's folder (no symlink), by name; read on each request: a rebuild shows. */
function bundled(dir: string): Set<string> {
  if (!existsSync(dir)) return new Set();
  return new Set(readdirSync(dir).filter((f) => lstatSync(path.join(dir, f)).isFile()));
}
