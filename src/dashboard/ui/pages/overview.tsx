// The cluster at a glance: its nodes, resources used and total, the object stores, and tasks by
// state over time.
import { useEffect, useState } from "preact/hooks";
import { getJson, getList, usePoll } from "../api";
import { Chart } from "../components/chart";
import { Meter } from "../components/meter";
import { amount, bytes, count, isBookkeeping } from "../format";
import { followTaskHistory, type TaskHistory } from "../task-history";
import type { ActorRow, ClusterStatus, NodeRow } from "../types";

export function OverviewPage() {
  const status = usePoll((signal) => getJson<ClusterStatus>("/api/cluster_status", signal), "status").data;
  const nodes = usePoll((signal) => getList<NodeRow>("nodes", { limit: 1000 }, signal), "nodes").data;
  const actors = usePoll((signal) => getList<ActorRow>("actors", { filters: { state: "ALIVE" }, limit: 0 }, signal), "actors").data;
  const [history, setHistory] = useState<TaskHistory>();
  useEffect(() => followTaskHistory(setHistory), []);

  const alive = nodes?.result.filter((n) => n.state === "ALIVE") ?? [];
  const storeUsed = alive.reduce((s, n) => s + (n.object_store_used_bytes ?? 0), 0);
  const storeCapacity = alive.reduce((s, n) => s + (n.object_store_capacity_bytes ?? 0), 0);
  const latest = history?.latest;
  const resourceNames = Object.keys(status?.total ?? {}).filter((r) => !isBookkeeping(r)).sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));

  return (
    <section>
      <h1>Overview</h1>
      <div class="cards">
        <Card label="Nodes" value={nodes ? `${alive.length}` : "…"} sub={nodes ? `alive of ${nodes.total}` : ""} href="#/nodes" />
        <Card label="Running tasks" value={latest ? count(latest.pending.RUNNING) : "…"}
          sub={latest ? `${count(latest.pending.PENDING_ARGS_AVAIL + latest.pending.PENDING_NODE_ASSIGNMENT)} pending` : ""} href="#/tasks?state=RUNNING" />
        <Card label="Finished tasks" value={latest ? count(latest.ended.FINISHED) : "…"} sub="since the head started" href="#/tasks?state=FINISHED" />
        <Card label="Failed tasks" value={latest ? count(latest.ended.FAILED) : "…"} sub={latest?.dropped ? `${count(latest.dropped)} no longer kept` : "since the head started"}
          href="#/tasks?state=FAILED" tone={latest?.ended.FAILED ? "bad" : undefined} />
        <Card label="Live actors" value={actors ? count(actors.total - actors.num_filtered) : "…"} sub={actors ? `of ${count(actors.total)}` : ""} href="#/actors" />
      </div>
      <div class="panels">
        <div class="panel">
          <h2>Resources</h2>
          {resourceNames.map((name) => {
            const total = status!.total[name];
            const used = total - (status!.available[name] ?? 0);
            return <Meter label={name} used={used} total={total} text={`${amount(name, used)} / ${amount(name, total)}`} />;
          })}
          <Meter label="object store" used={storeUsed} total={storeCapacity} text={`${bytes(storeUsed)} / ${bytes(storeCapacity)}`} />
          {status && status.pendingDemand.length > 0 && (
            <p class="muted small">Waiting for resources: {status.pendingDemand.map((d) => `${d.count}× ${JSON.stringify(d.resources)}`).join(", ")}</p>
          )}
        </div>
        <div class="panel grow">
          <h2>Tasks by state</h2>
          {history && (
            <div class="charts">
              <Chart title="Running and pending" data={[history.times, history.running, history.pending]}
                series={[{ label: "running", color: "#2563eb" }, { label: "pending", color: "#d97706" }]} />
              <Chart title="Ended per second" data={[history.times, history.finishedRate, history.failedRate]}
                series={[{ label: "finished", color: "#059669" }, { label: "failed", color: "#dc2626" }]} />
            </div>
          )}
        </div>
      </div>
    </section>
  );
}

function Card(props: { label: string; value: string; sub: string; href: string; tone?: string }) {
  return (
    <a class={`card ${props.tone ?? ""}`} href={props.href}>
      <span class="card-label">{props.label}</span>
      <span class="card-value" data-card={props.label}>{props.value}</span>
      <span class="card-sub">{props.sub}</span>
    </a>
  );
}

/** CPU, GPU and memory first; then the custom resources by name. */
function rank(name: string): number {
  return ["CPU", "GPU", "memory"].indexOf(name) + 1 || 9;
}
