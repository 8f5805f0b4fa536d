// The wire form of the messages between threads: every field of every message arrives as sent,
// through a real MessagePort (structured clone), whichever fields a spec leaves out.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MessageChannel, receiveMessageOnPort } from "node:worker_threads";
import { decode, encode, type Message } from "../../src/rpc/wire.js";
import type { TaskSpec } from "../../src/rpc/protocol.js";

function roundTrip(msg: Message): Message {
  const { port1, port2 } = new MessageChannel();
  try {
    port1.postMessage(encode(msg));
    return decode(receiveMessageOnPort(port2)!.message as Message);
  } finally {
    port1.close();
  }
}

const plainTask: TaskSpec = {
  taskId: "a".repeat(24), name: "f", fnId: "fn1", args: [], numReturns: 1, resources: { CPU: 1 }, maxRetries: 3, ownerId: "o1",
};

const everyField: TaskSpec = {
  ...plainTask,
  args: [{ ref: "b".repeat(28) }, { v: { prim: 7 } }, { v: { prim: undefined } }, { v: { prim: 12n } }, { v: { data: new Uint8Array([1, 2]), refs: ["c".repeat(28)], markers: true } }],
  nestedRefs: ["c".repeat(28)],
  numReturns: "streaming",
  retryExceptions: ["RangeError"],
  parentTaskId: "d".repeat(24),
  scheduling: { type: "placement_group", placementGroupId: "pg", bundleIndex: 1 },
  env: { A: "1" },
  memoryBytes: 2 ** 20,
  jobId: "0a0b",
  isolation: "process",
  workingDir: "/srv/job",
};

const actorCall: TaskSpec = { taskId: "e".repeat(24), name: "C.m", args: [{ v: { prim: "x" } }], numReturns: 2, resources: {}, maxRetries: 0, ownerId: "o2", actorId: "f".repeat(24), method: "m" };

const actorCreation: TaskSpec = {
  ...plainTask,
  actorId: "f".repeat(24),
  actor: {
    actorId: "f".repeat(24), className: "C", methods: ["m"], name: "n", namespace: "ns", detached: true, maxRestarts: 1, maxTaskRetries: 2,
    maxConcurrency: 3, getIfExists: false, holdsResources: true,
  },
};

test("execute and submit messages carry every spec field, and only those set", () => {
  for (const spec of [plainTask, everyField, actorCall, actorCreation]) {
    assert.deepEqual(roundTrip({ t: "submit", spec }), { t: "submit", spec });
    assert.deepEqual(roundTrip({ t: "execute", spec }), { t: "execute", spec });
  }
  const functions = [{ id: "fn1", name: "f", kind: "function" }] as unknown as Extract<Message, { t: "execute" }>["functions"];
  const withValues: Message = { t: "execute", spec: everyField, args: [{ ok: true, value: { prim: 1 } }, { ok: false, error: { code: "TASK_ERROR", name: "RayTaskError", message: "m" } }], functions };
  assert.deepEqual(roundTrip(withValues), withValues);
});

test("results and sealed objects keep primitives, encoded values and failures apart", () => {
  const results = [
    { ok: true as const, value: { prim: null } },
    { ok: true as const, value: { prim: "s" } },
    { ok: true as const, value: { data: new Uint8Array([3]), slices: [{ offset: 64, size: 128 }] } },
    { ok: false as const, error: { code: "TASK_ERROR", name: "RayTaskError", message: "boom" } },
  ];
  const done: Message = { t: "task-done", taskId: "a".repeat(24), results, ms: 1.5 };
  assert.deepEqual(roundTrip(done), done);
  const one: Message = { t: "task-done", taskId: "a".repeat(24), results: [results[1]], ms: 0 };
  assert.deepEqual(roundTrip(one), one);
  const objects: Message = { t: "objects", entries: results.map((v, i) => [`id${i}`, v] as [string, (typeof results)[number]]) };
  assert.deepEqual(roundTrip(objects), objects);
});

test("other messages travel as they are", () => {
  for (const msg of [{ t: "remove-ref", ids: ["x", "y"] }, { t: "collect" }, { t: "cancel-task", taskId: "z" }] as Message[]) {
    assert.deepEqual(roundTrip(msg), msg);
  }
});
