/**
 * The node's object table: every object produced or put on this node, its value once sealed,
 * its owner, and who holds it. Every hold names its holder:
 * - a worker of the node (the driver, a worker thread), by its worker id, while it has a ref,
 *   an actor handle or a zero-copy view of the object;
 * - a pending task or actor creation, by its task id, while the object is one of its arguments;
 * - a stored object, by its object id, while it contains a ref to the object.
 * Holding is a set, not a count: a holder holds an object or it does not, so a release repeated
 * by mistake cannot free what others still hold. For workers the table also keeps what each one
 * holds, so that when a worker exits (crashes, is killed or cancelled) `releaseWorker` gives back
 * exactly its holds, as Ray's owners drop the borrowers that died. An object is freed when no
 * holder and no waiter is left. The same holding keeps an anonymous actor alive while any handle
 * to it exists.
 *
 * When the arena is full, `spill` writes objects no thread has been given (so none can be reading
 * its memory) to disk and frees their memory; the next `deliver` or `whenReady` reads a spilled
 * object back in. A worker given an object's memory may read it until its hold ends.
 *
 * In a cluster, a value's bodies may be on the worker node that made it (`away`): the table then
 * holds the rest of the value, and the bodies once they are pulled here (`localized`).
 */
import type { ErrorInfo } from "../common/errors.js";
import { releaseSlices } from "../serialization/serializer.js";
import type { AwayBodies, SerializedValue } from "../serialization/serialized-value.js";
import { ROOM_WAIT_MS, type SharedArena } from "./shared-arena.js";
import type { SpillFiles } from "./spill-files.js";

/** Told an object's value once it is sealed; one function can serve many objects. */
export type Waiter = (value: ObjectValue, id: string) => void;

export type ObjectValue = { ok: true; value: SerializedValue } | { ok: false; error: ErrorInfo };

/** One holder (the usual case) as its id, else a set of ids. */
type Holders = string | Set<string>;

interface Entry {
  value?: ObjectValue;
  holders?: Holders;
  /** The worker that put the object or submitted the task that makes it. */
  owner?: string;
  /** Callbacks waiting for the value (dependency resolution, subscriptions): one, or a list. */
  waiters?: Waiter | Waiter[];
  /** Actor entries stand for an actor's handles; they hold no value. */
  actor?: boolean;
  /** Workers given the object's memory (see deliver), until their hold ends. */
  viewers?: Set<string>;
  /** Where the bodies of a spilled object are, and their sizes; its value has no slices meanwhile. */
  spilled?: { file: string; sizes: number[] };
}

export class ObjectTable {
  private readonly entries = new Map<string, Entry>();
  /** What each worker holds, so its exit can release it. */
  private readonly byWorker = new Map<string, Set<string>>();
  /** The largest room a worker waits for in the arena (0: none), and until when (see wantRoom). */
  private roomWanted = 0;
  private roomWantedUntil = 0;
  /** Told when a value whose bodies are on another node is dropped: that node's copy may go. */
  onAwayGone?: (away: AwayBodies) => void;

  constructor(
    private readonly arena: SharedArena,
    /** Told when the last handle of an actor is gone. */
    private readonly onActorOutOfScope: (actorId: string) => void,
    /** Where objects spill when the arena is full; without it, none do. */
    private readonly spillFiles?: SpillFiles,
    /** Told when an object is held by `holder` alone after a release (a worker node's copies, held for the head). */
    private readonly heldOnlyBy?: { holder: string; then(id: string): void },
  ) {}

  /** Registers an object that will be sealed later (a task's return, a put), held by its owner. */
  expect(id: string, owner: string): void {
    const e = this.entry(id);
    e.owner ??= owner;
    this.addRef(id, owner);
  }

  /** Registers an actor's handles, the first held by the actor's creator. */
  expectActor(actorId: string, owner: string): void {
    this.entry(actorId).actor = true;
    this.expect(actorId, owner);
  }

  /**
   * Stores the value of an object; the store owns its shared memory from now on. The first seal
   * wins (a retried task may seal twice): a later value is discarded.
   */
  seal(id: string, value: ObjectValue): void {
    // Nobody holds it (its ref was dropped before the result came): stored, then freed at once.
    const e = this.entry(id);
    if (e.value) return this.discard(value);
    if (value.ok && value.value.slices) for (const s of value.value.slices) this.arena.claim(s.offset, s.size);
    e.value = value;
    if (value.ok && value.value.refs) this.hold(value.value.refs, id);
    const waiters = e.waiters;
    e.waiters = undefined;
    if (typeof waiters === "function") waiters(value, id);
    else if (waiters) for (const w of waiters) w(value, id);
    this.maybeFree(id, e);
  }

