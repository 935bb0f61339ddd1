// Issue 11 items 2 and 3, over real HTTP and MCP on the reference stores:
// - a key column the caller may not read unmasked never sets the row order: ties are broken by a
//   keyed hash of the key (table services and embedded views), and pages concatenate to the whole;
// - the row budget is counted after the row filter on every side, and a 422 carries no per-store
//   counts: a tenant asking for another tenant's ids and for ids that do not exist gets
//   byte-identical answers.
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceStores, startServer, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { mcpClient, rest, tenancyConfig, type TenancyKey } from '../support/tenancy.js';

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('policy_order');
  srv = await startServer(tenancyConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

/** The documented derivation (docs/security.md): HMAC(HMAC(hashSecret, label), JSON [view, key as text]). */
function opaqueTag(viewId: string, key: (string | number)[]): string {
  const secret = createHmac('sha256', srv.rt.config.masking.hashSecret!).update('viewgate opaque row order').digest();
  return createHmac('sha256', secret)
    .update(JSON.stringify([viewId, ...key.map(String)]))
    .digest('hex');
}

const byTag = (viewId: string) => (a: number, b: number) => (opaqueTag(viewId, [a]) < opaqueTag(viewId, [b]) ? -1 : 1);

async function pages(path: string, params: Record<string, string>, who: TenancyKey, size: number): Promise<any[]> {
  const out: any[] = [];
  for (let offset = 0; ; offset += size) {
    const r = await rest(srv.url, path, { ...params, limit: String(size), offset: String(offset) }, who);
    expect(r.status, r.text).toBe(200);
    out.push(...r.body.resource);
    if (r.body.meta.next === undefined) return out;
    expect(r.body.meta.next).toBe(offset + size);
  }
}

describe('a hidden or masked key never sets the row order', () => {
  it('table service, masked key: rows follow the keyed-hash order, not the key; pages concatenate', async () => {
    const all = await rest(srv.url, '/crm/_table/customers', { fields: 'customer_id,full_name', limit: '100' }, 'internal');
    const idOf = new Map<string, number>(all.body.resource.map((r: any) => [r.full_name, r.customer_id]));
    const ids = [...idOf.values()];
    const expected = [...ids].sort(byTag('crm.customers'));
    // The data makes the two orders differ, so the test can tell them apart.
    expect(expected).not.toEqual([...ids].sort((a, b) => a - b));
    expect(expected).not.toEqual([...ids].sort((a, b) => b - a));

    const whole = await rest(srv.url, '/crm/_table/customers', { limit: '100', include_count: 'true' }, 't1masked');
    expect(whole.status, whole.text).toBe(200);
    expect(whole.body.meta.count).toBe(16);
    for (const r of whole.body.resource) expect(r.customer_id).toMatch(/^[0-9a-f]{64}$/); // masked
    expect(whole.body.resource.map((r: any) => idOf.get(r.full_name))).toEqual(expected);

    const paged = await pages('/crm/_table/customers', {}, 't1masked', 5);
    expect(paged).toEqual(whole.body.resource);
    expect(new Set(paged.map((r) => r.full_name)).size).toBe(16);
  });

  it('the client order still leads; only its ties are broken opaquely (hidden key)', async () => {
    const all = await rest(srv.url, '/crm/_table/customers', { fields: 'customer_id,full_name,tenant_id', limit: '100' }, 'internal');
    const expected = [...all.body.resource]
      .sort((a: any, b: any) =>
        a.tenant_id !== b.tenant_id ? (a.tenant_id < b.tenant_id ? -1 : 1) : byTag('crm.customers')(a.customer_id, b.customer_id),
      )
      .map((r: any) => r.full_name);
    const paged = await pages('/crm/_table/customers', { order: 'tenant_id' }, 'keyless', 4);
    expect(paged.map((r) => r.full_name)).toEqual(expected);
    expect(Object.keys(paged[0]).sort()).toEqual(['full_name', 'tenant_id']);
  });

  it('embedded view with rowSecurity, masked key: the keyed-hash order, on REST and MCP', async () => {
    const mine = await rest(
      srv.url,
      '/tenancy/_table/tenant_orders',
      { filter: "tenant_id = 't1'", fields: 'order_id,total_amount', limit: '100' },
      'internal',
    );
    const ids: number[] = mine.body.resource.map((r: any) => r.order_id);
    expect(ids.length).toBe(8);
    const expected = [...ids].sort(byTag('tenancy.tenant_orders'));
    expect(expected).not.toEqual([...ids].sort((a, b) => a - b));
    const amountOf = new Map(mine.body.resource.map((r: any) => [r.order_id, r.total_amount]));

    const paged = await pages('/tenancy/_table/tenant_orders', { fields: 'order_id,total_amount' }, 't1masked', 3);
    expect(paged.map((r) => r.total_amount)).toEqual(expected.map((id) => amountOf.get(id)));
    for (const r of paged) expect(r.order_id).toMatch(/^[0-9a-f]{64}$/);

    const client = await mcpClient(srv.url, 't1masked');
    try {
      const r = await client.callTool({
        name: 'query_view',
        arguments: { view: 'tenancy.tenant_orders', fields: ['order_id', 'total_amount'] },
      });
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as any).rows).toEqual(paged);
    } finally {
      await client.close();
    }
  });

  it('describe and OpenAPI do not name a hidden key, and offer no lookup by a key the caller cannot read', async () => {
    const schema = await rest(srv.url, '/crm/_schema/customers', {}, 'keyless');
    expect(schema.status, schema.text).toBe(200);
    expect(schema.body.key).toEqual([]);
    for (const who of ['keyless', 't1masked'] as const) {
      const doc = await rest(srv.url, '/openapi.json', {}, who);
      expect(doc.status, doc.text).toBe(200);
      const op = doc.body.paths['/api/v2/crm/_table/customers'].get;
      const order = op.parameters.find((p: any) => p.name === 'order');
      expect(order.description).toMatch(/opaque stable order/);
      expect(order.description).not.toMatch(/customer_id/);
      expect(op.parameters.some((p: any) => p.name === 'ids')).toBe(false);
      expect(doc.body.paths).not.toHaveProperty(['/api/v2/crm/_table/customers/{id}']);
    }
    const internal = await rest(srv.url, '/openapi.json', {}, 'internal');
    expect(internal.body.paths['/api/v2/crm/_table/customers'].get.parameters.find((p: any) => p.name === 'order').description).toMatch(
      /the key \(customer_id\) is appended/,
    );
  });

  it('more matching rows than the row budget is a 422 that says to narrow the query', async () => {
    // tenant_orders_tight has a row budget of 2; t1 has 8 orders.
    const r = await rest(srv.url, '/tenancy/_table/tenant_orders_tight', {}, 't1masked');
    expect(r.status).toBe(422);
    expect(r.body.error.context).not.toHaveProperty('fetched');
    // With the key hidden, the 422 names no hidden column (the engine's hint would suggest one).
    const hidden = await rest(srv.url, '/tenancy/_table/tenant_orders_tight', {}, 't1hidden');
    expect(hidden.status).toBe(422);
    expect(hidden.body.error.message).toMatch(/Narrow the query with a filter/);
    expect(hidden.text).not.toMatch(/order_id|customer_id/);
    // Not ordered opaquely either: a column the caller did not ask for is not suggested.
    const tenant = await rest(srv.url, '/tenancy/_table/tenant_orders_tight', { fields: 'total_amount' }, 't1');
    expect(tenant.status).toBe(422);
    expect(tenant.text).not.toMatch(/order_id|customer_id/);
  });
});

