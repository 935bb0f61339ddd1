// Curated tools (docs/tools.md) over real HTTP and the real MCP SDK clients, on the reference
// stores (PostgreSQL orders, MariaDB customers, FerretDB events): which tools each role lists,
// input schemas that the SDK's own validator holds to, parameter binding and coercion on every
// store, optional conjuncts dropped, refusals naming the parameter, hostile values that change
// nothing, tenant isolation, equality with query_view/aggregate_view, REST/MCP parity, and the
// config problems that stop start-up.
import { createHash } from 'node:crypto';
import { Client, StreamableHTTPClientTransport, fromJsonSchema } from '@modelcontextprotocol/client';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as V1Http } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createRuntime, warmViews } from '../../src/runtime.js';
import { createLogger } from '../../src/ops/logger.js';
import {
  createReferenceStores,
  get,
  KEYS,
  REFERENCE_CONFIG,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { MONGO_URL, mysqlExec, pgExec } from '../support/stores.js';
import { waitFor } from '../support/wait.js';
import { readFileSync } from 'node:fs';

/** Tools of this test, one per store and an aggregate, added to the reference scenario's. */
const TEST_TOOLS = `
  orders_by_status:
    description: Orders in one status, newest first.
    view: app.orders
    params:
      status: { type: text, enum: [new, paid, shipped, refunded], description: Order status }
      since: { type: timestamptz, optional: true, min: "2020-01-01T00:00:00Z", description: Only orders created after this }
      min_total: { type: numeric, optional: true, min: 0 }
      customer: { type: int, optional: true, min: 1, max: 1000000 }
    filter: "status = {params.status} and created_at >= {params.since} and total_amount >= {params.min_total} and customer_id = {params.customer}"
    fields: [order_id, customer_id, total_amount, status, created_at]
    order: created_at desc
    limit: 50
  customers_named:
    description: Customers whose name starts with some text.
    view: crm.customers
    params:
      prefix: { type: text, pattern: "^[A-Za-z]", description: The start of the name }
      joined_after: { type: timestamptz, optional: true }
    filter: "full_name starts with {params.prefix} and created_at >= {params.joined_after}"
    fields: [customer_id, tenant_id, full_name, created_at]
    order: customer_id
  events_of_user:
    description: One user's product events in time order.
    view: analytics.events
    params:
      user: { type: text, pattern: "^[0-9]+$", example: "12" }
      type: { type: text, optional: true, enum: [view, search, add_to_cart, buy] }
      since: { type: timestamptz, optional: true }
    filter: "user_id = {params.user} and event_type = {params.type} and ts >= {params.since}"
    fields: [_id, user_id, event_type, ts]
    order: ts
  revenue_by_status:
    description: Revenue and orders per status.
    view: app.orders
    params:
      since: { type: timestamptz, optional: true }
    filter: "created_at >= {params.since}"
    aggregate: { group_by: [status], metrics: [{ fn: sum, field: total_amount, as: revenue }, { fn: count, as: orders }] }
    order: status
  my_tenant_customers:
    description: Customers of your tenant by id range.
    view: crm.customers
    params:
      from_id: { type: int, min: 1 }
    filter: "tenant_id = {claims.tenant_id} and customer_id >= {params.from_id}"
    fields: [customer_id, tenant_id]
    order: customer_id
`;

/** The test tools after the reference ones; the partner's rate limit raised for the many calls here. */
const withTestTools = (yaml: string) =>
  yaml.replace('\nauth:', `${TEST_TOOLS.trimEnd()}\nauth:`).replace('rateLimit: 60/minute', 'rateLimit: 6000/minute');

let stores: ReferenceStores;
let srv: RunningServer;
const open: Client[] = [];

beforeAll(async () => {
  stores = await createReferenceStores('tools');
  srv = await startServer(referenceConfig(stores.env, withTestTools));
}, 60_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
  await srv?.close();
  await stores?.drop();
});

type Who = keyof typeof KEYS;

async function mcp(who: Who): Promise<Client> {
  const client = new Client({ name: 'tools-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': KEYS[who] } } }),
  );
  open.push(client);
  return client;
}

