// The test's end of test/fixtures/serve/serve-driver.ts: a Serve driver in a process of its own
// (the built package, as the CLI's nodes run it), asked to do one thing at a time.
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { DRIVER_ARGS } from "./cluster.js";

const fixture = fileURLToPath(new URL("../fixtures/serve/serve-driver.ts", import.meta.url));

export interface ServeDriver {
  /** Runs `op` in the driver; rejects with its error's "Name: message". */
  call<T = unknown>(op: string, ...args: unknown[]): Promise<T>;
  /** Shuts Serve and the driver down; resolves once its process exited. */
  close(): Promise<void>;
}

/** Starts the driver with `env` (the cluster's TSRAY_TMPDIR); resolves once it is connected. */
export async function startServeDriver(env: NodeJS.ProcessEnv): Promise<ServeDriver> {
  const child = spawn(process.execPath, [...DRIVER_ARGS, fixture], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let ready: () => void;
  const isReady = new Promise<void>((resolve, reject) => {
    ready = resolve;
    void exited.then(() => reject(new Error(`the Serve driver exited before it was ready: ${stderr}`)));
  });
  void exited.then(() => {
    for (const p of pending.values()) p.reject(new Error(`the Serve driver exited: ${stderr}`));
    pending.clear();
  });
  createInterface({ input: child.stdout }).on("line", (line) => {
    if (!line.startsWith("{")) return;
    const msg = JSON.parse(line) as { ready?: boolean; id?: number; value?: unknown; error?: string };
    if (msg.ready) return ready();
    const p = pending.get(msg.id!);
    pending.delete(msg.id!);
    if (msg.error !== undefined) p?.reject(new Error(msg.error));
    else p?.resolve(msg.value);
  });
  await isReady;
  let next = 0;
  return {
    call: <T>(op: string, ...args: unknown[]) =>
      new Promise<T>((resolve, reject) => {
        const id = next++;
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        child.stdin.write(`${JSON.stringify({ id, op, args })}\n`);
      }),
    close: async () => {
      child.stdin.end();
      await exited;
    },
  };
}
