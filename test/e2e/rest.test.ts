// The REST surface over real HTTP on the reference scenario (MariaDB, PostgreSQL, FerretDB).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReferenceStores,
  get,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import pg from 'pg';
import { checkViews } from '../../src/gateway/checked-views.js';

let stores: ReferenceStores;
let srv: RunningServer;
const api = (path: string) => `${srv.url}/api/v2${path}`;
const internal = { 'X-API-Key': KEYS.internal };
const partner = { 'X-API-Key': KEYS.partner };
const llm = { 'X-API-Key': KEYS.llm };

beforeAll(async () => {
  stores = await createReferenceStores('rest');
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

describe('listing and schema', () => {
  it('lists the tables of a service the caller may read', async () => {
    const r = await get(api('/crm/_table'), internal);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resource: [{ name: 'customers', description: 'Customers from the CRM (MySQL).' }] });
  });

  it('hides services the caller may not read (404, not 403)', async () => {
    const r = await get(api('/app/_table'), partner);
    expect(r.status).toBe(404);
    expect(r.body.error.code).toBe(404);
  });

  it('describes a view as the caller sees it', async () => {
    const full = await get(api('/crm/_schema/customers'), internal);
    expect(full.status).toBe(200);
    expect(full.body.key).toEqual(['customer_id']);
    expect(full.body.fields.map((f: any) => [f.name, f.type])).toEqual([
      ['customer_id', 'int'],
      ['tenant_id', 'text'],
      ['email', 'text'],
      ['full_name', 'text'],
      ['is_active', 'bool'],
      ['created_at', 'timestamptz'],
    ]);
    const masked = await get(api('/crm/_schema/customers'), partner);
    expect(masked.body.fields.find((f: any) => f.name === 'email')).toMatchObject({ masked: true, filterable: false });
    expect(masked.body.fields.map((f: any) => f.name)).not.toContain('is_active');
    const list = await get(api('/crm/_schema'), llm);
    expect(list.body).toEqual({ resource: [{ name: 'customers', description: 'Customers from the CRM (MySQL).' }] });
  });
});

describe('querying', () => {
  it('returns rows with the DreamFactory envelope, count and next', async () => {
    const r = await get(api('/crm/_table/customers?fields=customer_id,tenant_id&order=customer_id&limit=5&include_count=true'), internal);
    expect(r.status).toBe(200);
    expect(r.body.resource).toHaveLength(5);
    expect(r.body.resource[0]).toEqual({ customer_id: 1, tenant_id: 't2' });
    expect(r.body.meta).toEqual({ count: 16, next: 5, next_cursor: expect.any(String) });
    const last = await get(api('/crm/_table/customers?fields=customer_id&order=customer_id&limit=5&offset=15'), internal);
    expect(last.body).toEqual({ resource: [{ customer_id: 16 }], meta: {} });
  });

  it('pages concatenate to the whole ordered result', async () => {
    const all = await get(api('/app/_table/orders?order=total_amount desc&limit=1000'), internal);
    const pages: unknown[] = [];
    for (let offset = 0; ; offset += 4) {
      const p = await get(api(`/app/_table/orders?order=total_amount desc&limit=4&offset=${offset}`), internal);
      pages.push(...p.body.resource);
      if (p.body.meta.next === undefined) break;
      expect(p.body.meta.next).toBe(offset + 4);
    }
    expect(pages).toEqual(all.body.resource);
  });

  it('filters with the grammar in every store and matches PostgreSQL on the same data', async () => {
    const r = await get(
      api(`/app/_table/orders?filter=${encodeURIComponent("total_amount >= 100 and status in ('paid','shipped')")}&order=order_id`),
      internal,
    );
    expect(r.status).toBe(200);
    const c = new pg.Client({ connectionString: stores.env.APP_PG_URL });
    await c.connect();
    const oracle = await c.query(
      "SELECT order_id::int AS order_id FROM orders WHERE total_amount >= 100 AND status IN ('paid','shipped') ORDER BY order_id",
    );
    await c.end();
    expect(r.body.resource.map((o: any) => o.order_id)).toEqual(oracle.rows.map((o) => o.order_id));
    expect(typeof r.body.resource[0].total_amount).toBe('string');

    const ev = await get(
      api(
        `/analytics/_table/events?filter=${encodeURIComponent("sku = 'SKU-RED-1' and event_type != 'view'")}&fields=_id,sku,event_type,ts`,
      ),
      internal,
    );
    expect(ev.status).toBe(200);
    expect(ev.body.resource.length).toBeGreaterThan(0);
    for (const e of ev.body.resource) {
      expect(e.sku).toBe('SKU-RED-1');
      expect(e.event_type).not.toBe('view');
      expect(e._id).toMatch(/^[0-9a-f]{24}$/);
      expect(e.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    }
  });

  it('reads one row by key, and 404s a missing one', async () => {
    const r = await get(api('/crm/_table/customers/3'), internal);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ customer_id: 3, is_active: true });
    expect(r.body.created_at).toMatch(/Z$/);
    const missing = await get(api('/crm/_table/customers/999'), internal);
    expect(missing.status).toBe(404);
    const bad = await get(api('/crm/_table/customers/abc'), internal);
    expect(bad.status).toBe(400);
  });

  it('gives a strong ETag and honours If-None-Match', async () => {
    const first = await get(api('/crm/_table/customers?limit=2'), internal);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(api('/crm/_table/customers?limit=2'), { headers: { ...internal, 'If-None-Match': etag! } });
    expect(again.status).toBe(304);
  });
});

