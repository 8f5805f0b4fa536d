/**
 * Values to bytes and back. V8's structured-clone serializer does the work (Map, Set, Date,
 * BigInt, RegExp, typed arrays, Error, -0, NaN, undefined, cycles); the subclasses below take
 * the bodies of large typed arrays and ArrayBuffers out of the bytes and into the shared arena,
 * so a 100 MB Float64Array is copied once, by `put`, and every later reader gets a view of
 * shared memory.
 */
import v8 from "node:v8";
import { ObjectStoreFullError } from "../common/errors.js";
import type { SharedArena } from "../object-store/shared-arena.js";
import { ACTOR_MARKER, CLASS_MARKER, CUSTOM_MARKER, REF_MARKER, type ActorHandleData } from "./markers.js";
import { registeredPrototype } from "./revivable.js";
import { customDeserializerOf, MissingSerializerModule } from "./custom-serializers.js";
import { ARRAY_BUFFER_BODIES, prepare } from "./prepare.js";
import { INLINE_MAX_BYTES, valueBodies, type ArenaSlice, type Primitive, type SerializedValue } from "./serialized-value.js";

export interface SerializeContext {
  /** Where large bodies go; without it they stay inline, or go apart as `bodies` (below). */
  arena?: SharedArena;
  /** Without an arena: large bodies are copied apart, as `bodies`, for a node to store as slices. */
  bodies?: boolean;
  /**
   * Called when the arena has no room for `size` bytes: makes room if it can (collects garbage,
   * waits a while for other threads to release theirs) and returns true to have the allocation
   * tried again, false to give up with ObjectStoreFullError.
   */
  makeRoom?: (size: number) => boolean;
  /**
   * Called before a large body is allocated where it would grow into memory never touched (whose
   * first touch costs more than the copy): a chance to free dead objects so their warm memory is
   * reused instead.
   */
  beforeFreshMemory?: (size: number) => void;
}

/** Bodies this large are worth a collection to land in warm memory (see beforeFreshMemory). */
const WARM_REUSE_BYTES = 8 * 2 ** 20;

export interface DeserializeContext {
  arena?: SharedArena;
  reviveRef(id: string): unknown;
  reviveActor(data: ActorHandleData): unknown;
  /** Told about each zero-copy view handed out, so the region stays pinned while it lives. */
  onSharedView?(view: ArrayBufferView): void;
}

// Host-object tags written before each typed array.
const INLINE_VIEW = 0;
const SHARED_VIEW = 1;
/** A large ArrayBuffer's body written inline (no arena to put it in). */
const INLINE_BUFFER = 2;

type ViewCtor = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): ArrayBufferView; BYTES_PER_ELEMENT?: number };
const VIEW_TYPES: ViewCtor[] = [
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, DataView as unknown as ViewCtor, BigInt64Array, BigUint64Array,
];
const BUFFER_TYPE = 255;
/** A whole ArrayBuffer (see prepare.ts): read back as an ArrayBuffer copy, not a view. */
const ARRAY_BUFFER_TYPE = 254;

interface HostSerializer {
  _writeHostObject(view: ArrayBufferView): void;
}

class StoreSerializer extends v8.DefaultSerializer {
  readonly slices: ArenaSlice[] = [];
  readonly bodies: Uint8Array[] = [];
  constructor(private readonly ctx: SerializeContext) {
    super();
  }

