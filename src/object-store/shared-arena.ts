/**
 * The node's shared memory: one SharedArrayBuffer that every thread of the node maps, cut into
 * chunks, and a chunk map in shared memory that says who has each chunk. Any thread allocates
 * synchronously (a `put` inside a task is synchronous) and without a lock.
 *
 * Why no lock: any thread may stop at any instruction (terminate, a heap limit), and a lock whose
 * holder will never run again hangs every other thread. Here a thread takes each chunk of a free
 * run with one compare-and-swap of its word, from 0 (free) to the thread's tag, and gives the run
 * back if another thread took one of its chunks first. No thread ever waits for another, and
 * every shared word is valid at every instant: a thread stopped half-way leaves only chunks that
 * carry its tag. When a thread reports an object in a message, the store marks the object's
 * chunks as its own (`claim`); when it sees a thread exit, it frees whatever still carries that
 * thread's tag (`recover`): what it allocated and never reported.
 *
 * Why first fit from the lowest address: freed chunks are reused before untouched ones, so puts
 * land in pages that are already mapped ("warm"); touching fresh pages costs far more than the
 * copy itself on this kind of machine.
 *
 * Meta layout, Int32 words: [0] frees so far (a thread waiting for room sleeps on it), [1] the
 * lowest chunk that may be free (a hint, never trusted for correctness), [2] end of the highest
 * chunk ever taken, [3] the highest tag handed out, then the chunks held per tag, then one word
 * per chunk: 0 when free, else its holder's tag.
 */

/** Allocation unit. Only bodies of 100 KB and more live here, so at most a few percent is lost to rounding. */
export const CHUNK_BYTES = 16 * 1024;
const MAX_TAGS = 1 << 16;
const FREES = 0;
const HINT = 1;
const TOP = 2;
const TAGS_OUT = 3;
const COUNTS = 4;
const MAP = COUNTS + MAX_TAGS;

/** How long a thread's put waits for other threads to release memory before it fails with ObjectStoreFullError. */
export const ROOM_WAIT_MS = 2000;

/** The tag of chunks that belong to the store: objects it has been told about. */
export const STORE_TAG = 1;
/** The tag of the thread that creates the arena (the node's main thread). */
const MAIN_TAG = 2;

export interface ArenaHandle {
  buffer: SharedArrayBuffer;
  meta: SharedArrayBuffer;
}

export class SharedArena {
  /** Regions this thread is sending out (see pin), and the frees that wait for them. */
  private readonly pins = new Map<number, number>();
  private readonly pinnedFrees = new Map<number, number>();
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  /** The meta words, the chunk map among them (see the layout above). */
  private readonly words: Int32Array;
  private readonly chunks: number;
  /** Tags of exited threads, ready for new ones (only on the main thread, which hands tags out). */
  private readonly freeTags: number[] = [];

  private constructor(private readonly h: ArenaHandle, readonly tag: number) {
    this.buffer = h.buffer;
    this.capacity = h.buffer.byteLength;
    this.chunks = this.capacity / CHUNK_BYTES;
    this.words = new Int32Array(h.meta);
  }

  static create(capacity: number): SharedArena {
    const chunks = Math.floor(capacity / CHUNK_BYTES);
    const arena = new SharedArena(
      { buffer: new SharedArrayBuffer(chunks * CHUNK_BYTES), meta: new SharedArrayBuffer((MAP + chunks) * 4) },
      MAIN_TAG,
    );
    arena.words[TAGS_OUT] = MAIN_TAG;
    return arena;
  }

  /** Maps an arena created by another thread; `tag` marks what this thread allocates. */
  static attach(handle: ArenaHandle, tag: number): SharedArena {
    return new SharedArena(handle, tag);
  }

  handle(): ArenaHandle {
    return this.h;
  }

  /** Main thread: a tag for a new thread, to pass to `attach`. Given back by `recover`. */
  newTag(): number {
    const reused = this.freeTags.pop();
    if (reused !== undefined) return reused;
    const tag = Atomics.add(this.words, TAGS_OUT, 1) + 1;
    if (tag >= MAX_TAGS) throw new RangeError(`the object store cannot serve more than ${MAX_TAGS - 3} threads at once`);
    return tag;
  }

  /** Reserves `size` bytes for this thread; returns the offset, or -1 when no free run is long enough. */
  allocate(size: number): number {
    const n = chunksFor(size);
    const hint = Atomics.load(this.words, HINT);
    let first = this.claimRun(hint, n);
    // The hint may have raced past a free run: look from the start before giving up.
    if (first < 0 && hint > 0) first = this.claimRun(0, n);
    if (first < 0) return -1;
    Atomics.add(this.words, COUNTS + this.tag, n);
    if (first === hint) Atomics.compareExchange(this.words, HINT, hint, first + n);
    return first * CHUNK_BYTES;
  }

  /**
   * Returns a region to the free chunks: the store freeing an object, or a thread freeing what
   * it allocated and never reported (a value that failed to serialize).
   */
  free(offset: number, size: number): void {
    if (this.pins.has(offset)) return void this.pinnedFrees.set(offset, size);
    const first = offset / CHUNK_BYTES;
    const n = chunksFor(size);
    const owner = Atomics.load(this.words, MAP + first);
    if (owner === 0) return; // freed already
    for (let i = MAP + first; i < MAP + first + n; i++) Atomics.store(this.words, i, 0);
    Atomics.sub(this.words, COUNTS + owner, n);
    this.freed(first);
  }

