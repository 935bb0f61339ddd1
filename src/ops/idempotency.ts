// Idempotency-Key on POST writes (docs/writes.md): a key is scoped to (identity key, method, path)
// and remembered for 24 hours with the body's canonical-JSON hash. The same key with the same body
// answers the first response and writes nothing; another body is a 422; while the first request
// still runs, a 409. Kept in Redis when configured (shared by every instance), else in a bounded
// in-memory store. A request that fails forgets its key, so a retry runs again.
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import { decodeEntry, encodeEntry } from './cache.js';
import type { Logger } from './logger.js';
import { REDIS_PREFIX } from './redis.js';
import { toJson } from '../values.js';

const TTL_MS = 24 * 3_600_000;
/** A running request's claim expires on its own after this long (a crashed instance never answers). */
const RUNNING_MS = 5 * 60_000;

export interface StoredResponse {
  status: number;
  body: unknown;
}

type Slot = { state: 'running'; body: string } | { state: 'done'; body: string; response: StoredResponse };

/** What a request with an Idempotency-Key may do: run (it holds the key now), replay a response, or neither. */
export type Claim = { kind: 'run' } | { kind: 'replay'; response: StoredResponse } | { kind: 'running' } | { kind: 'other_body' };

interface SlotStore {
  /** Sets the slot unless one exists; answers the existing one. */
  claim(key: string, slot: Slot, ttlMs: number): Promise<Slot | undefined>;
  set(key: string, slot: Slot, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
}

class MemorySlots implements SlotStore {
  private readonly lru = new LRUCache<string, Slot>({
    max: 10_000,
    maxSize: 64_000_000,
    sizeCalculation: (s) => 64 + s.body.length + (s.state === 'done' ? toJson(s.response.body ?? null).length : 0),
  });

  async claim(key: string, slot: Slot, ttlMs: number): Promise<Slot | undefined> {
    const found = this.lru.get(key);
    if (found) return found;
    this.lru.set(key, slot, { ttl: ttlMs });
    return undefined;
  }

  async set(key: string, slot: Slot, ttlMs: number): Promise<void> {
    this.lru.set(key, slot, { ttl: ttlMs });
  }

  async delete(key: string): Promise<void> {
    this.lru.delete(key);
  }
}

class RedisSlots implements SlotStore {
  constructor(private readonly redis: Redis) {}

  async claim(key: string, slot: Slot, ttlMs: number): Promise<Slot | undefined> {
    const k = REDIS_PREFIX + key;
    const set = await this.redis.set(k, encodeEntry(slot), 'PX', ttlMs, 'NX');
    if (set === 'OK') return undefined;
    const text = await this.redis.get(k);
    // Gone between the two commands: expired just now; claim it again.
    return text === null ? this.claim(key, slot, ttlMs) : decodeEntry<Slot>(text);
  }

  async set(key: string, slot: Slot, ttlMs: number): Promise<void> {
    await this.redis.set(REDIS_PREFIX + key, encodeEntry(slot), 'PX', ttlMs);
  }

  async delete(key: string): Promise<void> {
    await this.redis.del(REDIS_PREFIX + key);
  }
}

/** JSON with object keys sorted, so two bodies that mean the same compare equal. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

export class IdempotencyStore {
  private readonly slots: SlotStore;

  constructor(
    redis?: Redis,
    private readonly log?: Logger,
  ) {
    this.slots = redis ? new RedisSlots(redis) : new MemorySlots();
  }

  private key(scope: string, key: string): string {
    return `idem:${hash('sha256', `${scope}\n${key}`, 'hex')}`;
  }

  /** Claims the key for this body, or says what to answer instead. */
  async claim(scope: string, key: string, body: unknown): Promise<Claim> {
    const bodyHash = hash('sha256', canonicalJson(body ?? null), 'hex');
    const found = await this.slots.claim(this.key(scope, key), { state: 'running', body: bodyHash }, RUNNING_MS);
    if (!found) return { kind: 'run' };
    if (found.body !== bodyHash) return { kind: 'other_body' };
    return found.state === 'running' ? { kind: 'running' } : { kind: 'replay', response: found.response };
  }

  /** The first request's response, kept for 24 hours. */
  async finish(scope: string, key: string, body: unknown, response: StoredResponse): Promise<void> {
    const bodyHash = hash('sha256', canonicalJson(body ?? null), 'hex');
    try {
      await this.slots.set(this.key(scope, key), { state: 'done', body: bodyHash, response }, TTL_MS);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'an idempotency key could not be stored');
    }
  }

  /** The request failed: the key is free again. */
  async release(scope: string, key: string): Promise<void> {
    await this.slots.delete(this.key(scope, key)).catch(() => {});
  }
}
