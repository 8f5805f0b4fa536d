// The cluster's nodes: where each is, whether it is alive, its resources used and total, its
// object store and workers.
import { getList, usePoll } from "../api";
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { Meter } from "../components/meter";
import { Table, type Column } from "../components/table";
import { amount, bytes, isBookkeeping } from "../format";
import type { NodeRow } from "../types";

const columns: Column<NodeRow>[] = [
  { title: "State", cell: (n) => <Badge state={n.state} /> },
  { title: "Node", cell: (n) => <><Id id={n.node_id} />{n.is_head_node && <span class="tag">head</span>}</> },
  { title: "Address", cell: (n) => <code>{n.node_ip}</code> },
  { title: "CPU", cell: (n) => usage(n, "CPU"), className: "meter-cell" },
  {
    title: "Object store", className: "meter-cell",
    cell: (n) => n.object_store_capacity_bytes === null ? <span class="muted">–</span> : (
      <Meter label="store" used={n.object_store_used_bytes ?? 0} total={n.object_store_capacity_bytes}
        text={`${bytes(n.object_store_used_bytes)} / ${bytes(n.object_store_capacity_bytes)}`} />
    ),
  },
  {
    title: "Process", className: "num",
    cell: (n) => n.cpu_percent === null ? <span class="muted">–</span> : <>{n.cpu_percent.toFixed(0)}% CPU<br /><span class="muted">{bytes(n.rss_bytes)}</span></>,
  },
  {
    title: "Machine memory", className: "meter-cell",
    cell: (n) => n.memory_total_bytes === null ? <span class="muted">–</span> : (
      <Meter label="memory" used={n.memory_used_bytes ?? 0} total={n.memory_total_bytes} text={`${bytes(n.memory_used_bytes)} / ${bytes(n.memory_total_bytes)}`} />
    ),
  },
  { title: "Workers", cell: workers, className: "wide" },
  {
    title: "Other resources", className: "wide",
    cell: (n) => Object.entries(n.resources_total).filter(([k]) => k !== "CPU" && !isBookkeeping(k)).map(([k, total]) => (
      <span class="chip">{k} {amount(k, total - (n.resources_available[k] ?? (n.state === "ALIVE" ? 0 : total)))} / {amount(k, total)}</span>
    )),
  },
];

/** How many workers, and what each uses (open to see). */
function workers(n: NodeRow) {
  if (!n.workers.length) return <span class="muted">{n.num_workers}</span>;
  return (
    <details>
      <summary>{n.num_workers} workers</summary>
      <ul class="workers">
        {n.workers.map((w) => (
          <li key={w.worker_id}>
            <Id id={w.worker_id} /> {w.pid !== null && <span class="muted">pid {w.pid} · </span>}
            {w.cpu_percent.toFixed(0)}% CPU{w.rss_bytes !== null && <> · {bytes(w.rss_bytes)}</>}
          </li>
        ))}
      </ul>
    </details>
  );
}

function usage(n: NodeRow, name: string) {
  const total = n.resources_total[name] ?? 0;
  if (n.state !== "ALIVE") return <span class="muted">{total} total</span>;
  const used = total - (n.resources_available[name] ?? 0);
  return <Meter label={name} used={used} total={total} />;
}

export function NodesPage() {
  const nodes = usePoll((signal) => getList<NodeRow>("nodes", { limit: 1000 }, signal), "nodes");
  return (
    <section>
      <h1>Nodes <span class="count">{nodes.data?.total ?? ""}</span></h1>
      <Table label="Nodes" columns={columns} rows={nodes.data?.result} rowKey={(n) => n.node_id} empty="No nodes." />
    </section>
  );
}
