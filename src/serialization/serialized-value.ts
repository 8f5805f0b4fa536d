/** The serialized form of a value, as it is stored in the object store and sent between threads. */

/** A region of the node's shared arena holding the body of one large typed array or ArrayBuffer. */
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
  /**
   * Bodies of large typed arrays and ArrayBuffers, in the shared arena (typed arrays are read
   * as zero-copy views by every thread of the node; ArrayBuffers are copied out).
   */
  slices?: ArenaSlice[];
  /**
   * The same bodies in this process's own memory, where the value is away from any node's arena
   * (in a driver of another process, on the wire between nodes): indexed as `slices` would be,
   * and turned back into slices by the node that stores the value (see wire-value.ts).
   */
  bodies?: Uint8Array[];
  /** SharedArrayBuffers: the user's own shared memory, passed as it is (not copied, not in the store). */
  segments?: SharedArrayBuffer[];
  /** Object ids and actor ids of the ObjectRefs and ActorHandles inside the value. */
  refs?: string[];
  /** Set when the bytes contain ref or handle markers that must be revived. */
  markers?: boolean;
  /**
   * Between a head and a worker node only: the node has this object's copy already, so its
   * bodies were left out (see node/node-link.ts).
   */
  atNode?: true;
  /**
   * In a cluster: the large bodies stay on the worker node that made the value (`node`, where
   * they are object `id`, of these `sizes`), and the value carries none of them. Who needs them
   * pulls them from that node (`host`:`port`, filled in for a node that is sent the value), see
   * object-store/object-pulls.ts. Once pulled, the bodies are slices and this says where the
   * first copy is, which the head frees when the object goes.
   */
  away?: AwayBodies;
}

export interface AwayBodies {
  node: string;
  id: string;
  sizes: number[];
  host?: string;
  port?: number;
}

/** Values at least this large leave the message and live in shared memory (Ray inlines up to 100 KB). */
export const INLINE_MAX_BYTES = 100 * 1024;

/**
 * Byte arrays made as the bodies of values (see `bodies`): a socket marks them as such on the
 * wire, so that the receiver may land them straight in its arena (see object-store/landing.ts).
 */
export const valueBodies = new WeakSet<Uint8Array>();