  _writeHostObject(view: ArrayBufferView): void {
    const arena = this.ctx.arena;
    const wholeBuffer = ARRAY_BUFFER_BODIES.has(view);
    if (!arena && this.ctx.bodies && view.byteLength >= INLINE_MAX_BYTES) {
      const body = new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
      valueBodies.add(body);
      this.bodies.push(body);
      this.writeUint32(SHARED_VIEW);
      this.writeUint32(wholeBuffer ? ARRAY_BUFFER_TYPE : typeIndex(view));
      this.writeUint32(this.bodies.length - 1);
      return;
    }
    if (!arena || view.byteLength < INLINE_MAX_BYTES) {
      if (wholeBuffer) {
        this.writeUint32(INLINE_BUFFER);
        this.writeUint32(view.byteLength);
        this.writeRawBytes(view as Uint8Array);
        return;
      }
      this.writeUint32(INLINE_VIEW);
      (v8.DefaultSerializer.prototype as unknown as HostSerializer)._writeHostObject.call(this, view);
      return;
    }
    const offset = allocate(arena, view.byteLength, this.ctx);
    new Uint8Array(arena.buffer, offset, view.byteLength).set(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    this.slices.push({ offset, size: view.byteLength });
    this.writeUint32(SHARED_VIEW);
    this.writeUint32(wholeBuffer ? ARRAY_BUFFER_TYPE : typeIndex(view));
    this.writeUint32(this.slices.length - 1);
  }
}

function allocate(arena: SharedArena, size: number, ctx: SerializeContext): number {
  if (ctx.beforeFreshMemory && size >= WARM_REUSE_BYTES && !arena.fitsWarm(size)) ctx.beforeFreshMemory(size);
  for (;;) {
    const offset = arena.allocate(size);
    if (offset >= 0) return offset;
    if (!ctx.makeRoom?.(size)) {
      throw new ObjectStoreFullError(
        `object store is full: ${size} bytes needed, ${arena.capacity - arena.used()} of ${arena.capacity} free ` +
          `(raise init({ objectStoreMemory }) or drop references to objects you no longer need)`,
      );
    }
  }
}

/**
 * Frees the arena memory of a value that will never be stored: what its serializing thread
 * allocated and must give back itself, or a result the store drops. Every drop goes through here.
 */
export function releaseSlices(arena: SharedArena, value: SerializedValue): void {
  if (value.slices) for (const s of value.slices) arena.free(s.offset, s.size);
}

function typeIndex(view: ArrayBufferView): number {
  if (Buffer.isBuffer(view)) return BUFFER_TYPE;
  const i = VIEW_TYPES.indexOf(view.constructor as ViewCtor);
  return i < 0 ? 1 : i;
}

/**
 * Stands in the deserialized value for a zero-copy view until `revive` puts the view there.
 * The deserializer keeps what `_readHostObject` returns until its own native half is collected;
 * were that the view, the view (and the shared memory it pins) would outlive one collection.
 */
class ViewSlot {
  constructor(private readonly type: number, private readonly index: number, private readonly value: SerializedValue) {}

  /** A new view, or an ArrayBuffer copy (not kept here: the slot lives as long as the deserializer). */
  make(ctx: DeserializeContext): ArrayBufferView | ArrayBuffer {
    if (this.value.bodies) return this.fromBody(this.value.bodies[this.index]);
    const arena = ctx.arena;
    if (!arena) throw new Error("a shared value arrived in a thread without the node's arena");
    const { offset, size } = this.value.slices![this.index];
    if (this.type === ARRAY_BUFFER_TYPE) return copyOut(arena, offset, size);
    const view = this.viewOf(arena.buffer, offset, size);
    ctx.onSharedView?.(view);
    return view;
  }

  /** A body in this process's memory: a view of it where its alignment allows, else of a copy. */
  private fromBody(body: Uint8Array): ArrayBufferView | ArrayBuffer {
    const align = this.type === ARRAY_BUFFER_TYPE || this.type === BUFFER_TYPE ? 1 : (VIEW_TYPES[this.type].BYTES_PER_ELEMENT ?? 1);
    if (this.type === ARRAY_BUFFER_TYPE || body.byteOffset % align !== 0) body = body.slice();
    if (this.type === ARRAY_BUFFER_TYPE) return body.buffer as ArrayBuffer;
    return this.viewOf(body.buffer, body.byteOffset, body.byteLength);
  }

  private viewOf(buffer: ArrayBufferLike, offset: number, size: number): ArrayBufferView {
    if (this.type === BUFFER_TYPE) return Buffer.from(buffer as ArrayBuffer, offset, size);
    const Ctor = VIEW_TYPES[this.type];
    return new Ctor(buffer, offset, size / (Ctor.BYTES_PER_ELEMENT ?? 1));
  }
}

class StoreDeserializer extends v8.DefaultDeserializer {
  /** True once a ViewSlot was handed out: the value must then be revived. */
  slots = false;
  constructor(data: Uint8Array, private readonly value: SerializedValue) {
    super(data as Buffer);
  }

