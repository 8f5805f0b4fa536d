/**
 * An application's runtimeEnv.workingDir is a folder of the deploying process's machine, and the
 * controller (not this process) creates the replicas that run in it. A driver connected to a
 * cluster uploads a folder when it first submits work in it, as the core does for any task's
 * workingDir, and the cluster gives that copy to the actors created for the folder by others too
 * (raylet localDir): so before the controller gets the specs, a task runs in each folder here.
 * Workers import this module by its URL (util.remoteExport).
 */
import * as ray from "tsray";

export const workingDirModule = import.meta.url;

/** Runs in the folder's copy on the cluster; its cwd says where that is. */
export function workingDirCopy(): string {
  return process.cwd();
}

const Probe = ray.util.remoteExport(workingDirModule, workingDirCopy);

/** Resolves once the folder is on the cluster (uploaded by this driver, when it is connected to one). */
export async function shipWorkingDir(dir: string): Promise<string> {
  return ray.get(Probe.options({ runtimeEnv: { workingDir: dir }, numCpus: 0, maxRetries: 0 }).remote());
}