const rest = (who: Who, tool: string, params: Record<string, string> = {}, headers: Record<string, string> = {}) =>
  get(`${srv.url}/api/v2/_tool/${tool}?${new URLSearchParams(params).toString()}`, { 'X-API-Key': KEYS[who], ...headers });

const text = (r: any): string => r.content.map((c: any) => c.text).join('\n');

const BUILT_IN = ['list_views', 'describe_view', 'query_view', 'aggregate_view', 'query_sql', 'export_view'];

async function curatedNames(c: Client): Promise<string[]> {
  return (await c.listTools()).tools.map((t) => t.name).filter((n) => !BUILT_IN.includes(n));
}

describe('listing per role', () => {
  it('lists each tool a role may use, under its own name, read-only, the same list on every call', async () => {
    const expected: Record<Who, string[]> = {
      internal: [
        'customer_activity_by_email',
        'recent_events',
        'activity_by_event_type',
        'orders_by_status',
        'customers_named',
        'events_of_user',
        'revenue_by_status',
        'my_tenant_customers',
      ],
      // email is masked for partners; they have no grant on app or analytics.
      partner: ['recent_events', 'activity_by_event_type', 'customers_named', 'my_tenant_customers'],
      // The llm role sees neither email, event_id nor tenant_id, and may not aggregate.
      llm: ['recent_events'],
    };
    for (const who of Object.keys(expected) as Who[]) {
      const c = await mcp(who);
      const first = await c.listTools();
      expect(await curatedNames(c), who).toEqual(expected[who]);
      expect((await c.listTools()).tools, `${who}: stable`).toEqual(first.tools);
      expect((await (await mcp(who)).listTools()).tools, `${who}: stable across connections`).toEqual(first.tools);
      for (const t of first.tools.filter((t) => !BUILT_IN.includes(t.name))) {
        expect(t.annotations).toEqual({ readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false });
        expect(t.inputSchema.type).toBe('object');
        expect(t.outputSchema?.type).toBe('object');
        expect(t.description).toBeTruthy();
      }
    }
  });

  it('a tool the caller may not use does not exist for it, over MCP and REST', async () => {
    const llm = await mcp('llm');
    await expect(llm.callTool({ name: 'customer_activity_by_email', arguments: { email: 'ada.lovelace@example.org' } })).rejects.toThrow(
      /not found/,
    );
    const partner = await mcp('partner');
    await expect(partner.callTool({ name: 'orders_by_status', arguments: { status: 'paid' } })).rejects.toThrow(/not found/);
    for (const [who, tool] of [
      ['llm', 'customer_activity_by_email'],
      ['partner', 'orders_by_status'],
      ['partner', 'no_such_tool'],
    ] as const) {
      const r = await rest(who, tool, {});
      expect(r.status, `${who} ${tool}`).toBe(404);
      expect(r.body.error.message).toBe(`no tool "${tool}"`);
    }
  });

  it('OpenAPI lists exactly the caller’s tools with their parameters', async () => {
    const doc = (await get(`${srv.url}/api/v2/openapi.json`, { 'X-API-Key': KEYS.partner })).body;
    const tools = Object.keys(doc.paths).filter((p) => p.startsWith('/api/v2/_tool/'));
    expect(tools.sort()).toEqual(
      ['recent_events', 'activity_by_event_type', 'customers_named', 'my_tenant_customers'].map((t) => `/api/v2/_tool/${t}`).sort(),
    );
    const params = doc.paths['/api/v2/_tool/recent_events'].get.parameters;
    expect(params.find((p: any) => p.name === 'event_type')).toMatchObject({
      in: 'query',
      required: false,
      schema: { type: 'string', enum: ['view', 'search', 'add_to_cart', 'buy'] },
    });
    expect(params.find((p: any) => p.name === 'customer_id')).toMatchObject({ schema: { type: 'integer', minimum: 1 } });
  });
});

