// Error budgets over real HTTP: the crm service (MariaDB behind a TCP proxy this test stops) has an
// slo; a burst of 503s while its store is unreachable spends the availability budget, which
// /metrics shows as burn rates per window and the budget left. A service without an slo has no series.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { createReferenceStores, get, KEYS, referenceConfig, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { TcpProxy } from '../integration/ops-tcp-proxy.js';
import { fetchMetrics, startWith } from './ops-helpers.js';

let stores: ReferenceStores;
let proxy: TcpProxy;
let srv: RunningServer;
const internal = { 'X-API-Key': KEYS.internal };
const customers = () => get(`${srv.url}/api/v2/crm/_table/customers?limit=2`, internal);

beforeAll(async () => {
  stores = await createReferenceStores('slo');
  proxy = TcpProxy.forUrl(stores.env.CRM_MYSQL_URL!);
  await proxy.start();
  const env = { ...stores.env, CRM_MYSQL_URL: proxy.urlFor(stores.env.CRM_MYSQL_URL!) };
  const config = referenceConfig(env, (yaml) => {
    const doc = parseDocument(yaml);
    doc.setIn(['services', 'crm', 'slo'], { availability: 99.9, latencyP95: '200ms' });
    return doc.toString();
  });
  srv = await startWith(config, { breaker: { failures: 3, cooldownMs: 60_000 } });
});

afterAll(async () => {
  await srv?.close();
  await proxy?.stop();
  await stores?.drop();
});

/** The value of one series in the exposition, by its labels as written. */
function series(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('error budgets', () => {
  it('a burst of 5xx moves the burn rates and the budget left; a service without slo has none', async () => {
    const before = await (await fetchMetrics(srv.url)).text();
    expect(series(before, 'viewgate_slo_objective', 'service="crm",objective="availability"')).toBeCloseTo(0.999, 6);
    expect(series(before, 'viewgate_slo_objective', 'service="crm",objective="latency"')).toBeCloseTo(0.95, 6);
    expect(series(before, 'viewgate_slo_burn_rate', 'service="crm",objective="availability",window="1h"')).toBe(0);
    expect(series(before, 'viewgate_slo_error_budget_remaining', 'service="crm",objective="availability"')).toBe(1);

    for (let i = 0; i < 3; i++) expect((await customers()).status).toBe(200);
    const healthy = await (await fetchMetrics(srv.url)).text();
    expect(series(healthy, 'viewgate_slo_burn_rate', 'service="crm",objective="availability",window="5m"')).toBe(0);
    expect(series(healthy, 'viewgate_slo_requests_total', 'service="crm",objective="availability",outcome="good"')).toBe(3);

    await proxy.stop();
    for (let i = 0; i < 5; i++) expect((await customers()).status).toBe(503);
    // Another service's requests count for no budget.
    expect((await get(`${srv.url}/api/v2/app/_table/orders?limit=1`, internal)).status).toBe(200);

    const after = await (await fetchMetrics(srv.url)).text();
    expect(series(after, 'viewgate_slo_requests_total', 'service="crm",objective="availability",outcome="bad"')).toBe(5);
    // 5 of 8 requests failed, against an allowance of 0.1%: the budget burns 625 times as fast as it may.
    for (const window of ['5m', '30m', '1h', '6h']) {
      expect(series(after, 'viewgate_slo_burn_rate', `service="crm",objective="availability",window="${window}"`)).toBeCloseTo(625, 6);
    }
    expect(series(after, 'viewgate_slo_error_budget_remaining', 'service="crm",objective="availability"')).toBeCloseTo(-624, 6);
    // Latency: the slow share of the same 8 requests, against 5%.
    const slow = series(after, 'viewgate_slo_requests_total', 'service="crm",objective="latency",outcome="bad"') ?? 0;
    expect(series(after, 'viewgate_slo_burn_rate', 'service="crm",objective="latency",window="1h"')).toBeCloseTo(slow / 8 / 0.05, 6);
    expect(after).not.toMatch(/viewgate_slo_\w+\{service="app"/);
  });
});
