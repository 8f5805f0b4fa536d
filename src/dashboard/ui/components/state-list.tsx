// A page's table of one kind of state (actors, objects...), picked by a state select and paged
// on the head.
import { useState } from "preact/hooks";
import { usePagedList } from "../api";
import { Pager, Table, type Column } from "./table";

const LIMIT = 50;

export function StateList<T>(props: {
  kind: string;
  title: string;
  /** The select's label, and what its empty choice reads. */
  pick: { label: string; any: string; states: string[] };
  columns: Column<T>[];
  rowKey: (row: T) => string;
  empty: string;
}) {
  const [state, setState] = useState("");
  const list = usePagedList<T>(props.kind, { state }, LIMIT);
  return (
    <section>
      <h1>{props.title} <span class="count">{list.total || ""}</span></h1>
      <div class="toolbar">
        <label>{props.pick.label}{" "}
          <select value={state} onChange={(e) => setState(e.currentTarget.value)}>
            {["", ...props.pick.states].map((s) => <option value={s}>{s ? s.toLowerCase().replace(/_/g, " ") : props.pick.any}</option>)}
          </select>
        </label>
        <Pager offset={list.offset} limit={LIMIT} matched={list.matched} onOffset={list.setOffset} />
      </div>
      <Table label={props.title} columns={props.columns} rows={list.rows} rowKey={props.rowKey} empty={props.empty} />
    </section>
  );
}
