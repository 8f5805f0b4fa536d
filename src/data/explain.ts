/**
 * Dataset.explain(): the logical plan (each step as written) and the physical plan (the
 * operators that run, fused ones named "A->B"), each printed from the output down to the
 * source, as Ray prints them.
 */
import { fuse } from "./fusion.js";
import { isReadSource, sourceName, type Plan } from "./plan.js";

export function explainPlan(plan: Plan): string {
  const { logical, physical } = nodes(plan);
  return ["-------- Logical Plan --------", ...tree(logical), "-------- Physical Plan --------", ...tree(physical)].join("\n");
}

/** Each plan's nodes from its output down; an all-to-all step continues with the plan it consumes. */
function nodes(plan: Plan): { logical: string[]; physical: string[] } {
  const logical = [...plan.steps].reverse().map((step) => (step.kind === "limit" ? `Limit[limit=${step.n}]` : step.stage.name));
  const operators = fuse(plan);
  const physical = [...operators].reverse().map((op) => (op.kind === "limit" ? `LimitOperator[limit=${op.n}]` : op.kind === "actors" ? `ActorPoolMapOperator[${op.name}]` : `TaskPoolMapOperator[${op.name}]`));
  logical.push(sourceName(plan.source));
  if (plan.source.kind === "allToAll") {
    physical.push(`AllToAllOperator[${sourceName(plan.source)}]`);
    const input = nodes(plan.source.input);
    return { logical: [...logical, ...input.logical], physical: [...physical, ...input.physical] };
  }
  // Read sources are task operators of their own; other sources feed blocks the driver holds.
  if (!isReadSource(plan.source)) physical.push(`InputDataBuffer[${sourceName(plan.source)}]`);
  return { logical, physical };
}

function tree(nodes: readonly string[]): string[] {
  return nodes.map((node, depth) => (depth === 0 ? node : `${"   ".repeat(depth - 1)}+- ${node}`));
}
