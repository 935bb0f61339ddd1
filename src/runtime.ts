// Wires one running viewgate: config -> sources -> catalog -> gateway, plus logging, audit, metrics,
// the response cache and rate limits (in memory, or in Redis when `redis.url` is set).
import type { Redis } from 'ioredis';
import type { Config } from './config/schema.js';
import { Sources } from './sources/index.js';
import { closeHubSessions } from './hub/passthrough/session.js';
import { Catalog } from './gateway/catalog.js';
import { checkViews } from './gateway/checked-views.js';
import { Gateway } from './gateway/gateway.js';
import { DriftWatch } from './gateway/drift.js';
import { Authenticator } from './policy/identity.js';
import { Audit, sinkFor, type AuditSink } from './ops/audit.js';
import { createLogger, redactUrl, type Logger } from './ops/logger.js';
import { Metrics } from './ops/metrics.js';
import { Telemetry } from './ops/telemetry.js';
import { ErrorBudgets } from './ops/slo.js';
import { BoundedOutput } from './ops/output.js';
import { MemoryCacheStore, RedisCacheStore, ResponseCache } from './ops/cache.js';
import { CacheGenerations } from './ops/cache-generations.js';
import { IdempotencyStore } from './ops/idempotency.js';
import { MemoryRateLimiter, RedisRateLimiter, type RateLimiter } from './ops/rate-limit.js';
import { closeRedis, connectRedis } from './ops/redis.js';
import { ExportStore, type ExportStoreOptions } from './ops/export-store.js';
import type { BreakerOptions } from './sources/breaker.js';
import { operatorDetail } from './errors.js';

export interface Runtime {
  config: Config;
  sources: Sources;
  catalog: Catalog;
  gateway: Gateway;
  /** The gateway's; replacing it (e.g. with other JWKS timings) replaces the gateway's. */
  auth: Authenticator;
  audit: Audit;
  log: Logger;
  /** Where logs and stdout/stderr audit records go: bounded, never blocking (src/ops/output.ts). */
  output: BoundedOutput;
  metrics: Metrics;
  /** Traces of requests, when `telemetry` is configured. */
  telemetry?: Telemetry;
  cache: ResponseCache;
  limiter: RateLimiter;
  /** Re-introspects the views' sources (docs/contracts.md, "Drift"); `serve` starts its interval. */
  drift: DriftWatch;
  /** The shared Redis connection, when `redis.url` is set. */
  redis?: Redis;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** MCP over stdio: stdout carries only the protocol, so logs and audit go to stderr. */
  stdio?: boolean;
  logger?: Logger;
  auditSink?: AuditSink;
  /** Circuit breaker thresholds for every store (default: 5 failures, 10 s cooldown). */
  breaker?: BreakerOptions;
  /** Node process metrics in /metrics (default: on, except under stdio). */
  processMetrics?: boolean;
  /** Bounds and clock of the MCP export store (default: 10 minutes, 100 exports, 64 MiB). */
  exports?: ExportStoreOptions;
}

export async function createRuntime(config: Config, opts: RuntimeOptions = {}): Promise<Runtime> {
  const output = new BoundedOutput(opts.stdio ? process.stderr : process.stdout);
  const log = opts.logger ?? createLogger(config.logging.level, output);
  const metrics = new Metrics({ processMetrics: opts.processMetrics ?? !opts.stdio });
  const redis = config.redis.url ? await connectRedis(config.redis.url, log) : undefined;
  const cache = new ResponseCache(redis ? new RedisCacheStore(redis, log) : new MemoryCacheStore(), metrics);
  const limiter = redis ? new RedisRateLimiter(redis, log) : new MemoryRateLimiter();
  if (Object.values(config.services).some((s) => s.slo)) metrics.trackErrorBudgets(new ErrorBudgets(config, metrics.registry));
  const telemetry = config.telemetry ? new Telemetry(config.telemetry) : undefined;
  const sources = new Sources(config, {
    metrics,
    ...(opts.breaker ? { breaker: opts.breaker } : {}),
    ...(telemetry ? { tracing: telemetry } : {}),
  });
  await sources.connect();
  const catalog = new Catalog(config, sources);
  const auth = new Authenticator(config);
  const audit = new Audit(config.audit, log, opts.auditSink ?? sinkFor(config, output));
  const exports = new ExportStore(opts.exports);
  const generations = new CacheGenerations(redis, log);
  await generations.start();
  const idempotency = new IdempotencyStore(redis, log);
  const services = { auth, cache, limiter, audit, metrics, log, exports, generations, idempotency };
  const gateway = new Gateway(config, catalog, { ...services, ...(telemetry ? { telemetry } : {}) });
  const drift = new DriftWatch(catalog, log, metrics);
  sources.onReconnect((source) => void drift.recheck(`store "${source}" reconnected`));
  metrics.countAuditFailures(() => audit.failures);
  metrics.countAuditDrops(() => audit.dropped);
  metrics.countOutput(() => output);
  return {
    config,
    sources,
    catalog,
    gateway,
    get auth() {
      return gateway.auth;
    },
    set auth(replacement: Authenticator) {
      gateway.auth = replacement;
    },
    audit,
    log,
    output,
    metrics,
    ...(telemetry ? { telemetry } : {}),
    cache,
    limiter,
    drift,
    ...(redis ? { redis } : {}),
    /** Flushes the audit log, then closes the cache, the limiter, Redis and the store pools. */
    async close() {
      drift.stop();
      await audit.close();
      await Promise.allSettled([cache.close(), limiter.close(), generations.close()]);
      if (redis) await closeRedis(redis);
      await closeHubSessions(sources);
      await sources.close();
      await telemetry?.shutdown();
    },
  };
}

/**
 * Builds every view now, so problems show in the log at start rather than on a first request, and
 * returns the grants that do not fit the views (a config to refuse), as one message; '' when none.
 */
export async function warmViews(rt: Runtime): Promise<string> {
  const entries = await checkViews(rt.catalog, rt.gateway.policy);
  for (const e of entries) if (e.problem) rt.log.warn({ view: e.id, problem: e.problem }, 'view not available yet');
  const problems = entries.flatMap((e) => e.policy ?? []);
  for (const p of problems) rt.log.error({ path: p.path }, p.message);
  if (problems.length === 0) return '';
  return `the configuration's grants do not fit the views:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`;
}

/**
 * /readyz: the names of the stores that do not answer a ping, sorted. What went wrong is logged
 * (with URLs redacted), never answered: the probe is unauthenticated (docs/security.md "Store outages").
 */
export async function storesDown(rt: Runtime, requestId: string): Promise<string[]> {
  const down: string[] = [];
  await Promise.all(
    rt.sources.all().map(async (s) => {
      try {
        await s.ping();
      } catch (err) {
        down.push(s.name);
        rt.log.warn({ requestId, source: s.name, kind: s.kind, err: redactUrl(operatorDetail(err)) }, 'readyz: source is down');
      }
    }),
  );
  return down.sort();
}
