/**
 * Dataset.explain(): the logical plan (each step as written) and the physical plan (the
 * operators that run, fused ones named "A->B"), each printed from the output down to the
 * source, as Ray prints them.
 */
import { fuse } from "./fusion.js";
import { isReadSource, sourceName, type Plan } from "./plan.js";

export function explainPlan(plan: Plan): string {
  const logical = [...plan.steps].reverse().map((step) => (step.kind === "limit" ? `Limit[limit=${step.n}]` : step.stage.name));
  logical.push(sourceName(plan.source));
  const operators = fuse(plan);
  const physical = [...operators].reverse().map((op) => (op.kind === "limit" ? `LimitOperator[limit=${op.n}]` : `TaskPoolMapOperator[${op.name}]`));
  // Read sources are task operators of their own; other sources feed blocks the driver holds.
  if (!isReadSource(plan.source)) physical.push(`InputDataBuffer[${sourceName(plan.source)}]`);
  return ["-------- Logical Plan --------", ...tree(logical), "-------- Physical Plan --------", ...tree(physical)].join("\n");
}

function tree(nodes: readonly string[]): string[] {
  return nodes.map((node, depth) => (depth === 0 ? node : `${"   ".repeat(depth - 1)}+- ${node}`));
}