describe('input schemas', () => {
  it('are held to by the SDK: good arguments validate, bad ones are refused before the call runs', async () => {
    const c = await mcp('internal');
    const tools = Object.fromEntries((await c.listTools()).tools.map((t) => [t.name, t]));
    const orders = tools.orders_by_status!.inputSchema as any;
    expect(orders.required).toEqual(['status']);
    expect(orders.properties.status).toMatchObject({
      enum: ['new', 'paid', 'shipped', 'refunded'],
      description: expect.stringContaining('Order status'),
    });
    expect(orders.properties.customer).toMatchObject({ type: 'integer', minimum: 1, maximum: 1000000 });
    expect(orders.properties.since).toMatchObject({ type: 'string', format: 'date-time', examples: ['2024-05-01T00:00:00Z'] });
    expect(orders.additionalProperties).toBe(false);
    expect(tools.customer_activity_by_email!.inputSchema.properties!.email).toMatchObject({
      type: 'string',
      pattern: '^[^@\\s]+@[^@\\s]+$',
      examples: ['ada.lovelace@example.org'],
    });

    const cases: [string, Record<string, unknown>, boolean][] = [
      ['orders_by_status', { status: 'paid' }, true],
      ['orders_by_status', { status: 'paid', since: '2024-05-01T00:00:00Z', min_total: 100, customer: 12 }, true],
      ['orders_by_status', { status: 'paid', min_total: '100.50' }, true],
      ['orders_by_status', {}, false],
      ['orders_by_status', { status: 'lost' }, false],
      ['orders_by_status', { status: 5 }, false],
      ['orders_by_status', { status: 'paid', customer: 0 }, false],
      ['orders_by_status', { status: 'paid', customer: 1.5 }, false],
      ['orders_by_status', { status: 'paid', customer: 2000000 }, false],
      ['orders_by_status', { status: 'paid', min_total: -1 }, false],
      ['orders_by_status', { status: 'paid', extra: 1 }, false],
      ['customers_named', { prefix: 'Ada' }, true],
      ['customers_named', { prefix: '1abc' }, false],
      ['customer_activity_by_email', { email: 'not-an-email' }, false],
      ['customer_activity_by_email', { email: 'ada.lovelace@example.org' }, true],
      ['recent_events', {}, true],
      ['recent_events', { event_type: 'buy', customer_id: 4 }, true],
      ['recent_events', { event_type: 'sell' }, false],
    ];
    for (const [tool, args, good] of cases) {
      const schema = fromJsonSchema(tools[tool]!.inputSchema as any);
      const checked = await schema['~standard'].validate(args);
      expect(checked.issues === undefined, `${tool} ${JSON.stringify(args)} by the SDK's validator`).toBe(good);
      const r: any = await c.callTool({ name: tool, arguments: args });
      expect(!r.isError, `${tool} ${JSON.stringify(args)}: ${text(r)}`).toBe(good);
      if (!good) expect(text(r)).toMatch(/Input validation error|parameter/);
    }
  });

  it('the 1.x SDK client lists and calls a tool, its output schema holding', async () => {
    const client = new V1Client({ name: 'v1', version: '1.0.0' });
    await client.connect(new V1Http(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': KEYS.llm } } }));
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('recent_events');
      const r: any = await client.callTool({ name: 'recent_events', arguments: { event_type: 'buy' } });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
      expect(r.structuredContent.rows.length).toBeGreaterThan(0);
      for (const row of r.structuredContent.rows) expect(row.event_type).toBe('buy');
    } finally {
      await client.close();
    }
  });
});

describe('binding and coercion on each store', () => {
  it('PostgreSQL: text, timestamp, numeric and integer parameters, as REST text and as MCP JSON', async () => {
    const direct = await pgExec(
      stores.env.APP_PG_URL!,
      "SELECT order_id FROM orders WHERE status = 'paid' AND created_at >= '2024-04-15T00:00:00Z' AND total_amount >= 24 ORDER BY created_at DESC",
    );
    const ids = direct.rows.map((r) => Number(r.order_id));
    expect(ids.length).toBeGreaterThan(1);
    const viaRest = await rest('internal', 'orders_by_status', { status: 'paid', since: '2024-04-15T00:00:00', min_total: '24.00' });
    expect(viaRest.status, viaRest.text).toBe(200);
    expect(viaRest.body.resource.map((r: any) => r.order_id)).toEqual(ids);
    const c = await mcp('internal');
    const viaMcp: any = await c.callTool({
      name: 'orders_by_status',
      arguments: { status: 'paid', since: '2024-04-15T00:00:00Z', min_total: 24 },
    });
    expect(viaMcp.structuredContent.rows.map((r: any) => r.order_id)).toEqual(ids);
    // An integer parameter given as text over REST is coerced; so is one a numeric column meets.
    const one = await rest('internal', 'orders_by_status', { status: 'refunded', customer: ' 8 ' });
    expect(one.body.resource.map((r: any) => r.order_id)).toEqual([1008, 1007]);
  });

  it('MariaDB: a starts-with text parameter (its % and _ literal) and a timestamp', async () => {
    const direct = (await mysqlExec(
      stores.env.CRM_MYSQL_URL!,
      "SELECT customer_id FROM customers WHERE full_name LIKE BINARY 'J%' AND created_at >= '2024-03-01' ORDER BY customer_id",
    )) as any[];
    const r = await rest('internal', 'customers_named', { prefix: 'J', joined_after: '2024-03-01T00:00:00Z' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource.map((x: any) => x.customer_id)).toEqual(direct.map((d) => d.customer_id));
    expect(direct.length).toBeGreaterThan(0);
    // Wildcards in the value are text, not patterns.
    expect((await rest('internal', 'customers_named', { prefix: 'A%' })).body.resource).toEqual([]);
    expect((await rest('internal', 'customers_named', { prefix: 'A_a' })).body.resource).toEqual([]);
  });

  it('FerretDB: text parameters and a timestamp against a MongoDB collection', async () => {
    const mongo = new MongoClient(MONGO_URL);
    await mongo.connect();
    try {
      const docs = await mongo
        .db(stores.env.EVENTS_MONGO_DB!)
        .collection('events')
        .find({ user_id: '12', ts: { $gte: new Date('2024-06-02T00:00:00Z') } })
        .sort({ ts: 1 })
        .toArray();
      expect(docs.length).toBeGreaterThan(0);
      const r = await rest('internal', 'events_of_user', { user: '12', since: '2024-06-02T00:00:00Z' });
      expect(r.status, r.text).toBe(200);
      expect(r.body.resource.map((e: any) => e._id)).toEqual(docs.map((d) => d._id.toHexString()));
      const typed = await rest('internal', 'events_of_user', { user: '12', type: docs[0]!.event_type });
      expect(typed.body.resource.length).toBeGreaterThan(0);
      for (const e of typed.body.resource) expect(e).toMatchObject({ user_id: '12', event_type: docs[0]!.event_type });
    } finally {
      await mongo.close();
    }
  });

  it('drops the top-level conjunct of each absent optional parameter, never a required one', async () => {
    const all = await pgExec(stores.env.APP_PG_URL!, "SELECT order_id FROM orders WHERE status = 'shipped' ORDER BY created_at DESC");
    const r = await rest('internal', 'orders_by_status', { status: 'shipped' });
    expect(r.body.resource.map((x: any) => x.order_id)).toEqual(all.rows.map((x) => Number(x.order_id)));
    const narrowed = await rest('internal', 'orders_by_status', { status: 'shipped', since: '2024-07-01T00:00:00Z' });
    expect(narrowed.body.resource.length).toBeLessThan(r.body.resource.length);
    expect(narrowed.body.resource.length).toBeGreaterThan(0);
    // The audit record holds the filter that ran, with the values bound in place of parameters.
    const record = await waitFor(() => srv.audit.records.find((a: any) => a.action === 'tool' && a.filter?.includes('2024-07-01')));
    expect(record.filter).toBe("status = 'shipped' and created_at >= '2024-07-01T00:00:00Z'");
    const missing = await rest('internal', 'orders_by_status', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ message: 'parameter "status" is required', context: { param: 'status' } });
  });
});

describe('refusals name the parameter', () => {
  it.each([
    [{ status: 'lost' }, 'status', /must be one of "new", "paid", "shipped", "refunded"/],
    [{ status: 'paid', customer: '0' }, 'customer', /at least 1/],
    [{ status: 'paid', customer: '1000001' }, 'customer', /at most 1000000/],
    [{ status: 'paid', customer: 'seven' }, 'customer', /must be a whole number/],
    [{ status: 'paid', min_total: '-0.01' }, 'min_total', /at least 0/],
    [{ status: 'paid', since: '2019-12-31T23:59:59Z' }, 'since', /at least "2020-01-01T00:00:00Z"/],
    [{ status: 'paid', since: 'yesterday' }, 'since', /must be a timestamp/],
    [{ status: 'paid', bogus: '1' }, 'bogus', /has no parameter "bogus"/],
  ])('REST %j -> 400 naming %s', async (params, param, message) => {
    const r = await rest('internal', 'orders_by_status', params as Record<string, string>);
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.context.param).toBe(param);
    expect(r.body.error.message).toMatch(message);
  });

  it('pattern over REST and MCP; a repeated parameter', async () => {
    const r = await rest('internal', 'customers_named', { prefix: '%' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ context: { param: 'prefix' } });
    expect(r.body.error.message).toContain('must match the pattern ^[A-Za-z]');
    const twice = await get(`${srv.url}/api/v2/_tool/orders_by_status?status=paid&status=shipped`, { 'X-API-Key': KEYS.internal });
    expect(twice.status).toBe(400);
    expect(twice.body.error.context.param).toBe('status');
  });

  it('a claim the tool reads and the credential lacks is a 403, never all rows', async () => {
    const internal = await rest('internal', 'my_tenant_customers', { from_id: '1' });
    expect(internal.status).toBe(403);
    expect(internal.body.error.context).toEqual({ claim: 'tenant_id' });
    const partner = await rest('partner', 'my_tenant_customers', { from_id: '5' });
    expect(partner.body.resource).toEqual([7, 10, 13, 16].map((id) => ({ customer_id: id, tenant_id: 't2' })));
  });
});

