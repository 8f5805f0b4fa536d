/**
 * The walk that runs before V8 serializes a value. It finds what structured clone cannot carry
 * and says where it is (a function at `args[1].callback` is a TypeError naming that path, at
 * the call site), swaps ObjectRefs and ActorHandles for plain markers, wraps large
 * ArrayBuffers so that their bodies go to the arena like typed arrays', and copies only the
 * containers on the way to a swap: the user's value itself is never modified.
 */
import { types } from "node:util";
import { ACTOR_HANDLE_BRAND, ACTOR_MARKER, CLASS_MARKER, CUSTOM_MARKER, OBJECT_REF_BRAND, REF_DISPOSED, REF_MARKER, type ActorHandleData } from "./markers.js";
import { INLINE_MAX_BYTES } from "./serialized-value.js";
import { serializableTagOf } from "./revivable.js";
import { customSerializerOf } from "./custom-serializers.js";

export interface Prepared {
  value: unknown;
  refs: string[];
  markers: boolean;
  /** SharedArrayBuffers (shared, not copied), and the placeholder ArrayBuffer standing for each in the serialized value. */
  segments: SharedArrayBuffer[];
  placeholders: ArrayBuffer[];
}

export function prepare(value: unknown, path: string): Prepared {
  const walk = new Walk();
  const out = walk.visit(value, path);
  return { value: out, refs: walk.refs, markers: walk.markers, segments: walk.segments, placeholders: walk.placeholders };
}

class Walk {
  refs: string[] = [];
  markers = false;
  segments: SharedArrayBuffer[] = [];
  placeholders: ArrayBuffer[] = [];
  private readonly seen = new Map<object, unknown>();

  visit(value: unknown, path: string): unknown {
    switch (typeof value) {
      case "function": {
        if (isActorHandle(value)) return this.actor(value);
        throw new TypeError(`${path} is a function (${value.name || "anonymous"}), which cannot be sent to a task or actor; pass data, or make it a remote function`);
      }
      case "symbol":
        throw new TypeError(`${path} is a symbol (${String(value)}), which cannot be sent to a task or actor`);
      case "object":
        break;
      default:
        return value;
    }
    if (value === null) return value;
    const obj = value as object;
    if (this.seen.has(obj)) return this.seen.get(obj);
    if (isObjectRef(obj)) return this.ref(obj, path);
    if (isActorHandle(obj)) return this.actor(obj);
    if (types.isProxy(obj)) {
      // A Proxy whose class registered a serializer (a library's handle answering any method name) goes by it.
      const custom = customSerializerOf(obj);
      if (custom !== undefined) return this.custom(obj, custom, path);
      throw new TypeError(`${path} is a Proxy, which cannot be sent to a task or actor`);
    }
    if (ArrayBuffer.isView(obj) || obj instanceof Date || obj instanceof RegExp) return obj;
    if (obj instanceof SharedArrayBuffer) return this.segment(obj);
    if (obj instanceof ArrayBuffer) return obj.byteLength < INLINE_MAX_BYTES ? obj : this.arrayBuffer(obj);
    if (types.isBoxedPrimitive(obj)) return obj;
    if (obj instanceof Error) return obj;
    if (Array.isArray(obj)) return this.array(obj, path);
    if (obj instanceof Map) return this.map(obj, path);
    if (obj instanceof Set) return this.set(obj, path);
    if (types.isPromise(obj)) throw new TypeError(`${path} is a Promise, which cannot be sent to a task or actor; await it first or pass an ObjectRef`);
    if (obj instanceof WeakMap || obj instanceof WeakSet || obj instanceof WeakRef) {
      throw new TypeError(`${path} is a ${obj.constructor.name}, which cannot be sent to a task or actor`);
    }
    const custom = customSerializerOf(obj);
    if (custom !== undefined) return this.custom(obj, custom, path);
    const tag = serializableTagOf(obj);
    if (tag !== undefined) {
      this.markers = true;
      return { [CLASS_MARKER]: tag, state: this.object(obj as Record<string, unknown>, path) };
    }
    return this.object(obj as Record<string, unknown>, path);
  }

  /** An instance of a class with a registered serializer: its serialized state, walked in turn. */
  private custom(obj: object, serializer: NonNullable<ReturnType<typeof customSerializerOf>>, path: string): unknown {
    let state: unknown;
    try {
      state = serializer.serialize(obj);
    } catch (err) {
      throw new TypeError(`${path} (a ${serializer.tag}) cannot be serialized: its serializer threw ${err instanceof Error ? err.message : String(err)}`);
    }
    this.markers = true;
    const marker: Record<string, unknown> = { [CUSTOM_MARKER]: serializer.tag, state: undefined };
    if (serializer.module !== undefined) marker.module = serializer.module;
    // Set before the walk, so that a cycle back to `obj` reaches this marker.
    this.seen.set(obj, marker);
    marker.state = this.visit(state, `${path}<${serializer.tag}>`);
    return marker;
  }

