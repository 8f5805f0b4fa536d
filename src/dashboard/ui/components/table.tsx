// The pages' one table: columns described once, rows keyed (so a row's open details survive a
// poll), a line when there is nothing to show; and the pager of the server-paged lists.
import type { ComponentChildren } from "preact";
import { count } from "../format";

export interface Column<T> {
  title: string;
  cell: (row: T) => ComponentChildren;
  /** A class for the column's cells: "num" aligns numbers right, "wide" lets text wrap. */
  className?: string;
}

export function Table<T>(props: { columns: Column<T>[]; rows: T[] | undefined; rowKey: (row: T) => string; empty: string; label: string }) {
  const { columns, rows } = props;
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
        <thead>
          <tr>{columns.map((c) => <th class={c.className}>{c.title}</th>)}</tr>
        </thead>
        <tbody>
          {rows === undefined ? (
            <tr><td class="empty" colSpan={columns.length}>Loading…</td></tr>
          ) : rows.length === 0 ? (
            <tr><td class="empty" colSpan={columns.length}>{props.empty}</td></tr>
          ) : (
            rows.map((r) => (
              <tr key={props.rowKey(r)}>{columns.map((c) => <td class={c.className}>{c.cell(r)}</td>)}</tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/** "41–60 of 1,234", and the buttons to move a page. */
export function Pager(props: { offset: number; limit: number; matched: number; onOffset: (offset: number) => void }) {
  const { offset, limit, matched } = props;
  const last = Math.max(0, Math.floor((matched - 1) / limit) * limit);
  return (
    <div class="pager">
      <span class="muted">
        {matched === 0 ? "none" : `${count(offset + 1)}–${count(Math.min(offset + limit, matched))} of ${count(matched)}`}
      </span>
      <button type="button" disabled={offset === 0} onClick={() => props.onOffset(0)} aria-label="First page">«</button>
      <button type="button" disabled={offset === 0} onClick={() => props.onOffset(Math.max(0, offset - limit))}>‹ Newer</button>
      <button type="button" disabled={offset + limit >= matched} onClick={() => props.onOffset(offset + limit)}>Older ›</button>
      <button type="button" disabled={offset >= last} onClick={() => props.onOffset(last)} aria-label="Last page">»</button>
    </div>
  );
}