  /** Frees a value that will never be stored: a result the node drops, whatever the reason. */
  discard(value: ObjectValue): void {
    if (!value.ok) return;
    releaseSlices(this.arena, value.value);
    if (value.value.away) this.onAwayGone?.(value.value.away);
  }

  /** Whether the object's bodies are on another node only (see localized). */
  isAway(id: string): boolean {
    return isAway(this.entries.get(id));
  }

  /**
   * The bodies of an away object, pulled here as `slices` (claimed by the table from now on; the
   * value still says where the first copy is). False when they are not wanted (the object went
   * meanwhile, or has them already): they are freed.
   */
  localized(id: string, slices: { offset: number; size: number }[]): boolean {
    const e = this.entries.get(id);
    if (!isAway(e)) {
      for (const s of slices) this.arena.free(s.offset, s.size);
      return false;
    }
    for (const s of slices) this.arena.claim(s.offset, s.size);
    e!.value = { ok: true, value: { ...(e!.value as { value: SerializedValue }).value, slices } };
    return true;
  }

  /**
   * Node `nodeId` is gone, with the bodies it kept. Objects pulled here as well stay (no longer
   * away); returns the ids of those that had no other copy, for the caller to make again or fail.
   */
  lostWith(nodeId: string): string[] {
    const lost: string[] = [];
    for (const [id, e] of this.entries) {
      const v = e.value;
      if (!v?.ok || v.value.away?.node !== nodeId) continue;
      if (isAway(e)) lost.push(id);
      else {
        const { away: _, ...rest } = v.value;
        e.value = { ok: true, value: rest };
      }
    }
    return lost;
  }

  /** Takes a lost object back to pending, to be sealed again by the task that made it (its holders stay). */
  unseal(id: string): void {
    const e = this.entries.get(id);
    const v = e?.value;
    if (!v) return;
    e.value = undefined;
    e.viewers = undefined;
    if (v.ok && v.value.refs) this.release(v.value.refs, id);
  }

  /** Fails an object whose value is lost for good: whoever reads it from now on gets `error`. */
  fail(id: string, error: ErrorInfo): void {
    const e = this.entries.get(id);
    if (!e?.value) return;
    const v = e.value;
    e.value = { ok: false, error };
    if (v.ok && v.value.refs) this.release(v.value.refs, id);
  }

  has(id: string): boolean {
    return this.entries.has(id);
  }

  /** The object's value, to look at rather than to hand to a worker (see deliver). */
  get(id: string): ObjectValue | undefined {
    const e = this.entries.get(id);
    return e?.value && this.restored(id, e);
  }

  /**
   * The object's value for a worker; `reader`, a worker that reads the arena itself, may read its
   * memory until it says it does not (unview) or its hold ends: the object does not spill
   * meanwhile. A spilled object is read back first.
   */
  deliver(id: string, reader: string | undefined): ObjectValue | undefined {
    const e = this.entries.get(id);
    if (!e?.value) return undefined;
    const value = this.restored(id, e);
    if (reader !== undefined) this.noteReader(id, reader, value);
    return value;
  }

  /** Worker `worker` reads none of the object's memory any more (it may hold refs still). */
  unview(id: string, worker: string): void {
    this.entries.get(id)?.viewers?.delete(worker);
  }

  /** Worker `reader` was sent the object's value, and reads its memory in the arena (see deliver). */
  noteReader(id: string, reader: string, value: ObjectValue): void {
    const e = this.entries.get(id);
    if (e && value.ok && value.value.slices) (e.viewers ??= new Set()).add(reader);
  }

  isReady(id: string): boolean {
    return this.entries.get(id)?.value !== undefined;
  }