/** The stores as a hash: every row, every relation. */
async function fingerprint(): Promise<string> {
  const h = createHash('sha256');
  for (const q of [
    'SELECT * FROM orders ORDER BY order_id',
    "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY relname",
  ]) {
    h.update(JSON.stringify((await pgExec(stores.env.APP_PG_URL!, q)).rows));
  }
  for (const q of ['SELECT * FROM customers ORDER BY customer_id', 'SHOW TABLES'])
    h.update(JSON.stringify(await mysqlExec(stores.env.CRM_MYSQL_URL!, q)));
  const mongo = new MongoClient(MONGO_URL);
  await mongo.connect();
  try {
    const db = mongo.db(stores.env.EVENTS_MONGO_DB!);
    h.update(JSON.stringify(await db.collection('events').find({}).sort({ _id: 1 }).toArray()));
    h.update(JSON.stringify((await db.listCollections().toArray()).map((c) => c.name).sort()));
  } finally {
    await mongo.close();
  }
  return h.digest('hex');
}

const HOSTILE = [
  "' OR '1'='1",
  "paid' OR 1=1 --",
  "'; DROP TABLE orders; --",
  "x'); DELETE FROM customers; --",
  '1 OR 1=1',
  '1; DROP TABLE orders',
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  '$ne',
  '{claims.tenant_id}',
  '{params.status}',
  "\\' OR 1=1 #",
  '%',
  '_',
  'a\u0000b',
  'Ada" OR "1"="1',
  "2024-01-01T00:00:00Z' OR '1'='1",
  "') UNION SELECT * FROM customers --",
];

