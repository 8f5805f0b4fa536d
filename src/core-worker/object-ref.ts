/**
 * ObjectRef: the future of a task's result or a put value. Holding one keeps the object alive;
 * the reference tracker of the thread learns when the last instance for an id is collected, or
 * disposed (`using ref = ray.put(x)` releases it at the end of the block, without waiting for
 * garbage collection). Deliberately not a thenable: values are read with `ray.get`.
 */
import { inspect } from "node:util";
import { OBJECT_REF_BRAND, REF_DISPOSED } from "../serialization/markers.js";

/** The hook through which new refs are counted; set by the thread's core worker. */
export interface RefCounter {
  track(ref: object, id: string, fresh: boolean, holdsSharedMemory?: boolean): void;
  untrack(ref: object, id: string): void;
}

let counter: RefCounter | undefined;
export function setRefCounter(c: RefCounter | undefined): void {
  counter = c;
}

export class ObjectRef<T = unknown> implements Disposable {
  declare private readonly __value?: T;
  readonly #id: string;

  /**
   * @internal `fresh` is true when the store already counts this thread's hold (the ref of a
   * task just submitted or a value just put), false for a ref that arrived from elsewhere.
   * `shared`: the object lives in shared memory (see ReferenceTracker.sweep).
   */
  constructor(id: string, fresh = false, shared = false) {
    this.#id = id;
    counter?.track(this, id, fresh, shared);
  }

  hex(): string {
    return this.#id;
  }

  /**
   * Gives up this ref now: when no other ref to the object is left in this thread, the store is
   * told at once and frees the object if nothing else holds it. The ref cannot be used after.
   */
  [Symbol.dispose](): void {
    if ((this as Record<symbol, unknown>)[REF_DISPOSED]) return;
    Object.defineProperty(this, REF_DISPOSED, { value: true });
    // A ref of an earlier runtime (shut down since) is unknown to this one's counter: no effect.
    counter?.untrack(this, this.#id);
  }

  toString(): string {
    return `ObjectRef(${this.#id})`;
  }

  toJSON(): string {
    return this.toString();
  }

  /** @internal How console.log prints it. */
  [inspect.custom](): string {
    return this.toString();
  }
}

Object.defineProperty(ObjectRef.prototype, OBJECT_REF_BRAND, { value: true, enumerable: false });
