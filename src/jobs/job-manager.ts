/**
 * Jobs submitted to the head (`tsray job submit`): a shell command run as a driver on the head's
 * machine, in its uploaded working directory, with TSRAY_ADDRESS set to the head. Each job is a
 * process group of its own, so stopping it ends every process it started; its output goes to a
 * log file and to whoever follows it.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { randomHex } from "../common/ids.js";
import { linkInstallation, unpack } from "./archive.js";

export type JobStatus = "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED" | "STOPPED";

export interface JobInfo {
  submission_id: string;
  entrypoint: string;
  status: JobStatus;
  message: string;
  start_time: number;
  end_time?: number;
}

export interface SubmitRequest {
  entrypoint: string;
  submission_id?: string;
  /** A package uploaded before (`tsray://<sha256>`), unpacked as the job's working directory. */
  working_dir?: string;
  env?: Record<string, string>;
}

interface Job {
  info: JobInfo;
  logPath: string;
  child?: ChildProcess;
  stopping?: boolean;
  followers: Set<{ data(text: string): void; end(): void }>;
  ended: Promise<void>;
}

const STOP_GRACE_MS = 3000;

export class JobManager {
  private readonly jobs = new Map<string, Job>();

  constructor(private readonly o: { dir: string; headAddress: string; token: string; log: (line: string) => void }) {
    mkdirSync(path.join(o.dir, "packages"), { recursive: true, mode: 0o700 });
  }

  /** Stores an uploaded working directory under its content's hash; false when the hash is not its hash. */
  putPackage(hash: string, bytes: Buffer): boolean {
    if (!/^[0-9a-f]{64}$/.test(hash) || createHash("sha256").update(bytes).digest("hex") !== hash) return false;
    writeFileSync(this.packagePath(hash), bytes, { mode: 0o600 });
    return true;
  }

  hasPackage(hash: string): boolean {
    return /^[0-9a-f]{64}$/.test(hash) && existsSync(this.packagePath(hash));
  }

  submit(req: SubmitRequest): JobInfo {
    if (typeof req.entrypoint !== "string" || !req.entrypoint.trim()) throw new TypeError("entrypoint must be a command");
    const id = req.submission_id ?? `tsrayjob_${randomHex(8)}`;
    if (!/^[\w.-]{1,64}$/.test(id)) throw new TypeError(`submission_id must be letters, digits, '_', '.' or '-', got ${JSON.stringify(id)}`);
    if (this.jobs.has(id)) throw new RangeError(`a job with submission_id ${id} exists already`);
    const dir = path.join(this.o.dir, id);
    const cwd = path.join(dir, "working_dir");
    mkdirSync(cwd, { recursive: true, mode: 0o700 });
    if (req.working_dir !== undefined) {
      const hash = /^tsray:\/\/([0-9a-f]{64})$/.exec(req.working_dir)?.[1];
      if (!hash || !this.hasPackage(hash)) throw new RangeError(`working_dir ${req.working_dir} was not uploaded`);
      unpack(readFileSync(this.packagePath(hash)), cwd);
    }
    linkInstallation(cwd);
    const logPath = path.join(dir, "job.log");
    const info: JobInfo = { submission_id: id, entrypoint: req.entrypoint, status: "PENDING", message: "", start_time: Date.now() };
    let ended!: () => void;
    const job: Job = { info, logPath, followers: new Set(), ended: new Promise((r) => (ended = r)) };
    this.jobs.set(id, job);
    const log = createWriteStream(logPath, { mode: 0o600 });
    const child = spawn("/bin/sh", ["-c", req.entrypoint], {
      cwd,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, ...req.env, TSRAY_ADDRESS: this.o.headAddress, TSRAY_TOKEN: this.o.token },
    });
    job.child = child;
    info.status = "RUNNING";
    const out = (d: Buffer) => {
      log.write(d);
      for (const f of job.followers) f.data(d.toString("utf8"));
    };
    child.stdout!.on("data", out);
    child.stderr!.on("data", out);
    child.once("error", (err) => (info.message = err.message));
    child.once("close", (code, signal) => {
      info.end_time = Date.now();
      if (job.stopping) info.status = "STOPPED";
      else if (code === 0) info.status = "SUCCEEDED";
      else {
        info.status = "FAILED";
        info.message ||= `the command exited with ${signal ?? `code ${code}`}`;
      }
      job.child = undefined;
      log.end(() => {
        for (const f of job.followers) f.end();
        job.followers.clear();
        ended();
      });
    });
    this.o.log(`job ${id} started: ${req.entrypoint}`);
    return { ...info };
  }

  get(id: string): JobInfo | undefined {
    const job = this.jobs.get(id);
    return job && { ...job.info };
  }

  list(): JobInfo[] {
    return [...this.jobs.values()].map((j) => ({ ...j.info }));
  }

  logs(id: string): string | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    return existsSync(job.logPath) ? readFileSync(job.logPath, "utf8") : "";
  }

  /** What the job printed so far, then what it prints, until it ends; undefined for an unknown job. */
  follow(id: string, data: (text: string) => void, end: () => void): (() => void) | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    data(this.logs(id) ?? "");
    if (!job.child) {
      end();
      return () => {};
    }
    const f = { data, end };
    job.followers.add(f);
    return () => job.followers.delete(f);
  }

  /** Stops the job's whole process group: SIGTERM, then SIGKILL after a grace period. False if it was not running. */
  async stop(id: string): Promise<boolean> {
    const job = this.jobs.get(id);
    const child = job?.child;
    if (!job || !child?.pid) return false;
    job.stopping = true;
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // Gone already.
      }
    };
    signal("SIGTERM");
    const timer = setTimeout(() => signal("SIGKILL"), STOP_GRACE_MS);
    await job.ended;
    clearTimeout(timer);
    // Whatever the group left behind goes too.
    signal("SIGKILL");
    return true;
  }

  /** Stops every running job (the head is stopping). */
  async close(): Promise<void> {
    await Promise.all([...this.jobs.keys()].map((id) => this.stop(id)));
  }

  private packagePath(hash: string): string {
    return path.join(this.o.dir, "packages", `${hash}.gz`);
  }
}
