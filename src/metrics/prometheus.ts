/**
 * The cluster's metrics in Prometheus' text format (version 0.0.4), as the head's `/metrics`
 * serves them: what its scrapers, and the Grafana dashboard under deploy/grafana/, read. Values
 * are read when scraped: nothing is kept for them but the task counters and the request latency
 * histograms, which the raylet keeps anyway.
 */
import type { Gcs } from "../gcs/gcs.js";
import type { Raylet } from "../raylet/raylet.js";

/** Every actor state the GCS knows, each reported even when no actor is in it. */
const ACTOR_STATES = ["PENDING", "ALIVE", "RESTARTING", "DEAD"] as const;

export function renderMetrics(gcs: Gcs, raylet: Raylet): string {
  const out: string[] = [];
  const family = (name: string, type: "counter" | "gauge" | "histogram", help: string) => out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
  const sample = (name: string, labels: Record<string, string>, value: number) => out.push(`${name}${braces(labels)} ${value}`);

  family("tsray_tasks_total", "counter", "Tasks (and actor calls and creations) ended since the head started, by how they ended.");
  for (const [state, n] of Object.entries(raylet.events.totals)) sample("tsray_tasks_total", { state }, n);
  family("tsray_tasks", "gauge", "Tasks not ended yet, by state.");
  for (const [state, n] of Object.entries(raylet.events.pending())) sample("tsray_tasks", { state }, n);
  family("tsray_task_history_dropped", "gauge", "Ended tasks no longer kept for the state API (the history is bounded).");
  sample("tsray_task_history_dropped", {}, raylet.events.dropped);

  family("tsray_actors", "gauge", "Actors by state.");
  const actors = new Map<string, number>(ACTOR_STATES.map((s) => [s, 0]));
  for (const a of gcs.actors.list()) actors.set(a.state, (actors.get(a.state) ?? 0) + 1);
  for (const [state, n] of actors) sample("tsray_actors", { state }, n);

  const nodes = raylet.nodeStats();
  family("tsray_object_store_used_bytes", "gauge", "Bytes of each node's object store in use.");
  for (const n of nodes) if (n.store) sample("tsray_object_store_used_bytes", { node_id: n.nodeId }, n.store.used);
  family("tsray_object_store_capacity_bytes", "gauge", "Size of each node's object store.");
  for (const n of nodes) if (n.store) sample("tsray_object_store_capacity_bytes", { node_id: n.nodeId }, n.store.capacity);
  family("tsray_resources_total", "gauge", "Each node's resources.");
  for (const n of nodes) for (const [resource, v] of Object.entries(n.total)) sample("tsray_resources_total", { node_id: n.nodeId, resource }, v);
  family("tsray_resources_available", "gauge", "Each node's resources not reserved by tasks, actors or placement groups.");
  for (const n of nodes) for (const [resource, v] of Object.entries(n.available)) sample("tsray_resources_available", { node_id: n.nodeId, resource }, v);
  family("tsray_workers", "gauge", "Worker threads and processes on each node.");
  for (const n of nodes) sample("tsray_workers", { node_id: n.nodeId }, n.workers);

  family("tsray_node_cpu_percent", "gauge", "CPU each node's process uses (its main thread and worker threads), in percent of one core.");
  for (const n of nodes) if (n.usage) sample("tsray_node_cpu_percent", { node_id: n.nodeId }, n.usage.cpuPercent);
  family("tsray_node_rss_bytes", "gauge", "Resident memory of each node's process.");
  for (const n of nodes) if (n.usage) sample("tsray_node_rss_bytes", { node_id: n.nodeId }, n.usage.rssBytes);
  family("tsray_node_memory_used_bytes", "gauge", "Memory in use on each node's machine.");
  for (const n of nodes) if (n.usage) sample("tsray_node_memory_used_bytes", { node_id: n.nodeId }, n.usage.memoryUsedBytes);
  family("tsray_worker_cpu_percent", "gauge", "CPU each worker uses, in percent of one core (a thread: its event loop's busy time).");
  for (const n of nodes) for (const w of n.usage?.workers ?? []) sample("tsray_worker_cpu_percent", { node_id: n.nodeId, worker_id: w.workerId }, w.cpuPercent);

  family("tsray_rpc_latency_seconds", "histogram", "How long the head took to answer requests from drivers and workers, by method.");
  const head = raylet.nodeId;
  for (const [method, h] of raylet.requestLatency) out.push(...h.lines("tsray_rpc_latency_seconds", labelText({ node_id: head, method })));
  return `${out.join("\n")}\n`;
}

function braces(labels: Record<string, string>): string {
  const text = labelText(labels);
  return text ? `{${text}}` : "";
}

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}
