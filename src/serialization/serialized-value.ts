/** The serialized form of a value, as it is stored in the object store and sent between threads. */

/** A region of the node's shared arena holding the body of one large typed array. */
export interface ArenaSlice {
  offset: number;
  size: number;
}

export type Primitive = string | number | boolean | bigint | null | undefined;

export interface SerializedValue {
  /**
   * V8 structured-clone bytes; large bodies are left out and referenced by index. Absent for a
   * primitive, which travels as it is in `prim` (no encoding at all: most task arguments and
   * results are numbers and short strings).
   */
  data?: Uint8Array;
  prim?: Primitive;
  /** Bodies of large typed arrays, in the shared arena (zero-copy for every thread of the node). */
  slices?: ArenaSlice[];
  /** Large ArrayBuffers and SharedArrayBuffers, each in a shared segment of its own. */
  segments?: SharedArrayBuffer[];
  /** Object ids and actor ids of the ObjectRefs and ActorHandles inside the value. */
  refs?: string[];
  /** Set when the bytes contain ref or handle markers that must be revived. */
  markers?: boolean;
}

/** Values at least this large leave the message and live in shared memory (Ray inlines up to 100 KB). */
export const INLINE_MAX_BYTES = 100 * 1024;