  private ref(obj: object, path: string): unknown {
    checkNotDisposed(obj, path);
    const id = (obj as { hex(): string }).hex();
    this.refs.push(id);
    this.markers = true;
    return { [REF_MARKER]: id };
  }

  private actor(handle: object): unknown {
    const data = (handle as Record<symbol, ActorHandleData>)[ACTOR_HANDLE_BRAND];
    this.refs.push(data.actorId);
    this.markers = true;
    return { [ACTOR_MARKER]: data };
  }

  /**
   * V8 writes an ArrayBuffer's bytes inline, but hands typed arrays to the serializer (see
   * serializer.ts): a large one is wrapped in a view marked as an ArrayBuffer's body, so its
   * bytes go to the arena (bounded by the store's size) and come back as an ArrayBuffer.
   */
  private arrayBuffer(buf: ArrayBuffer): unknown {
    const body = new Uint8Array(buf);
    ARRAY_BUFFER_BODIES.add(body);
    this.seen.set(buf, body);
    return body;
  }

  /**
   * V8 cannot serialize a SharedArrayBuffer by itself, but it can leave out a transferred
   * ArrayBuffer and take a SharedArrayBuffer in its place when reading: so each segment is
   * written as a placeholder that deserialization swaps for the segment.
   */
  private segment(shared: SharedArrayBuffer): unknown {
    const placeholder = new ArrayBuffer(0);
    this.segments.push(shared);
    this.placeholders.push(placeholder);
    this.seen.set(shared, placeholder);
    return placeholder;
  }

  private array(arr: unknown[], path: string): unknown {
    let copy: unknown[] | undefined;
    this.seen.set(arr, arr);
    for (let i = 0; i < arr.length; i++) {
      const el = arr[i];
      // Most arrays hold primitives: skip the call for them.
      if (el === null || (typeof el !== "object" && typeof el !== "function" && typeof el !== "symbol")) continue;
      const out = this.visit(el, `${path}[${i}]`);
      if (out !== el) {
        if (!copy) {
          copy = arr.slice();
          this.seen.set(arr, copy);
        }
        copy[i] = out;
      }
    }
    return copy ?? arr;
  }

  private object(obj: Record<string, unknown>, path: string): unknown {
    let copy: Record<string, unknown> | undefined;
    this.seen.set(obj, obj);
    for (const key of Object.keys(obj)) {
      const el = obj[key];
      if (el === null || (typeof el !== "object" && typeof el !== "function" && typeof el !== "symbol")) continue;
      const out = this.visit(el, `${path}${propertyPath(key)}`);
      if (out !== el) {
        if (!copy) {
          copy = { ...obj };
          this.seen.set(obj, copy);
        }
        copy[key] = out;
      }
    }
    return copy ?? obj;
  }

  private map(map: Map<unknown, unknown>, path: string): unknown {
    let changed = false;
    const entries: [unknown, unknown][] = [];
    this.seen.set(map, map);
    let i = 0;
    for (const [k, v] of map) {
      const k2 = this.visit(k, `${path}.keys()[${i}]`);
      const v2 = this.visit(v, `${path}.get(${describeKey(k)})`);
      if (k2 !== k || v2 !== v) changed = true;
      entries.push([k2, v2]);
      i++;
    }
    if (!changed) return map;
    const copy = new Map(entries);
    this.seen.set(map, copy);
    return copy;
  }

  private set(set: Set<unknown>, path: string): unknown {
    let changed = false;
    const items: unknown[] = [];
    this.seen.set(set, set);
    let i = 0;
    for (const v of set) {
      const v2 = this.visit(v, `${path}.values()[${i++}]`);
      if (v2 !== v) changed = true;
      items.push(v2);
    }
    if (!changed) return set;
    const copy = new Set(items);
    this.seen.set(set, copy);
    return copy;
  }
}

/** The views that stand for a whole ArrayBuffer (see Walk.arrayBuffer). */
export const ARRAY_BUFFER_BODIES = new WeakSet<ArrayBufferView>();

export function isObjectRef(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[OBJECT_REF_BRAND] === true;
}

/** A disposed ObjectRef cannot be used any more: a TypeError naming `what`. */
export function checkNotDisposed(ref: object, what: string): void {
  if ((ref as Record<symbol, unknown>)[REF_DISPOSED]) throw new TypeError(`${what} is ${String(ref)}, which was disposed`);
}

export function isActorHandle(value: unknown): boolean {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  return (value as Record<symbol, unknown>)[ACTOR_HANDLE_BRAND] !== undefined;
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describeKey(key: unknown): string {
  return typeof key === "string" ? JSON.stringify(key) : String(key);
}
