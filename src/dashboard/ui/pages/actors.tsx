// The actors: class and name, state, where each runs (node, worker, pid), restarts, and why a
// dead one died.
import { useState } from "preact/hooks";
import { usePagedList } from "../api";
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { Pager, Table, type Column } from "../components/table";
import type { ActorRow } from "../types";

const STATES = ["", "PENDING", "ALIVE", "RESTARTING", "DEAD"];
const LIMIT = 50;

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
  const [state, setState] = useState("");
  const list = usePagedList<ActorRow>("actors", { state }, LIMIT);
  return (
    <section>
      <h1>Actors <span class="count">{list.total || ""}</span></h1>
      <div class="toolbar">
        <label>State{" "}
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            {STATES.map((s) => <option value={s}>{s ? s.toLowerCase() : "any"}</option>)}
          </select>
        </label>
        <Pager offset={list.offset} limit={LIMIT} matched={list.matched} onOffset={list.setOffset} />
      </div>
      <Table label="Actors" columns={columns} rows={list.rows} rowKey={(a) => a.actor_id} empty="No actors." />
    </section>
  );
}
