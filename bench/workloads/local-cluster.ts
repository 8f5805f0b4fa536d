// A cluster of node processes on this machine for a workload, started with the CLI as a user
// does, in a session folder of its own (TSRAY_TMPDIR) that is removed with it.
import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../../bin/tsray.mjs", import.meta.url));

export const tsray = (...args: string[]) => run(process.execPath, [bin, ...args], { env: process.env, maxBuffer: 16 * 2 ** 20 });

/**
 * Starts a head and `workers` worker nodes of one CPU each, runs `body` (a driver connects with
 * init({ address: "auto" })), then stops them all, whatever `body` did.
 */
export async function withLocalCluster<T>(
  workers: number, body: (head: { address: string; pid: number }, joinMs: number) => Promise<T>,
): Promise<T> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), "tsray-bench-cluster-"));
  process.env.TSRAY_TMPDIR = tmp;
  try {
    await tsray("start", "--head", "--port", "0", "--num-cpus", "1");
    const head = JSON.parse(readFileSync(path.join(tmp, readdirSync(tmp)[0], "node.json"), "utf8")) as { address: string; pid: number };
    const t = performance.now();
    await Promise.all(Array.from({ length: workers }, () => tsray("start", "--address", head.address, "--num-cpus", "1")));
    return await body(head, performance.now() - t);
  } finally {
    await tsray("stop", "--force").catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  }
}
