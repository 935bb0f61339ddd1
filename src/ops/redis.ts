// The Redis client for the shared response cache and rate limits (`redis.url`). Commands fail fast
// instead of queueing while Redis is away, so callers can fall back (cache: miss; limits: allow)
// and a Redis outage never stalls requests. ioredis keeps reconnecting in the background.
import type { Redis } from 'ioredis';
import type { Logger } from './logger.js';
import { redactUrl } from './logger.js';

export const REDIS_PREFIX = 'viewgate:';

export async function connectRedis(url: string, log: Logger): Promise<Redis> {
  // Loaded only when Redis is configured: the client library alone adds ~7 MiB to the process.
  const { Redis } = await import('ioredis');
  const client = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let lastLogged = 0;
  client.on('error', (err: Error) => {
    // Reconnect attempts repeat the same error; one line per 30 s is enough.
    if (Date.now() - lastLogged < 30_000) return;
    lastLogged = Date.now();
    log.warn(
      { err: err.message, redis: redactUrl(url) },
      'redis is unavailable: the response cache is bypassed and rate limits are not enforced until it returns',
    );
  });
  client.on('ready', () => {
    if (lastLogged !== 0) log.info({ redis: redactUrl(url) }, 'redis is available again');
    lastLogged = 0;
  });
  try {
    await client.connect();
  } catch {
    // Logged by the error handler; the client keeps retrying.
  }
  return client;
}

export async function closeRedis(client: Redis): Promise<void> {
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
