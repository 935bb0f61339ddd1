// OpenAPI 3.1 per caller and the /docs page: the document validates against the OpenAPI 3.1
// schema, lists only the views the caller may read, types their columns, notes masked ones, documents
// the filter grammar and the security schemes, and the aggregate rights of each grant; /docs is
// served from node_modules, no CDN.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import {
  createReferenceStores,
  get,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
  aggregateOnlyOrdersRole,
} from '../support/reference.js';

let stores: ReferenceStores;
let srv: RunningServer;
const spec = (headers: Record<string, string>) => get(`${srv.url}/api/v2/openapi.json`, headers);

/** An aggregate-only caller besides the reference roles. */
const STATS_KEY = 'key-openapi-stats';
const STATS_ROLE = aggregateOnlyOrdersRole("{ created_at: redact, total_amount: 'null' }", 25);

beforeAll(async () => {
  stores = await createReferenceStores('opsopenapi');
  srv = await startServer(
    referenceConfig(stores.env, (y) =>
      y
        .replace(
          '\n  jwt:',
          `\n    - { name: stats, sha256: ${createHash('sha256').update(STATS_KEY).digest('hex')}, role: stats }\n  jwt:`,
        )
        .replace(/\nroles:\n/, `\nroles:${STATS_ROLE}`),
    ),
  );
});
afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

async function validate(doc: unknown): Promise<void> {
  const res = await new Validator().validate(doc as Parameters<Validator['validate']>[0]);
  expect(res.errors, JSON.stringify(res.errors, null, 2)?.slice(0, 2000)).toBeUndefined();
  expect(res.valid).toBe(true);
}

