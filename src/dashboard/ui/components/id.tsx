// An id shortened to its start, the whole id on hover and when selected (copy works).
import { shortId } from "../format";

export function Id(props: { id: string }) {
  if (!props.id) return <span class="muted">–</span>;
  return <code class="id" title={props.id}>{shortId(props.id)}</code>;
}
