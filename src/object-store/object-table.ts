/**
 * The node's object table: every object produced or put on this node, its value once sealed,
 * and who still needs it. An object is freed when no thread holds a reference to it, no
 * pending task or stored object contains it, and no zero-copy view of its memory is alive.
 * The same counting keeps anonymous actors alive while any handle to them exists.
 */
import type { ErrorInfo } from "../common/errors.js";
import type { SerializedValue } from "../serialization/serialized-value.js";
import type { SharedArena } from "./shared-arena.js";

/** Told an object's value once it is sealed; one function can serve many objects. */
export type Waiter = (value: ObjectValue, id: string) => void;

export type ObjectValue = { ok: true; value: SerializedValue } | { ok: false; error: ErrorInfo };

interface Entry {
  value?: ObjectValue;
  refs: number;
  pins: number;
  /** Callbacks waiting for the value (dependency resolution, subscriptions): one, or a list. */
  waiters?: Waiter | Waiter[];
  /** Actor entries stand for an actor's handles; they hold no value. */
  actor?: boolean;
}

export class ObjectTable {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly arena: SharedArena,
    /** Told when the last handle of an actor is gone. */
    private readonly onActorOutOfScope: (actorId: string) => void,
  ) {}

  /** Registers an object that will be sealed later (a task's return), held `refs` times. */
  expect(id: string, refs = 1): void {
    const e = this.entries.get(id);
    if (e) e.refs += refs;
    else this.entries.set(id, { refs, pins: 0 });
  }

  /** Registers an actor's handle count. */
  expectActor(actorId: string, refs = 1): void {
    const e = this.entries.get(actorId);
    if (e) e.refs += refs;
    else this.entries.set(actorId, { refs, pins: 0, actor: true });
  }

  /** Stores the value of an object; the first seal wins (a retried task may seal twice). */
  seal(id: string, value: ObjectValue): void {
    let e = this.entries.get(id);
    if (!e) {
      // Nobody holds it (its ref was dropped before the result came): store, then free at once.
      e = { refs: 0, pins: 0 };
      this.entries.set(id, e);
    }
    if (e.value) {
      if (value.ok) this.release(value.value);
      return;
    }
    e.value = value;
    if (value.ok) {
      for (const inner of value.value.refs ?? []) this.addRef(inner);
    }
    const waiters = e.waiters;
    e.waiters = undefined;
    if (typeof waiters === "function") waiters(value, id);
    else if (waiters) for (const w of waiters) w(value, id);
    this.maybeFree(id, e);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  get(id: string): ObjectValue | undefined {
    return this.entries.get(id)?.value;
  }

  isReady(id: string): boolean {
    return this.entries.get(id)?.value !== undefined;
  }

  /** Calls `cb` once the object is sealed (at once if it is). Unknown ids wait for a seal. */
  whenReady(id: string, cb: Waiter): void {
    let e = this.entries.get(id);
    if (!e) {
      e = { refs: 0, pins: 0 };
      this.entries.set(id, e);
    }
    if (e.value) cb(e.value, id);
    else if (!e.waiters) e.waiters = cb;
    else if (typeof e.waiters === "function") e.waiters = [e.waiters, cb];
    else e.waiters.push(cb);
  }

  /** Forgets a waiter registered with whenReady (a get that timed out). */
  cancelWait(id: string, cb: Waiter): void {
    const e = this.entries.get(id);
    if (!e?.waiters) return;
    if (e.waiters === cb) e.waiters = undefined;
    else if (typeof e.waiters !== "function") {
      const i = e.waiters.indexOf(cb);
      if (i >= 0) e.waiters.splice(i, 1);
      if (!e.waiters.length) e.waiters = undefined;
    }
    this.maybeFree(id, e);
  }

  addRef(id: string, n = 1): void {
    const e = this.entries.get(id);
    if (e) e.refs += n;
    else this.entries.set(id, { refs: n, pins: 0 });
  }

  removeRef(id: string, n = 1): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.refs -= n;
    this.maybeFree(id, e);
  }

  pin(id: string, n = 1): void {
    const e = this.entries.get(id);
    if (e) e.pins += n;
  }

  unpin(id: string, n = 1): void {
    const e = this.entries.get(id);
    if (!e) return;
    e.pins -= n;
    this.maybeFree(id, e);
  }

  /** Drops every object: the node is shutting down. */
  clear(): void {
    for (const e of this.entries.values()) if (e.value?.ok) this.release(e.value.value);
    this.entries.clear();
  }

  private maybeFree(id: string, e: Entry): void {
    if (e.refs > 0 || e.pins > 0 || e.waiters) return;
    if (e.actor) {
      this.entries.delete(id);
      this.onActorOutOfScope(id);
      return;
    }
    // A pending object nobody holds stays until its task seals it, so the seal finds no waiters.
    if (!e.value) return;
    this.entries.delete(id);
    if (e.value.ok) {
      this.release(e.value.value);
      for (const inner of e.value.value.refs ?? []) this.removeRef(inner);
    }
  }

  private release(value: SerializedValue): void {
    if (value.slices) for (const s of value.slices) this.arena.free(s.offset, s.size);
  }
}
