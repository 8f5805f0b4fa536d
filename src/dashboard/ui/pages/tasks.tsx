// The tasks the head keeps (those not ended, then the ended ones newest first), paged on the
// server so 100,000 of them read as fast as ten; filtered by state and by name.
import { useEffect, useState } from "preact/hooks";
import { usePagedList } from "../api";
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { Pager, Table, type Column } from "../components/table";
import { duration, time } from "../format";
import type { TaskRow } from "../types";

const STATES = ["", "PENDING_ARGS_AVAIL", "PENDING_NODE_ASSIGNMENT", "RUNNING", "FINISHED", "FAILED"];
const LIMIT = 50;

const columns: Column<TaskRow>[] = [
  { title: "Name", cell: (t) => <strong>{t.name}</strong> },
  { title: "State", cell: (t) => <Badge state={t.state} /> },
  { title: "Task", cell: (t) => <Id id={t.task_id} /> },
  { title: "Type", cell: (t) => <span class="muted">{t.type.replace(/_TASK$/, "").toLowerCase().replace(/_/g, " ")}</span> },
  { title: "Node", cell: (t) => <Id id={t.node_id} /> },
  { title: "Worker", cell: (t) => <Id id={t.worker_id} /> },
  { title: "Started", cell: (t) => time(t.started_at) },
  { title: "Duration", cell: (t) => duration(t.duration_ms ?? (t.started_at ? Date.now() - t.started_at : null)), className: "num" },
  { title: "Attempt", cell: (t) => t.attempt, className: "num" },
  { title: "Error", cell: (t) => <TaskError task={t} />, className: "wide" },
];

function TaskError(props: { task: TaskRow }) {
  const t = props.task;
  if (!t.error_message) return <span class="muted">–</span>;
  // The message names the error's type already ("Task f failed: TypeError: ..."); the type alone on hover.
  if (!t.error_stack) return <span class="error-text" title={t.error_type}>{t.error_message}</span>;
  return (
    <details class="error">
      <summary class="error-text" title={t.error_type}>{t.error_message}</summary>
      <pre class="stack">{t.error_stack}</pre>
    </details>
  );
}

export function TasksPage(props: { params: URLSearchParams }) {
  const [state, setState] = useState(props.params.get("state") ?? "");
  const [typed, setTyped] = useState(props.params.get("name") ?? "");
  const [name, setName] = useState(typed);
  // The name filter applies once typing pauses, not at each key.
  useEffect(() => {
    const t = setTimeout(() => setName(typed.trim()), 300);
    return () => clearTimeout(t);
  }, [typed]);
  // A link to another filter (the Overview's cards) while this page is open.
  useEffect(() => setState(props.params.get("state") ?? ""), [props.params.get("state")]);
  const list = usePagedList<TaskRow>("tasks", { state, name }, LIMIT);
  return (
    <section>
      <h1>Tasks <span class="count">{list.total ? list.total.toLocaleString("en-US") : ""}</span></h1>
      <div class="toolbar">
        <label>State{" "}
          <select name="state" value={state} onChange={(e) => setState(e.currentTarget.value)}>
            {STATES.map((s) => <option value={s}>{s ? s.toLowerCase().replace(/_/g, " ") : "any"}</option>)}
          </select>
        </label>
        <label>Name{" "}
          <input name="name" type="search" placeholder="exact name" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} />
        </label>
        <Pager offset={list.offset} limit={LIMIT} matched={list.matched} onOffset={list.setOffset} />
      </div>
      {list.error && <p class="error-text">{list.error}</p>}
      <Table label="Tasks" columns={columns} rows={list.rows} rowKey={(t) => t.task_id}
        empty={state || name ? "No task matches." : "No tasks yet: run a driver with ray.init({ address: \"auto\" })."} />
    </section>
  );
}
