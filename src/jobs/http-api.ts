/**
 * The head's HTTP API for jobs, on the dashboard's host and port, with Ray's REST routes as the
 * model. What changes state demands the cluster token (see dashboard/http-server.ts): a job is
 * code the head runs, and Ray's unauthenticated job API is a known remote-code-execution hole.
 *
 *   PUT  /api/packages/tsray/SHA256   a packed working directory (see archive.ts)
 *   GET  /api/packages/tsray/SHA256   200 if uploaded, else 404
 *   POST /api/jobs/                   { entrypoint, submission_id?, runtime_env?: { working_dir?, env_vars? } }
 *   GET  /api/jobs/                   every job
 *   GET  /api/jobs/ID                 one job: status, entrypoint, times, message
 *   GET  /api/jobs/ID/logs            { logs }
 *   GET  /api/jobs/ID/logs/tail       the logs as they come (chunked), until the job ends
 *   POST /api/jobs/ID/stop            { stopped }
 */
import type http from "node:http";
import { HttpError, readBody, sendJson, type Routes } from "../dashboard/http-server.js";
import { MAX_ARCHIVE_BYTES } from "./archive.js";
import type { JobManager, SubmitRequest } from "./job-manager.js";

export function jobRoutes(jobs: JobManager): Routes {
  return (req, res, url) => {
    const parts = url.pathname.split("/").filter(Boolean);
    if (parts[0] !== "api" || (parts[1] !== "jobs" && parts[1] !== "packages")) return false;
    return route(req, res, parts, jobs).then(() => true);
  };
}

async function route(req: http.IncomingMessage, res: http.ServerResponse, parts: string[], jobs: JobManager): Promise<void> {
  const method = req.method ?? "GET";
  if (parts[1] === "packages" && parts[2] === "tsray" && parts.length === 4) {
    const hash = parts[3];
    if (method === "GET") return jobs.hasPackage(hash) ? sendJson(res, 200, { exists: true }) : sendJson(res, 404, { error: `no package ${hash}` });
    if (method === "PUT") {
      if (!jobs.putPackage(hash, await readBody(req, MAX_ARCHIVE_BYTES))) throw new HttpError(400, "the package's bytes do not have that sha256");
      return sendJson(res, 200, { uploaded: hash });
    }
  }
  if (parts[1] === "jobs") {
    const id = parts[2];
    if (id === undefined) {
      if (method === "GET") return sendJson(res, 200, jobs.list());
      if (method === "POST") {
        const r = JSON.parse((await readBody(req, 2 ** 20)).toString("utf8")) as { entrypoint: string; submission_id?: string; runtime_env?: { working_dir?: string; env_vars?: Record<string, string> } };
        const request: SubmitRequest = { entrypoint: r.entrypoint, submission_id: r.submission_id, working_dir: r.runtime_env?.working_dir, env: checkEnv(r.runtime_env?.env_vars) };
        const info = jobs.submit(request);
        return sendJson(res, 200, { submission_id: info.submission_id, job_id: info.submission_id });
      }
    }
    if (id !== undefined && jobs.get(id) === undefined) throw new HttpError(404, `no job ${id}`);
    if (parts.length === 3 && method === "GET") return sendJson(res, 200, jobs.get(id!));
    if (parts[3] === "logs" && parts.length === 4 && method === "GET") return sendJson(res, 200, { logs: jobs.logs(id!) });
    if (parts[3] === "logs" && parts[4] === "tail" && method === "GET") {
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      const stop = jobs.follow(id!, (text) => res.write(text), () => res.end());
      res.on("close", () => stop?.());
      return;
    }
    if (parts[3] === "stop" && parts.length === 4 && method === "POST") return sendJson(res, 200, { stopped: await jobs.stop(id!) });
  }
  throw new HttpError(404, `no route ${method} ${parts.join("/")}`);
}

function checkEnv(env: unknown): Record<string, string> | undefined {
  if (env === undefined) return undefined;
  if (typeof env !== "object" || env === null || Object.values(env).some((v) => typeof v !== "string")) throw new HttpError(400, "runtime_env.env_vars must map names to strings");
  return env as Record<string, string>;
}
