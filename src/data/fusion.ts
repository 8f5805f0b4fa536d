/**
 * Operator fusion: the physical operators of a logical plan. A read source (range, files) is a
 * task operator of its own; each map step joins the operator before it when their task options
 * and concurrency agree, so one task per block runs them all. Pure: the executor runs its
 * result and explain() prints it.
 */
import type { TaskOptions } from "tsray";
import { isReadSource, sourceName, type MapStep, type Plan, type StageSpec } from "./plan.js";

/** Operators as the executor runs them; names as Ray shows fused ones: "ReadRange->Map(f)". */
export type Operator =
  | { kind: "tasks"; name: string; stages: StageSpec[]; taskOptions: TaskOptions; concurrency?: number; isRead?: boolean }
  | { kind: "limit"; n: number };

/**
 * The operators of a plan: a read source (range, files) is a task operator of its own, and map
 * steps join the operator before them while their options agree ("ReadCSV->Map(f)->Filter(g)").
 */
export function fuse(plan: Plan): Operator[] {
  const ops: Operator[] = [];
  let current: Extract<Operator, { kind: "tasks" }> | undefined;
  const source = plan.source;
  if (isReadSource(source)) {
    const taskOptions = source.kind === "files" ? source.taskOptions : {};
    const concurrency = source.kind === "files" ? source.concurrency : undefined;
    current = { kind: "tasks", name: sourceName(source), stages: [], taskOptions, isRead: true, ...(concurrency !== undefined ? { concurrency } : {}) };
    ops.push(current);
  }
  for (const step of plan.steps) {
    if (step.kind === "limit") {
      ops.push(step);
      current = undefined;
      continue;
    }
    // A write with minRowsPerFile runs as an operator of its own, whose tasks get small blocks bundled (executor.ts).
    if (current && sameExecution(current, step) && !(step.stage.kind === "write" && step.stage.minRowsPerFile)) {
      current.stages.push(step.stage);
      current.name += `->${step.stage.name}`;
      continue;
    }
    current = { kind: "tasks", name: step.stage.name, stages: [step.stage], taskOptions: step.taskOptions, concurrency: step.concurrency };
    ops.push(current);
  }
  return ops;
}

function sameExecution(op: Extract<Operator, { kind: "tasks" }>, step: MapStep): boolean {
  return op.concurrency === step.concurrency && JSON.stringify(op.taskOptions) === JSON.stringify(step.taskOptions);
}
