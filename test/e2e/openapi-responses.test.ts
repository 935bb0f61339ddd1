// Every response the REST surface serves is described by the OpenAPI document the same caller is
// served: a corpus of real responses (lists, rows, rows by id, schemas, explain=true, 400, 401, 403,
// 404, 405, 429) is validated with a JSON Schema 2020-12 validator against the response schema of
// its path, method and status. A status the document does not list for that operation fails.
// Aggregates too: groups, count_only and their refusals, for a grant with aggregate: true and
// for an aggregate-only one.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import {
  createReferenceStores,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
  aggregateOnlyOrdersRole,
} from '../support/reference.js';

type Json = Record<string, any>;

let stores: ReferenceStores;
let srv: RunningServer;

/** An aggregate-only caller besides the reference roles. */
const stats = { 'X-API-Key': 'key-oasresp-stats' };
const STATS_ROLE = aggregateOnlyOrdersRole('{ created_at: redact }', 2);

beforeAll(async () => {
  stores = await createReferenceStores('oasresp');
  // A small rate limit for the partner, so a 429 is part of the corpus, and a masked timestamp
  // (a mask yields text, so the document must not promise a date-time).
  srv = await startServer(
    referenceConfig(stores.env, (y) => {
      const out = y
        .replace('rateLimit: 60/minute', 'rateLimit: 3/minute')
        .replace(
          'full_name, created_at]\n        masks: { email: email }',
          'full_name, created_at]\n        masks: { email: email, created_at: redact }',
        );
      expect(out).toContain('created_at: redact');
      const statsKey = createHash('sha256').update(stats['X-API-Key']).digest('hex');
      return out
        .replace('\n  jwt:', `\n    - { name: stats, sha256: ${statsKey}, role: stats }\n  jwt:`)
        .replace(/\nroles:\n/, `\nroles:${STATS_ROLE}`);
    }),
  );
});
afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

const ajv = new Ajv2020({ strict: false, allErrors: true });
ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
ajv.addFormat('date', /^\d{4}-\d{2}-\d{2}$/);
ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
ajv.addFormat('double', { type: 'number', validate: () => true });

interface Served {
  method: string;
  path: string;
  status: number;
  body: unknown;
  headers: Headers;
}

