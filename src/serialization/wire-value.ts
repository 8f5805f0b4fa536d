/**
 * Values at the boundary of a node. An arena slice means something only to the threads that map
 * that arena, so a value leaving its node (to a driver in another process, a worker process,
 * another node) carries its large bodies as bytes, and a value arriving is stored back into the
 * receiving node's arena, where every worker reads it zero-copy. The structured-clone bytes refer
 * to bodies by index either way, so nothing is serialized again (see docs/architecture.md).
 */
import type { ObjectValue } from "../object-store/object-table.js";
import type { SharedArena } from "../object-store/shared-arena.js";
import type { FromRaylet, TaskSpec, ToRaylet } from "../rpc/protocol.js";
import { SIDE_BODY_MIN } from "../rpc/batch-codec.js";
import type { Landing } from "../object-store/landing.js";
import { valueBodies, type SerializedValue } from "./serialized-value.js";

/** The value with its slices' bytes copied out of `arena` as bodies. */
export function bodiesOf(value: SerializedValue, arena: SharedArena): SerializedValue {
  if (!value.slices) return value;
  const { slices, ...rest } = value;
  return { ...rest, bodies: slices.map((s) => marked(new Uint8Array(arena.buffer, s.offset, s.size).slice())) };
}

/**
 * The value with its large slices as views of `arena` rather than copies, for a channel that
 * writes them out of the process before the memory may be reused: each is pinned (its offset
 * added to `pinned`), to unpin once written. Bodies too small to travel apart from their batch
 * are copied (a view of shared memory cannot be serialized).
 */
export function viewsOf(value: SerializedValue, arena: SharedArena, pinned: number[]): SerializedValue {
  if (!value.slices) return value;
  const { slices, ...rest } = value;
  const bodies = slices.map((s) => {
    const view = new Uint8Array(arena.buffer, s.offset, s.size);
    if (s.size < SIDE_BODY_MIN) return marked(view.slice());
    // The store's from now on, so that its thread's exit does not free it on the way either.
    arena.claim(s.offset, s.size);
    arena.pin(s.offset);
    pinned.push(s.offset);
    return marked(view);
  });
  return { ...rest, bodies };
}

function marked(body: Uint8Array): Uint8Array {
  valueBodies.add(body);
  return body;
}

/** The regions `viewsOf` pinned have been written: they may be freed (and reused). */
export function unpinAll(arena: SharedArena, pinned: number[]): void {
  for (const offset of pinned) arena.unpin(offset);
}

/**
 * The value with its bodies copied into `arena` as slices; `allocate` finds room (and throws
 * ObjectStoreFullError when there is none). What was allocated is given back if one fails.
 */
export function slicesOf(value: SerializedValue, arena: SharedArena, allocate: (size: number) => number, landing?: Landing): SerializedValue {
  if (!value.bodies) return value;
  const { bodies, ...rest } = value;
  const slices: { offset: number; size: number }[] = [];
  try {
    for (const body of bodies) {
      // Landed in the arena already as it arrived: taken as it is.
      const landed = landing?.take(body);
      if (landed) {
        slices.push(landed);
        continue;
      }
      const offset = allocate(body.byteLength);
      new Uint8Array(arena.buffer, offset, body.byteLength).set(body);
      slices.push({ offset, size: body.byteLength });
    }
  } catch (err) {
    for (const s of slices) arena.free(s.offset, s.size);
    throw err;
  }
  return { ...rest, slices };
}

type Convert = (value: SerializedValue) => SerializedValue;

const objectValue = (v: ObjectValue, f: Convert): ObjectValue => (v.ok ? { ok: true, value: f(v.value) } : v);

function spec(s: TaskSpec, f: Convert): TaskSpec {
  if (!s.args.some((a) => "v" in a && (a.v.slices || a.v.bodies))) return s;
  return { ...s, args: s.args.map((a) => ("v" in a ? { v: f(a.v) } : a)) };
}

/** The message with `f` applied to every value it carries (a new message where one changed). */
export function mapValues<M extends ToRaylet | FromRaylet>(msg: M, f: Convert): M {
  const m = msg as ToRaylet | FromRaylet;
  switch (m.t) {
    case "put":
      return { ...m, value: f(m.value) } as M;
    case "submit":
      return { ...m, spec: spec(m.spec, f) } as M;
    case "task-done":
    case "direct-done":
      return { ...m, results: m.results.map((r) => objectValue(r, f)) } as M;
    case "stream-item":
      return { ...m, value: objectValue(m.value, f) } as M;
    case "objects":
      return { ...m, entries: m.entries.map(([id, v]) => [id, objectValue(v, f)]) } as M;
    case "execute":
      return { ...m, spec: spec(m.spec, f), args: m.args?.map((v) => objectValue(v, f)) } as M;
    default:
      return msg;
  }
}

/** Every value a message carries. */
export function valuesOf(msg: ToRaylet | FromRaylet): SerializedValue[] {
  const out: SerializedValue[] = [];
  mapValues(msg, (v) => (out.push(v), v));
  return out;
}
