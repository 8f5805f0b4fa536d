/**
 * The refs a streaming task yields, as soon as each value is produced. Item i of task t is
 * object (t, i); object (t, 0) is sealed when the task ends, with the item count or its error.
 *
 * Each item taken is reported to the node, which lets the task run further ahead (see
 * TaskExecutor.stream). Closing the generator (reading it to the end, `break` out of
 * `for await`, `return()`, `using`, or its collection as garbage) tells the node that the items
 * not taken are not wanted: they are freed and the task, if it still runs, is cancelled.
 */
import { objectIdOf } from "../common/ids.js";
import { fromErrorInfo } from "../common/errors.js";
import { deserialize } from "../serialization/serializer.js";
import type { CoreWorker } from "./core-worker.js";
import { ObjectRef } from "./object-ref.js";

/** Generators dropped without being closed: their tasks' streams are closed for them. */
const abandoned = new FinalizationRegistry<{ cw: CoreWorker; taskId: string }>(({ cw, taskId }) => {
  if (!cw.closed) cw.send({ t: "stream-closed", taskId });
});

export class ObjectRefGenerator<T = unknown> implements AsyncIterableIterator<ObjectRef<T>>, AsyncDisposable, Disposable {
  #index = 0;
  #closed = false;
  readonly #cw: CoreWorker;
  readonly #taskId: string;
  /** Keeps the end-of-stream object alive while the generator is. */
  readonly #endRef: ObjectRef;

  constructor(cw: CoreWorker, taskId: string, endRef: ObjectRef) {
    this.#cw = cw;
    this.#taskId = taskId;
    this.#endRef = endRef;
    abandoned.register(this, { cw, taskId }, this);
  }

  async next(): Promise<IteratorResult<ObjectRef<T>>> {
    if (this.#closed) return { done: true, value: undefined };
    const i = this.#index + 1;
    const itemId = objectIdOf(this.#taskId, i);
    const endId = this.#endRef.hex();
    // The store holds each item for this thread, so the one ref to it made here is "fresh".
    const item = new ObjectRef<T>(itemId, true);
    await this.#cw.wait([item, this.#endRef], 1);
    // The end came first. Item i may still exist: the end is sent as soon as it is sealed, item i
    // only when our subscription reaches the node. The count of items yielded says whether it does.
    if (!this.#cw.isReady(itemId)) {
      const end = this.#cw.peek(endId)!;
      const count = end.ok
        ? (deserialize(end.value, { reviveRef: () => null, reviveActor: () => null }) as number)
        : await this.#cw.request<number>("streamProduced", this.#taskId);
      if (count < i) {
        this.#cw.forget(itemId);
        this.#close();
        if (!end.ok) throw fromErrorInfo(end.error);
        return { done: true, value: undefined };
      }
    }
    if (this.#closed) return { done: true, value: undefined };
    this.#index = i;
    this.#cw.send({ t: "stream-consumed", taskId: this.#taskId, index: i });
    return { done: false, value: item };
  }

  /** Closes the generator: the items not taken are freed, the task stopped if it still runs. */
  async return(): Promise<IteratorResult<ObjectRef<T>>> {
    this.#close();
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<ObjectRef<T>> {
    return this;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#close();
  }

  [Symbol.dispose](): void {
    this.#close();
  }

  toString(): string {
    return `ObjectRefGenerator(${this.#taskId})`;
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    abandoned.unregister(this);
    if (!this.#cw.closed) this.#cw.send({ t: "stream-closed", taskId: this.#taskId });
  }
}
