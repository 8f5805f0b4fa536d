/**
 * serve.multiplexed: Ray Serve's @serve.multiplexed as a wrapper (contract: serve.d.ts
 * `multiplexed`). `getModel = serve.multiplexed(async (id) => load(id), { maxNumModelsPerReplica })`
 * (a class field, so one cache per replica instance) returns a function of a model id that gives
 * the loaded model: from the cache when it holds it, else from one load shared by every call made
 * for that id while it runs. The cache keeps the most recently used maxNumModelsPerReplica models
 * (default 3; -1: no limit, as Ray). Before a new load, the least recently used loaded model is
 * evicted and its `dispose()`, if it has one, awaited (so its memory is free before the next one
 * loads; a throwing dispose is reported and the eviction goes on). A load that throws rejects the
 * calls waiting on it and is not cached: the next call loads again. Loads in flight are never
 * evicted, so only while more distinct loads than the limit run at once can the cache briefly hold
 * more; it shrinks back as they finish. As in Ray, an evicted model may still be in use by a request
 * that got it earlier: dispose() does not wait for such requests.
 *
 * Loaded models are reported for routing: replicas publish the ids this process holds so routers
 * send requests with a model id to a replica that has it. The registry, per process (a replica is a
 * process of its own), counts every multiplexed function of it:
 *   - loadedModelIds(): the ids loaded now (a load finished, not yet evicted), sorted;
 *   - onLoadedModelIdsChange(listener): calls `listener(ids)` after every change of that list (a
 *     load finishing, an eviction starting), with the new list; returns the function that stops it.
 * An evicted id leaves the list when its eviction starts, before dispose() finishes, so routers stop
 * choosing this replica for it as soon as possible.
 */
import { getReplicaContext } from "./request-context.js";

export interface MultiplexedOptions {
  /** Models kept loaded per replica; default 3; -1 for no limit. */
  maxNumModelsPerReplica?: number;
}

/** A model id's cache entry: loading (`loaded` false) or loaded. */
interface Entry<M> {
  promise: Promise<M>;
  loaded: boolean;
  model?: M;
}

// ----------------------------------------------------------------------------------------------
// The process's registry of loaded model ids

/** How many multiplexed caches of this process hold each id. */
const loadedCounts = new Map<string, number>();
const listeners = new Set<(ids: string[]) => void>();

/** The model ids loaded in this process (every multiplexed function's), sorted. */
export function loadedModelIds(): string[] {
  return [...loadedCounts.keys()].sort();
}

/** Calls `listener` with loadedModelIds() after each change; returns the unsubscribe function. */
export function onLoadedModelIdsChange(listener: (ids: string[]) => void): () => void {
  listeners.add(listener);
  return () => void listeners.delete(listener);
}

function notify(): void {
  const ids = loadedModelIds();
  for (const listener of [...listeners]) {
    try {
      listener(ids);
    } catch (err) {
      console.error("serve.multiplexed: a loaded-model-ids listener threw:", err);
    }
  }
}

function registerLoaded(id: string): void {
  const n = loadedCounts.get(id) ?? 0;
  loadedCounts.set(id, n + 1);
  if (n === 0) notify();
}

function registerEvicted(id: string): void {
  const n = loadedCounts.get(id) ?? 0;
  if (n <= 1) {
    loadedCounts.delete(id);
    if (n === 1) notify();
  } else {
    loadedCounts.set(id, n - 1);
  }
}

// ----------------------------------------------------------------------------------------------

function checkLimit(n: unknown): number {
  const option = "maxNumModelsPerReplica";
  if (typeof n !== "number") throw new TypeError(`serve.multiplexed option ${option} must be a number, got ${typeof n}`);
  if (!(Number.isInteger(n) && (n >= 1 || n === -1))) {
    throw new RangeError(`serve.multiplexed option ${option} must be an integer >= 1, or -1 for no limit, got ${String(n)}`);
  }
  return n;
}

/** A per-replica LRU cache over `load`; see the module comment. */
export function multiplexed<M>(load: (modelId: string) => Promise<M>, opts: MultiplexedOptions = {}): (modelId: string) => Promise<M> {
  if (typeof load !== "function") throw new TypeError(`serve.multiplexed takes the model loading function, got ${typeof load}`);
  if (typeof opts !== "object" || opts === null) throw new TypeError("serve.multiplexed takes an options object as its second argument");
  for (const key of Object.keys(opts)) {
    if (key !== "maxNumModelsPerReplica") throw new TypeError(`serve.multiplexed has no option '${key}' (options: maxNumModelsPerReplica)`);
  }
  const limit = opts.maxNumModelsPerReplica === undefined ? 3 : checkLimit(opts.maxNumModelsPerReplica);
  const name = load.name ? `serve.multiplexed function ${load.name}` : "the serve.multiplexed function";
  /** Least recently used first (a Map keeps insertion order; a use re-inserts). */
  const entries = new Map<string, Entry<M>>();

  /** Removes the least recently used loaded model, awaiting its dispose(); false if none is loaded. */
  const evictOne = async (except: string): Promise<boolean> => {
    for (const [id, entry] of entries) {
      if (!entry.loaded || id === except) continue;
      entries.delete(id);
      registerEvicted(id);
      const dispose = (entry.model as { dispose?: unknown } | null | undefined)?.dispose;
      if (typeof dispose === "function") {
        try {
          await dispose.call(entry.model);
        } catch (err) {
          console.error(`${name}: dispose() of evicted model '${id}'${where()} threw:`, err);
        }
      }
      return true;
    }
    return false;
  };

  /** Evicts least recently used loaded models while `tooMany()`, as long as one is loaded. */
  const evictWhile = async (tooMany: () => boolean, except: string): Promise<void> => {
    if (limit === -1) return;
    while (tooMany()) if (!(await evictOne(except))) return;
  };
  const loadedCount = (): number => [...entries.values()].filter((e) => e.loaded).length;

  const loadInto = async (thisArg: unknown, id: string, entry: Entry<M>): Promise<M> => {
    // Room for this one before it loads: at most limit - 1 others, loaded or loading.
    await evictWhile(() => entries.size - 1 >= limit, id);
    let model: M;
    try {
      model = await load.call(thisArg, id);
    } catch (err) {
      if (entries.get(id) === entry) entries.delete(id);
      throw err;
    }
    if (entries.get(id) === entry) {
      entry.loaded = true;
      entry.model = model;
      registerLoaded(id);
      // Back to the limit if concurrent loads overfilled it (loads still in flight do not count),
      // keeping the model just loaded: its callers have not had it yet.
      await evictWhile(() => loadedCount() > limit, id);
    }
    return model;
  };

  return function (this: unknown, modelId: string): Promise<M> {
    if (typeof modelId !== "string" || modelId === "") {
      return Promise.reject(new TypeError(`${name} takes a model id, a non-empty string; got ${modelId === "" ? "\"\"" : typeof modelId}`));
    }
    const known = entries.get(modelId);
    if (known !== undefined) {
      entries.delete(modelId); // now the most recently used
      entries.set(modelId, known);
      return known.promise;
    }
    const entry = { loaded: false } as Entry<M>;
    entries.set(modelId, entry);
    entry.promise = loadInto(this, modelId, entry);
    return entry.promise;
  };
}

/** " on replica X" inside a replica, for messages. */
function where(): string {
  try {
    return ` on replica ${getReplicaContext().replicaId}`;
  } catch {
    return "";
  }
}
