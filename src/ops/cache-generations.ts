// Which cached responses are still current after writes (docs/writes.md, "Cache"): every source has
// a generation token that is part of the response cache key of each view reading it, and a write
// to one of its tables replaces the token, so no later request finds a response cached before the
// write. With Redis (the cache shared by every instance), the tokens live in one Redis hash and a
// write publishes its new token, so every instance switches at once; a missed message is caught up
// on the next write's or the next start's read of the hash.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { REDIS_PREFIX } from './redis.js';

const HASH = `${REDIS_PREFIX}write-generations`;
const CHANNEL = `${REDIS_PREFIX}writes`;

export class CacheGenerations {
  private readonly tokens = new Map<string, string>();
  private subscriber?: Redis;

  constructor(
    private readonly redis?: Redis,
    private readonly log?: Logger,
  ) {}

  /** Subscribes to other instances' writes and reads the current tokens (Redis only). */
  async start(): Promise<void> {
    if (!this.redis) return;
    try {
      const sub = this.redis.duplicate({ enableOfflineQueue: true });
      this.subscriber = sub;
      sub.on('message', (_channel: string, text: string) => this.apply(text));
      sub.on('error', () => {});
      await sub.subscribe(CHANNEL);
      const all = await this.redis.hgetall(HASH);
      for (const [source, token] of Object.entries(all)) this.tokens.set(source, token);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, 'cache invalidation across instances is unavailable until redis returns');
    }
  }

  private apply(text: string): void {
    const sep = text.indexOf('\n');
    if (sep > 0) this.tokens.set(text.slice(0, sep), text.slice(sep + 1));
  }

  /** The tokens of these sources (all sources when undefined), as one cache key suffix. */
  token(sources?: readonly string[]): string {
    // One source, the usual case, without an array or a join.
    if (sources?.length === 1) return this.tokens.get(sources[0]!) ?? '0';
    const names = sources ?? [...this.tokens.keys()].sort();
    return names.map((s) => this.tokens.get(s) ?? '0').join('.');
  }

  /** A table of `source` was written: responses cached over it are no longer served, here and on every instance. */
  async bump(source: string): Promise<void> {
    const token = randomBytes(6).toString('base64url');
    this.tokens.set(source, token);
    if (!this.redis) return;
    try {
      await this.redis.hset(HASH, source, token);
      await this.redis.publish(CHANNEL, `${source}\n${token}`);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message, source }, 'a write could not invalidate cached responses on other instances');
    }
  }

  async close(): Promise<void> {
    const sub = this.subscriber;
    this.subscriber = undefined;
    if (sub) sub.disconnect();
  }
}
