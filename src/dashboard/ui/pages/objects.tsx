// The objects the head's table holds: size, owner, why each is kept (reference kinds), and
// where it is (in the store's memory, spilled to disk, on a worker node).
import { Badge } from "../components/badge";
import { Id } from "../components/id";
import { StateList } from "../components/state-list";
import type { Column } from "../components/table";
import { bytes } from "../format";
import type { ObjectRow } from "../types";

const STATES = ["PENDING", "IN_MEMORY", "SPILLED", "ON_NODE", "FAILED"];

const columns: Column<ObjectRow>[] = [
  { title: "Object", cell: (o) => <Id id={o.object_id} /> },
  { title: "State", cell: (o) => <Badge state={o.state} /> },
  { title: "Size", cell: (o) => bytes(o.size_bytes), className: "num" },
  { title: "Owner", cell: (o) => <Id id={o.owner} /> },
  { title: "References", cell: (o) => o.reference_kinds.length ? o.reference_kinds.map((k) => <span class="chip">{k.toLowerCase().replace(/_/g, " ")}</span>) : <span class="muted">none</span> },
  { title: "On node", cell: (o) => <Id id={o.node_id} /> },
  { title: "Readers", cell: (o) => o.readers, className: "num" },
];

export function ObjectsPage() {
  return (
    <StateList kind="objects" title="Objects" pick={{ label: "Where", any: "anywhere", states: STATES }} columns={columns}
      rowKey={(o) => o.object_id} empty="No objects." />
  );
}
