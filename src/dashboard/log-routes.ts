/**
 * The node's log on the dashboard's port: what the node and its workers printed (each worker's
 * lines prefixed with its task or actor, its pid and worker id), as the Logs page shows it.
 *
 *   GET /api/v0/logs/node?lines=N&filter=TEXT   { node_id, lines }: the last N lines (1000), those
 *                                               holding TEXT (any case) when given
 *   GET /api/v0/logs/node/tail                  the lines as they are written (chunked text)
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync, watch } from "node:fs";
import { HttpError, sendJson, type Routes } from "./http-server.js";

/** `file` undefined: the node has no log file (an embedded cluster, whose workers print to its program's output). */
export function logRoutes(nodeId: string, file: string | undefined): Routes {
  return (req, res, url) => {
    if (req.method !== "GET" || !url.pathname.startsWith("/api/v0/logs/node")) return false;
    const rest = url.pathname.slice("/api/v0/logs/node".length).replace(/\/+$/, "");
    if (rest === "") {
      const raw = url.searchParams.get("lines");
      const n = raw === null ? 1000 : Number(raw);
      if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `lines must be a whole number above 0, got '${raw}'`);
      if (file === undefined) {
        sendJson(res, 200, { node_id: nodeId, lines: [], note: "this cluster runs inside its program: its workers print to that program's output, not to a log" });
        return true;
      }
      const filter = url.searchParams.get("filter")?.toLowerCase();
      let lines = existsSync(file) ? readFileSync(file, "utf8").split("\n") : [];
      if (lines.at(-1) === "") lines.pop();
      if (filter) lines = lines.filter((l) => l.toLowerCase().includes(filter));
      sendJson(res, 200, { node_id: nodeId, lines: lines.slice(-n) });
      return true;
    }
    if (rest !== "/tail") return false;
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    // The headers now, not with the first line: a reader (the Logs page's fetch) knows it follows.
    res.flushHeaders();
    if (file === undefined) return true; // open, and nothing will come
    let at = existsSync(file) ? statSync(file).size : 0;
    const send = () => {
      if (!existsSync(file)) return;
      const size = statSync(file).size;
      if (size < at) at = 0; // the file was rotated or truncated: from its start
      if (size === at) return;
      const fd = openSync(file, "r");
      try {
        const buf = Buffer.alloc(size - at);
        readSync(fd, buf, 0, buf.length, at);
        at = size;
        res.write(buf);
      } finally {
        closeSync(fd);
      }
    };
    const watcher = existsSync(file) ? watch(file, send) : undefined;
    res.on("close", () => watcher?.close());
    return true;
  };
}
