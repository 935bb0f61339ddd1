// Token buckets per identity and grant (docs/operations.md, "Rate limits"): a grant's
// `rateLimit: N/minute` is a bucket of N tokens refilled continuously at N per minute; each query
// takes one. In process by default; in Redis when configured, where one Lua script reads, refills
// and takes atomically on Redis's clock, so several viewgate instances share one bucket. A failing
// Redis lets the request through.
import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Redis } from 'ioredis';
import type { Rate } from '../config/schema.js';
import { ApiError } from '../errors.js';
import type { Logger } from './logger.js';
import { REDIS_PREFIX } from './redis.js';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Until one token is available (0 when allowed). */
  retryAfterMs: number;
  /** Until the bucket is full again. */
  resetMs: number;
}

export interface RateLimiter {
  take(bucket: string, rate: Rate): Promise<RateDecision>;
  close(): Promise<void>;
}

/**
 * The bucket of one principal under one grant, by its identity key (src/policy/identity.ts), so
 * tokens without a subject never share a bucket across tenants.
 */
export function bucketKey(identity: Readonly<{ identityKey: string; role: string }>, grantKey: string): string {
  // An identity is one frozen object per key or token, asked again on each of its requests; one
  // that is not frozen could change, and is not remembered.
  if (!Object.isFrozen(identity)) return bucketDigest(identity, grantKey);
  let byGrant = bucketKeys.get(identity);
  if (byGrant === undefined) bucketKeys.set(identity, (byGrant = new Map()));
  let key = byGrant.get(grantKey);
  if (key === undefined) {
    key = bucketDigest(identity, grantKey);
    byGrant.set(grantKey, key);
  }
  return key;
}

const bucketKeys = new WeakMap<object, Map<string, string>>();

function bucketDigest(identity: { identityKey: string; role: string }, grantKey: string): string {
  return hash('sha256', JSON.stringify([identity.role, grantKey, identity.identityKey]), 'base64url');
}

interface Bucket {
  tokens: number;
  at: number;
}

export class MemoryRateLimiter implements RateLimiter {
  // A bucket untouched for a whole period is full again, so forgetting it changes nothing.
  private readonly buckets = new LRUCache<string, Bucket>({ max: 100_000, ttlAutopurge: false });

  constructor(private readonly now: () => number = () => performance.now()) {}

  async take(bucket: string, rate: Rate): Promise<RateDecision> {
    const now = this.now();
    const perMsRate = rate.count / rate.perMs;
    const key = `${bucket}:${rate.count}/${rate.perMs}`;
    const b = this.buckets.get(key) ?? { tokens: rate.count, at: now };
    b.tokens = Math.min(rate.count, b.tokens + Math.max(0, now - b.at) * perMsRate);
    b.at = now;
    const allowed = b.tokens >= 1;
    if (allowed) b.tokens -= 1;
    this.buckets.set(key, b, { ttl: rate.perMs });
    return decision(allowed, rate.count, b.tokens, perMsRate);
  }

  async close(): Promise<void> {
    this.buckets.clear();
  }
}

function decision(allowed: boolean, limit: number, tokens: number, perMsRate: number): RateDecision {
  return {
    allowed,
    limit,
    remaining: Math.floor(tokens),
    retryAfterMs: allowed ? 0 : Math.ceil((1 - tokens) / perMsRate),
    resetMs: Math.ceil((limit - tokens) / perMsRate),
  };
}

// KEYS[1] bucket; ARGV[1] capacity, ARGV[2] period in ms. Returns {allowed, tokens * 1000}.
const TAKE_SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = capacity / tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1])
local at = tonumber(state[2])
if tokens == nil or at == nil then
  tokens = capacity
  at = now
end
if now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 1000)
return {allowed, math.floor(tokens * 1000)}
`;

type WithTake = Redis & { viewgateTakeToken(key: string, capacity: number, perMs: number): Promise<[number, number]> };

export class RedisRateLimiter implements RateLimiter {
  private readonly redis: WithTake;

  constructor(
    redis: Redis,
    private readonly log?: Logger,
  ) {
    redis.defineCommand('viewgateTakeToken', { numberOfKeys: 1, lua: TAKE_SCRIPT });
    this.redis = redis as WithTake;
  }

  async take(bucket: string, rate: Rate): Promise<RateDecision> {
    const perMsRate = rate.count / rate.perMs;
    try {
      const [allowed, milliTokens] = await this.redis.viewgateTakeToken(
        `${REDIS_PREFIX}rl:${bucket}:${rate.count}/${rate.perMs}`,
        rate.count,
        rate.perMs,
      );
      return decision(allowed === 1, rate.count, milliTokens / 1000, perMsRate);
    } catch (err) {
      this.log?.debug({ err: (err as Error).message }, 'rate limit check failed; the request is let through');
      return decision(true, rate.count, rate.count, perMsRate);
    }
  }

  async close(): Promise<void> {}
}

/** Response headers for a decision (IETF RateLimit header fields, plus Retry-After on 429). */
export function rateLimitHeaders(d: RateDecision, rate: Rate): Record<string, string> {
  const h: Record<string, string> = {
    'RateLimit-Limit': String(d.limit),
    'RateLimit-Remaining': String(d.remaining),
    'RateLimit-Reset': String(Math.ceil(d.resetMs / 1000)),
    'RateLimit-Policy': `${rate.count};w=${Math.round(rate.perMs / 1000)}`,
  };
  if (!d.allowed) h['Retry-After'] = String(Math.max(1, Math.ceil(d.retryAfterMs / 1000)));
  return h;
}

export function rateLimited(view: string, rate: Rate, d: RateDecision): ApiError {
  const headers = rateLimitHeaders(d, rate);
  return new ApiError(
    'rate_limited',
    `rate limit exceeded: your role may query "${view}" ${rate.text}; retry in ${headers['Retry-After']} s`,
    { view, limit: rate.text, retryAfter: Number(headers['Retry-After']) },
    headers,
  );
}