  /**
   * This thread: keeps the region's bytes as they are while a socket sends them out of the
   * process without a copy; freeing it waits until `unpin`. Counted: a region may be on its way
   * to several peers.
   */
  pin(offset: number): void {
    this.pins.set(offset, (this.pins.get(offset) ?? 0) + 1);
  }

  unpin(offset: number): void {
    const n = (this.pins.get(offset) ?? 1) - 1;
    if (n > 0) return void this.pins.set(offset, n);
    this.pins.delete(offset);
    const size = this.pinnedFrees.get(offset);
    if (size === undefined) return;
    this.pinnedFrees.delete(offset);
    this.free(offset, size);
  }

  /** Store: the object at this region was reported to it; its chunks are the store's from now on. */
  claim(offset: number, size: number): void {
    const first = offset / CHUNK_BYTES;
    const owner = Atomics.load(this.words, MAP + first);
    if (owner === STORE_TAG || owner === 0) return;
    const n = chunksFor(size);
    for (let i = MAP + first; i < MAP + first + n; i++) Atomics.store(this.words, i, STORE_TAG);
    Atomics.sub(this.words, COUNTS + owner, n);
    Atomics.add(this.words, COUNTS + STORE_TAG, n);
  }

  /**
   * Main thread, once the thread with `tag` has exited (and its last messages were handled):
   * frees every chunk still marked with its tag, and makes the tag available again. Returns the
   * bytes freed.
   */
  recover(tag: number): number {
    let freed = 0;
    let lowest = -1;
    for (let i = 0; i < this.chunks; i++) {
      if (this.words[MAP + i] !== tag) continue;
      Atomics.store(this.words, MAP + i, 0);
      if (lowest < 0) lowest = i;
      freed++;
    }
    Atomics.store(this.words, COUNTS + tag, 0);
    if (freed) this.freed(lowest);
    this.freeTags.push(tag);
    return freed * CHUNK_BYTES;
  }

  /** Whether a free run of `size` bytes exists now (another thread may take it the next moment). */
  fits(size: number): boolean {
    return this.freeRunBelow(this.chunks, chunksFor(size));
  }

  /** Whether a free run of `size` bytes exists in memory touched before: below the high-water mark. */
  fitsWarm(size: number): boolean {
    return this.freeRunBelow(Atomics.load(this.words, TOP), chunksFor(size));
  }

  /** Bytes allocated, by the store and by threads that have not reported yet. */
  used(): number {
    let chunks = 0;
    const tags = Atomics.load(this.words, TAGS_OUT);
    for (let t = STORE_TAG; t <= tags; t++) chunks += this.words[COUNTS + t];
    return chunks * CHUNK_BYTES;
  }

  /** End of the highest region ever allocated: memory below it has been touched. */
  highWater(): number {
    return Atomics.load(this.words, TOP) * CHUNK_BYTES;
  }

  /** How many frees happened so far: pass it to `waitForFree`. */
  frees(): number {
    return Atomics.load(this.words, FREES);
  }

  /** Blocks this thread until a free happens after `seen` frees, or `ms` pass. */
  waitForFree(seen: number, ms: number): void {
    Atomics.wait(this.words, FREES, seen, ms);
  }

  private freeRunBelow(end: number, n: number): boolean {
    for (let i = 0, run = 0; i < end; i++) {
      run = this.words[MAP + i] === 0 ? run + 1 : 0;
      if (run === n) return true;
    }
    return false;
  }

  /**
   * Finds n free chunks in a row from chunk `from` on and takes them, each with a
   * compare-and-swap; returns the first chunk, or -1. Each chunk is looked at once per call.
   */
  private claimRun(from: number, n: number): number {
    const w = this.words;
    const end = MAP + this.chunks;
    for (let at = MAP + from; at + n <= end; ) {
      let run = 0;
      while (run < n && w[at + run] === 0) run++;
      if (run < n) {
        at += run + 1;
        continue;
      }
      // Recorded before the chunks are taken, so TOP never lags what was taken.
      raiseTop(w, at - MAP + n);
      let taken = 0;
      while (taken < n && Atomics.compareExchange(w, at + taken, 0, this.tag) === 0) taken++;
      if (taken === n) return at - MAP;
      // Another thread took a chunk of this run first: give back ours, look further on.
      for (let i = at; i < at + taken; i++) Atomics.store(w, i, 0);
      at += taken + 1;
    }
    return -1;
  }

  /** Chunks from `first` on were freed: lower the hint, count the free and wake who waits for room. */
  private freed(first: number): void {
    for (let hint = Atomics.load(this.words, HINT); first < hint; hint = Atomics.load(this.words, HINT)) {
      if (Atomics.compareExchange(this.words, HINT, hint, first) === hint) break;
    }
    Atomics.add(this.words, FREES, 1);
    Atomics.notify(this.words, FREES);
  }
}

function chunksFor(size: number): number {
  return Math.max(1, Math.ceil(size / CHUNK_BYTES));
}

function raiseTop(w: Int32Array, end: number): void {
  for (let top = Atomics.load(w, TOP); end > top; top = Atomics.load(w, TOP)) {
    if (Atomics.compareExchange(w, TOP, top, end) === top) break;
  }
}

/** @internal The chunk map of an arena, one word per chunk (0 free, else a tag): for tests that stop threads half-way. */
export function chunkMap(handle: ArenaHandle): Int32Array {
  return new Int32Array(handle.meta, MAP * 4);
}
