/**
 * Where the GCS keeps its tables. In memory by default; a Redis-backed implementation of the
 * same interface makes a restarted head recover its cluster (multi-node issue).
 */
export interface GcsStorage {
  get<T>(table: string, key: string): T | undefined;
  put(table: string, key: string, value: unknown): void;
  delete(table: string, key: string): void;
  list<T>(table: string): [string, T][];
  /** Waits for writes on their way to durable storage, and lets it go. */
  close?(): Promise<void>;
}

export class InMemoryStorage implements GcsStorage {
  private readonly tables = new Map<string, Map<string, unknown>>();

  get<T>(table: string, key: string): T | undefined {
    return this.tables.get(table)?.get(key) as T | undefined;
  }

  put(table: string, key: string, value: unknown): void {
    let t = this.tables.get(table);
    if (!t) this.tables.set(table, (t = new Map()));
    t.set(key, value);
  }

  delete(table: string, key: string): void {
    this.tables.get(table)?.delete(key);
  }

  list<T>(table: string): [string, T][] {
    return [...(this.tables.get(table) ?? [])] as [string, T][];
  }
}
