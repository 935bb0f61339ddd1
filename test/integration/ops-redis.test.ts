// The Redis-backed cache and rate limiter against the machine's Redis (127.0.0.1:6379): buckets
// shared by two clients (two viewgate instances), exact bigints and TTLs in the cache, and the
// fallbacks when Redis is unreachable (the cache misses, the limiter lets requests through).
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { connectRedis, closeRedis } from '../../src/ops/redis.js';
import { RedisRateLimiter } from '../../src/ops/rate-limit.js';
import { RedisCacheStore } from '../../src/ops/cache.js';
import { createLogger } from '../../src/ops/logger.js';
import { REDIS_URL } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const log = createLogger('silent');
const clients: Redis[] = [];

async function client(url = REDIS_URL): Promise<Redis> {
  const c = await connectRedis(url, log);
  clients.push(c);
  return c;
}

afterAll(async () => {
  await Promise.all(clients.map(closeRedis));
});

const unique = () => randomBytes(6).toString('hex');

describe('redis rate limiter', () => {
  it('two instances share one bucket, atomically', async () => {
    const a = new RedisRateLimiter(await client());
    const b = new RedisRateLimiter(await client());
    const rate = { count: 10, perMs: 60_000, text: '10/minute' };
    const bucket = `test-${unique()}`;
    // 30 concurrent takes split over both instances: exactly 10 succeed.
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).take(bucket, rate)));
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
    const refused = results.find((r) => !r.allowed)!;
    expect(refused.remaining).toBe(0);
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(6_000);
  });

  it('refills continuously on the Redis clock and expires idle buckets', async () => {
    const redis = await client();
    const rl = new RedisRateLimiter(redis);
    // One token per 1.5 s: the three takes below fit in that even on a loaded machine.
    const rate = { count: 2, perMs: 3_000, text: '2/3s' };
    const bucket = `test-${unique()}`;
    expect((await rl.take(bucket, rate)).allowed).toBe(true);
    expect((await rl.take(bucket, rate)).allowed).toBe(true);
    expect((await rl.take(bucket, rate)).allowed).toBe(false);
    // A refused take costs nothing, so polling until a token has refilled is harmless.
    await waitFor(async () => (await rl.take(bucket, rate)).allowed, { what: 'a token to refill' });
    const keys = await redis.keys(`viewgate:rl:${bucket}:*`);
    expect(keys).toHaveLength(1);
    const ttl = await redis.pttl(keys[0]!);
    expect(ttl).toBeGreaterThan(0);
    // Idle buckets expire once they would be full again, plus a second.
    expect(ttl).toBeLessThanOrEqual(rate.perMs + 1_000);
  });

  it('lets requests through when Redis is unreachable', async () => {
    const rl = new RedisRateLimiter(await client('redis://127.0.0.1:1'));
    const d = await rl.take(`test-${unique()}`, { count: 1, perMs: 60_000, text: '1/minute' });
    expect(d.allowed).toBe(true);
  });
});

describe('redis response cache store', () => {
  it('keeps bigints exact and honours the TTL', async () => {
    const store = new RedisCacheStore(await client());
    const key = `test:${unique()}`;
    const value = { rows: [{ order_id: 9007199254740993n, total: '10.00' }] };
    const ttlMs = 1_500;
    await store.set(key, value, ttlMs);
    const got = await store.get<typeof value>(key);
    expect(got!.remainingMs).toBeGreaterThan(0);
    expect(got!.remainingMs).toBeLessThanOrEqual(ttlMs);
    expect(got!.value).toEqual(value);
    expect(typeof got!.value.rows[0]!.order_id).toBe('bigint');
    await waitFor(async () => (await store.get(key)) === undefined, { what: 'the entry to expire' });
  });

  it('misses (never throws) when Redis is unreachable', async () => {
    const store = new RedisCacheStore(await client('redis://127.0.0.1:1'));
    await store.set('k', 'v', 1000);
    expect(await store.get('k')).toBeUndefined();
  });
});
