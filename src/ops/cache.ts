// The response cache behind the gateway: an in-process LRU, or Redis when `redis.url` is set (shared
// by every instance; entries as JSON text with exact bigints). Entries expire after the grant's
// cacheTtl. Concurrent misses on one key share one load, which is stopped only when every request
// waiting for it has been cancelled. A failing Redis is a miss, never an error.
import { randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { REDIS_PREFIX } from './redis.js';
import { deepFreeze } from '../values.js';
import { signalOf, type Cancel } from '../cancellation.js';

export interface StoredEntry<T = unknown> {
  value: T;
  remainingMs: number;
}

export interface CacheStore {
  get<T>(key: string): Promise<StoredEntry<T> | undefined>;
  /** get() answered at once, by a store that holds its entries in this process. */
  peek?<T>(key: string): StoredEntry<T> | undefined;
  set(key: string, value: unknown, ttlMs: number): Promise<void>;
  close(): Promise<void>;
}

/** Bounds of the in-process cache, in UTF-16 units of the values' JSON text. */
const MEMORY_CACHE_LIMITS = { maxChars: 64_000_000, maxEntries: 10_000, maxEntryChars: 4_000_000 };

/**
 * Keeps values as they are (no parsing on a hit), deep-frozen so that no reader can change what
 * the next request will be served; a write to a cached row throws instead.
 */
export class MemoryCacheStore implements CacheStore {
  private readonly lru: LRUCache<string, { value: unknown; size: number }>;

  constructor(private readonly limits = MEMORY_CACHE_LIMITS) {
    this.lru = new LRUCache<string, { value: unknown; size: number }>({
      max: limits.maxEntries,
      maxSize: limits.maxChars,
      maxEntrySize: limits.maxEntryChars,
      sizeCalculation: (e) => e.size,
    });
  }

  async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
    return this.peek<T>(key);
  }

  peek<T>(key: string): StoredEntry<T> | undefined {
    const e = this.lru.get(key);
    if (e === undefined) return undefined;
    return { value: e.value as T, remainingMs: this.lru.getRemainingTTL(key) };
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    const size = Math.max(1, jsonLength(value));
    if (size > this.limits.maxEntryChars) return;
    this.lru.set(key, { value: deepFreeze(value), size }, { ttl: ttlMs });
  }

  async close(): Promise<void> {
    this.lru.clear();
  }
}

function jsonLength(value: unknown): number {
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))?.length ?? 0;
}

export class RedisCacheStore implements CacheStore {
  constructor(
    private readonly redis: Redis,
    private readonly log?: Logger,
  ) {}

  async get<T>(key: string): Promise<StoredEntry<T> | undefined> {
    try {
      const res = await this.redis
        .multi()
        .get(REDIS_PREFIX + key)
        .pttl(REDIS_PREFIX + key)
        .exec();
      const text = res?.[0]?.[1];
      const ttl = res?.[1]?.[1];
      if (typeof text !== 'string') return undefined;
      return { value: decodeEntry<T>(text), remainingMs: typeof ttl === 'number' && ttl > 0 ? ttl : 0 };
    } catch (err) {
      this.log?.debug({ err: (err as Error).message }, 'response cache read failed; treated as a miss');
      return undefined;
    }
  }

  async set(key: string, value: unknown, ttlMs: number): Promise<void> {
    try {
      await this.redis.set(REDIS_PREFIX + key, encodeEntry(value), 'PX', Math.max(1, Math.round(ttlMs)));
    } catch (err) {
      this.log?.debug({ err: (err as Error).message }, 'response cache write failed');
    }
  }

  async close(): Promise<void> {}
}

// ---- codec: JSON with exact bigints -----------------------------------------------------------

/**
 * Bigints become strings behind a per-entry random prefix and come back as bigints; no string in
 * the data can pose as one, because the prefix is chosen after the data exists.
 */
export function encodeEntry(value: unknown): string {
  const tag = `\u0000big:${randomBytes(8).toString('hex')}:`;
  const body = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? tag + v.toString() : v));
  return JSON.stringify(tag) + '\n' + body;
}

export function decodeEntry<T>(text: string): T {
  const nl = text.indexOf('\n');
  const tag = JSON.parse(text.slice(0, nl)) as string;
  return JSON.parse(text.slice(nl + 1), (_k, v: unknown) =>
    typeof v === 'string' && v.startsWith(tag) ? BigInt(v.slice(tag.length)) : v,
  ) as T;
}

// ---- the cache the gateway uses --------------------------------------------------------------

export interface CacheOutcome<T> {
  value: T;
  hit: boolean;
  /** How long a client may keep this response: the entry's remaining lifetime. */
  maxAgeMs: number;
}

/** One load shared by the concurrent misses on its key. */
interface SharedLoad {
  promise: Promise<unknown>;
  /** Aborted when the last request waiting for the load has been cancelled. */
  stop: AbortController;
  waiting: number;
}

export class ResponseCache {
  private readonly loading = new Map<string, SharedLoad>();

  constructor(
    readonly store: CacheStore,
    private readonly metrics?: Metrics,
  ) {}

  /** A hit answered at once, when the store holds its entries in this process; undefined: ask getOrLoad(). */
  hitNow<T>(view: string, key: string): CacheOutcome<T> | undefined {
    const found = this.store.peek?.<T>(key);
    if (!found) return undefined;
    this.metrics?.cacheHit(view);
    return { value: found.value, hit: true, maxAgeMs: found.remainingMs };
  }

  /**
   * The cached value, or the one `load` gives (stored for `ttlMs`). `signal` aborts when the caller
   * no longer waits: it stops waiting at once (rejecting with the signal's reason), and the load,
   * whose own signal `load` receives, is stopped when no other caller waits for it.
   */
  async getOrLoad<T>(
    view: string,
    key: string,
    ttlMs: number,
    load: (signal: AbortSignal) => Promise<T>,
    cancel?: Cancel,
  ): Promise<CacheOutcome<T>> {
    const found = await this.store.get<T>(key);
    if (found) {
      this.metrics?.cacheHit(view);
      return { value: found.value, hit: true, maxAgeMs: found.remainingMs };
    }
    this.metrics?.cacheMiss(view);
    const signal = signalOf(cancel);
    signal?.throwIfAborted();
    let shared = this.loading.get(key);
    if (!shared) {
      const started = { stop: new AbortController(), waiting: 0 } as SharedLoad;
      this.loading.set(key, started);
      started.promise = (async () => {
        try {
          const value = await load(started.stop.signal);
          await this.store.set(key, value, ttlMs);
          return value;
        } finally {
          if (this.loading.get(key) === started) this.loading.delete(key);
        }
      })();
      shared = started;
    }
    return { value: (await this.wait(key, shared, signal)) as T, hit: false, maxAgeMs: ttlMs };
  }

  /** The shared load's value, or the caller's abort; the last caller to leave stops the load. */
  private wait(key: string, shared: SharedLoad, signal: AbortSignal | undefined): Promise<unknown> {
    shared.waiting++;
    if (!signal) return shared.promise;
    return new Promise((resolve, reject) => {
      const leave = (): void => {
        reject(signal.reason);
        if (--shared.waiting > 0) return;
        // A later miss on this key starts a load of its own instead of joining a stopped one.
        if (this.loading.get(key) === shared) this.loading.delete(key);
        shared.stop.abort(signal.reason);
      };
      signal.addEventListener('abort', leave, { once: true });
      shared.promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', leave));
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
