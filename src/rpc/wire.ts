/**
 * How the messages that cross threads by the thousand travel over a MessagePort: as flat
 * arrays. Structured clone writes the name of every property of every object it copies, so a
 * task spec as an object costs several times its values (about 4 µs per execute message
 * against under 2 µs as an array, sent and received, measured on the benchmark machine).
 *
 * Encoded: `execute`, `submit`, `task-done` and `objects`, which carry specs and results. Every
 * other message travels as it is. A batch may mix both: an encoded message is an array, a plain
 * one an object.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { ObjectValue } from "../object-store/object-table.js";
import type { SerializedValue } from "../serialization/serialized-value.js";
import type { FromRaylet, TaskArg, TaskSpec, ToRaylet } from "./protocol.js";

export type Message = ToRaylet | FromRaylet;
type Wire = Message | unknown[];

const EXECUTE = 0;
const SUBMIT = 1;
const TASK_DONE = 2;
const OBJECTS = 3;

// An argument or a value: a kind, then its payload.
const REF = 0;
const PRIMITIVE = 1;
const SERIALIZED = 2;
const FAILED = 3;

export function encode(msg: Message): Wire {
  switch (msg.t) {
    case "execute":
      return wireSpec(EXECUTE, msg.spec, msg.args && pushValues([], msg.args), msg.functions);
    case "submit":
      return wireSpec(SUBMIT, msg.spec);
    case "task-done":
      return pushValues([TASK_DONE, msg.taskId, msg.ms], msg.results);
    case "objects": {
      const out: unknown[] = [OBJECTS];
      for (const [id, value] of msg.entries) {
        out.push(id);
        pushValue(out, value);
      }
      return out;
    }
    default:
      return msg;
  }
}

export function decode(wire: Wire): Message {
  if (!Array.isArray(wire)) return wire as Message;
  switch (wire[0]) {
    case EXECUTE: {
      const msg: Extract<FromRaylet, { t: "execute" }> = { t: "execute", spec: decodeSpec(wire, 1) };
      const args = wire[1 + SPEC_SLOTS] as unknown[] | undefined;
      const functions = wire[2 + SPEC_SLOTS] as Extract<FromRaylet, { t: "execute" }>["functions"];
      if (args) msg.args = decodeValues(args, 0);
      if (functions) msg.functions = functions;
      return msg;
    }
    case SUBMIT:
      return { t: "submit", spec: decodeSpec(wire, 1) };
    case TASK_DONE:
      return { t: "task-done", taskId: wire[1] as string, ms: wire[2] as number, results: decodeValues(wire, 3) };
    case OBJECTS: {
      const entries: [string, ObjectValue][] = [];
      for (let i = 1; i < wire.length; i += 3) entries.push([wire[i] as string, decodeValue(wire[i + 1] as number, wire[i + 2])]);
      return { t: "objects", entries };
    }
    default:
      throw new TypeError(`unknown wire message kind ${String(wire[0])}`);
  }
}

// A spec is its fields in this order; an absent optional field is `undefined` (one byte). An
// execute message adds its values and functions after them.
const SPEC_SLOTS = 21;

function wireSpec(kind: number, s: TaskSpec, values?: unknown[], functions?: unknown): unknown[] {
  return [
    kind, s.taskId, s.name, s.fnId, encodeArgs(s.args), s.nestedRefs, s.numReturns, s.resources, s.maxRetries, s.retryExceptions,
    s.ownerId, s.parentTaskId, s.scheduling, s.env, s.memoryBytes, s.actorId, s.method, s.actor, s.backpressure, s.jobId, s.isolation, s.workingDir, values, functions,
  ];
}

function decodeSpec(w: unknown[], at: number): TaskSpec {
  // Required fields first, in one literal: every spec then shares one shape.
  const spec: TaskSpec = {
    taskId: w[at] as string,
    name: w[at + 1] as string,
    args: decodeArgs(w[at + 3] as unknown[]),
    numReturns: w[at + 5] as TaskSpec["numReturns"],
    resources: w[at + 6] as TaskSpec["resources"],
    maxRetries: w[at + 7] as number,
    ownerId: w[at + 9] as string,
  };
  if (w[at + 2] !== undefined) spec.fnId = w[at + 2] as string;
  if (w[at + 4] !== undefined) spec.nestedRefs = w[at + 4] as string[];
  if (w[at + 8] !== undefined) spec.retryExceptions = w[at + 8] as TaskSpec["retryExceptions"];
  if (w[at + 10] !== undefined) spec.parentTaskId = w[at + 10] as string;
  if (w[at + 11] !== undefined) spec.scheduling = w[at + 11] as TaskSpec["scheduling"];
  if (w[at + 12] !== undefined) spec.env = w[at + 12] as TaskSpec["env"];
  if (w[at + 13] !== undefined) spec.memoryBytes = w[at + 13] as number;
  if (w[at + 14] !== undefined) spec.actorId = w[at + 14] as string;
  if (w[at + 15] !== undefined) spec.method = w[at + 15] as string;
  if (w[at + 16] !== undefined) spec.actor = w[at + 16] as TaskSpec["actor"];
  if (w[at + 17] !== undefined) spec.backpressure = w[at + 17] as number;
  if (w[at + 18] !== undefined) spec.jobId = w[at + 18] as string;
  if (w[at + 19] !== undefined) spec.isolation = w[at + 19] as "process";
  if (w[at + 20] !== undefined) spec.workingDir = w[at + 20] as string;
  return spec;
}

const NO_ARGS: unknown[] = [];

function encodeArgs(args: TaskArg[]): unknown[] {
  if (args.length === 0) return NO_ARGS;
  const out: unknown[] = [];
  for (const a of args) {
    if ("ref" in a) out.push(REF, a.ref);
    else if (a.v.data === undefined) out.push(PRIMITIVE, a.v.prim);
    else out.push(SERIALIZED, a.v);
  }
  return out;
}

function decodeArgs(w: unknown[]): TaskArg[] {
  const args: TaskArg[] = new Array(w.length / 2);
  for (let i = 0; i < w.length; i += 2) {
    const kind = w[i];
    const payload = w[i + 1];
    args[i / 2] = kind === REF ? { ref: payload as string } : { v: kind === PRIMITIVE ? { prim: payload as SerializedValue["prim"] } : (payload as SerializedValue) };
  }
  return args;
}

function pushValue(out: unknown[], v: ObjectValue): unknown[] {
  if (!v.ok) out.push(FAILED, v.error);
  else if (v.value.data === undefined) out.push(PRIMITIVE, v.value.prim);
  else out.push(SERIALIZED, v.value);
  return out;
}

function pushValues(out: unknown[], values: ObjectValue[]): unknown[] {
  for (let i = 0; i < values.length; i++) pushValue(out, values[i]);
  return out;
}

function decodeValue(kind: number, payload: unknown): ObjectValue {
  if (kind === FAILED) return { ok: false, error: payload as ErrorInfo };
  return { ok: true, value: kind === PRIMITIVE ? { prim: payload as SerializedValue["prim"] } : (payload as SerializedValue) };
}

function decodeValues(w: unknown[], from: number): ObjectValue[] {
  const out: ObjectValue[] = new Array((w.length - from) / 2);
  for (let i = from; i < w.length; i += 2) out[(i - from) / 2] = decodeValue(w[i] as number, w[i + 1]);
  return out;
}
