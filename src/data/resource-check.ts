/**
 * Resources no node has. The core keeps a task or actor that asks for more than any node has
 * pending (it may join later) and says so in the node's log; an execution waiting on it would
 * look hung, so at its start the executor says on stderr which operator asks for what, naming
 * the resource, as Ray Data warns. It keeps running, as the core does.
 */
import * as ray from "tsray";
import type { TaskOptions } from "tsray";

/** Warns for each operator whose tasks or actors ask for resources beyond every live node's. */
export async function warnOfInfeasibleOperators(ops: readonly { name: string; taskOptions: TaskOptions }[]): Promise<void> {
  if (!ops.some((op) => hasExplicitResources(op.taskOptions))) return;
  const nodes = (await ray.nodes()).filter((n) => n.alive);
  for (const op of ops) {
    // A placement group's bundle has its own resources, checked when the group is placed.
    if (typeof op.taskOptions.schedulingStrategy === "object" && op.taskOptions.schedulingStrategy.type === "placement_group") continue;
    const need = needOf(op.taskOptions);
    if (nodes.some((node) => Object.entries(need).every(([name, amount]) => (node.resources[name] ?? 0) >= amount))) continue;
    const missing = Object.entries(need)
      .filter(([name, amount]) => !nodes.some((node) => (node.resources[name] ?? 0) >= amount))
      .map(([name, amount]) => `${name}: ${amount}`);
    const what = missing.length > 0 ? `{ ${missing.join(", ")} }` : JSON.stringify(need);
    process.stderr.write(
      `tsray Data: operator ${op.name} asks for ${what} per task or actor, which no node of the cluster has: ` +
        `it waits until a node with these resources joins the cluster\n`,
    );
  }
}

function hasExplicitResources(opts: TaskOptions): boolean {
  return opts.numCpus !== undefined || opts.numGpus !== undefined || opts.memory !== undefined || opts.resources !== undefined;
}

/** What one task or actor asks for, in node resource names. */
function needOf(opts: TaskOptions): Record<string, number> {
  const need: Record<string, number> = { ...(opts.resources ?? {}) };
  if (opts.numCpus) need.CPU = opts.numCpus;
  if (opts.numGpus) need.GPU = opts.numGpus;
  if (opts.memory) need.memory = opts.memory;
  return need;
}

/**
 * Pool actors that ask for CPUs hold them while alive. Warns when the pools' minimum sizes hold so many that a task
 * operator's task cannot get its CPUs: the execution would wait for them for as long as the pools live.
 */
export function warnOfPoolsHoldingCpus(
  ops: readonly ({ kind: "tasks"; name: string; taskOptions: TaskOptions } | { kind: "actors"; name: string; taskOptions: TaskOptions; pool: { minSize: number } })[],
  cpus: number,
): void {
  let held = 0;
  for (const op of ops) if (op.kind === "actors") held += op.pool.minSize * (op.taskOptions.numCpus ?? 0);
  const starved = ops.filter((op) => op.kind === "tasks" && held + (op.taskOptions.numCpus ?? 1) > cpus);
  if (held === 0 || starved.length === 0) return;
  process.stderr.write(
    `tsray Data: the actor pools hold ${held} of the cluster's ${cpus} CPUs, which leaves too few for the tasks of ` +
      `${starved.map((op) => op.name).join(", ")}: the execution may wait; give the pools fewer actors or numCpus\n`,
  );
}
