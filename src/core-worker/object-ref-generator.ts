/**
 * The refs a streaming task yields, as soon as each value is produced. Item i of task t is
 * object (t, i); object (t, 0) is sealed when the task ends, with the item count or its error.
 */
import { objectIdOf } from "../common/ids.js";
import { fromErrorInfo } from "../common/errors.js";
import { deserialize } from "../serialization/serializer.js";
import type { CoreWorker } from "./core-worker.js";
import { ObjectRef } from "./object-ref.js";

export class ObjectRefGenerator<T = unknown> implements AsyncIterable<ObjectRef<T>> {
  private index = 0;
  private finished = false;
  /** Keeps the end-of-stream object alive while the generator is. */
  private readonly endRef: ObjectRef;

  constructor(private readonly cw: CoreWorker, private readonly taskId: string, endRef: ObjectRef) {
    this.endRef = endRef;
  }

  async next(): Promise<IteratorResult<ObjectRef<T>>> {
    if (this.finished) return { done: true, value: undefined };
    const i = this.index + 1;
    const itemId = objectIdOf(this.taskId, i);
    const endId = this.endRef.hex();
    // The store holds each item for the submitter, so this thread's one ref to it is "fresh".
    const item = new ObjectRef<T>(itemId, true);
    await this.cw.wait([item, this.endRef], 1);
    // An item is sealed before the end, so when the end is ready and the item is not, there is no item i.
    if (this.cw.peek(itemId)) {
      this.index = i;
      return { done: false, value: item };
    }
    const end = this.cw.peek(endId)!;
    this.finished = true;
    if (!end.ok) throw fromErrorInfo(end.error);
    const count = deserialize(end.value, { reviveRef: () => null, reviveActor: () => null }) as number;
    if (count >= i) {
      // The item exists but its notification crossed with the end's: take it.
      this.finished = false;
      this.index = i;
      return { done: false, value: item };
    }
    return { done: true, value: undefined };
  }

  [Symbol.asyncIterator](): AsyncIterator<ObjectRef<T>> {
    return this;
  }

  toString(): string {
    return `ObjectRefGenerator(${this.taskId})`;
  }
}
