/**
 * The peers of tsray Serve's HTTP rows: the same no-op JSON endpoint served in one process by a
 * plain Node http server (`plain`) or by Hono on Node through @hono/node-server (`hono`), measured
 * by the same closed-loop load as the Serve rows (http-load.ts measureHttp). The server runs in a
 * child process of its own, as Serve's proxy and replicas do, so the load generator does not share
 * its event loop. Usage: serve-peers.ts plain|hono.
 */
import { fork } from "node:child_process";
import http from "node:http";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";
import { measureHttp } from "./http-load.js";
import { report } from "./measure.js";

const MODES = ["plain", "hono"] as const;
type Mode = (typeof MODES)[number];
/** What every implementation answers: the no-op deployment's result as JSON. */
const RESULT = { ok: true };

/** In the child: serves the endpoint on a free loopback port and tells the parent which. */
async function serve(mode: Mode): Promise<void> {
  const ready = (port: number) => process.send!({ port });
  process.on("disconnect", () => process.exit(0)); // the parent is gone: so is the load
  if (mode === "plain") {
    const body = JSON.stringify(RESULT);
    const server = http.createServer((req, res) => {
      req.resume(); // a request body, if any, is read and dropped
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
        res.end(body);
      });
    });
    server.listen(0, "127.0.0.1", () => ready((server.address() as AddressInfo).port));
  } else {
    const { Hono } = await import("hono");
    const { serve: serveHono } = await import("@hono/node-server");
    const app = new Hono();
    app.all("*", (c) => c.json(RESULT));
    serveHono({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) => ready(info.port));
  }
}

async function measure(mode: Mode): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ["--serve", mode], { stdio: ["ignore", "ignore", "inherit", "ipc"] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once("message", (m) => resolve((m as { port: number }).port));
      child.once("exit", (code) => reject(new Error(`the ${mode} server exited (code ${code}) before listening`)));
    });
    report(await measureHttp(`http://127.0.0.1:${port}/`));
  } finally {
    child.kill("SIGKILL");
  }
}

const [flag, modeArg] = process.argv[2] === "--serve" ? ["--serve", process.argv[3]] : ["", process.argv[2] ?? "plain"];
if (!MODES.includes(modeArg as Mode)) throw new TypeError(`serve-peers: unknown mode ${modeArg}; modes: ${MODES.join(", ")}`);
if (flag === "--serve") await serve(modeArg as Mode);
else await measure(modeArg as Mode);
