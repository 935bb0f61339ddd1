// rowSecurity on embedded views (issue 11 item 1): a mandatory row filter the gateway adds for every
// caller but the exempt roles, ANDed with the grant's row filter, on REST, MCP, the response cache,
// include_count and explain; a missing claim is a 403. Checked when the config loads, like row
// filters; keys of one engine written on another (materialize on an embedded view) are refused.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig, ConfigError } from '../../src/config/load.js';
import { warmViews } from '../../src/runtime.js';
import { createReferenceStores, REFERENCE_CONFIG, startServer, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { mcpClient, rest, tenancyConfig, tenancyYaml } from '../support/tenancy.js';

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('policy_rowsec');
  srv = await startServer(tenancyConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

const TENANT_OF: Record<number, string> = {
  1: 't2',
  2: 't3',
  3: 't1',
  4: 't2',
  5: 't3',
  6: 't1',
  7: 't2',
  8: 't3',
  9: 't1',
  10: 't2',
  11: 't3',
  12: 't1',
  13: 't2',
  14: 't3',
  15: 't1',
  16: 't2',
};
const customersOf = (t: string) =>
  Object.entries(TENANT_OF)
    .filter(([, x]) => x === t)
    .map(([id]) => Number(id));

describe('rowSecurity on an embedded view', () => {
  it('gives each tenant only its rows, with no row filter in the grant (REST)', async () => {
    for (const t of ['t1', 't2'] as const) {
      const r = await rest(srv.url, '/tenancy/_table/tenant_customers', { order: 'customer_id', include_count: 'true' }, t);
      expect(r.status, r.text).toBe(200);
      expect(r.body.resource.map((x: any) => x.customer_id)).toEqual(customersOf(t));
      expect(r.body.meta.count).toBe(customersOf(t).length);
    }
    const orders = await rest(srv.url, '/tenancy/_table/tenant_orders', { order: 'order_id' }, 't1');
    expect(orders.status, orders.text).toBe(200);
    expect(orders.body.resource.length).toBeGreaterThan(0);
    for (const o of orders.body.resource) expect(o.tenant_id).toBe('t1');
  });

  it('a client filter cannot widen it; ids of another tenant find nothing', async () => {
    const r = await rest(srv.url, '/tenancy/_table/tenant_customers', { filter: "tenant_id = 't2' or customer_id > 0" }, 't1');
    expect(r.status, r.text).toBe(200);
    for (const x of r.body.resource) expect(x.tenant_id).toBe('t1');
    const other = await rest(srv.url, '/tenancy/_table/tenant_customers/1', {}, 't1');
    expect(other.status).toBe(404);
  });

  it('exempt roles see every row; a role not exempt without the claim gets a 403', async () => {
    const all = await rest(srv.url, '/tenancy/_table/tenant_orders', { include_count: 'true', limit: '1' }, 'internal');
    expect(all.body.meta.count).toBe(18);
    // tenant_customers has no exemptRoles: even internal is bound, and lacks the claim.
    const internal = await rest(srv.url, '/tenancy/_table/tenant_customers', {}, 'internal');
    expect(internal.status).toBe(403);
    const missing = await rest(srv.url, '/tenancy/_table/tenant_customers', {}, 'noclaim');
    expect(missing.status).toBe(403);
    expect(missing.body.error.message).toMatch(/lacks claim "tenant_id"/);
  });

  it('is ANDed with the grant row filter', async () => {
    const r = await rest(srv.url, '/tenancy/_table/tenant_customers', { order: 'customer_id' }, 't1narrow');
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource.map((x: any) => x.customer_id)).toEqual(customersOf('t1').filter((c) => c > 6));
  });

  it('cached responses stay per tenant', async () => {
    const a = await rest(srv.url, '/tenancy/_table/tenant_customers', { order: 'customer_id' }, 't1cached');
    const b = await rest(srv.url, '/tenancy/_table/tenant_customers', { order: 'customer_id' }, 't2cached');
    const a2 = await rest(srv.url, '/tenancy/_table/tenant_customers', { order: 'customer_id' }, 't1cached');
    expect(a.body.resource.map((x: any) => x.customer_id)).toEqual(customersOf('t1'));
    expect(b.body.resource.map((x: any) => x.customer_id)).toEqual(customersOf('t2'));
    expect(a2.body).toEqual(a.body);
  });

  it('explain shows the rowSecurity predicate pushed into the store', async () => {
    const r = await rest(srv.url, '/tenancy/_table/tenant_orders', { explain: 'true' }, 't1explain');
    expect(r.status, r.text).toBe(200);
    const text = JSON.stringify(r.body);
    expect(text).toMatch(/tenant_id/);
    expect(text).toMatch(/driving: row filter/);
  });

  it('applies on MCP the same way', async () => {
    const client = await mcpClient(srv.url, 't1');
    try {
      const r = await client.callTool({ name: 'query_view', arguments: { view: 'tenancy.tenant_customers', order: 'customer_id' } });
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as any).rows.map((x: any) => x.customer_id)).toEqual(customersOf('t1'));
    } finally {
      await client.close();
    }
    const none = await mcpClient(srv.url, 'noclaim');
    try {
      const r = await none.callTool({ name: 'query_view', arguments: { view: 'tenancy.tenant_customers' } });
      expect(r.isError).toBe(true);
      expect(JSON.stringify(r.content)).toMatch(/403/);
    } finally {
      await none.close();
    }
  });
});