describe('policy through the one pipeline', () => {
  it('masks e-mails and keeps a partner to its own tenant', async () => {
    const r = await get(api('/crm/_table/customers?include_count=true'), partner);
    expect(r.status).toBe(200);
    expect(r.body.resource.length).toBeGreaterThan(0);
    for (const row of r.body.resource) {
      expect(row.tenant_id).toBe('t2');
      expect(row.email).toMatch(/^.\*\*\*@example\.\w+$/);
    }
    expect(r.body.meta.count).toBe(r.body.resource.length);
    // A client filter cannot widen the row filter.
    const widen = await get(api(`/crm/_table/customers?filter=${encodeURIComponent("tenant_id = 't1' or customer_id > 0")}`), partner);
    expect(widen.body.resource.every((row: any) => row.tenant_id === 't2')).toBe(true);
    // Another tenant's row by id is a 404.
    const t1row = await get(api('/crm/_table/customers/3'), partner);
    expect(t1row.status).toBe(404);
  });

  it('refuses masked and hidden fields in filter, order and fields', async () => {
    const f = await get(api(`/crm/_table/customers?filter=${encodeURIComponent("email like 'a%'")}`), partner);
    expect(f.status).toBe(400);
    expect(f.body.error.message).toContain('masked');
    const o = await get(api('/crm/_table/customers?order=email'), partner);
    expect(o.status).toBe(400);
    const hidden = await get(api('/crm/_table/customers?fields=email'), llm);
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message).toContain('unknown field "email"');
    const hiddenFilter = await get(api(`/crm/_table/customers?filter=${encodeURIComponent("tenant_id = 't2'")}`), llm);
    expect(hiddenFilter.status).toBe(400);
    expect(hiddenFilter.body.error.message).toContain('unknown field "tenant_id"');
  });

  it('clamps the limit to the grant', async () => {
    const r = await get(api('/crm/_table/customers?limit=5000'), llm);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.resource[0]).sort()).toEqual(['customer_id', 'full_name', 'is_active']);
  });

  it('does not show ungranted views (404)', async () => {
    const r = await get(api('/app/_table/orders'), partner);
    expect(r.status).toBe(404);
    const nope = await get(api('/nope/_table/x'), internal);
    expect(nope.status).toBe(404);
  });
});

