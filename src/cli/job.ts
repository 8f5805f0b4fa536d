/** `tsray job submit|status|logs|stop|list`: the head's job API (jobs/http-api.ts), with the cluster token. */
import { createHash } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { pack } from "../jobs/archive.js";
import type { JobInfo } from "../jobs/job-manager.js";
import { clusterToken, liveSessions } from "../node/session.js";
import { parseFlags, UsageError } from "./args.js";

const FLAGS = {
  address: "string", token: "string", "working-dir": "string", "runtime-env-json": "string", "no-wait": "boolean",
  "submission-id": "string", follow: "boolean", verbose: "boolean",
} as const;

export async function job(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { flags, positionals, rest: command } = parseFlags(`job ${sub ?? ""}`.trim(), rest, FLAGS);
  const api = apiOf(flags);
  switch (sub) {
    case "submit":
      return submit(api, flags, command);
    case "status": {
      const info = await api.get<JobInfo>(`/api/jobs/${idOf(positionals, "status")}`);
      process.stdout.write(`${info.submission_id}: ${info.status}${info.message ? ` (${info.message})` : ""}\n`);
      return 0;
    }
    case "logs": {
      const id = idOf(positionals, "logs");
      if (flags.follow) await api.stream(`/api/jobs/${id}/logs/tail`, (t) => process.stdout.write(t));
      else process.stdout.write((await api.get<{ logs: string }>(`/api/jobs/${id}/logs`)).logs);
      return 0;
    }
    case "stop": {
      const id = idOf(positionals, "stop");
      const { stopped } = await api.post<{ stopped: boolean }>(`/api/jobs/${id}/stop`, {});
      process.stdout.write(stopped ? `Job ${id} stopped.\n` : `Job ${id} was not running.\n`);
      return 0;
    }
    case "list": {
      for (const j of await api.get<JobInfo[]>("/api/jobs/")) process.stdout.write(`${j.submission_id}  ${j.status.padEnd(9)}  ${j.entrypoint}\n`);
      return 0;
    }
    default:
      throw new UsageError(`tsray job: the subcommand is one of submit, status, logs, stop, list (got ${sub === undefined ? "nothing" : `'${sub}'`})`);
  }
}

async function submit(api: Api, flags: { "working-dir"?: string; "runtime-env-json"?: string; "no-wait"?: boolean; "submission-id"?: string }, command: string[]): Promise<number> {
  if (!command.length) throw new UsageError("tsray job submit: the command goes after --, e.g. tsray job submit -- node main.js");
  let env: Record<string, string> | undefined;
  if (flags["runtime-env-json"] !== undefined) {
    let parsed: { env_vars?: Record<string, string>; working_dir?: string };
    try {
      parsed = JSON.parse(flags["runtime-env-json"]) as typeof parsed;
    } catch {
      throw new UsageError(`tsray job submit: --runtime-env-json must be JSON, e.g. '{"env_vars": {"A": "1"}}'`);
    }
    env = parsed.env_vars;
    flags["working-dir"] ??= parsed.working_dir;
  }
  let workingDir: string | undefined;
  const dir = flags["working-dir"];
  if (dir !== undefined) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`tsray job submit: --working-dir ${dir} is not a folder`);
    const archive = pack(dir);
    const hash = createHash("sha256").update(archive).digest("hex");
    // Uploaded before returning: the job runs even if the folder is deleted right after.
    if (!(await api.exists(`/api/packages/tsray/${hash}`))) await api.put(`/api/packages/tsray/${hash}`, archive);
    workingDir = `tsray://${hash}`;
  }
  const { submission_id: id } = await api.post<{ submission_id: string }>("/api/jobs/", {
    entrypoint: command.join(" "), submission_id: flags["submission-id"], runtime_env: { working_dir: workingDir, env_vars: env },
  });
  process.stdout.write(`Job ${id} submitted.\n`);
  if (flags["no-wait"]) return 0;
  await api.stream(`/api/jobs/${id}/logs/tail`, (t) => process.stdout.write(t));
  const info = await api.get<JobInfo>(`/api/jobs/${id}`);
  process.stdout.write(`Job ${id} ${info.status}${info.message ? ` (${info.message})` : ""}.\n`);
  return info.status === "SUCCEEDED" ? 0 : 1;
}

function idOf(positionals: string[], verb: string): string {
  if (positionals.length !== 1) throw new UsageError(`tsray job ${verb}: pass one JOB_ID`);
  return encodeURIComponent(positionals[0]);
}

interface Api {
  get<T>(route: string): Promise<T>;
  post<T>(route: string, body: unknown): Promise<T>;
  put(route: string, bytes: Buffer): Promise<void>;
  exists(route: string): Promise<boolean>;
  stream(route: string, each: (text: string) => void): Promise<void>;
}

/** The API at --address (a URL), else the head's on this machine, else Ray's default; with its token. */
function apiOf(flags: { address?: string; token?: string }): Api {
  const local = liveSessions().filter((s) => s.head && s.dashboardUrl);
  const base = (flags.address ?? (process.env.TSRAY_ADDRESS?.startsWith("http") ? process.env.TSRAY_ADDRESS : undefined) ?? local[0]?.dashboardUrl ?? "http://127.0.0.1:8265").replace(/\/$/, "");
  const head = local.find((s) => s.dashboardUrl === base);
  const token = clusterToken(head?.address, flags.token);
  if (token === undefined) throw new UsageError(`tsray job: no cluster token for ${base}: pass --token or set TSRAY_TOKEN`);
  const call = async (route: string, init: RequestInit = {}): Promise<Response> => {
    let res: Response;
    try {
      res = await fetch(base + route, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
    } catch (err) {
      throw new Error(`cannot reach the job API at ${base}: ${((err as { cause?: Error }).cause ?? (err as Error)).message}`);
    }
    if (!res.ok && res.status !== 404) throw new Error(`${base} answered ${res.status}: ${((await res.json().catch(() => ({}))) as { error?: string }).error ?? res.statusText}`);
    return res;
  };
  const json = async <T>(res: Response): Promise<T> => {
    if (res.status === 404) throw new Error(((await res.json()) as { error: string }).error);
    return (await res.json()) as T;
  };
  return {
    get: async (route) => json(await call(route)),
    post: async (route, body) => json(await call(route, { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } })),
    put: async (route, bytes) => void (await json(await call(route, { method: "PUT", body: bytes }))),
    exists: async (route) => (await call(route)).status === 200,
    stream: async (route, each) => {
      const res = await call(route);
      if (res.status === 404) await json(res);
      const decoder = new TextDecoder();
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) each(decoder.decode(chunk, { stream: true }));
    },
  };
}
