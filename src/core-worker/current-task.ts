/**
 * Which task the code running now in this thread belongs to: for parent links, the runtime
 * context, and cancels that interrupt the task's pending gets.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { TaskCancelledError } from "../common/errors.js";

/** What the code running now is: set inside tasks and actor methods. */
export interface TaskContext {
  taskId: string;
  name: string;
  actorId?: string;
  resources: Record<string, number>;
  cancelled: boolean;
  /** Rejecters of this task's pending gets, so a cancel can interrupt them. */
  interrupts: Set<(err: Error) => void>;
}

export class CurrentTask {
  /** Context of tasks that may interleave (concurrent actors); created on first need. */
  private interleaved?: AsyncLocalStorage<TaskContext>;
  /** The task running alone in this thread, when tasks run one at a time. */
  private sole?: TaskContext;
  /** Tasks running in `interleaved` contexts now. */
  private interleavedRunning = 0;

  /**
   * Runs `fn` as task `ctx`. A task that starts while no other runs here needs no async context
   * tracking (whose promise hooks cost a few µs per call, and stay on in the thread once on): it
   * is the thread's sole task, also for its continuations, which run outside any tracked context.
   * Only a task that starts while another runs (an actor's calls that may interleave) is tracked.
   * An actor whose calls rarely overlap (Serve's proxy: a call that waits for its death, and an
   * HTTP server) then never turns the hooks on.
   */
  run<T>(ctx: TaskContext, fn: () => Promise<T>, mayInterleave: boolean): Promise<T> {
    if (mayInterleave && (this.sole !== undefined || this.interleavedRunning > 0)) {
      this.interleavedRunning++;
      return (this.interleaved ??= new AsyncLocalStorage<TaskContext>()).run(ctx, fn).finally(() => {
        this.interleavedRunning--;
      });
    }
    this.sole = ctx;
    return fn().finally(() => {
      if (this.sole === ctx) this.sole = undefined;
    });
  }

  get(): TaskContext | undefined {
    return this.interleaved?.getStore() ?? this.sole;
  }

  /**
   * Lets a cancel of the current task interrupt a wait (at once if it is cancelled already).
   * Returns what forgets the wait once it ended: a long task, or code that runs in a task's
   * context after it returned (a server an actor method started), may wait without end.
   */
  readonly onInterrupt = (reject: (err: Error) => void): (() => void) | undefined => {
    const ctx = this.get();
    if (!ctx) return undefined;
    if (ctx.cancelled) {
      reject(new TaskCancelledError(`task ${ctx.name} was cancelled`));
      return undefined;
    }
    ctx.interrupts.add(reject);
    return () => ctx.interrupts.delete(reject);
  };
}