describe('configuration', () => {
  const base = readFileSync(REFERENCE_CONFIG, 'utf8');
  const load = (yaml: string) => {
    try {
      parseConfig(yaml, REFERENCE_CONFIG, { ...process.env, ...stores.env });
      return undefined;
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
  };

  it('refuses materialize on an embedded view, pointing to engine: hub', () => {
    const msg = load(
      tenancyYaml(base).replace('        rowBudget: 2\n', '        rowBudget: 2\n        materialize: { refresh: "* * * * *" }\n'),
    );
    expect(msg).toMatch(/services\.tenancy\.views\.tenant_orders_tight\.materialize/);
    expect(msg).toMatch(/engine: hub/);
  });

  it('refuses keys of the hub on an embedded service and of the embedded engine on a hub view', () => {
    expect(
      load(
        tenancyYaml(base).replace(
          '    engine: embedded\n    views:\n      tenant_orders:',
          '    engine: embedded\n    source: app\n    views:\n      tenant_orders:',
        ),
      ),
    ).toMatch(/services\.tenancy\.source.*: .*engine: hub/);
    const hub = `
  hubsvc:
    engine: hub
    source: app
    views:
      v:
        rowBudget: 10
        sql: SELECT 1 AS x
`;
    expect(load(tenancyYaml(base, hub))).toMatch(/services\.hubsvc\.views\.v\.rowBudget.*: .*remove it/);
    expect(load(tenancyYaml(base, '\n  bad:\n    engine: federated\n    views: {}\n'))).toMatch(
      /services\.bad\.engine.*: engine is "embedded" or "hub"/,
    );
  });

  it('a rowSecurity naming a column the view does not output is refused at start and the view is not served', async () => {
    const yaml = tenancyYaml(base).replace('rowSecurity: "tenant_id = {claims.tenant_id}"', 'rowSecurity: "is_active = true"');
    const cfg = parseConfig(yaml, REFERENCE_CONFIG, { ...process.env, ...stores.env });
    const s = await startServer(cfg);
    try {
      expect(await warmViews(s.rt)).toMatch(
        /services\.tenancy\.views\.tenant_customers\.rowSecurity: names "is_active", which view "tenancy\.tenant_customers" does not output/,
      );
      const r = await rest(s.url, '/tenancy/_table/tenant_customers', {}, 't1');
      expect(r.status).toBe(500);
      expect(r.body.error.message).toMatch(/not served/);
    } finally {
      await s.close();
    }
  });
});
