/**
 * The node's log on the dashboard's port: what the node and its workers printed (each worker's
 * lines prefixed with its task or actor, its pid and worker id), as the Logs page shows it.
 *
 *   GET /api/v0/logs/node?lines=N&filter=TEXT   { node_id, lines }: the last N lines (1000), those
 *                                               holding TEXT (any case) when given
 *   GET /api/v0/logs/node/tail                  the lines as they are written (chunked text)
 */
import { existsSync, statSync, watch } from "node:fs";
import { readNodeLog } from "../node/node-log.js";
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
      const { lines } = readNodeLog(file, { text: url.searchParams.get("filter") ?? undefined, lines: n });
      sendJson(res, 200, { node_id: nodeId, lines });
      return true;
    }
    if (rest !== "/tail") return false;
    res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" });
    // The headers now, not with the first line: a reader (the Logs page's fetch) knows it follows.
    res.flushHeaders();
    if (file === undefined) return true; // open, and nothing will come
    // From the end as it is now: whole lines only, each once.
    let at = existsSync(file) ? statSync(file).size : 0;
    const send = () => {
      const chunk = readNodeLog(file, { from: at }); // a file truncated meanwhile is read from its start
      at = chunk.next;
      if (chunk.lines.length) res.write(`${chunk.lines.join("\n")}\n`);
    };
    const watcher = existsSync(file) ? watch(file, send) : undefined;
    res.on("close", () => watcher?.close());
    return true;
  };
}