describe('the row budget does not tell one tenant about another', () => {
  const OTHER = ['1001', '1002', '1005']; // orders of t2's customers
  const NONE = ['9001', '9002', '9003'];

  for (const view of ['tenant_orders_tight', 'tenant_orders_small']) {
    it(`${view}: ids of another tenant and ids that do not exist answer byte for byte the same (REST)`, async () => {
      for (const params of [
        (ids: string[]) => ({ ids: ids.join(',') }),
        (ids: string[]) => ({ filter: `order_id in (${ids.join(', ')})`, include_count: 'true' }),
        (ids: string[]) => ({ filter: `order_id in (${ids.join(', ')}) or customer_id = 1`, order: 'total_amount desc' }),
      ]) {
        const other = await rest(srv.url, `/tenancy/_table/${view}`, params(OTHER), 't1');
        const none = await rest(srv.url, `/tenancy/_table/${view}`, params(NONE), 't1');
        expect(other.status).toBe(none.status);
        expect(other.text.replaceAll(/"requestId":"[^"]*"/g, '')).toBe(none.text.replaceAll(/"requestId":"[^"]*"/g, ''));
        if (other.status === 422) expect(other.body.error.context).not.toHaveProperty('fetched');
        else expect(other.body.resource).toEqual([]);
      }
    });

    it(`${view}: the same on MCP`, async () => {
      const client = await mcpClient(srv.url, 't1');
      try {
        const call = async (ids: string[]) =>
          client.callTool({ name: 'query_view', arguments: { view: `tenancy.${view}`, filter: `order_id in (${ids.join(', ')})` } });
        const other = await call(OTHER);
        const none = await call(NONE);
        expect(JSON.stringify(other)).toBe(JSON.stringify(none));
      } finally {
        await client.close();
      }
    });
  }

  it('the tight budget is a 422 and the small one answers (both outcomes are covered)', async () => {
    expect((await rest(srv.url, '/tenancy/_table/tenant_orders_tight', { ids: NONE.join(',') }, 't1')).status).toBe(422);
    expect((await rest(srv.url, '/tenancy/_table/tenant_orders_small', { ids: NONE.join(',') }, 't1')).status).toBe(200);
  });
});