describe('hostile values', () => {
  it('through every parameter of every tool, over REST and MCP: refused or answered within policy; the stores are unchanged', async () => {
    const before = await fingerprint();
    const c = await mcp('partner');
    const problems: string[] = [];
    const partnerTools = ['recent_events', 'activity_by_event_type', 'customers_named', 'my_tenant_customers'];
    const internalTools = ['orders_by_status', 'events_of_user', 'revenue_by_status', 'customer_activity_by_email'];
    const toolParams = (name: string) => Object.keys(srv.rt.config.tools[name]!.params);
    const required = (name: string) =>
      Object.fromEntries(
        Object.entries(srv.rt.config.tools[name]!.params)
          .filter(([, s]) => !s.optional)
          .map(([p, s]) => [p, String(s.example ?? s.enum?.[0] ?? (s.type === 'int' ? 1 : 'A'))]),
      );
    for (const [who, tools] of [
      ['partner', partnerTools],
      ['internal', internalTools],
    ] as const) {
      for (const tool of tools) {
        for (const param of toolParams(tool)) {
          for (const value of HOSTILE) {
            const r = await rest(who, tool, { ...required(tool), [param]: value });
            if (r.status === 200) {
              for (const row of r.body.resource) {
                if (who === 'partner' && row.tenant_id !== undefined && row.tenant_id !== 't2')
                  problems.push(`${tool}.${param}=${value}: ${r.text}`);
              }
            } else if (r.status !== 400 || r.body.error.context.param !== param) {
              problems.push(`${who} ${tool}.${param}=${JSON.stringify(value)}: ${r.status} ${r.text}`);
            }
            if (who === 'partner') {
              const m: any = await c.callTool({ name: tool, arguments: { ...required(tool), [param]: value } });
              if (!m.isError && m.structuredContent.rows.some((row: any) => row.tenant_id !== undefined && row.tenant_id !== 't2')) {
                problems.push(`mcp ${tool}.${param}=${value}: ${text(m)}`);
              }
            }
          }
        }
      }
    }
    expect(problems).toEqual([]);
    expect(await fingerprint()).toBe(before);
  }, 120_000);
});

