/**
 * The GCS's tables kept in Redis (`tsray start --head --gcs-storage redis://HOST:PORT`), so a
 * head killed and started again on the same storage recovers its cluster. The tables stay in
 * memory as well: reads are synchronous and cost nothing, and every write goes through to Redis
 * in order on one connection. A table is a Redis hash `tsray:gcs:<table>`; a value is its V8
 * serialization (typed arrays and all), in base64.
 */
import v8 from "node:v8";
import { createClient } from "redis";
import { InMemoryStorage } from "./storage.js";

const PREFIX = "tsray:gcs:";
/** How long the head waits for Redis when it starts, before it says it cannot reach it. */
const CONNECT_TIMEOUT_MS = 5000;
/** Once connected, how long between attempts to reconnect (writes queue meanwhile). */
const RECONNECT_EVERY_MS = 1000;
/** How long a stopping head waits for its last writes to reach Redis. */
const CLOSE_WAIT_MS = 3000;

const newClient = (options: Parameters<typeof createClient>[0] & {}) => createClient(options);
type Client = ReturnType<typeof newClient>;

export class RedisStorage extends InMemoryStorage {
  private lastError = "";

  private constructor(
    private readonly client: Client,
    private readonly log: (line: string) => void,
  ) {
    super();
  }

  /** Connects to Redis at `url` and loads every table; rejects, naming the address, if it cannot. */
  static async open(url: string, log: (line: string) => void): Promise<RedisStorage> {
    const where = redactedUrl(url);
    let connected = false;
    const client = newClient({
      url,
      socket: {
        connectTimeout: CONNECT_TIMEOUT_MS,
        // Before the first connection, one failure is the answer; after it, Redis may come back.
        reconnectStrategy: (_retries, cause) => (connected ? RECONNECT_EVERY_MS : new Error(`cannot reach Redis at ${where}: ${cause.message}`)),
      },
    });
    const storage = new RedisStorage(client, log);
    client.on("error", (err: Error) => storage.failed(err));
    try {
      await client.connect();
      connected = true;
      for await (const keys of client.scanIterator({ MATCH: `${PREFIX}*`, COUNT: 100 })) {
        for (const key of keys) {
          const table = key.slice(PREFIX.length);
          for (const [field, value] of Object.entries(await client.hGetAll(key))) {
            storage.loaded(table, field, v8.deserialize(Buffer.from(value, "base64")));
          }
        }
      }
    } catch (err) {
      client.destroy();
      const message = (err as Error).message;
      throw new Error(message.includes(where) ? message : `cannot use Redis at ${where}: ${message}`);
    }
    return storage;
  }

  /** A value read from Redis at start: kept in memory, not written back. */
  private loaded(table: string, key: string, value: unknown): void {
    super.put(table, key, value);
  }

  override put(table: string, key: string, value: unknown): void {
    super.put(table, key, value);
    this.write(this.client.hSet(PREFIX + table, key, v8.serialize(value).toString("base64")));
  }

  override delete(table: string, key: string): void {
    super.delete(table, key);
    this.write(this.client.hDel(PREFIX + table, key));
  }

  /** Waits for the writes still on their way (a few seconds at most: Redis may be gone), then disconnects. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)));
    try {
      await Promise.race([this.client.close(), gaveUp]);
    } catch {
      // Closing failed: destroyed below either way.
    } finally {
      clearTimeout(timer);
      if (this.client.isOpen) this.client.destroy();
    }
  }

  private write(done: Promise<unknown>): void {
    done.catch((err: Error) => this.failed(err));
  }

  /** One line per kind of failure, not one per write while Redis is away. */
  private failed(err: Error): void {
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.log(`GCS storage: ${err.message}`);
  }
}

/** The URL without its password, for messages and logs. */
function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.host ? `${u.host}${u.pathname === "/" ? "" : u.pathname}` : url;
  } catch {
    return url;
  }
}
