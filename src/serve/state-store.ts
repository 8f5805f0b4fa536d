/**
 * Where the controller keeps what it must not lose when it dies (Ray keeps it in the GCS's KV
 * store): the applications' specs, each deployment's replicas and the proxies. A detached named
 * actor of its own, so a restarted controller reads it back and takes over the running replicas
 * (RECOVERING) instead of starting new ones. Workers import this module by its URL.
 */

/** This module, whose ServeStateStore workers import (util.remoteExport). */
export const stateStoreModule = import.meta.url;
export const STATE_STORE_NAME = "SERVE_CONTROLLER_STATE";

export class ServeStateStore {
  readonly #data = new Map<string, unknown>();

  put(key: string, value: unknown): void {
    this.#data.set(key, value);
  }

  get(key: string): unknown {
    return this.#data.get(key);
  }

  delete(key: string): void {
    this.#data.delete(key);
  }

  entries(): [string, unknown][] {
    return [...this.#data];
  }

  clear(): void {
    this.#data.clear();
  }
}
