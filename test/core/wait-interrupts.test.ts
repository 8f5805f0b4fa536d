// A task's context remembers the waits a cancel may interrupt only while they wait: code that
// runs in a task's context long after (a server an actor method started, a loop that never ends)
// may wait without end, and each finished wait must be forgotten, or the context keeps every
// one of them (and the values they waited for) alive.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CurrentTask, type TaskContext } from "../../src/core-worker/current-task.js";
import { ObjectWaits } from "../../src/core-worker/object-waits.js";
import { TaskCancelledError } from "../../src/common/errors.js";

function context(): TaskContext {
  return { taskId: "t", name: "serve forever", resources: {}, cancelled: false, interrupts: new Set() };
}

test("finished waits leave the task's context; a wait in progress is still interrupted by a cancel", async () => {
  const current = new CurrentTask();
  const waits = new ObjectWaits(() => {}, () => false);
  const ctx = context();
  await current.run(ctx, async () => {
    for (let i = 0; i < 1000; i++) {
      const done = waits.all([`obj${i}`], undefined, true, current.onInterrupt);
      waits.arrived(`obj${i}`, { ok: true, value: { prim: i } });
      await done;
    }
    assert.equal(ctx.interrupts.size, 0);

    const pending = waits.all(["never"], undefined, true, current.onInterrupt);
    assert.equal(ctx.interrupts.size, 1);
    ctx.cancelled = true;
    for (const interrupt of ctx.interrupts) interrupt(new TaskCancelledError("task serve forever was cancelled"));
    await assert.rejects(pending, TaskCancelledError);
    assert.equal(ctx.interrupts.size, 0);
  }, true);
});
