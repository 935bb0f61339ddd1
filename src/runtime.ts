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
import type { Telemetry } from './ops/telemetry.js';
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
import { currentGateway, InFlight } from './current-gateway.js';

/**
 * What one config builds: its sources, the catalog of its views, the gateway over them and the
 * drift watch. A config reload (src/reload.ts) builds the next one and swaps it in whole.
 */
export interface RuntimeState {
  readonly config: Config;
  readonly sources: Sources;
  readonly catalog: Catalog;
  /** This state's own gateway; callers use the runtime's, which forwards to the current state's. */
  readonly gateway: Gateway;
  readonly drift: DriftWatch;
  /** Counts this state's unfinished gateway calls, so a reload closes what it replaced only after them. */
  readonly inFlight: InFlight;
}

export interface Runtime {
  /** The current state's (a reload replaces them). */
  readonly config: Config;
  readonly sources: Sources;
  readonly catalog: Catalog;
  /** Always the current state's gateway: each call runs wholly on the state current when it starts. */
  readonly gateway: Gateway;
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
  readonly drift: DriftWatch;
  /** The shared Redis connection, when `redis.url` is set. */
  redis?: Redis;
  readonly state: RuntimeState;
  /** The sources of `config`; `reuse` names running ones to take over as they are (a reload). */
  sourcesFor(config: Config, reuse?: ReadonlySet<string>): Sources;
  /** The state of `config` over `sources`, on this runtime's shared services; `auth` when unchanged. */
  stateFor(config: Config, sources: Sources, auth?: Authenticator): RuntimeState;
  /** Makes `next` the current state in one step; returns the one it replaced. */
  swap(next: RuntimeState): RuntimeState;
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
  const breaker = opts.breaker ? { breaker: opts.breaker } : {};
  if (Object.values(config.services).some((s) => s.slo)) metrics.trackErrorBudgets(new ErrorBudgets(config, metrics.registry));
  // Loaded only when configured: the OpenTelemetry SDK is about 14 MiB of resident memory.
  const telemetry = config.telemetry ? new (await import('./ops/telemetry.js')).Telemetry(config.telemetry) : undefined;
  const tracing = telemetry ? { tracing: telemetry } : {};
  const audit = new Audit(config.audit, log, opts.auditSink ?? sinkFor(config, output));
  const exports = new ExportStore(opts.exports);
  const generations = new CacheGenerations(redis, log);
  await generations.start();
  const idempotency = new IdempotencyStore(redis, log);
  const shared = { cache, limiter, audit, metrics, log, exports, generations, idempotency };
  let state: RuntimeState;
  const sourcesFor = (cfg: Config, reuse?: ReadonlySet<string>): Sources =>
    new Sources(cfg, { metrics, ...breaker, ...tracing, ...(reuse ? { reuse: { from: state.sources, names: reuse } } : {}) });
  const stateFor = (cfg: Config, sources: Sources, auth = new Authenticator(cfg)): RuntimeState => {
    const catalog = new Catalog(cfg, sources);
    const gateway = new Gateway(cfg, catalog, { auth, ...shared, ...(telemetry ? { telemetry } : {}) });
    return { config: cfg, sources, catalog, gateway, drift: new DriftWatch(catalog, log, metrics), inFlight: new InFlight() };
  };
  const sources = sourcesFor(config);
  await sources.connect();
  state = stateFor(config, sources);
  sources.onReconnect((source) => void state.drift.recheck(`store "${source}" reconnected`));
  metrics.countAuditFailures(() => audit.failures);
  metrics.countAuditDrops(() => audit.dropped);
  metrics.countOutput(() => output);
  const gateway = currentGateway(() => state);
  return {
    get config() {
      return state.config;
    },
    get sources() {
      return state.sources;
    },
    get catalog() {
      return state.catalog;
    },
    gateway,
    get auth() {
      return state.gateway.auth;
    },
    set auth(replacement: Authenticator) {
      state.gateway.auth = replacement;
    },
    audit,
    log,
    output,
    metrics,
    ...(telemetry ? { telemetry } : {}),
    cache,
    limiter,
    get drift() {
      return state.drift;
    },
    ...(redis ? { redis } : {}),
    get state() {
      return state;
    },
    sourcesFor,
    stateFor,
    swap(next) {
      const replaced = state;
      state = next;
      return replaced;
    },
    /** Flushes the audit log, then closes the cache, the limiter, Redis and the store pools. */
    async close() {
      state.drift.stop();
      await audit.close();
      await Promise.allSettled([cache.close(), limiter.close(), generations.close()]);
      if (redis) await closeRedis(redis);
      await closeHubSessions(state.sources);
      await state.sources.close();
      await telemetry?.shutdown();
    },
  };
}

/**
 * Builds every view now, so problems show in the log at start rather than on a first request, and
 * returns the grants that do not fit the views (a config to refuse), as one message; '' when none.
 */
export async function warmViews(rt: Pick<Runtime, 'catalog' | 'gateway' | 'log'>): Promise<string> {
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
