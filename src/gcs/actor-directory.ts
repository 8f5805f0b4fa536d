/**
 * The GCS's actor directory: every actor's handle data and state, and the names of named
 * actors per namespace. Detached and named actors are found here by `getActor`.
 */
import type { ActorHandleData } from "../serialization/markers.js";
import type { FunctionDescriptor } from "../core-worker/function-manager/descriptor.js";
import type { TaskSpec } from "../rpc/protocol.js";
import type { JobConfig } from "../raylet/worker-pool.js";
import type { GcsStorage } from "./storage.js";

/** RESTARTING: a detached actor of a restarted head, waiting for its node to join again. */
export type ActorTableState = "PENDING" | "ALIVE" | "RESTARTING" | "DEAD";

export interface ActorEntry {
  data: ActorHandleData;
  state: ActorTableState;
  name?: string;
  namespace: string;
  detached: boolean;
  /** Why a dead actor died (its error's name and message), for the state API and the dashboard. */
  deathCause?: string;
  /**
   * A detached actor's creation: what a restarted head needs to take the actor back when its
   * node joins again (see raylet/recovery.ts). Its arguments are kept when `restart` is set.
   */
  creation?: TaskSpec;
  /** What a restarted head needs to run the constructor again elsewhere (arguments inline, none by ref). */
  restart?: Restart;
}

export interface Restart {
  fn: FunctionDescriptor;
  /** The job of a driver in another process, whose settings its workers start with. */
  job?: JobConfig;
}

export class ActorDirectory {
  constructor(private readonly storage: GcsStorage) {}

  register(data: ActorHandleData, creation: TaskSpec, restart?: Restart): void {
    const a = creation.actor!;
    const entry: ActorEntry = { data, state: "PENDING", name: a.name, namespace: a.namespace, detached: a.detached };
    if (a.detached) {
      entry.creation = restart ? creation : { ...creation, args: [], nestedRefs: undefined };
      entry.restart = restart;
    }
    this.storage.put("actors", data.actorId, entry);
    if (a.name) this.storage.put("actor_names", nameKey(a.namespace, a.name), data.actorId);
  }

  lookup(namespace: string, name: string): ActorEntry | undefined {
    const id = this.storage.get<string>("actor_names", nameKey(namespace, name));
    return id ? this.storage.get<ActorEntry>("actors", id) : undefined;
  }

  get(actorId: string): ActorEntry | undefined {
    return this.storage.get<ActorEntry>("actors", actorId);
  }

  setState(actorId: string, state: ActorTableState, deathCause?: string): void {
    const e = this.get(actorId);
    if (e && (e.state !== state || (deathCause !== undefined && e.deathCause !== deathCause))) {
      this.storage.put("actors", actorId, deathCause === undefined ? { ...e, state } : { ...e, state, deathCause });
    }
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
