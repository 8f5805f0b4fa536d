// The task list the Tasks page reads, with the head's whole history kept (100,000 finished
// tasks): the state API answers one page, newest first, filtered on the server, with the
// counts the pager needs; the summary the Overview polls counts without listing.
import { test } from "node:test";
import assert from "node:assert/strict";
import type http from "node:http";
import { stateRoutes } from "../../src/dashboard/state-routes.js";
import { StateService } from "../../src/node/state-service.js";
import { TASK_HISTORY, TaskEvents } from "../../src/raylet/task-events.js";
import type { Gcs } from "../../src/gcs/gcs.js";
import type { Raylet } from "../../src/raylet/raylet.js";
import type { TaskSpec } from "../../src/rpc/protocol.js";

const events = new TaskEvents();
const n = TASK_HISTORY + 10;
for (let i = 0; i < n; i++) {
  const taskId = `task-${i}`;
  events.submitted({ taskId, name: i % 1000 === 0 ? "rare" : "common", jobId: "01" } as TaskSpec);
  events.running(taskId, "node-1", "worker-1");
  events.ended(taskId, i % 10_000 === 0 ? [{ ok: false, error: { code: "TASK_ERROR", name: "RayTaskError", message: `failed ${i}` } }] : [{ ok: true } as never]);
}
events.submitted({ taskId: "waiting", name: "common", jobId: "01" } as TaskSpec);
// Only what the task routes read of the raylet.
const state = new StateService({} as Gcs, { events } as unknown as Raylet);
const routes = stateRoutes(state, () => "", { address: "127.0.0.1:1", head_node_id: "node-1", version: "0", started_at: 0 });

async function get(path: string): Promise<any> {
  let body = "";
  const res = { headersSent: false, writeHead: () => res, end: (b: string) => (body = b) } as unknown as http.ServerResponse;
  assert.equal(await routes({ method: "GET" } as http.IncomingMessage, res, new URL(path, "http://x")), true);
  return JSON.parse(body);
}

test("a page of 100,000 finished tasks: the ones not ended first, then the newest, and the counts", async () => {
  const page = (await get("/api/v0/tasks?limit=50")).data.result;
  assert.deepEqual([page.total, page.num_filtered, page.num_after_truncation], [TASK_HISTORY + 1, 0, 50]);
  assert.deepEqual(page.result.slice(0, 3).map((t: { task_id: string }) => t.task_id), ["waiting", `task-${n - 1}`, `task-${n - 2}`]);
  const last = (await get(`/api/v0/tasks?limit=50&offset=${TASK_HISTORY - 49}`)).data.result;
  assert.equal(last.result.at(-1).task_id, "task-10", "the oldest kept (the first 10 were dropped)");
});

test("filtered by state and name on the server: only the matches, counted", async () => {
  const failed = (await get("/api/v0/tasks?filter_keys=state&filter_values=FAILED&limit=5")).data.result;
  assert.equal(failed.total - failed.num_filtered, 10);
  assert.deepEqual(failed.result.map((t: { error_message: string }) => t.error_message).slice(0, 2), ["failed 100000", "failed 90000"]);
  const rare = (await get("/api/v0/tasks?filter_keys=name&filter_values=rare&filter_keys=state&filter_values=finished&limit=1000")).data.result;
  assert.equal(rare.num_after_truncation, 90);
});

test("the summary counts every task the node ended, the dropped ones too", async () => {
  const s = await get("/api/v0/tasks/summary");
  assert.deepEqual(s.ended, { FINISHED: n - 11, FAILED: 11 });
  assert.deepEqual(s.pending, { PENDING_ARGS_AVAIL: 1, PENDING_NODE_ASSIGNMENT: 0, RUNNING: 0 });
  assert.equal(s.dropped, 10);
});
