/** nodes, clusterResources, availableResources, getRuntimeContext. */
import { coreWorker } from "../core-worker/runtime.js";

export interface NodeInfo {
  nodeId: string;
  address: string;
  alive: boolean;
  isHead: boolean;
  resources: Record<string, number>;
}

export interface RuntimeContext {
  jobId: string;
  nodeId: string;
  workerId: string;
  namespace: string;
  taskId?: string;
  actorId?: string;
  assignedResources(): Record<string, number>;
}

export function nodes(): Promise<NodeInfo[]> {
  return coreWorker().request<NodeInfo[]>("nodes");
}

export function clusterResources(): Promise<Record<string, number>> {
  return coreWorker().request("clusterResources");
}

export function availableResources(): Promise<Record<string, number>> {
  return coreWorker().request("availableResources");
}

/** Where the calling code runs: job, node, worker, and inside a task or actor, which one. */
export function getRuntimeContext(): RuntimeContext {
  const cw = coreWorker();
  const task = cw.currentTask();
  const { jobId, nodeId, workerId, namespace } = cw.info;
  const resources = { ...(task?.resources ?? {}) };
  return { jobId, nodeId, workerId, namespace, taskId: task?.taskId, actorId: task?.actorId, assignedResources: () => ({ ...resources }) };
}
