// A state as a colored badge: green for what works or worked, amber for what waits, red for
// what failed or died, blue and violet for where an object lives.

const TONES: Record<string, string> = {
  ALIVE: "good", RUNNING: "live", FINISHED: "good", SUCCEEDED: "good", IN_MEMORY: "good", CREATED: "good",
  PENDING: "wait", PENDING_ARGS_AVAIL: "wait", PENDING_NODE_ASSIGNMENT: "wait", RESTARTING: "wait", DEPENDENCIES_UNREADY: "wait",
  FAILED: "bad", DEAD: "bad",
  STOPPED: "idle", REMOVED: "idle",
  SPILLED: "note", ON_NODE: "info",
};

/** Ray's long pending states, said shortly (the full name on hover). */
const SHORT: Record<string, string> = { PENDING_ARGS_AVAIL: "PENDING ARGS", PENDING_NODE_ASSIGNMENT: "PENDING NODE", ON_NODE: "ON NODE", IN_MEMORY: "IN MEMORY" };

export function Badge(props: { state: string }) {
  const tone = TONES[props.state] ?? "idle";
  return <span class={`badge ${tone}`} title={props.state}>{SHORT[props.state] ?? props.state}</span>;
}