/** The customers of each tenant in the reference data. */
const TENANT_CUSTOMERS: Record<string, number[]> = { t1: [3, 6, 9, 12, 15], t2: [1, 4, 7, 10, 13, 16], t3: [2, 5, 8, 11, 14] };

describe('tenant isolation', () => {
  it("a partner's or an assistant's tool call never returns another tenant's row, whatever the parameters", async () => {
    const seed = 17;
    let x = seed;
    const rand = (n: number) => ((x = (x * 1103515245 + 12345) % 2 ** 31), x % n);
    const types = ['view', 'search', 'add_to_cart', 'buy'];
    for (const [who, tenant] of [
      ['partner', 't2'],
      ['llm', 't1'],
    ] as const) {
      const c = await mcp(who);
      const own = new Set(TENANT_CUSTOMERS[tenant]);
      let seen = 0;
      for (let i = 0; i < 25; i++) {
        const args: Record<string, unknown> = {};
        if (rand(2)) args.event_type = types[rand(4)];
        if (rand(2)) args.customer_id = 1 + rand(16);
        if (rand(2)) args.since = `2024-06-0${1 + rand(9)}T00:00:00Z`;
        const r: any = await c.callTool({ name: 'recent_events', arguments: args });
        expect(r.isError, text(r)).toBeFalsy();
        for (const row of r.structuredContent.rows)
          expect(own.has(row.customer_id), `${who} ${JSON.stringify(args)}: ${JSON.stringify(row)}`).toBe(true);
        seen += r.structuredContent.rows.length;
        const viaRest = await rest(who, 'recent_events', Object.fromEntries(Object.entries(args).map(([k, v]) => [k, String(v)])));
        expect(viaRest.body.resource).toEqual(r.structuredContent.rows);
      }
      expect(seen).toBeGreaterThan(0);
    }
    for (let i = 0; i < 10; i++) {
      const prefix = String.fromCharCode(65 + rand(26));
      const r = await rest('partner', 'customers_named', { prefix });
      for (const row of r.body.resource) expect(row.tenant_id).toBe('t2');
    }
    // Another tenant's customer by id: nothing, not an error that tells it exists.
    const other = await rest('partner', 'recent_events', { customer_id: '3' });
    expect(other.status).toBe(200);
    expect(other.body.resource).toEqual([]);
  });
});

