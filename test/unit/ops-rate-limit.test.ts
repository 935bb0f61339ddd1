// Token buckets in memory with a controlled clock: N requests per period, then 429 with the time
// until one token is back; refill is continuous; buckets are per identity and grant.
import { describe, expect, it } from 'vitest';
import { bucketKey, MemoryRateLimiter, rateLimited, rateLimitHeaders } from '../../src/ops/rate-limit.js';

const PER_MINUTE_3 = { count: 3, perMs: 60_000, text: '3/minute' };

describe('memory token bucket', () => {
  it('allows N per period, then refuses with Retry-After until a token refills', async () => {
    let now = 0;
    const rl = new MemoryRateLimiter(() => now);
    const b = bucketKey({ identityKey: 'key:p', role: 'external' }, 'crm.customers');
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await rl.take(b, PER_MINUTE_3));
    expect(seen.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 2],
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    expect(seen[3]!.retryAfterMs).toBe(20_000);
    expect(seen[3]!.resetMs).toBe(60_000);
    now = 19_999;
    expect((await rl.take(b, PER_MINUTE_3)).allowed).toBe(false);
    now = 20_001;
    expect((await rl.take(b, PER_MINUTE_3)).allowed).toBe(true);
    now = 10_000_000;
    expect(await rl.take(b, PER_MINUTE_3)).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('keeps one bucket per identity and grant', async () => {
    const rl = new MemoryRateLimiter(() => 0);
    const one = { count: 1, perMs: 1000, text: '1/second' };
    const a = bucketKey({ identityKey: 'key:a', role: 'external' }, 'crm.customers');
    const b = bucketKey({ identityKey: 'key:b', role: 'external' }, 'crm.customers');
    const a2 = bucketKey({ identityKey: 'key:a', role: 'external' }, 'app.*');
    const jwt = bucketKey({ identityKey: 'jwt:https://idp/|a', role: 'external' }, 'crm.customers');
    for (const k of [a, b, a2, jwt]) expect((await rl.take(k, one)).allowed).toBe(true);
    expect((await rl.take(a, one)).allowed).toBe(false);
  });

  it('a frozen identity remembers its bucket per grant: the same buckets as computed afresh', () => {
    const frozen = Object.freeze({ identityKey: 'key:a', role: 'external' });
    for (const grant of ['crm.customers', 'app.*', 'crm.customers']) {
      expect(bucketKey(frozen, grant)).toBe(bucketKey({ identityKey: 'key:a', role: 'external' }, grant));
    }
    expect(bucketKey(frozen, 'app.*')).not.toBe(bucketKey(frozen, 'crm.customers'));
    expect(bucketKey(Object.freeze({ identityKey: 'key:a', role: 'internal' }), 'app.*')).not.toBe(bucketKey(frozen, 'app.*'));
  });
});

describe('429 and headers', () => {
  it('carries Retry-After and the RateLimit fields', () => {
    const err = rateLimited('crm.customers', PER_MINUTE_3, {
      allowed: false,
      limit: 3,
      remaining: 0,
      retryAfterMs: 19_500,
      resetMs: 59_500,
    });
    expect(err.status).toBe(429);
    expect(err.headers).toEqual({
      'Retry-After': '20',
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '0',
      'RateLimit-Reset': '60',
      'RateLimit-Policy': '3;w=60',
    });
    expect(err.message).toContain('3/minute');
    expect(err.context).toMatchObject({ view: 'crm.customers', retryAfter: 20 });
  });

  it('has no Retry-After while requests are allowed', () => {
    const h = rateLimitHeaders({ allowed: true, limit: 3, remaining: 2, retryAfterMs: 0, resetMs: 20_000 }, PER_MINUTE_3);
    expect(h['Retry-After']).toBeUndefined();
    expect(h['RateLimit-Remaining']).toBe('2');
  });
});
