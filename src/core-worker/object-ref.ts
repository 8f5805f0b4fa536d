/**
 * ObjectRef: the future of a task's result or a put value. Holding one keeps the object alive;
 * the reference tracker of the thread learns when the last instance for an id is collected.
 * Deliberately not a thenable: values are read with `ray.get`.
 */
import { inspect } from "node:util";
import { OBJECT_REF_BRAND } from "../serialization/markers.js";

/** The hook through which new refs are counted; set by the thread's core worker. */
export interface RefCounter {
  track(ref: object, id: string, fresh: boolean, holdsSharedMemory?: boolean): void;
}

let counter: RefCounter | undefined;
export function setRefCounter(c: RefCounter | undefined): void {
  counter = c;
}

export class ObjectRef<T = unknown> {
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

  toString(): string {
    return `ObjectRef(${this.#id})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

Object.defineProperty(ObjectRef.prototype, OBJECT_REF_BRAND, { value: true, enumerable: false });