describe('the same question as query_view and aggregate_view', () => {
  it('rows: the tool answers what query_view answers for its filter, fields, order and limit', async () => {
    for (const who of ['internal', 'partner', 'llm'] as const) {
      const c = await mcp(who);
      const tool: any = await c.callTool({
        name: 'recent_events',
        arguments: { event_type: 'add_to_cart', since: '2024-06-03T00:00:00Z' },
      });
      const query: any = await c.callTool({
        name: 'query_view',
        arguments: {
          view: 'federation.unified_customer_activity',
          filter: "event_type = 'add_to_cart' and event_ts >= '2024-06-03T00:00:00Z' and event_ts is not null",
          fields: ['customer_id', 'event_type', 'event_ts'],
          order: 'event_ts desc',
          limit: 20,
        },
      });
      expect(tool.structuredContent.rows, who).toEqual(query.structuredContent.rows);
      expect(tool.structuredContent.rows.length, who).toBeGreaterThan(0);
    }
  });

  it('groups: an aggregate tool answers what aggregate_view answers', async () => {
    for (const who of ['internal', 'partner'] as const) {
      const c = await mcp(who);
      const tool: any = await c.callTool({ name: 'activity_by_event_type', arguments: { since: '2024-06-02T00:00:00Z' } });
      const agg: any = await c.callTool({
        name: 'aggregate_view',
        arguments: {
          view: 'federation.unified_customer_activity',
          group_by: ['event_type'],
          metrics: [
            { fn: 'count_distinct', field: 'event_id', as: 'events' },
            { fn: 'count_distinct', field: 'customer_id', as: 'customers' },
          ],
          filter: "event_ts >= '2024-06-02T00:00:00Z' and event_type is not null",
          order: ['events desc'],
        },
      });
      expect(tool.isError, text(tool)).toBeFalsy();
      expect(tool.structuredContent, who).toEqual(agg.structuredContent);
      expect(tool.structuredContent.rows.length).toBeGreaterThan(0);
    }
    const internal = await mcp('internal');
    const revenue: any = await internal.callTool({ name: 'revenue_by_status', arguments: {} });
    const direct = await pgExec(
      stores.env.APP_PG_URL!,
      'SELECT status, sum(total_amount)::text AS revenue, count(*)::int AS orders FROM orders GROUP BY status ORDER BY status',
    );
    expect(revenue.structuredContent.rows).toEqual(direct.rows);
  });
});

describe('REST and MCP', () => {
  it('give the same rows, REST with the usual envelope, cursors and formats', async () => {
    const c = await mcp('internal');
    const args = { status: 'refunded' };
    const m: any = await c.callTool({ name: 'orders_by_status', arguments: args });
    const r = await rest('internal', 'orders_by_status', args);
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBeTruthy();
    expect(r.body).toEqual({ resource: m.structuredContent.rows, meta: {} });

    // Paging by cursor on both surfaces gives the same pages.
    const events = { user: '12' };
    const small = await rest('internal', 'events_of_user', events);
    expect(small.body.meta.next_cursor).toBeUndefined();
    const all = await rest('internal', 'recent_events', {});
    expect(all.body.meta.next_cursor).toBeDefined();
    expect(all.body.meta.next).toBeUndefined();
    const page2 = await rest('internal', 'recent_events', { cursor: all.body.meta.next_cursor });
    expect(page2.status, page2.text).toBe(200);
    const m1: any = await c.callTool({ name: 'recent_events', arguments: {} });
    expect(m1.structuredContent.rows).toEqual(all.body.resource);
    expect(text(m1)).toContain('call recent_events again with the same arguments and "cursor"');
    const m2: any = await c.callTool({ name: 'recent_events', arguments: { cursor: m1.structuredContent.next_cursor } });
    expect(m2.structuredContent.rows).toEqual(page2.body.resource);
    // A cursor is bound to the question: other parameters are a 400.
    const mixed = await rest('internal', 'recent_events', { cursor: all.body.meta.next_cursor, event_type: 'buy' });
    expect(mixed.status).toBe(400);

    const csv = await rest('internal', 'orders_by_status', args, { Accept: 'text/csv' });
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text.split('\r\n')[0]).toBe('order_id,customer_id,total_amount,status,created_at');
    expect(csv.text.trim().split('\r\n').length).toBe(m.structuredContent.rows.length + 1);
  });

  it('are audited as one record per call, naming the tool, under rate limits and cache like any query', async () => {
    const before = srv.audit.records.length;
    const c = await mcp('partner');
    await c.callTool({ name: 'recent_events', arguments: { event_type: 'buy' } });
    await rest('partner', 'recent_events', { event_type: 'buy' });
    const records = (): any[] => srv.audit.records.slice(before);
    const mcpRecord = await waitFor(() => records().find((a) => a.surface === 'mcp' && a.action === 'recent_events'));
    const restRecord = await waitFor(() => records().find((a) => a.surface === 'rest' && a.action === 'tool'));
    expect(mcpRecord).toMatchObject({ view: 'federation.unified_customer_activity', status: 200 });
    expect(restRecord).toMatchObject({ view: 'federation.unified_customer_activity', status: 200 });
    // The partner's grant caches (cacheTtl) and rate-limits (rateLimit): both apply to tools.
    const r = await rest('partner', 'recent_events', { event_type: 'buy' });
    expect(r.headers.get('ratelimit-limit')).toBe('6000');
    expect(r.headers.get('cache-control')).toMatch(/max-age=\d+/);
  });
});