  _readHostObject(): unknown {
    const tag = this.readUint32();
    if (tag === INLINE_VIEW) {
      return (v8.DefaultDeserializer.prototype as unknown as { _readHostObject(): unknown })._readHostObject.call(this);
    }
    if (tag === INLINE_BUFFER) {
      const bytes = this.readRawBytes(this.readUint32()) as Buffer;
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    }
    const type = this.readUint32();
    this.slots = true;
    return new ViewSlot(type, this.readUint32(), this.value);
  }
}

/** Serializes `value`; `path` names it in errors (e.g. "args[1]"). Throws TypeError at the first thing that cannot be sent. */
export function serialize(value: unknown, ctx: SerializeContext, path = "value"): SerializedValue {
  const type = typeof value;
  if (value === null || (type !== "object" && type !== "function" && type !== "symbol")) return { prim: value as Primitive };
  const prepared = prepare(value, path);
  const ser = new StoreSerializer(ctx);
  prepared.placeholders.forEach((placeholder, i) => ser.transferArrayBuffer(i, placeholder));
  try {
    ser.writeHeader();
    ser.writeValue(prepared.value);
  } catch (err) {
    releaseSlices(ctx.arena!, { slices: ser.slices });
    if (err instanceof Error && err.name === "DataCloneError") {
      throw new TypeError(`${path} cannot be serialized: ${err.message}`);
    }
    throw err;
  }
  const out: SerializedValue = { data: ser.releaseBuffer() };
  if (ser.slices.length) out.slices = ser.slices;
  if (ser.bodies.length) out.bodies = ser.bodies;
  if (prepared.segments.length) out.segments = prepared.segments;
  if (prepared.refs.length) out.refs = prepared.refs;
  if (prepared.markers) out.markers = true;
  return out;
}

export function deserialize(value: SerializedValue, ctx: DeserializeContext): unknown {
  if (value.data === undefined) return value.prim;
  const des = new StoreDeserializer(value.data, value);
  if (value.segments) value.segments.forEach((sab, i) => des.transferArrayBuffer(i, sab as unknown as ArrayBuffer));
  des.readHeader();
  const out = des.readValue();
  return value.markers || des.slots ? revive(out, ctx, new Map()) : out;
}

/** An ArrayBuffer's bytes, copied out of the arena: the buffer is the reader's own, as after structured clone. */
function copyOut(arena: SharedArena, offset: number, size: number): ArrayBuffer {
  const out = new ArrayBuffer(size);
  new Uint8Array(out).set(new Uint8Array(arena.buffer, offset, size));
  return out;
}

/** An instance of a class with a registered serializer, rebuilt from its revived state. */
function reviveCustom(rec: Record<string, unknown>, ctx: DeserializeContext, seen: Map<object, unknown>): unknown {
  const tag = rec[CUSTOM_MARKER] as string;
  const serializer = customDeserializerOf(tag);
  if (!serializer) {
    if (typeof rec.module === "string") throw new MissingSerializerModule(tag, rec.module);
    throw new TypeError(`a value of class '${tag}' arrived, but this thread has no serializer registered for it; register it here too (util.registerSerializer), or with the option module so that threads import it`);
  }
  return serializer.deserialize(revive(rec.state, ctx, seen));
}

/**
 * Replaces markers by live ObjectRefs and ActorHandles, and view slots by zero-copy views, in
 * place: the value is freshly deserialized and ours.
 */
function revive(value: unknown, ctx: DeserializeContext, seen: Map<object, unknown>): unknown {
  if (value === null || typeof value !== "object") return value;
  // What was revived already (a value may hold the same slot, ref or object twice, or a cycle).
  if (seen.has(value)) return seen.get(value);
  if (value instanceof ViewSlot) {
    const view = value.make(ctx);
    seen.set(value, view);
    return view;
  }
  seen.set(value, value);
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const el = value[i];
      if (el !== null && typeof el === "object") value[i] = revive(el, ctx, seen);
    }
    return value;
  }
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [revive(k, ctx, seen), revive(v, ctx, seen)] as const);
    value.clear();
    for (const [k, v] of entries) value.set(k, v);
    return value;
  }
  if (value instanceof Set) {
    const items = [...value].map((v) => revive(v, ctx, seen));
    value.clear();
    for (const v of items) value.add(v);
    return value;
  }
  const rec = value as Record<string, unknown>;
  const revived = (out: unknown) => (seen.set(value, out), out);
  if (REF_MARKER in rec) return revived(ctx.reviveRef(rec[REF_MARKER] as string));
  if (ACTOR_MARKER in rec) return revived(ctx.reviveActor(rec[ACTOR_MARKER] as ActorHandleData));
  if (CLASS_MARKER in rec) {
    const state = revive(rec.state, ctx, seen) as object;
    const proto = registeredPrototype(rec[CLASS_MARKER] as string);
    return revived(proto ? Object.setPrototypeOf(state, proto) : state);
  }
  if (CUSTOM_MARKER in rec) return revived(reviveCustom(rec, ctx, seen));
  for (const key of Object.keys(rec)) {
    const el = rec[key];
    if (el !== null && typeof el === "object") rec[key] = revive(el, ctx, seen);
  }
  return value;
}
