// Plans kept per query text and caller (src/gateway/query-plans.ts): the same request text from
// callers of other tenants, by API key and by token, with and without the response cache, over
// REST and MCP, answers each caller its own rows every time, whichever caller asked first. The
// rows are checked against MariaDB.
import mysql from 'mysql2/promise';
import { beforeAll, describe, expect, it } from 'vitest';
import { get } from '../support/reference.js';
import { signHs256 } from '../support/jwt.js';
import { authYaml, referenceServer, type ApiKeys } from '../support/reference-server.js';

const SECRET = 'query-plans-secret-0123456789abcdef';
const GRANT = 'read: true, rowFilter: "tenant_id = {claims.tenant_id}", maxLimit: 100';
const KEYS: ApiKeys = {
  t1: { role: 'tenant', claims: '{ tenant_id: t1 }' },
  t2: { role: 'tenant', claims: '{ tenant_id: t2 }' },
  t1cached: { role: 'cached', claims: '{ tenant_id: t1 }' },
  t2cached: { role: 'cached', claims: '{ tenant_id: t2 }' },
};
const ctx = referenceServer(
  'query_plans',
  `
${authYaml(KEYS, SECRET, '    roleClaim: roles')}
roles:
  tenant:
    grants:
      crm.customers: { ${GRANT} }
  cached:
    grants:
      crm.customers: { ${GRANT}, cacheTtl: 30s }
`,
);

/** customer_id of each tenant's customers, from the store. */
const owned: Record<string, number[]> = {};
beforeAll(async () => {
  const db = await mysql.createConnection(ctx.stores.env.CRM_MYSQL_URL!);
  try {
    const [rows] = await db.query('SELECT customer_id, tenant_id FROM customers ORDER BY customer_id');
    for (const r of rows as { customer_id: number; tenant_id: string }[]) (owned[r.tenant_id] ??= []).push(r.customer_id);
  } finally {
    await db.end();
  }
  expect(owned.t1!.length).toBeGreaterThan(0);
  expect(owned.t2!.length).toBeGreaterThan(0);
});

type Caller = { tenant: 't1' | 't2'; headers: Record<string, string> };

async function callers(role: 'tenant' | 'cached'): Promise<Caller[]> {
  const suffix = role === 'cached' ? 'cached' : '';
  const token = async (tenant: string, sub: string) => `Bearer ${await signHs256(SECRET, { roles: [role], tenant_id: tenant }, { sub })}`;
  return [
    { tenant: 't1', headers: { 'X-API-Key': `key-t1${suffix}` } },
    { tenant: 't2', headers: { 'X-API-Key': `key-t2${suffix}` } },
    { tenant: 't1', headers: { Authorization: await token('t1', 'user-a') } },
    { tenant: 't2', headers: { Authorization: await token('t2', 'user-b') } },
  ];
}

describe.each(['tenant', 'cached'] as const)('one query text, callers of two tenants (role %s)', (role) => {
  it('lists each caller its own rows, every time', async () => {
    const path = '/api/v2/crm/_table/customers?fields=customer_id,tenant_id&order=customer_id';
    const all = await callers(role);
    for (let round = 0; round < 3; round++) {
      for (const c of round % 2 === 0 ? all : [...all].reverse()) {
        const res = await get(`${ctx.srv.url}${path}`, c.headers);
        expect(res.status).toBe(200);
        const rows = res.body.resource as { customer_id: number; tenant_id: string }[];
        expect(rows.map((r) => r.customer_id)).toEqual(owned[c.tenant]);
        expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set([c.tenant]));
      }
    }
  });

  it('reads a row by its key for its owner only, every time', async () => {
    const id = owned.t1![0]!;
    const all = await callers(role);
    for (let round = 0; round < 3; round++) {
      for (const c of all) {
        const res = await get(`${ctx.srv.url}/api/v2/crm/_table/customers/${id}?fields=customer_id,tenant_id`, c.headers);
        if (c.tenant === 't1') {
          expect(res.status).toBe(200);
          expect(res.body).toEqual({ customer_id: id, tenant_id: 't1' });
        } else {
          expect(res.status).toBe(404);
        }
      }
    }
  });

  it('answers query_view over MCP with each caller its own rows, every time', async () => {
    const all = await callers(role);
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'query_view', arguments: { view: 'crm.customers', fields: ['customer_id', 'tenant_id'], order: ['customer_id'] } },
    });
    for (let round = 0; round < 3; round++) {
      for (const c of all) {
        const res = await fetch(`${ctx.srv.url}/mcp`, {
          method: 'POST',
          headers: { ...c.headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
          body,
        });
        expect(res.status).toBe(200);
        const text = await res.text();
        const message = JSON.parse(text.slice(text.indexOf('{'), text.lastIndexOf('}') + 1));
        const rows = message.result.structuredContent.rows as { customer_id: number }[];
        expect(rows.map((r) => r.customer_id)).toEqual(owned[c.tenant]);
      }
    }
  });
});

describe('a query text that failed', () => {
  it('fails again the same way, and a caller who may not read the view is refused whatever another caller asked', async () => {
    const bad = '/api/v2/crm/_table/customers?filter=no_such_field%20%3D%201';
    for (let i = 0; i < 2; i++) {
      const res = await get(`${ctx.srv.url}${bad}`, { 'X-API-Key': 'key-t1' });
      expect(res.status).toBe(400);
      expect(res.text).toContain('no_such_field');
    }
    const ok = '/api/v2/crm/_table/customers?fields=customer_id';
    expect((await get(`${ctx.srv.url}${ok}`, { 'X-API-Key': 'key-t1' })).status).toBe(200);
    // Orders: no grant for these roles, whatever text was planned before.
    const other = '/api/v2/app/_table/orders?fields=customer_id';
    expect((await get(`${ctx.srv.url}${other}`, { 'X-API-Key': 'key-t1' })).status).toBe(404);
  });
});
