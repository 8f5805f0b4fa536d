/**
 * What the dashboard's port can change, each a POST that must carry the cluster token (see
 * http-server.ts: a GET changes nothing), as Ray's dashboard kills actors:
 *
 *   POST /api/v0/actors/ID/kill[?no_restart=false]   the actor dies (or restarts, with
 *                                                     no_restart=false, within its maxRestarts)
 */
import { HttpError, sendJson, type Routes } from "./http-server.js";
import type { Raylet } from "../raylet/raylet.js";
import type { Gcs } from "../gcs/gcs.js";

export function actionRoutes(gcs: Gcs, raylet: Raylet, log: (line: string) => void): Routes {
  return (req, res, url) => {
    const kill = /^\/api\/v0\/actors\/([0-9a-f]+)\/kill\/?$/.exec(url.pathname);
    if (!kill) return false;
    if (req.method !== "POST") throw new HttpError(405, "killing an actor is a POST");
    const actorId = kill[1];
    const actor = gcs.actors.get(actorId);
    if (!actor) throw new HttpError(404, `no actor ${actorId}`);
    const noRestart = url.searchParams.get("no_restart") !== "false";
    raylet.actors.kill(actorId, noRestart);
    log(`actor ${actor.data.className} (${actorId}) killed through the HTTP API${noRestart ? "" : ", to restart"}`);
    sendJson(res, 200, { killed: actorId, no_restart: noRestart });
    return true;
  };
}