describe('errors', () => {
  it('401 without or with a wrong credential, with WWW-Authenticate', async () => {
    const none = await get(api('/crm/_table/customers'));
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const wrong = await get(api('/crm/_table/customers'), { 'X-API-Key': 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.message).toContain('API key');
  });

  it('accepts the DreamFactory key header', async () => {
    const r = await get(api('/crm/_table/customers?limit=1'), { 'X-DreamFactory-API-Key': KEYS.internal });
    expect(r.status).toBe(200);
  });

  it('400 for a malformed filter, with parameter and position', async () => {
    const r = await get(api(`/crm/_table/customers?filter=${encodeURIComponent('customer_id = = 3')}`), internal);
    expect(r.status).toBe(400);
    expect(r.body.error.context.param).toBe('filter');
    expect(typeof r.body.error.context.position).toBe('number');
    const nul = await get(api(`/crm/_table/customers?filter=${encodeURIComponent('email = null')}`), internal);
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toContain('is null');
    const type = await get(api(`/crm/_table/customers?filter=${encodeURIComponent("customer_id = 'x'")}`), internal);
    expect(type.status).toBe(400);
  });

  it('400 for bad paging parameters and unknown fields', async () => {
    for (const qs of ['limit=abc', 'limit=-1', 'offset=1.5', 'fields=nope', 'order=customer_id sideways']) {
      const r = await get(api(`/crm/_table/customers?${qs}`), internal);
      expect(r.status, qs).toBe(400);
      expect(r.body.error.code).toBe(400);
      expect(r.text).not.toContain('    at ');
    }
  });
});

describe('health and audit', () => {
  it('/healthz and /readyz report the process and every source', async () => {
    expect((await get(`${srv.url}/healthz`)).status).toBe(200);
    const ready = await get(`${srv.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });
  });

  it('writes one audit record per request, denials included', async () => {
    const before = srv.audit.records.length;
    await get(api('/crm/_table/customers?limit=1'), partner);
    await get(api('/crm/_table/customers'));
    const recs = srv.audit.records.slice(before);
    expect(recs).toHaveLength(2);
    expect(recs[0]).toMatchObject({
      surface: 'rest',
      keyName: 'partner-t2',
      role: 'external',
      view: 'crm.customers',
      decision: 'allow',
      status: 200,
      rowCount: 1,
    });
    expect(recs[1]).toMatchObject({ decision: 'deny', status: 401 });
  });
});

describe('the reference federated view (MariaDB customers, PostgreSQL orders, FerretDB events)', () => {
  const view = '/federation/_table/unified_customer_activity';

  it('internal tools read every field; one customer joins across the three stores', async () => {
    const r = await get(api(`${view}?filter=${encodeURIComponent('customer_id = 4')}&limit=1000&include_count=true`), internal);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.resource[0]).sort()).toEqual(
      ['customer_id', 'email', 'event_id', 'event_ts', 'event_type', 'order_id', 'tenant_id', 'total_amount'].sort(),
    );
    expect(r.body.meta.count).toBe(r.body.resource.length);
    // The same answer PostgreSQL gives for the same data: orders x events of customer 4.
    const orders = (await get(api(`/app/_table/orders?filter=${encodeURIComponent('customer_id = 4')}&limit=1000`), internal)).body
      .resource;
    const events = (await get(api(`/analytics/_table/events?filter=${encodeURIComponent("user_id = '4'")}&limit=1000`), internal)).body
      .resource;
    expect(r.body.resource).toHaveLength(Math.max(orders.length, 1) * Math.max(events.length, 1));
    for (const row of r.body.resource) {
      expect(row.customer_id).toBe(4);
      expect(row.email).toMatch(/@/);
    }
  });

  it('a partner sees only its tenant, with masked e-mails, and cannot widen the row filter', async () => {
    const r = await get(api(`${view}?limit=100&filter=${encodeURIComponent("tenant_id = 't1' or customer_id > 0")}`), partner);
    expect(r.status).toBe(200);
    expect(r.body.resource.length).toBeGreaterThan(0);
    for (const row of r.body.resource) {
      expect(row.tenant_id).toBe('t2');
      expect(row.email).toMatch(/^.\*\*\*@/);
    }
    const masked = await get(api(`${view}?filter=${encodeURIComponent("email = 'x'")}`), partner);
    expect(masked.status).toBe(400);
  });

  it('the llm role reads its narrow slice of its own tenant', async () => {
    const r = await get(api(`${view}?limit=50`), llm);
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.resource[0]).sort()).toEqual(['customer_id', 'event_ts', 'event_type', 'order_id', 'total_amount']);
    const all = (await get(api(`${view}?limit=1000&filter=${encodeURIComponent("tenant_id = 't1'")}&fields=customer_id`), internal)).body
      .resource;
    const mine = new Set(all.map((x: any) => x.customer_id));
    for (const row of r.body.resource) expect(mine.has(row.customer_id)).toBe(true);
  });

  it('explain=true shows the plan and the native queries to roles allowed to explain', async () => {
    const r = await get(api(`${view}?filter=${encodeURIComponent('customer_id = 4')}&explain=true`), internal);
    expect(r.status).toBe(200);
    const sources = new Set(r.body.explain.queries.map((q: any) => q.source));
    expect([...sources].sort()).toEqual(['analytics', 'app', 'crm']);
    const denied = await get(api(`${view}?explain=true`), partner);
    expect(denied.status).toBe(403);
  });
});

describe('a grant that does not fit its view', () => {
  it('refuses the view when it is first built, also after start-up, instead of failing per request', async () => {
    const bad = await startServer(
      referenceConfig(stores.env, (y) =>
        y.replace(
          'fields: [customer_id, full_name, is_active]\n        rowFilter: "tenant_id',
          'fields: [customer_id, full_name, is_active]\n        rowFilter: "tenant',
        ),
      ),
    );
    try {
      const r = await get(`${bad.url}/api/v2/crm/_table/customers`, internal);
      expect(r.status).toBe(500);
      expect(r.body.error.message).toContain('viewgate check');
      const entries = await checkViews(bad.rt.catalog, bad.rt.gateway.policy);
      const customers = entries.find((e) => e.id === 'crm.customers')!;
      expect(customers.policy?.map((p) => p.path)).toEqual(['roles.llm.grants.crm.customers.rowFilter']);
      // Other views are unaffected.
      expect((await get(`${bad.url}/api/v2/app/_table/orders?limit=1`, internal)).status).toBe(200);
    } finally {
      await bad.close();
    }
  });
});
