// GET /admin/api/overview (docs/console.md, "JSON API"): each store's health and the time one ping
// took, the last hour's request and error rates and latency percentiles (the process's own
// series, src/ops/request-series.ts), the cache hit ratio, materialized view refreshes and the
// views out of contract.
import type { Runtime } from '../runtime.js';
import { operatorDetail } from '../errors.js';
import { redactUrl } from '../ops/logger.js';

export interface StoreHealth {
  name: string;
  kind: string;
  status: 'up' | 'down';
  latencyMs: number;
}

export async function overview(rt: Runtime, requestId: string) {
  const [stores, counters] = await Promise.all([storeHealth(rt, requestId), rt.metrics.snapshot()]);
  const series = rt.metrics.series.points();
  const requests = series.reduce((n, p) => n + p.requests, 0);
  const errors = series.reduce((n, p) => n + p.errors, 0);
  const lookups = counters.cacheHits + counters.cacheMisses;
  return {
    stores,
    requestRate: round(requests / 60),
    errorRate: requests === 0 ? 0 : round(errors / requests),
    cacheHitRatio: lookups === 0 ? null : round(counters.cacheHits / lookups),
    refreshes: counters.refreshes,
    outOfContract: rt.catalog.outOfContract(),
    series,
  };
}

async function storeHealth(rt: Runtime, requestId: string): Promise<StoreHealth[]> {
  const all = await Promise.all(
    rt.sources.all().map(async (s): Promise<StoreHealth> => {
      const started = performance.now();
      let status: StoreHealth['status'] = 'up';
      try {
        await s.ping();
      } catch (err) {
        status = 'down';
        rt.log.warn({ requestId, source: s.name, kind: s.kind, err: redactUrl(operatorDetail(err)) }, 'console overview: source is down');
      }
      return { name: s.name, kind: s.kind, status, latencyMs: round(performance.now() - started) };
    }),
  );
  return all.sort((a, b) => a.name.localeCompare(b.name));
}

const round = (n: number) => Math.round(n * 1000) / 1000;
