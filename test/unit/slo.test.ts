// Error budgets on a clock the test moves: what each burn-rate window counts, the budget left, the
// config keys (slo per service kind, telemetry), and the example alert rules: valid YAML naming
// only series viewgate exposes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { Metrics } from '../../src/ops/metrics.js';
import { ErrorBudgets } from '../../src/ops/slo.js';
import { tracesUrl } from '../../src/ops/telemetry.js';

const base = {
  sources: { db: { kind: 'postgres', url: 'postgres://u@db:5432/app' } },
  services: {
    app: { source: 'db', tables: ['orders'], slo: { availability: 99, latencyP95: '200ms' } },
    other: { source: 'db', tables: ['customers'] },
  },
  roles: { r: { grants: { '*': { read: true } } } },
};
const load = (doc: object) => parseConfig(stringify(doc), 'test.yaml', {});

function problems(doc: object): string[] {
  try {
    load(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

/** Metrics with error budgets on a clock the test sets (minutes). */
function budgets() {
  let minutes = 10_000;
  const metrics = new Metrics();
  metrics.trackErrorBudgets(new ErrorBudgets(load(base), metrics.registry, () => minutes * 60_000));
  return {
    metrics,
    at: (m: number) => (minutes = m),
    request: (view: string, status: number, ms = 10) => metrics.observeRequest('rest', 'query', view, status, ms / 1000),
    async value(name: string, labels: string): Promise<number | undefined> {
      const line = (await metrics.exposition()).split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
      return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
    },
  };
}

const burn = (objective: string, window: string) => `service="app",objective="${objective}",window="${window}"`;

describe('error budgets', () => {
  it('counts 5xx against availability and slow requests against latency, per window', async () => {
    const b = budgets();
    b.at(10_000);
    for (let i = 0; i < 8; i++) b.request('app.orders', 200);
    b.request('app.orders', 503);
    b.request('app.orders', 404, 500); // a refusal is no failure, but it was slow
    b.request('other.customers', 500); // no slo
    // 1 of 10 failed against 1% allowed: 10 times as fast as the budget allows.
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '5m'))).toBeCloseTo(10, 9);
    expect(await b.value('viewgate_slo_burn_rate', burn('latency', '5m'))).toBeCloseTo(0.1 / 0.05, 9);
    expect(await b.value('viewgate_slo_error_budget_remaining', 'service="app",objective="availability"')).toBeCloseTo(-9, 9);

    // 20 minutes later, 10 good requests: the first burst left the 5m window, not the 30m one.
    b.at(10_020);
    for (let i = 0; i < 10; i++) b.request('app.orders', 200);
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '5m'))).toBe(0);
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '30m'))).toBeCloseTo(5, 9);
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '6h'))).toBeCloseTo(5, 9);

    // Two hours on: only the 6h window still holds them.
    b.at(10_140);
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '1h'))).toBe(0);
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '6h'))).toBeCloseTo(5, 9);
    // Past six hours the failed request is out of every window: the budget is whole again.
    b.at(10_000 + 361);
    expect(await b.value('viewgate_slo_burn_rate', burn('availability', '6h'))).toBe(0);
    expect(await b.value('viewgate_slo_error_budget_remaining', 'service="app",objective="availability"')).toBe(1);
    // Counters keep everything, for budgets over longer periods in Prometheus.
    expect(await b.value('viewgate_slo_requests_total', 'service="app",objective="availability",outcome="bad"')).toBe(1);
    expect(await b.value('viewgate_slo_requests_total', 'service="app",objective="latency",outcome="bad"')).toBe(1);
    expect(await b.metrics.exposition()).not.toContain('service="other"');
  });

  it('takes slo on every kind of service and refuses an empty or out-of-range one', () => {
    const hub = { engine: 'hub', source: 'db', views: {}, slo: { availability: 99.5 } };
    const embedded = { views: {}, slo: { latencyP95: '1s' } };
    const c = load({ ...base, services: { ...base.services, hub, embedded } });
    expect(c.services.hub!.slo).toEqual({ availability: 99.5 });
    expect(c.services.embedded!.slo).toEqual({ latencyP95: 1000 });
    expect(c.services.app!.slo).toEqual({ availability: 99, latencyP95: 200 });
    expect(problems({ ...base, services: { app: { source: 'db', tables: ['t'], slo: {} } } }).join('\n')).toContain(
      'an slo names availability, latencyP95 or both',
    );
    expect(problems({ ...base, services: { app: { source: 'db', tables: ['t'], slo: { availability: 100 } } } })[0]).toMatch(
      /^services\.app\.slo\.availability/,
    );
    expect(problems({ ...base, services: { app: { source: 'db', tables: ['t'], slo: { availabilty: 99 } } } }).join('\n')).toContain(
      'availabilty',
    );
  });

  it('reads telemetry strictly, with defaults', () => {
    const c = load({ ...base, telemetry: { otlpEndpoint: 'http://collector:4318' } });
    expect(c.telemetry).toEqual({
      otlpEndpoint: 'http://collector:4318',
      serviceName: 'viewgate',
      headers: {},
      sampleRatio: 1,
      exportInterval: 5000,
    });
    expect(load(base).telemetry).toBeUndefined();
    expect(problems({ ...base, telemetry: { otlpEndpoint: 'http://c:4318', sampler: 'always' } }).join('\n')).toContain('sampler');
    expect(problems({ ...base, telemetry: { otlpEndpoint: 'not a url' } })[0]).toMatch(/^telemetry\.otlpEndpoint/);
    expect(tracesUrl('http://collector:4318')).toBe('http://collector:4318/v1/traces');
    expect(tracesUrl('https://otel.example.com/custom/traces')).toBe('https://otel.example.com/custom/traces');
  });
});

describe('examples/prometheus-alerts.yml', () => {
  const rules = parse(readFileSync(new URL('../../examples/prometheus-alerts.yml', import.meta.url), 'utf8')) as {
    groups: {
      name: string;
      rules: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[];
    }[];
  };

  it('is a Prometheus rule file whose alerts name only series viewgate exposes', async () => {
    const b = budgets();
    b.request('app.orders', 200);
    const exposition = await b.metrics.exposition();
    const all = rules.groups.flatMap((g) => g.rules);
    expect(all.length).toBeGreaterThanOrEqual(3);
    for (const rule of all) {
      expect(Object.keys(rule).sort()).toEqual(['alert', 'annotations', 'expr', 'for', 'labels'].filter((k) => k in rule).sort());
      expect(rule.alert).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
      expect(['page', 'ticket']).toContain(rule.labels.severity);
      expect(rule.for ?? '1m').toMatch(/^\d+[smh]$/);
      expect(rule.annotations.summary).toBeTruthy();
      const names = [...rule.expr.matchAll(/\b(viewgate_\w+)/g)].map((m) => m[1]!);
      expect(names.length).toBeGreaterThan(0);
      for (const name of names) expect(exposition).toContain(`\n${name}{`);
      for (const [, window] of rule.expr.matchAll(/window="([^"]+)"/g)) expect(exposition).toContain(`window="${window}"`);
    }
    // The multi-window pairs of the SRE workbook: each long window confirmed by a short one.
    const fast = all.find((r) => r.expr.includes('window="1h"'))!;
    expect(fast.expr).toContain('window="5m"');
    expect(fast.labels.severity).toBe('page');
  });
});
