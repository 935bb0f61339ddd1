// The console's JSON API over real HTTP, signed in through the real OpenID Connect provider or
// with an admin API key: overview, views, roles, check, the simulator (the external role sees
// masked e-mails and only its tenant's rows, exactly as the gateway answers it; audited with both
// identities) and the search of the PostgreSQL audit sink.
import { beforeAll, afterAll, describe, expect, it } from 'vitest';
import { referenceStores } from '../support/reference-server.js';
import { ADMIN_KEY, signIn, startAdminScenario, type AdminScenario } from '../support/admin-console.js';
import type { CookieJar } from '../support/admin-console.js';
import { KEYS } from '../support/reference.js';
import { waitFor } from '../support/wait.js';
import { Validator } from '@seriousme/openapi-schema-validator';
import { SignJWT } from 'jose';

const ref = referenceStores('adminapi');
let s: AdminScenario;
let jar: CookieJar;
let csrf: string;
const VIEW = 'federation.unified_customer_activity';

beforeAll(async () => {
  s = await startAdminScenario(ref.stores.env, {
    edit: (doc) => doc.setIn(['audit'], doc.createNode({ sink: 'postgres', source: 'app' })),
    runtime: { auditSink: undefined },
  });
  ({ jar } = await signIn(s.srv.url, 'alice'));
  csrf = ((await (await jar.fetch(`${s.srv.url}/admin/api/session`)).json()) as { csrfToken: string }).csrfToken;
});
afterAll(async () => {
  await s?.close();
});

async function api(path: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await jar.fetch(`${s.srv.url}${path}`, init);
  return { status: res.status, body: await res.json() };
}

const keyed = async (path: string) => {
  const res = await fetch(`${s.srv.url}${path}`, { headers: { 'X-API-Key': ADMIN_KEY } });
  return { status: res.status, body: (await res.json()) as any };
};

