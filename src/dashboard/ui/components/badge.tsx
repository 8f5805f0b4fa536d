// A state as a colored badge: green for what works or worked, amber for what waits, red for
// what failed or died, blue and violet for where an object lives.

const TONES: Record<string, string> = {
  ALIVE: "good", RUNNING: "live", FINISHED: "good", SUCCEEDED: "good", IN_MEMORY: "good", CREATED: "good",
  PENDING: "wait", PENDING_ARGS_AVAIL: "wait", PENDING_NODE_ASSIGNMENT: "wait", RESTARTING: "wait", DEPENDENCIES_UNREADY: "wait",
  FAILED: "bad", DEAD: "bad",
  STOPPED: "idle", REMOVED: "idle",
  SPILLED: "note", ON_NODE: "info",
  // tsray Serve's states (applications, deployments, replicas, proxies).
  HEALTHY: "good", DEPLOYING: "wait", UPDATING: "wait", STARTING: "wait", RECOVERING: "wait", UPSCALING: "wait",
  DOWNSCALING: "wait", DRAINING: "wait", DEPLOY_FAILED: "bad", UNHEALTHY: "bad", STOPPING: "idle", DELETING: "idle",
  DRAINED: "idle", NOT_STARTED: "idle",
};

/** Ray's long pending states, said shortly (the full name on hover). */
const SHORT: Record<string, string> = { PENDING_ARGS_AVAIL: "PENDING ARGS", PENDING_NODE_ASSIGNMENT: "PENDING NODE", ON_NODE: "ON NODE", IN_MEMORY: "IN MEMORY", DEPLOY_FAILED: "DEPLOY FAILED", NOT_STARTED: "NOT STARTED" };

export function Badge(props: { state: string }) {
  const tone = TONES[props.state] ?? "idle";
  return <span class={`badge ${tone}`} title={props.state}>{SHORT[props.state] ?? props.state}</span>;
}
