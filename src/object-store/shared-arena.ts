/**
 * The node's shared memory: one SharedArrayBuffer that every thread of the node maps, and a
 * first-fit allocator whose state lives in shared memory too, so any thread can allocate
 * synchronously (a `put` inside a task is synchronous) without a round trip to the store.
 *
 * Why first-fit from the lowest address: freed regions are reused before untouched ones, so
 * puts land in pages that are already mapped ("warm"); touching fresh pages costs far more
 * than the copy itself on this kind of machine.
 *
 * Metadata layout (meta buffer): Int32 [0] = lock, Int32 [1] = number of free extents;
 * Float64 [1] = bytes in use, Float64 [2] = high-water mark (end of the highest region ever
 * allocated: pages below it are warm), then (start, size) pairs of free extents sorted by start.
 */

const ALIGN = 64;
const HEADER_F64 = 3; // lock/count word, `used`, high-water mark
const MAX_EXTENTS = 1 << 16;

export interface ArenaHandle {
  buffer: SharedArrayBuffer;
  meta: SharedArrayBuffer;
}

export class SharedArena {
  readonly buffer: SharedArrayBuffer;
  readonly capacity: number;
  private readonly meta: SharedArrayBuffer;
  private readonly words: Int32Array;
  private readonly table: Float64Array;

  private constructor(handle: ArenaHandle) {
    this.buffer = handle.buffer;
    this.meta = handle.meta;
    this.capacity = handle.buffer.byteLength;
    this.words = new Int32Array(this.meta, 0, 2);
    this.table = new Float64Array(this.meta, 0, HEADER_F64 + MAX_EXTENTS * 2);
  }

  static create(capacity: number): SharedArena {
    const size = Math.floor(capacity / ALIGN) * ALIGN;
    const arena = new SharedArena({
      buffer: new SharedArrayBuffer(size),
      meta: new SharedArrayBuffer((HEADER_F64 + MAX_EXTENTS * 2) * 8),
    });
    if (size > 0) {
      arena.words[1] = 1;
      arena.table[HEADER_F64] = 0;
      arena.table[HEADER_F64 + 1] = size;
    }
    return arena;
  }

  /** Maps an arena created by another thread. */
  static attach(handle: ArenaHandle): SharedArena {
    return new SharedArena(handle);
  }

  handle(): ArenaHandle {
    return { buffer: this.buffer, meta: this.meta };
  }

  /** Reserves `size` bytes; returns the offset, or -1 when no free extent is large enough. */
  allocate(size: number): number {
    const need = roundUp(Math.max(size, 1));
    this.lock();
    try {
      const n = this.words[1];
      for (let i = 0; i < n; i++) {
        const at = HEADER_F64 + i * 2;
        const start = this.table[at];
        const free = this.table[at + 1];
        if (free < need) continue;
        if (free === need) this.removeExtent(i, n);
        else {
          this.table[at] = start + need;
          this.table[at + 1] = free - need;
        }
        this.table[1] += need;
        if (start + need > this.table[2]) this.table[2] = start + need;
        return start;
      }
      return -1;
    } finally {
      this.unlock();
    }
  }

  /** Returns a region to the free list, merging it with its neighbours. */
  free(offset: number, size: number): void {
    const len = roundUp(Math.max(size, 1));
    this.lock();
    try {
      const n = this.words[1];
      // First extent that starts after the freed region.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (this.table[HEADER_F64 + mid * 2] < offset) lo = mid + 1;
        else hi = mid;
      }
      const prev = lo - 1;
      const mergesPrev = prev >= 0 && this.table[HEADER_F64 + prev * 2] + this.table[HEADER_F64 + prev * 2 + 1] === offset;
      const mergesNext = lo < n && offset + len === this.table[HEADER_F64 + lo * 2];
      if (mergesPrev && mergesNext) {
        this.table[HEADER_F64 + prev * 2 + 1] += len + this.table[HEADER_F64 + lo * 2 + 1];
        this.removeExtent(lo, n);
      } else if (mergesPrev) {
        this.table[HEADER_F64 + prev * 2 + 1] += len;
      } else if (mergesNext) {
        this.table[HEADER_F64 + lo * 2] = offset;
        this.table[HEADER_F64 + lo * 2 + 1] += len;
      } else {
        if (n >= MAX_EXTENTS) {
          // The table is full of tiny gaps: dropping this region leaks it, which is safer than
          // corrupting the list. With objects of 100 KB and more this cannot happen in practice.
          this.table[1] -= len;
          return;
        }
        const at = HEADER_F64 + lo * 2;
        this.table.copyWithin(at + 2, at, HEADER_F64 + n * 2);
        this.table[at] = offset;
        this.table[at + 1] = len;
        this.words[1] = n + 1;
      }
      this.table[1] -= len;
    } finally {
      this.unlock();
    }
  }

  /** End of the highest region ever allocated: memory below it has been touched. */
  highWater(): number {
    return this.table[2];
  }

  /** Bytes currently allocated (rounded to the alignment). */
  used(): number {
    return this.table[1];
  }

  /** Size of the largest free extent: the largest allocation that can succeed now. */
  largestFree(): number {
    this.lock();
    try {
      let max = 0;
      const n = this.words[1];
      for (let i = 0; i < n; i++) max = Math.max(max, this.table[HEADER_F64 + i * 2 + 1]);
      return max;
    } finally {
      this.unlock();
    }
  }

  private removeExtent(i: number, n: number): void {
    const at = HEADER_F64 + i * 2;
    this.table.copyWithin(at, at + 2, HEADER_F64 + n * 2);
    this.words[1] = n - 1;
  }

  private lock(): void {
    // Critical sections are a few dozen instructions: spin briefly, then sleep on the word.
    for (let spins = 0; Atomics.compareExchange(this.words, 0, 0, 1) !== 0; spins++) {
      if (spins > 100) Atomics.wait(this.words, 0, 1, 1);
    }
  }

  private unlock(): void {
    Atomics.store(this.words, 0, 0);
    Atomics.notify(this.words, 0, 1);
  }
}

function roundUp(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}
