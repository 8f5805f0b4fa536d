// The actors: class and name, state, where each runs (node, worker, pid), restarts, and why a
// dead one died.
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { StateList } from "../components/state-list";
import type { Column } from "../components/table";
import type { ActorRow } from "../types";

const STATES = ["PENDING", "ALIVE", "RESTARTING", "DEAD"];

const columns: Column<ActorRow>[] = [
  { title: "Class", cell: (a) => <strong>{a.class_name}</strong> },
  { title: "Name", cell: (a) => a.name ? <span>{a.name}{a.detached && <span class="tag">detached</span>}</span> : <span class="muted">–</span> },
  { title: "State", cell: (a) => <Badge state={a.state} /> },
  { title: "Actor", cell: (a) => <Id id={a.actor_id} /> },
  { title: "Node", cell: (a) => <Id id={a.node_id} /> },
  { title: "Worker", cell: (a) => <><Id id={a.worker_id} />{a.pid !== null && <span class="muted"> pid {a.pid}</span>}</> },
  { title: "Restarts", cell: (a) => a.num_restarts, className: "num" },
  { title: "Death cause", cell: (a) => a.death_cause ? <span class="error-text">{a.death_cause}</span> : <span class="muted">–</span>, className: "wide" },
];

export function ActorsPage() {
  return (
    <StateList kind="actors" title="Actors" pick={{ label: "State", any: "any", states: STATES }} columns={columns}
      rowKey={(a) => a.actor_id} empty="No actors." />
  );
}
