/**
 * The GCS's actor directory: every actor's handle data and state, and the names of named
 * actors per namespace. Detached and named actors are found here by `getActor`.
 */
import type { ActorHandleData } from "../serialization/markers.js";
import type { GcsStorage } from "./storage.js";

export type ActorTableState = "PENDING" | "ALIVE" | "DEAD";

export interface ActorEntry {
  data: ActorHandleData;
  state: ActorTableState;
  name?: string;
  namespace: string;
  detached: boolean;
}

export class ActorDirectory {
  constructor(private readonly storage: GcsStorage) {}

  register(data: ActorHandleData, opts: { name?: string; namespace: string; detached: boolean }): void {
    const entry: ActorEntry = { data, state: "PENDING", name: opts.name, namespace: opts.namespace, detached: opts.detached };
    this.storage.put("actors", data.actorId, entry);
    if (opts.name) this.storage.put("actor_names", nameKey(opts.namespace, opts.name), data.actorId);
  }

  lookup(namespace: string, name: string): ActorEntry | undefined {
    const id = this.storage.get<string>("actor_names", nameKey(namespace, name));
    return id ? this.storage.get<ActorEntry>("actors", id) : undefined;
  }

  get(actorId: string): ActorEntry | undefined {
    return this.storage.get<ActorEntry>("actors", actorId);
  }

  setState(actorId: string, state: ActorTableState): void {
    const e = this.get(actorId);
    if (e) this.storage.put("actors", actorId, { ...e, state });
  }

  /** A dead actor's name is free for a new actor. */
  unregisterName(actorId: string): void {
    const e = this.get(actorId);
    if (e?.name && this.storage.get("actor_names", nameKey(e.namespace, e.name)) === actorId) {
      this.storage.delete("actor_names", nameKey(e.namespace, e.name));
    }
  }

  list(): ActorEntry[] {
    return this.storage.list<ActorEntry>("actors").map(([, e]) => e);
  }
}

function nameKey(namespace: string, name: string): string {
  return `${namespace}\u0000${name}`;
}