describe('config problems', () => {
  const reference = readFileSync(REFERENCE_CONFIG, 'utf8');
  const load = (tools: string) => () =>
    parseConfig(reference.replace('\ntools:', `\ntools:${tools}`), 'viewgate.yaml', { ...process.env, ...stores.env });

  it.each([
    ['a built-in name', '\n  query_view: { description: d, view: app.orders }', 'tool "query_view": "query_view" is a built-in tool'],
    ['an unknown view', '\n  t: { description: d, view: app.nope }', 'tools.t.view (line'],
    [
      'an unused parameter',
      '\n  t: { description: d, view: app.orders, params: { p: { type: int } } }',
      'parameter "p" is declared but the filter does not use it',
    ],
    [
      'an undeclared parameter',
      '\n  t: { description: d, view: app.orders, filter: "order_id = {params.p}" }',
      'the filter reads {params.p}, which params does not declare',
    ],
    [
      'a parameter in quotes',
      '\n  t: { description: d, view: app.orders, filter: "status = \'{params.p}\'", params: { p: { type: text } } }',
      'a parameter inside quotes is not substituted',
    ],
    [
      'pattern on a number',
      '\n  t: { description: d, view: app.orders, filter: "order_id = {params.p}", params: { p: { type: int, pattern: "x" } } }',
      'tools.t.params.p.pattern',
    ],
    [
      'an enum value of another type',
      '\n  t: { description: d, view: app.orders, filter: "order_id = {params.p}", params: { p: { type: int, enum: [1, x] } } }',
      'tools.t.params.p.enum.1',
    ],
    [
      'min above max',
      '\n  t: { description: d, view: app.orders, filter: "order_id = {params.p}", params: { p: { type: int, min: 5, max: 1 } } }',
      'min is above max',
    ],
    [
      'the reserved name cursor',
      '\n  t: { description: d, view: app.orders, filter: "order_id = {params.cursor}", params: { cursor: { type: int } } }',
      'the paging argument',
    ],
    [
      'fields with aggregate',
      '\n  t: { description: d, view: app.orders, fields: [status], aggregate: { group_by: [status] } }',
      'remove fields',
    ],
    ['an unknown key', '\n  t: { description: d, view: app.orders, fitler: "x = 1" }', 'unknown key "fitler"'],
  ])('%s', (_what, tools, message) => {
    expect(load(tools)).toThrow(message);
  });

  it('against the built views: an unknown column, a parameter meeting a column of another type', async () => {
    const yaml = withTestTools(reference).replace(
      '\ntools:',
      `\ntools:
  bad_column: { description: d, view: app.orders, fields: [order_id, nope] }
  bad_type: { description: d, view: crm.customers, filter: "full_name = {params.n}", params: { n: { type: int } } }`,
    );
    const config = parseConfig(yaml, 'viewgate.yaml', { ...process.env, ...stores.env });
    const rt = await createRuntime(config, { logger: createLogger('silent') });
    try {
      const problems = await warmViews(rt);
      expect(problems).toContain('tools.bad_column: tool "bad_column": view "app.orders" has no column "nope"');
      expect(problems).toContain(
        'tools.bad_type.params.n: tool "bad_type": parameter "n" is int, but the column it meets, full_name, is text',
      );
    } finally {
      await rt.close();
    }
  });
});