describe('GET /api/v2/openapi.json', () => {
  it('is a valid OpenAPI 3.1 document of everything internal tools may read', async () => {
    const r = await spec({ 'X-API-Key': KEYS.internal });
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBeTruthy();
    expect(r.headers.get('vary')).toContain('X-API-Key');
    await validate(r.body);
    expect(r.body.openapi).toBe('3.1.0');
    // The reference config leaves publicUrl to the URL the request came to.
    expect(r.body.servers).toEqual([{ url: srv.url }]);
    expect(Object.keys(r.body.paths)).toEqual(
      expect.arrayContaining([
        '/api/v2/analytics/_schema',
        '/api/v2/analytics/_schema/events',
        '/api/v2/analytics/_table',
        '/api/v2/analytics/_table/events',
        '/api/v2/analytics/_table/events/{id}',
        '/api/v2/app/_schema',
        '/api/v2/app/_schema/orders',
        '/api/v2/app/_table',
        '/api/v2/app/_table/orders',
        '/api/v2/app/_table/orders/{id}',
        '/api/v2/crm/_schema',
        '/api/v2/crm/_schema/customers',
        '/api/v2/crm/_table',
        '/api/v2/crm/_table/customers',
        '/api/v2/crm/_table/customers/{id}',
      ]),
    );
    // Exactly the views the same caller can list.
    const listed: string[] = [];
    for (const svc of Object.keys(srv.rt.config.services)) {
      const l = await get(`${srv.url}/api/v2/${svc}/_table`, { 'X-API-Key': KEYS.internal });
      if (l.status === 200) listed.push(...l.body.resource.map((v: any) => `${svc}.${v.name}`));
    }
    expect(
      Object.keys(r.body.components.schemas)
        .filter((k) => k.includes('.'))
        .sort(),
    ).toEqual(listed.sort());
    const orders = r.body.components.schemas['app.orders'];
    expect(orders.properties.order_id).toMatchObject({ type: 'integer', format: 'int64' });
    expect(orders.properties.total_amount.type).toBe('string');
    expect(orders.properties.created_at).toMatchObject({ type: 'string', format: 'date-time' });
    const params = r.body.paths['/api/v2/app/_table/orders'].get.parameters;
    expect(params.find((p: any) => p.name === 'explain' || p.$ref === '#/components/parameters/explain')).toBeDefined();
  });

  it('shows a partner only its view, its columns, and its masks', async () => {
    const r = await spec({ 'X-API-Key': KEYS.partner });
    expect(r.status).toBe(200);
    await validate(r.body);
    // The partner's role has no grant on app or analytics.
    expect(Object.keys(r.body.paths).some((p) => p.startsWith('/api/v2/app/') || p.startsWith('/api/v2/analytics/'))).toBe(false);
    expect(Object.keys(r.body.components.schemas)).not.toContain('app.orders');
    expect(Object.keys(r.body.components.schemas)).not.toContain('analytics.events');
    const customers = r.body.components.schemas['crm.customers'];
    expect(Object.keys(customers.properties)).toEqual(['customer_id', 'tenant_id', 'email', 'full_name', 'created_at']);
    expect(customers.properties.email['x-viewgate-masked']).toBe('email');
    expect(customers.properties.email.description).toMatch(/Masked for your role/);
    expect(customers.properties.tenant_id['x-viewgate-masked']).toBeUndefined();
    const op = r.body.paths['/api/v2/crm/_table/customers'].get;
    const filter = op.parameters.find((p: any) => p.name === 'filter');
    expect(filter.description).toContain('starts with');
    expect(filter.description).toMatch(/Masked \(not filterable\): email/);
    expect(op.parameters.find((p: any) => p.name === 'limit').description).toContain('100');
    expect(op.parameters.some((p: any) => p.$ref === '#/components/parameters/explain')).toBe(false);
    expect(op.responses['429']).toEqual({ $ref: '#/components/responses/TooManyRequests' });
    expect(Object.keys(r.body.components.responses.TooManyRequests.headers)).toEqual([
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
    ]);
    expect(r.body.components.securitySchemes).toEqual({
      apiKey: expect.objectContaining({ type: 'apiKey', in: 'header', name: 'X-API-Key' }),
      bearer: expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
    expect(r.body.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
  });

  it('needs a credential', async () => {
    const r = await spec({});
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });
});

describe('aggregate rights in GET /api/v2/openapi.json', () => {
  const query = (doc: any, path: string) => doc.paths[path].get;
  const param = (doc: any, path: string, name: string) => query(doc, path).parameters.find((p: any) => p.name === name);
  const okSchema = (doc: any, path: string) => query(doc, path).responses['200'].content['application/json'].schema;

  it('a grant with aggregate: true shows group, having, the aggregates and the answers they give; one without shows count_only only', async () => {
    const internal = (await spec({ 'X-API-Key': KEYS.internal })).body;
    const group = param(internal, '/api/v2/app/_table/orders', 'group');
    expect(group.description).toContain(
      'Aggregates allowed in fields: count(*), count(col), count(distinct col), sum(col), avg(col), min(col), max(col)',
    );
    expect(group.description).toContain('every plain field next to one must be in group');
    expect(group.description).not.toMatch(/Aggregate-only/);
    expect(param(internal, '/api/v2/app/_table/orders', 'having').description).toMatch(/group columns and aggregate output names/);
    expect(param(internal, '/api/v2/app/_table/orders', 'count_only').schema).toEqual({ type: 'boolean' });
    // Rows or groups, the bare number of count_only, and the plan.
    const ok = okSchema(internal, '/api/v2/app/_table/orders');
    expect(ok.oneOf).toHaveLength(3);
    expect(ok.oneOf[0].properties.resource.items.anyOf).toEqual([{ $ref: '#/components/schemas/app.orders' }, expect.any(Object)]);
    expect(ok.oneOf[1]).toMatchObject({ type: 'integer', minimum: 0 });
    expect(query(internal, '/api/v2/app/_table/orders').responses['200'].description).toMatch(/meta.suppressed_groups/);
    expect(internal.paths['/api/v2/app/_table/orders/{id}'].get.responses['200']).toBeDefined();

    // The partner may aggregate the federated view, not customers; the assistant nothing.
    const partner = (await spec({ 'X-API-Key': KEYS.partner })).body;
    expect(param(partner, '/api/v2/federation/_table/unified_customer_activity', 'group')).toBeDefined();
    expect(param(partner, '/api/v2/federation/_table/unified_customer_activity', 'group').description).toContain(
      'Masked fields may appear only inside count(col): email.',
    );
    const llm = (await spec({ 'X-API-Key': KEYS.llm })).body;
    for (const [doc, path] of [
      [partner, '/api/v2/crm/_table/customers'],
      [llm, '/api/v2/crm/_table/customers'],
      [llm, '/api/v2/federation/_table/unified_customer_activity'],
    ] as const) {
      expect(param(doc, path, 'group'), path).toBeUndefined();
      expect(param(doc, path, 'having'), path).toBeUndefined();
      expect(param(doc, path, 'count_only'), path).toBeDefined();
      const page = okSchema(doc, path).oneOf[0];
      expect(page.properties.resource.items, path).toEqual({ $ref: `#/components/schemas/${path.split('/')[3]}.${path.split('/')[5]}` });
    }
  });

  it('an aggregate-only grant is described as such: its aggregates, masks, minGroupSize and maxLimit, and no rows', async () => {
    const r = await spec({ 'X-API-Key': STATS_KEY });
    expect(r.status).toBe(200);
    await validate(r.body);
    const doc = r.body;
    expect(Object.keys(doc.paths).filter((p) => p.includes('/_table/'))).toEqual([
      '/api/v2/app/_table/orders',
      '/api/v2/app/_table/orders/{id}',
    ]);
    const op = query(doc, '/api/v2/app/_table/orders');
    expect(op.summary).toBe('Aggregates of app.orders');
    const group = param(doc, '/api/v2/app/_table/orders', 'group').description;
    expect(group).toContain('Aggregates allowed in fields: count(*), count(col), count(distinct col), sum(col), avg(col).');
    expect(group).not.toMatch(/min\(col\)|max\(col\)/);
    expect(group).toContain('Aggregate-only grant: rows cannot be read (403), only these aggregates.');
    expect(group).toContain('Masked fields may appear only inside count(col): created_at.');
    expect(group).toContain('Masked with null, not even counted: total_amount.');
    expect(group).toContain('Groups built from fewer than 3 entities are left out (meta.suppressed_groups).');
    expect(group).toContain('At most 25 groups per response.');
    expect(param(doc, '/api/v2/app/_table/orders', 'count_only').description).toMatch(/403 when they come from fewer than 3 entities/);
    expect(param(doc, '/api/v2/app/_table/orders', 'ids')).toBeUndefined();
    // Groups only, never a row of the view.
    const items = okSchema(doc, '/api/v2/app/_table/orders').oneOf[0].properties.resource.items;
    expect(items.$ref).toBeUndefined();
    expect(items.type).toBe('object');
    // A row by key answers 403, and says why.
    const byId = doc.paths['/api/v2/app/_table/orders/{id}'].get;
    expect(byId.responses['200']).toBeUndefined();
    expect(byId.responses['403']).toEqual({ $ref: '#/components/responses/Forbidden' });
    expect(byId.description).toMatch(/aggregate-only/);
  });
});

describe('/docs', () => {
  it('is a page that loads Swagger UI from this server only', async () => {
    const r = await get(`${srv.url}/docs`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'");
    const urls = [...r.text.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(urls.length).toBeGreaterThan(2);
    for (const u of urls) {
      expect(u.startsWith('/docs/')).toBe(true);
      const asset = await fetch(srv.url + u);
      expect(asset.status, u).toBe(200);
    }
    const init = await get(`${srv.url}/docs/docs.js`);
    expect(init.text).toContain('/api/v2/openapi.json');
    expect((await fetch(`${srv.url}/docs/assets/package.json`)).status).toBe(404);
    expect((await fetch(`${srv.url}/docs/assets/..%2F..%2Fpackage.json`)).status).toBe(404);
  });
});