  /** Calls `cb` once the object is sealed (at once if it is). Unknown ids wait for a seal. */
  whenReady(id: string, cb: Waiter): void {
    const e = this.entry(id);
    if (e.value) cb(this.restored(id, e), id);
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

  /**
   * An object that will never be sealed (the item after a closed stream's last): its waiters are
   * dropped, and so is its entry unless something holds it.
   */
  forget(id: string): void {
    const e = this.entries.get(id);
    if (!e || e.value) return;
    e.waiters = undefined;
    if (e.holders === undefined) this.entries.delete(id);
  }

  /** Worker `worker` holds the object (a ref, handle or view of it arrived there). */
  addRef(id: string, worker: string): void {
    if (!addHolder(this.entry(id), worker)) return;
    let held = this.byWorker.get(worker);
    if (!held) this.byWorker.set(worker, (held = new Set()));
    held.add(id);
  }

  /** Worker `worker` no longer holds the object. */
  removeRef(id: string, worker: string): void {
    this.byWorker.get(worker)?.delete(id);
    this.release1(id, worker);
  }

  /** Whether `holder` is the object's one holder. */
  heldOnly(id: string, holder: string): boolean {
    return this.entries.get(id)?.holders === holder;
  }

  /** Holds `ids` for a task (by task id) or a stored object (by object id). */
  hold(ids: readonly string[], holder: string): void {
    for (const id of ids) addHolder(this.entry(id), holder);
  }

  /** Ends the holds `hold` took. */
  release(ids: readonly string[], holder: string): void {
    for (const id of ids) this.release1(id, holder);
  }

  /** The worker exited: everything it held is released (and freed where nobody else holds it). */
  releaseWorker(worker: string): void {
    const held = this.byWorker.get(worker);
    if (!held) return;
    this.byWorker.delete(worker);
    for (const id of held) this.release1(id, worker);
  }

  /**
   * Writes objects that no worker reads to disk, oldest first, and frees their memory, until the
   * arena has a free run of `size` bytes (or nothing else can go). Returns the bytes freed.
   */
  spill(size: number, keep?: string): number {
    if (!this.spillFiles) return 0;
    let freed = 0;
    for (const [id, e] of this.entries) {
      if (this.arena.fits(size)) break;
      const slices = e.value?.ok ? e.value.value.slices : undefined;
      if (!slices || e.viewers?.size || id === keep) continue;
      const file = this.spillFiles.write(slices.map((s) => new Uint8Array(this.arena.buffer, s.offset, s.size)));
      const { slices: _, ...rest } = (e.value as { ok: true; value: SerializedValue }).value;
      e.value = { ok: true, value: rest };
      e.spilled = { file, sizes: slices.map((s) => s.size) };
      for (const s of slices) {
        this.arena.free(s.offset, s.size);
        freed += s.size;
      }
    }
    return freed;
  }

  /**
   * A worker waits for a free run of `size` bytes (it asked every thread to release what it no
   * longer uses): objects nobody reads go to disk now, and those the releases let go of as they
   * come (see makeRoom), until it fits or the worker gives up waiting (ROOM_WAIT_MS).
   */
  wantRoom(size: number): void {
    this.roomWanted = Math.max(this.roomWanted, size);
    this.roomWantedUntil = performance.now() + ROOM_WAIT_MS;
    this.makeRoom();
  }

  /** Spills toward the room a worker waits for, if one does (called as holds and views end). */
  makeRoom(): void {
    if (!this.roomWanted) return;
    if (!this.arena.fits(this.roomWanted)) this.spill(this.roomWanted);
    if (this.arena.fits(this.roomWanted) || performance.now() > this.roomWantedUntil) this.roomWanted = 0;
  }

  /**
   * The value, read back into the arena if it was spilled (spilling others to make room). When
   * the arena has no room even so (the objects in it are being read), the value comes from the
   * file as bodies of its own for this delivery (a copy for the reader, no zero-copy view), and
   * the object stays on disk: a delivery never waits or fails for room.
   */
  private restored(id: string, e: Entry): ObjectValue {
    const spilled = e.spilled;
    if (!spilled) return e.value!;
    const rest = (e.value as { ok: true; value: SerializedValue }).value;
    const slices: { offset: number; size: number }[] = [];
    for (const size of spilled.sizes) {
      let offset = this.arena.allocate(size);
      if (offset < 0 && this.spill(size, id)) offset = this.arena.allocate(size);
      if (offset < 0) {
        for (const s of slices) this.arena.free(s.offset, s.size);
        return { ok: true, value: { ...rest, bodies: this.spillFiles!.readCopy(spilled.file, spilled.sizes) } };
      }
      this.arena.claim(offset, size);
      slices.push({ offset, size });
    }
    this.spillFiles!.read(spilled.file, slices.map((s) => new Uint8Array(this.arena.buffer, s.offset, s.size)));
    this.spillFiles!.remove(spilled.file);
    e.spilled = undefined;
    e.value = { ok: true, value: { ...rest, slices } };
    return e.value;
  }

  /** The bytes of an object's bodies in the store, spilled, or on another node (0: small, not sealed, or unknown). */
  sizeOf(id: string): number {
    const e = this.entries.get(id);
    const sizes = e?.spilled?.sizes ?? (isAway(e) ? (e!.value as { value: SerializedValue }).value.away!.sizes : undefined);
    return sizes ? sizes.reduce((a, b) => a + b, 0) : bytesInStore(e?.value);
  }

  /** How many objects (not actors) the table has, and the bytes of those sealed: for tests and stats. */
  stats(): { objects: number; bytes: number } {
    let objects = 0;
    let bytes = 0;
    for (const e of this.entries.values()) {
      if (e.actor) continue;
      objects++;
      bytes += bytesInStore(e.value);
    }
    return { objects, bytes };
  }

  /** Every object (not actors) as the state API lists it. */
  describe(): ObjectRow[] {
    const rows: ObjectRow[] = [];
    for (const [id, e] of this.entries) {
      if (e.actor) continue;
      const v = e.value;
      const holders = e.holders === undefined ? [] : typeof e.holders === "string" ? [e.holders] : [...e.holders];
      const kinds = new Set(holders.map((h) => (this.byWorker.get(h)?.has(id) ? "LOCAL_REFERENCE" : this.entries.has(h) ? "CAPTURED_IN_OBJECT" : "USED_BY_PENDING_TASK")));
      rows.push({
        object_id: id,
        state: !v ? "PENDING" : !v.ok ? "FAILED" : e.spilled ? "SPILLED" : isAway(e) ? "ON_NODE" : "IN_MEMORY",
        size_bytes: this.sizeOf(id),
        owner: e.owner ?? "",
        reference_kinds: [...kinds].sort(),
        node_id: v?.ok ? (v.value.away?.node ?? "") : "",
        readers: e.viewers?.size ?? 0,
      });
    }
    return rows;
  }

  /** Drops every object: the node is shutting down. */
  clear(): void {
    for (const e of this.entries.values()) if (e.value) this.discard(e.value);
    this.entries.clear();
    this.byWorker.clear();
    this.spillFiles?.clear();
  }

  private entry(id: string): Entry {
    let e = this.entries.get(id);
    if (!e) this.entries.set(id, (e = {}));
    return e;
  }

  private release1(id: string, holder: string): void {
    const e = this.entries.get(id);
    if (!e || !removeHolder(e, holder)) return;
    // A worker's views count among its holds: with the hold, they are gone.
    e.viewers?.delete(holder);
    if (this.heldOnlyBy && e.holders === this.heldOnlyBy.holder) this.heldOnlyBy.then(id);
    this.maybeFree(id, e);
  }

  private maybeFree(id: string, e: Entry): void {
    if (e.holders !== undefined || e.waiters) return;
    if (e.actor) {
      this.entries.delete(id);
      this.onActorOutOfScope(id);
      return;
    }
    // A pending object nobody holds stays until its task seals it, so the seal finds no waiters.
    if (!e.value) return;
    this.entries.delete(id);
    if (e.spilled) this.spillFiles!.remove(e.spilled.file);
    if (e.value.ok) {
      this.discard(e.value);
      if (e.value.value.refs) this.release(e.value.value.refs, id);
    }
  }
}

function isAway(e: Entry | undefined): boolean {
  const v = e?.value;
  return !!v?.ok && !!v.value.away && !v.value.slices && !e!.spilled;
}

/**
 * An object as `tsray list objects` and `tsray memory` show it. `state`: PENDING (not made yet),
 * IN_MEMORY (in this node's store), SPILLED (on this node's disk), ON_NODE (its bodies on the
 * worker node `node_id`), FAILED. `reference_kinds`, in Ray's words: held by a worker or driver
 * (LOCAL_REFERENCE), by a task waiting to run with it (USED_BY_PENDING_TASK), inside another
 * object (CAPTURED_IN_OBJECT). `readers`: threads reading its memory (it cannot spill meanwhile).
 */
export interface ObjectRow {
  object_id: string;
  state: "PENDING" | "IN_MEMORY" | "SPILLED" | "ON_NODE" | "FAILED";
  size_bytes: number;
  owner: string;
  reference_kinds: string[];
  node_id: string;
  readers: number;
  [key: string]: unknown;
}

/** The bytes of a value's bodies in the arena. */
function bytesInStore(value: ObjectValue | undefined): number {
  let n = 0;
  if (value?.ok) for (const s of value.value.slices ?? []) n += s.size;
  return n;
}

/** Adds `holder`; false if it already held the object. */
function addHolder(e: Entry, holder: string): boolean {
  const h = e.holders;
  if (h === undefined) e.holders = holder;
  else if (typeof h === "string") {
    if (h === holder) return false;
    e.holders = new Set([h, holder]);
  } else {
    if (h.has(holder)) return false;
    h.add(holder);
  }
  return true;
}

/** Removes `holder`; false if it did not hold the object. */
function removeHolder(e: Entry, holder: string): boolean {
  const h = e.holders;
  if (h === holder) {
    e.holders = undefined;
    return true;
  }
  if (typeof h !== "object" || !h.delete(holder)) return false;
  if (h.size === 1) e.holders = h.values().next().value;
  return true;
}
