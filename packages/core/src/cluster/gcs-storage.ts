/**
 * Where the GCS keeps its tables: in memory (default; gone with the head), or in Redis through
 * ioredis (`ray-ts start --head --redis-address redis://HOST:PORT`), so that a head started again
 * after a crash finds its nodes, jobs, actors, placement groups and KV as they were.
 * Writes to Redis go through the GCS's write queue (gcs-writes.ts): in order, retried until they
 * land, bounded while Redis is away, flushed at close; the GCS reads everything at start.
 */
import { ignored } from '../log.js';
import { RayError } from '../errors.js';
import type { RuntimeConfig } from '../config.js';
import { GcsWriteQueue, type GcsWrite, type Landing } from './gcs-writes.js';

export type GcsTable = 'meta' | 'nodes' | 'jobs' | 'actors' | 'pgs' | 'kv';
const tables: GcsTable[] = ['meta', 'nodes', 'jobs', 'actors', 'pgs', 'kv'];

export interface GcsStorage {
  /** Every row of every table (values as stored: JSON text, or raw bytes for `kv`). */
  load(): Promise<Record<GcsTable, Map<string, Buffer>>>;
  /**
   * Keeps a row (`value`), or deletes it (`undefined`): see {@link Landing} (undefined when kept
   * already, in memory). Throws GcsUnavailableError at once when the store cannot take it: a
   * `bounded` write (the default) finding the queue full, or any write once closing.
   */
  write(table: GcsTable, key: string, value: Buffer | string | undefined, opts?: { bounded?: boolean }): Landing;
  /** Lands what is still queued (waiting at most `gcsStopFlushMs`), then closes. */
  close(): Promise<void>;
  readonly description: string;
}

/** Tables in memory only: writes are kept as soon as made. */
export class MemoryStorage implements GcsStorage {
  readonly description = 'in memory';
  async load(): Promise<Record<GcsTable, Map<string, Buffer>>> {
    return Object.fromEntries(tables.map((t) => [t, new Map()])) as Record<GcsTable, Map<string, Buffer>>;
  }
  write(): Landing {
    return undefined;
  }
  async close(): Promise<void> {}
}

/** The settings of Redis writes (config.ts). */
export type RedisWriteConfig = Pick<
  RuntimeConfig,
  | 'gcsWriteQueueMax'
  | 'gcsWriteQueueMaxBytes'
  | 'gcsWriteRetryMs'
  | 'gcsWriteRetryMaxMs'
  | 'gcsWriteAttemptTimeoutMs'
  | 'gcsWriteWaitMs'
  | 'gcsStopFlushMs'
>;

/** Tables in Redis hashes `<prefix>:<table>`. */
export class RedisStorage implements GcsStorage {
  readonly description: string;
  private readonly queue: GcsWriteQueue;
  private constructor(
    private readonly redis: import('ioredis').Redis,
    private readonly prefix: string,
    url: string,
    private readonly config: RedisWriteConfig,
  ) {
    this.description = `Redis at ${url}`;
    this.queue = new GcsWriteQueue(
      { apply: (batch) => this.apply(batch) },
      {
        store: this.description,
        maxWrites: config.gcsWriteQueueMax,
        maxBytes: config.gcsWriteQueueMaxBytes,
        retryMs: config.gcsWriteRetryMs,
        retryMaxMs: config.gcsWriteRetryMaxMs,
        waitMs: config.gcsWriteWaitMs,
      },
    );
  }

  static async connect(url: string, config: RedisWriteConfig, prefix = 'rayts:gcs'): Promise<RedisStorage> {
    const { Redis } = await import('ioredis');
    if (!/^rediss?:\/\//.test(url)) {
      throw new RayError(
        `Invalid Redis address '${url}': expected redis://HOST:PORT (optionally with a password and a db number: redis://:PASSWORD@HOST:PORT/DB).`,
      );
    }
    // The write queue retries; ioredis reconnects by itself but keeps no command of its own while
    // Redis is away (none queued offline, none resent), and fails one Redis does not answer.
    const redis = new Redis(url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: config.gcsWriteAttemptTimeoutMs,
      connectTimeout: 5_000,
    });
    redis.on(
      'error',
      ignored(`Redis at ${url}: a connection error (ioredis reconnects; failed writes are retried and reported)`),
    );
    try {
      await redis.connect();
      await redis.ping();
    } catch (err) {
      redis.disconnect();
      throw new RayError(
        `Cannot reach Redis at ${url} (${(err as Error).message}). Start redis-server, or fix --redis-address.`,
      );
    }
    return new RedisStorage(redis, prefix, url, config);
  }

  async load(): Promise<Record<GcsTable, Map<string, Buffer>>> {
    const out = {} as Record<GcsTable, Map<string, Buffer>>;
    for (const t of tables) out[t] = new Map(Object.entries(await this.redis.hgetallBuffer(`${this.prefix}:${t}`)));
    return out;
  }

  write(table: GcsTable, key: string, value: Buffer | string | undefined, opts?: { bounded?: boolean }): Landing {
    return this.queue.write({ table, key, value }, opts);
  }

  /** One batch in one pipeline: in order on one connection; a batch tried again rewrites the same rows. */
  private async apply(batch: readonly GcsWrite[]): Promise<void> {
    const p = this.redis.pipeline();
    for (const w of batch) {
      if (w.value === undefined) p.hdel(`${this.prefix}:${w.table}`, w.key);
      else p.hset(`${this.prefix}:${w.table}`, w.key, w.value);
    }
    const results = await p.exec();
    if (!results) throw new Error('Redis did not run the batch');
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }

  async close(): Promise<void> {
    await this.queue.close(this.config.gcsStopFlushMs);
    await this.redis.quit().catch(() => this.redis.disconnect());
  }
}
