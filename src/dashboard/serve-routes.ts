/**
 * tsray Serve on the dashboard's port, as Ray's dashboard has it (`/api/serve/applications/`):
 *
 *   GET /api/serve/applications   { running, proxies, applications }: serve.status() (proxies by
 *                                 node id, applications with their deployments and replicas), and
 *                                 whether Serve's controller runs at all (false: both are empty)
 *
 * Read through the public API, as any driver reads it. In the embedded cluster the dashboard is
 * in the driver, which is connected already; a head started with the CLI connects to its own
 * cluster as a driver on the first request (`connect`), as Ray's dashboard does for Serve, and
 * disconnects when it stops (closeServeRoutes). Serve's code is loaded only then: a cluster that
 * never serves never loads it.
 */
import { HttpError, sendJson, type Routes } from "./http-server.js";

/** How long a status may take (a controller that is restarting answers late). */
const STATUS_TIMEOUT_MS = 10_000;
const CONTROLLER = { name: "SERVE_CONTROLLER_ACTOR", namespace: "serve" };

let connecting: Promise<void> | undefined;
let connectedHere = false;

/** `connect`: makes this process a driver of its cluster when it is none (a CLI head); absent in the embedded cluster. */
export function serveRoutes(connect?: () => Promise<void>): Routes {
  return async (req, res, url) => {
    if (url.pathname.replace(/\/+$/, "") !== "/api/serve/applications") return false;
    if (req.method !== "GET") throw new HttpError(405, "/api/serve/applications is read with GET");
    const ray = await import("../index.js");
    if (!ray.isInitialized()) {
      if (connect === undefined) throw new HttpError(503, "this process is not connected to a cluster");
      connecting ??= connect().then(() => { connectedHere = true; }, (err: Error) => {
        connecting = undefined;
        throw new HttpError(503, `cannot connect to the cluster to read Serve's status: ${err.message}`);
      });
      await connecting;
    }
    const serve = await import("../serve/index.js");
    let timer: NodeJS.Timeout | undefined;
    const status = await Promise.race([
      (async () => {
        const running = await ray.getActor(CONTROLLER.name, { namespace: CONTROLLER.namespace }).then(() => true, () => false);
        return { running, ...(running ? await serve.status() : { proxies: {}, applications: {} }) };
      })(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HttpError(504, `Serve's controller did not answer within ${STATUS_TIMEOUT_MS / 1000} s`)), STATUS_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
    sendJson(res, 200, status);
    return true;
  };
}

/** Disconnects the driver serveRoutes() connected, if it did (the head is stopping). */
export async function closeServeRoutes(): Promise<void> {
  if (!connectedHere) return;
  connectedHere = false;
  connecting = undefined;
  const ray = await import("../index.js");
  await ray.shutdown().catch(() => {});
}