function simulate(body: unknown, headers: Record<string, string> = { 'X-CSRF-Token': csrf }) {
  return api('/admin/api/simulate', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
}

describe('overview', () => {
  it('each store with its health and latency, and the last hour per minute with this request counted', async () => {
    const minuteOf = (ms: number) => Math.floor(ms / 60_000) * 60_000;
    const asked = minuteOf(Date.now());
    const served = await fetch(`${s.srv.url}/api/v2/crm/_table/customers?limit=1`, { headers: { 'X-API-Key': KEYS.internal } });
    expect(served.status).toBe(200);
    const answered = minuteOf(Date.now());
    const { status, body } = await keyed('/admin/api/overview');
    expect(status).toBe(200);
    expect(body.stores).toEqual([
      { name: 'analytics', kind: 'mongodb', status: 'up', latencyMs: expect.any(Number) },
      { name: 'app', kind: 'postgres', status: 'up', latencyMs: expect.any(Number) },
      { name: 'crm', kind: 'mysql', status: 'up', latencyMs: expect.any(Number) },
    ]);
    expect(body.series).toHaveLength(60);
    // The request is counted in the minute it ended: the last one, or the one before when a
    // minute began before the overview was read.
    const during = (body.series as { t: string; requests: number; p50: number | null }[]).filter((m) => {
      const t = Date.parse(m.t);
      return t >= asked && t <= answered && m.requests >= 1;
    });
    expect(during.length).toBeGreaterThanOrEqual(1);
    expect(during.at(-1)!.p50).toBeGreaterThan(0);
    expect(body.requestRate).toBeGreaterThan(0);
    expect(body.outOfContract).toEqual([]);
    expect(body).toHaveProperty('cacheHitRatio');
    expect(body).toHaveProperty('refreshes');
    expect(body).toHaveProperty('errorRate');
  });
});

describe('views, roles and check', () => {
  it('views: columns with lineage, key, engine, SQL and a sample explain with its native queries', async () => {
    const { status, body } = await keyed('/admin/api/views');
    expect(status).toBe(200);
    const v = body.views.find((x: { id: string }) => x.id === VIEW);
    expect(v).toMatchObject({
      service: 'federation',
      name: 'unified_customer_activity',
      engine: 'embedded',
      key: ['customer_id', 'order_id', 'event_id'],
    });
    expect(v.sql).toContain('LEFT JOIN app.orders');
    expect(v.columns.find((c: { name: string }) => c.name === 'email').lineage).toEqual(['crm.customers.email']);
    expect(v.explain.queries.map((q: { source: string }) => q.source).sort()).toEqual(expect.arrayContaining(['crm']));
    expect(v.explain.returned).toBeLessThanOrEqual(5);
    const table = body.views.find((x: { id: string }) => x.id === 'crm.customers');
    expect(table.engine).toBe('table');
  });

  it('roles: the external role masks e-mails, filters rows by tenant and has its limits; internal sees all', async () => {
    const { status, body } = await keyed('/admin/api/roles');
    expect(status).toBe(200);
    const external = body.roles.find((r: { role: string }) => r.role === 'external');
    const cell = external.views[VIEW];
    expect(cell.masks).toEqual({ email: 'email' });
    expect(cell.rowFilter).toBe('tenant_id = {claims.tenant_id}');
    expect(cell.limits.maxLimit).toBe(100);
    expect(cell.columns.find((c: { name: string }) => c.name === 'email')).toMatchObject({ masked: true, filterable: false });
    expect(cell.rights).toMatchObject({ read: true, aggregate: true });
    expect(external.views['crm.customers'].fields).toEqual(['customer_id', 'tenant_id', 'email', 'full_name', 'created_at']);
    expect(external.views['app.orders']).toBeUndefined();
    const internal = body.roles.find((r: { role: string }) => r.role === 'internal');
    expect(Object.keys(internal.views)).toEqual(expect.arrayContaining([VIEW, 'crm.customers']));
  });

  it('check: viewgate check as data, and contract check saying why it has no contract file', async () => {
    const { status, body } = await keyed('/admin/api/check');
    expect(status).toBe(200);
    expect(body.check.ok).toBe(true);
    expect(body.check.lines.some((l: string) => l.startsWith('view    ok    federation.unified_customer_activity'))).toBe(true);
    expect(body.contract.unreadable).toContain('viewgate contract snapshot');
    // The file is named as the server's working directory sees it: no path of the installation.
    expect(body.contract.contract).toBe('viewgate.contract.json');
    expect(JSON.stringify(body)).not.toContain(process.cwd());
  });
});

/** A token of the reference scenario's JWT issuer: role external, tenant t1. */
function partnerToken(subject: string): Promise<string> {
  return new SignJWT({ roles: ['external'], tenant_id: 't1' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('viewgate-demo')
    .setAudience('viewgate')
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode('demo-jwt-secret-change-me-0123456789abcdef'));
}

describe('simulator', () => {
  it('is for a signed-in person: an admin API key gets 403 saying so', async () => {
    const res = await fetch(`${s.srv.url}/admin/api/simulate`, {
      method: 'POST',
      headers: { 'X-API-Key': ADMIN_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'external', claims: { tenant_id: 't2' } }),
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain('signed-in person');
  });

  it('refuses a POST without the CSRF token, or with a wrong one, and runs nothing', async () => {
    const before = (await keyed(`/admin/api/audit?view=${VIEW}&role=external`)).body.records.length;
    expect((await simulate({ role: 'external', claims: { tenant_id: 't1' }, view: VIEW }, {})).status).toBe(403);
    expect((await simulate({ role: 'external', claims: { tenant_id: 't1' }, view: VIEW }, { 'X-CSRF-Token': 'nope' })).status).toBe(403);
    // Nothing ran as the simulated caller: no record of it appears (give the audit batch time to land).
    await new Promise((r) => setTimeout(r, 500));
    expect((await keyed(`/admin/api/audit?view=${VIEW}&role=external`)).body.records.length).toBe(before);
  });

  it('the external role of tenant t2: masked e-mails, only t2 rows, its tools and their size', async () => {
    const { status, body } = await simulate({ role: 'external', claims: { tenant_id: 't2' }, view: VIEW, query: { limit: '100' } });
    expect(status).toBe(200);
    expect(body.rows.status).toBe(200);
    const rows = body.rows.body.resource as { tenant_id: string; email: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set(['t2']));
    for (const r of rows) expect(r.email).toMatch(/^.\*\*\*@/);
    expect(body.schema.map((d: { id: string }) => d.id).sort()).toEqual(['crm.customers', VIEW]);
    const described = body.schema.find((d: { id: string }) => d.id === VIEW);
    expect(described.columns.find((c: { name: string }) => c.name === 'email')).toMatchObject({ masked: true });
    const names = body.tools.map((t: { name: string }) => t.name);
    expect(names).toEqual(expect.arrayContaining(['list_views', 'describe_view', 'query_view']));
    expect(names).not.toContain('query_sql');
    expect(body.toolsTokens).toBe(Math.ceil(JSON.stringify({ tools: body.tools }).length / 4));
    // The same answer as the gateway gives a real external caller of tenant t2 (the partner key).
    const real = await fetch(`${s.srv.url}/api/v2/federation/_table/unified_customer_activity?limit=100`, {
      headers: { 'X-API-Key': KEYS.partner },
    });
    expect(((await real.json()) as { resource: unknown[] }).resource).toEqual(rows);
  });

  it('is audited with the simulated identity and the person who ran it', async () => {
    const { status } = await simulate({ role: 'external', claims: { tenant_id: 't2' }, view: VIEW, query: { limit: '3' } });
    expect(status).toBe(200);
    const found = await waitFor(async () => {
      const { body } = await keyed(`/admin/api/audit?role=external&view=${VIEW}&limit=20`);
      return (body.records as { simulatedBy?: string; subject: string }[]).find((r) => r.simulatedBy);
    });
    expect(found).toMatchObject({
      subject: 'simulated:external',
      role: 'external',
      decision: 'allow',
      simulatedBy: `jwt:${s.idp.issuer}|alice`,
    });
    // The console request itself is recorded as the simulated caller, run by the admin.
    const own = await waitFor(async () => {
      const { body } = await keyed(`/admin/api/audit?subject=simulated:external&limit=50`);
      return (body.records as { action: string }[]).find((r) => r.action === 'admin POST /admin/api/simulate');
    });
    expect(own).toMatchObject({ role: 'external', simulatedBy: `jwt:${s.idp.issuer}|alice`, status: 200 });
  });

  it('a simulation that reads no rows (schema and tools of a pasted token) is audited with both identities too', async () => {
    const token = await partnerToken('audited-partner');
    const { status, body } = await simulate({ token });
    expect(status).toBe(200);
    expect(body.rows).toBeNull();
    const found = await waitFor(async () => {
      const { body } = await keyed(`/admin/api/audit?subject=audited-partner&limit=20`);
      return (body.records as { action: string }[]).find((r) => r.action === 'admin POST /admin/api/simulate');
    });
    expect(found).toMatchObject({ role: 'external', simulatedBy: `jwt:${s.idp.issuer}|alice`, decision: 'allow' });
  });

  it('a pasted token: the identity the server would give it, and only its tenant rows; a bad token is a 400 saying why', async () => {
    const token = await partnerToken('partner-user');
    const { status, body } = await simulate({ token, view: VIEW, query: { limit: '100' } });
    expect(status).toBe(200);
    expect(body.identity).toMatchObject({ subject: 'partner-user', role: 'external' });
    const rows = body.rows.body.resource as { tenant_id: string; email: string }[];
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.tenant_id))).toEqual(new Set(['t1']));
    const bad = await simulate({ token: token.slice(0, -3) + 'abc' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('the pasted token would be refused');
  });

  it('a missing claim denies as usual (403 in rows), an unknown role is a 400', async () => {
    const missing = await simulate({ role: 'external', view: VIEW });
    expect(missing.status).toBe(200);
    expect(missing.body.rows.status).toBe(403);
    const unknown = await simulate({ role: 'nobody' });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.message).toContain('unknown role "nobody"');
    const both = await simulate({ role: 'external', token: 'a.b.c' });
    expect(both.status).toBe(400);
  });

  it('governed SQL: the internal role answers; the llm role, whose grant has no sql right, gets the 403 naming the view', async () => {
    const { body } = await simulate({ role: 'internal', sql: `SELECT customer_id, tenant_id FROM ${VIEW} WHERE tenant_id = 't1' LIMIT 5` });
    expect(body.rows.status).toBe(200);
    expect(body.rows.body.resource.length).toBeGreaterThan(0);
    expect(new Set(body.rows.body.resource.map((r: { tenant_id: string }) => r.tenant_id))).toEqual(new Set(['t1']));
    const llm = await simulate({ role: 'llm', claims: { tenant_id: 't1' }, sql: `SELECT email FROM ${VIEW}` });
    expect(llm.body.rows.status, JSON.stringify(llm.body.rows)).toBe(403);
    expect(llm.body.rows.body.error.message).toContain(VIEW);
    expect(llm.body.rows.body.error.message).toMatch(/sql/);
  });
});

describe('audit search', () => {
  it('filters by subject, decision and status, newest first; bad timestamps are a 400; limit is capped', async () => {
    await fetch(`${s.srv.url}/api/v2/crm/_table/customers?limit=1`, { headers: { 'X-API-Key': 'wrong-key' } });
    const denied = await waitFor(async () => {
      const { body } = await keyed('/admin/api/audit?decision=deny&status=401');
      return body.records.length > 0 ? body.records : undefined;
    });
    for (const r of denied) expect(r).toMatchObject({ decision: 'deny', status: 401 });
    const all = (await keyed('/admin/api/audit?limit=5000')).body.records as { id: string; time: string }[];
    expect(all.length).toBeLessThanOrEqual(1000);
    for (let i = 1; i < all.length; i++) expect(BigInt(all[i - 1]!.id) > BigInt(all[i]!.id)).toBe(true);
    expect((await keyed('/admin/api/audit?from=yesterday')).status).toBe(400);
    expect((await keyed('/admin/api/audit?to=2026-13-45T00:00:00Z')).status).toBe(400);
    expect((await keyed('/admin/api/audit?status=abc')).status).toBe(400);
    expect((await keyed('/admin/api/audit?nonsense=1')).status).toBe(400);
    const future = (await keyed(`/admin/api/audit?from=${new Date(Date.now() + 3600_000).toISOString()}`)).body.records;
    expect(future).toEqual([]);
    // A value that would break out of a spliced string is only a value.
    expect((await keyed(`/admin/api/audit?subject=${encodeURIComponent("x' OR '1'='1")}`)).body.records).toEqual([]);
  });

  it('after=<id> tails: only newer records, oldest first', async () => {
    const newest = (await keyed('/admin/api/audit?limit=1')).body.records[0] as { id: string };
    await fetch(`${s.srv.url}/api/v2/crm/_table/customers?limit=1`, { headers: { 'X-API-Key': KEYS.internal } });
    const newer = await waitFor(async () => {
      const { body } = await keyed(`/admin/api/audit?after=${newest.id}`);
      return body.records.length > 0 ? body.records : undefined;
    });
    for (const r of newer) expect(BigInt(r.id) > BigInt(newest.id)).toBe(true);
    for (let i = 1; i < newer.length; i++) expect(BigInt(newer[i - 1].id) < BigInt(newer[i].id)).toBe(true);
  });
});

describe('OpenAPI', () => {
  it('describes every /admin/api route for an admin role, in a valid document, and none for other roles', async () => {
    const doc = (await keyed('/api/v2/openapi.json')).body;
    const res = await new Validator().validate(doc);
    expect(res.errors ?? []).toEqual([]);
    expect(res.valid).toBe(true);
    expect(
      Object.keys(doc.paths)
        .filter((p) => p.startsWith('/admin/api/'))
        .sort(),
    ).toEqual([
      '/admin/api/audit',
      '/admin/api/check',
      '/admin/api/overview',
      '/admin/api/roles',
      '/admin/api/session',
      '/admin/api/simulate',
      '/admin/api/views',
    ]);
    const other = (await (await fetch(`${s.srv.url}/api/v2/openapi.json`, { headers: { 'X-API-Key': KEYS.internal } })).json()) as {
      paths: Record<string, unknown>;
    };
    expect(Object.keys(other.paths).some((p) => p.startsWith('/admin'))).toBe(false);
  });
});