async function request(method: string, path: string, headers: Record<string, string> = {}, body?: unknown): Promise<Served> {
  const res = await fetch(`${srv.url}${path}`, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { method, path, status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers };
}

async function documentFor(headers: Record<string, string>): Promise<Json> {
  const r = await request('GET', '/api/v2/openapi.json', headers);
  expect(r.status).toBe(200);
  return r.body as Json;
}

/** The document's path template that a concrete path matches, e.g. /api/v2/crm/_table/customers/{id}. */
function templateOf(doc: Json, path: string): string | undefined {
  const bare = decodeURIComponent(path.split('?')[0]!);
  return Object.keys(doc.paths).find((t) =>
    new RegExp(`^${t.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
  );
}

function deref(doc: Json, node: Json): Json {
  let n = node;
  while (n && typeof n.$ref === 'string') {
    n = n.$ref
      .slice(2)
      .split('/')
      .reduce((o: Json, seg: string) => o[seg.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
  }
  return n;
}

/** Validates one served response against the caller's document; returns problems (empty when valid). */
function problems(doc: Json, r: Served): string[] {
  const where = `${r.method} ${r.path} -> ${r.status}`;
  const template = templateOf(doc, r.path);
  let schema: Json;
  if (!template) {
    // A view the caller may not see has no path in its document: only the error envelope applies.
    if (r.status !== 404 && r.status !== 401) return [`${where}: no documented path, yet not a 404/401`];
    schema = doc.components.schemas.Error;
  } else {
    const op = doc.paths[template][r.method.toLowerCase()];
    if (!op) return [`${where}: method not documented for ${template}`];
    const response = op.responses[String(r.status)];
    if (!response) return [`${where}: status not documented (documented: ${Object.keys(op.responses).join(', ')})`];
    const resolved = deref(doc, response);
    for (const name of Object.keys(resolved.headers ?? {})) {
      if (['Allow', 'Retry-After', 'WWW-Authenticate', 'ETag'].includes(name) && !r.headers.has(name))
        return [`${where}: documented header ${name} missing`];
    }
    schema = resolved.content?.['application/json']?.schema;
    if (!schema) return [`${where}: no JSON schema documented`];
  }
  const validate = ajv.compile({ ...schema, components: doc.components });
  if (validate(r.body)) return [];
  return [`${where}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(r.body).slice(0, 300)}`];
}

const enc = encodeURIComponent;
const internal = { 'X-API-Key': KEYS.internal };
const partner = { 'X-API-Key': KEYS.partner };
const llm = { 'X-API-Key': KEYS.llm };

describe('every served response validates against the served OpenAPI document', () => {
  it('internal tools: lists, rows, rows by id, schemas, explain, and errors', async () => {
    const doc = await documentFor(internal);
    const event = await request('GET', '/api/v2/analytics/_table/events?limit=1&fields=_id', internal);
    const eventId = (event.body as Json).resource[0]._id as string;
    const corpus: Served[] = [event];
    const gets = [
      '/api/v2/crm/_table',
      '/api/v2/app/_schema',
      '/api/v2/crm/_schema/customers',
      '/api/v2/federation/_schema/unified_customer_activity',
      '/api/v2/crm/_table/customers?limit=3&include_count=true',
      '/api/v2/crm/_table/customers?fields=customer_id,email&order=customer_id%20desc&limit=2&offset=1',
      '/api/v2/app/_table/orders?limit=5',
      '/api/v2/analytics/_table/events?limit=5',
      '/api/v2/federation/_table/unified_customer_activity?limit=5&include_count=true',
      `/api/v2/crm/_table/customers?filter=${enc(JSON.stringify({ field: 'customer_id', op: 'lt', value: 3 }))}`,
      '/api/v2/crm/_table/customers?ids=1,2',
      '/api/v2/crm/_table/customers/1',
      '/api/v2/app/_table/orders/1?fields=order_id,total_amount',
      `/api/v2/analytics/_table/events/${eventId}`,
      '/api/v2/crm/_table/customers?explain=true',
      `/api/v2/federation/_table/unified_customer_activity?explain=true&filter=${enc('customer_id = 4')}`,
      `/api/v2/app/_table/orders?filter=${enc('total_amount >')}`,
      '/api/v2/crm/_table/customers?limt=5',
      `/api/v2/crm/_table/customers?filter=${enc('nope = 1')}`,
      '/api/v2/crm/_table/customers/999999',
      '/api/v2/crm/_table/nope',
      '/api/v2/nope/_table',
      // Curated tools (docs/tools.md).
      '/api/v2/_tool/recent_events?event_type=buy',
      '/api/v2/_tool/activity_by_event_type?since=2024-06-01T00:00:00Z',
      '/api/v2/_tool/recent_events?event_type=sell',
      '/api/v2/_tool/nope',
    ];
    for (const path of gets) corpus.push(await request('GET', path, internal));
    corpus.push(await request('POST', '/api/v2/crm/_table/customers', internal, { resource: [{ customer_id: 99 }] }));
    corpus.push(await request('PATCH', '/api/v2/app/_table/orders/1', internal, { status: 'paid' }));
    corpus.push(await request('DELETE', '/api/v2/crm/_table/customers/1', internal));
    corpus.push(await request('PUT', '/api/v2/crm/_table/nope', internal, {}));
    corpus.push(await request('DELETE', '/api/v2/federation/_table/unified_customer_activity?ids=1', internal));
    // Without a credential (described by every document alike).
    corpus.push(await request('GET', '/api/v2/crm/_table/customers'));
    corpus.push(await request('GET', '/api/v2/crm/_table/customers', { 'X-API-Key': 'wrong' }));
    corpus.push(await request('GET', `/api/v2/crm/_table/customers?api_key=${KEYS.internal}`));

    const statuses = new Set(corpus.map((r) => r.status));
    for (const s of [200, 400, 401, 403, 404, 405]) expect(statuses, `the corpus has a ${s}`).toContain(s);
    expect(corpus.filter((r) => (r.body as Json)?.explain !== undefined)).toHaveLength(2);
    expect(corpus.flatMap((r) => problems(doc, r))).toEqual([]);
  });

  it('a partner (masked columns, row filter, rate limit): rows, 403 for explain, and 429', async () => {
    const doc = await documentFor(partner);
    const corpus: Served[] = [];
    for (const path of [
      '/api/v2/crm/_table/customers?limit=5',
      '/api/v2/crm/_table/customers/1',
      '/api/v2/crm/_schema/customers',
      '/api/v2/federation/_table/unified_customer_activity?limit=5',
      '/api/v2/federation/_table/unified_customer_activity?fields=customer_id,email&limit=2',
      '/api/v2/federation/_table/unified_customer_activity?explain=true',
      '/api/v2/federation/_table/unified_customer_activity?limit=1',
      '/api/v2/app/_table/orders',
    ]) {
      corpus.push(await request('GET', path, partner));
    }
    corpus.push(await request('DELETE', '/api/v2/crm/_table/customers/1', partner));
    corpus.push(await request('POST', '/api/v2/app/_table/orders', partner, { resource: [] }));
    const statuses = corpus.map((r) => r.status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 403, 429, 404, 403, 404]);
    expect((corpus[1]!.body as Json).created_at).toBe('[redacted]');
    expect(corpus.flatMap((r) => problems(doc, r))).toEqual([]);
  });

  it('an assistant (a subset of columns, no explain grant)', async () => {
    const doc = await documentFor(llm);
    const corpus: Served[] = [];
    for (const path of [
      '/api/v2/crm/_table/customers',
      '/api/v2/crm/_table/customers/3',
      '/api/v2/federation/_table/unified_customer_activity?limit=3',
      '/api/v2/crm/_table/customers?fields=email',
    ]) {
      corpus.push(await request('GET', path, llm));
    }
    expect(corpus.map((r) => r.status)).toEqual([200, 200, 200, 400]);
    expect(corpus.flatMap((r) => problems(doc, r))).toEqual([]);
  });

  it('aggregates: groups, count_only and their refusals, with aggregate rights and aggregate-only', async () => {
    const orders = '/api/v2/app/_table/orders';
    const activity = '/api/v2/federation/_table/unified_customer_activity';
    const q = (params: Record<string, string>) => `?${new URLSearchParams(params).toString()}`;
    const cases: [Record<string, string>, string, Record<string, string>, number][] = [
      [
        internal,
        orders,
        { fields: 'status,count(*),sum(total_amount),avg(total_amount),min(created_at),max(order_id)', group: 'status' },
        200,
      ],
      [internal, orders, { group: 'status,customer_id', limit: '2' }, 200],
      [internal, orders, { fields: 'count(*) as n,count(distinct status)', filter: 'order_id < 0' }, 200],
      [internal, orders, { count_only: 'true' }, 200],
      [
        internal,
        activity,
        { fields: 'event_type,count(distinct customer_id) as customers', group: 'event_type', having: 'customers > 1' },
        200,
      ],
      [internal, orders, { fields: 'status,count(*)' }, 400],
      [partner, '/api/v2/crm/_table/customers', { group: 'tenant_id' }, 403],
      [stats, orders, { fields: 'status,count(*),sum(total_amount),count(created_at)', group: 'status', limit: '5' }, 200],
      [stats, orders, { fields: 'sum(total_amount)', filter: 'order_id <= 1002' }, 200],
      [stats, orders, { count_only: 'true' }, 200],
      [stats, orders, { count_only: 'true', filter: 'order_id <= 1002' }, 403],
      [stats, orders, { fields: 'max(total_amount)' }, 403],
      [stats, orders, { group: 'created_at' }, 400],
      [stats, orders, {}, 403],
      [stats, `${orders}/1001`, {}, 403],
    ];
    const problemsOf: string[] = [];
    const got: number[] = [];
    for (const [who, path, params, status] of cases) {
      const doc = await documentFor(who);
      const r = await request('GET', `${path}${Object.keys(params).length ? q(params) : ''}`, who);
      got.push(r.status);
      problemsOf.push(...problems(doc, r));
      if (r.status !== status) problemsOf.push(`${r.path}: ${r.status}, want ${status}: ${JSON.stringify(r.body)}`);
    }
    expect(problemsOf).toEqual([]);
    // The bodies are what SPEC 12 says: groups capped at maxLimit, a withheld whole-result aggregate, a bare count.
    const groups = await request('GET', `${orders}${q({ fields: 'status,count(*)', group: 'status', limit: '5' })}`, stats);
    expect((groups.body as Json).resource).toHaveLength(2);
    const withheld = await request('GET', `${orders}${q({ fields: 'sum(total_amount)', filter: 'order_id <= 1002' })}`, stats);
    expect(withheld.body).toEqual({ resource: [], meta: { suppressed_groups: 1 } });
    expect((await request('GET', `${orders}?count_only=true`, stats)).body).toBe(18);
  });

  it('the check can fail: a row that does not fit its view schema is reported', async () => {
    const doc = await documentFor(internal);
    const fake: Served = {
      method: 'GET',
      path: '/api/v2/crm/_table/customers/1',
      status: 200,
      body: { customer_id: 'one', extra: 1 },
      headers: new Headers(),
    };
    expect(problems(doc, fake)).toHaveLength(1);
    const undocumented: Served = { method: 'GET', path: '/api/v2/crm/_table/customers/1', status: 418, body: {}, headers: new Headers() };
    expect(problems(doc, undocumented)[0]).toContain('status not documented');
    // Groups where the caller may not aggregate: the document promises rows of the view.
    const llmDoc = await documentFor(llm);
    const groups: Served = {
      method: 'GET',
      path: '/api/v2/crm/_table/customers',
      status: 200,
      body: { resource: [{ is_active: true, count: 3 }], meta: {} },
      headers: new Headers({ ETag: '"g"' }),
    };
    expect(problems(llmDoc, groups)).toHaveLength(1);
    expect(problems(doc, { ...groups, body: 3 })).toEqual([]);
    expect(problems(doc, { ...groups, body: -1 })).toHaveLength(1);
  });
});
