/**
 * Where the GCS keeps its tables: in memory (default; gone with the head), or in Redis through
 * ioredis (`ray-ts start --head --redis-address redis://HOST:PORT`), so that a head started again
 * after a crash finds its nodes, jobs, actors, placement groups and KV as they were.
 * Writes go through at once (ordered on one connection); the GCS reads everything at start.
 */
import { ignored } from '../log.js';
import { RayError } from '../errors.js';

export type GcsTable = 'meta' | 'nodes' | 'jobs' | 'actors' | 'pgs' | 'kv';
const tables: GcsTable[] = ['meta', 'nodes', 'jobs', 'actors', 'pgs', 'kv'];

export interface GcsStorage {
  /** Every row of every table (values as stored: JSON text, or raw bytes for `kv`). */
  load(): Promise<Record<GcsTable, Map<string, Buffer>>>;
  put(table: GcsTable, key: string, value: Buffer | string): void;
  del(table: GcsTable, key: string): void;
  close(): Promise<void>;
  readonly description: string;
}

/** Tables in memory only. */
export class MemoryStorage implements GcsStorage {
  readonly description = 'in memory';
  async load(): Promise<Record<GcsTable, Map<string, Buffer>>> {
    return Object.fromEntries(tables.map((t) => [t, new Map()])) as Record<GcsTable, Map<string, Buffer>>;
  }
  put(): void {}
  del(): void {}
  async close(): Promise<void> {}
}

/** Tables in Redis hashes `<prefix>:<table>`. */
export class RedisStorage implements GcsStorage {
  readonly description: string;
  private constructor(
    private readonly redis: import('ioredis').Redis,
    private readonly prefix: string,
    url: string,
  ) {
    this.description = `Redis at ${url}`;
  }

  static async connect(url: string, prefix = 'rayts:gcs'): Promise<RedisStorage> {
    const { Redis } = await import('ioredis');
    if (!/^rediss?:\/\//.test(url)) {
      throw new RayError(
        `Invalid Redis address '${url}': expected redis://HOST:PORT (optionally with a password and a db number: redis://:PASSWORD@HOST:PORT/DB).`,
      );
    }
    const redis = new Redis(url, {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      enableOfflineQueue: true,
      connectTimeout: 5_000,
    });
    redis.on('error', () => {}); // reconnects by itself; a command waits meanwhile
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new RayError(
        `Cannot reach Redis at ${url} (${(err as Error).message}). Start redis-server, or fix --redis-address.`,
      );
    }
    return new RedisStorage(redis, prefix, url);
  }

  async load(): Promise<Record<GcsTable, Map<string, Buffer>>> {
    const out = {} as Record<GcsTable, Map<string, Buffer>>;
    for (const t of tables) out[t] = new Map(Object.entries(await this.redis.hgetallBuffer(`${this.prefix}:${t}`)));
    return out;
  }

  put(table: GcsTable, key: string, value: Buffer | string): void {
    // ioredis queues commands while it reconnects; one that still fails leaves Redis a write behind.
    this.redis.hset(`${this.prefix}:${table}`, key, value).catch(ignored(`Redis write of ${table}/${key}`));
  }

  del(table: GcsTable, key: string): void {
    this.redis.hdel(`${this.prefix}:${table}`, key).catch(ignored(`Redis delete of ${table}/${key}`));
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
