/**
 * Operator fusion: the physical operators of a logical plan. A read source (range, files) is a
 * task operator of its own; each map step joins the operator before it when their task options
 * and concurrency agree, so one task per block runs them all. Pure: the executor runs its
 * result and explain() prints it.
 *
 * A class UDF's step makes an actor-pool operator. As Ray fuses a task operator into the actor
 * operator after it, function steps (and a read) before it with equal options and no
 * concurrency of their own join it, and so do such function steps after it: the actor runs them
 * all in one call per block. Two class UDFs never share an operator: each pool hosts one class.
 */
import type { TaskOptions } from "tsray";
import { isReadSource, sourceName, type ActorPoolSpec, type MapStep, type Plan, type StageSpec } from "./plan.js";

/** Operators as the executor runs them; names as Ray shows fused ones: "ReadRange->Map(f)". */
export type Operator =
  | { kind: "tasks"; name: string; stages: StageSpec[]; taskOptions: TaskOptions; concurrency?: number; isRead?: boolean }
  | { kind: "actors"; name: string; stages: StageSpec[]; taskOptions: TaskOptions; pool: ActorPoolSpec; isRead?: boolean }
  | { kind: "limit"; n: number };
type MapOperator = Exclude<Operator, { kind: "limit" }>;

/**
 * The operators of a plan: a read source (range, files) is a task operator of its own, and map
 * steps join the operator before them while their options agree ("ReadCSV->Map(f)->Filter(g)").
 */
export function fuse(plan: Plan): Operator[] {
  const ops: Operator[] = [];
  let current: MapOperator | undefined;
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
      if (step.pool !== undefined && current.kind === "tasks") {
        // The task operator's stages move into the pool's actors.
        const { concurrency: _, ...rest } = current;
        const actors: MapOperator = { ...rest, kind: "actors", pool: step.pool };
        ops[ops.length - 1] = actors;
        current = actors;
      }
      current.stages.push(step.stage);
      current.name += `->${step.stage.name}`;
      continue;
    }
    current = step.pool !== undefined
      ? { kind: "actors", name: step.stage.name, stages: [step.stage], taskOptions: step.taskOptions, pool: step.pool }
      : { kind: "tasks", name: step.stage.name, stages: [step.stage], taskOptions: step.taskOptions, concurrency: step.concurrency };
    ops.push(current);
  }
  return ops;
}

function sameExecution(op: MapOperator, step: MapStep): boolean {
  if (JSON.stringify(op.taskOptions) !== JSON.stringify(step.taskOptions)) return false;
  if (op.kind === "tasks" && step.pool === undefined) return op.concurrency === step.concurrency;
  // A pool and function steps: only those without a concurrency of their own; never two pools.
  const functionSide = op.kind === "tasks" ? op.concurrency : step.concurrency;
  return functionSide === undefined && !(op.kind === "actors" && step.pool !== undefined);
}
