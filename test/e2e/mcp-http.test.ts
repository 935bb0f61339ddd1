// MCP over Streamable HTTP on the serve process, against the reference stores: the 401 flow and the
// resource metadata, Origin checks, tenancy and masks with a tenant's JWT, tool annotations, error
// results, audit records, JSON-safe big integers, and truncation/paging under a small budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { SignJWT } from 'jose';
import mysql from 'mysql2/promise';
import pg from 'pg';
import {
  createReferenceStores,
  get,
  INTERNAL_TOOLS,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';

let stores: ReferenceStores;
let srv: RunningServer;
const BIG_ORDER = '9007199254740993'; // 2^53 + 1: not representable as a double
const LONG_NAME = 'Long Name '.repeat(25).trim();

beforeAll(async () => {
  stores = await createReferenceStores('mcphttp');
  const m = await mysql.createConnection(stores.env.CRM_MYSQL_URL!);
  await m
    .query(
      "INSERT INTO customers (customer_id, tenant_id, email, full_name, is_active, created_at) VALUES (99, 't1', 'long@example.com', ?, 1, '2024-06-01 00:00:00')",
      [LONG_NAME],
    )
    .finally(() => m.end());
  const p = new pg.Client({ connectionString: stores.env.APP_PG_URL });
  await p.connect();
  await p.query(`INSERT INTO orders VALUES (${BIG_ORDER}, 3, 10.00, 'paid', '2024-08-01 00:00:00+00')`).finally(() => p.end());
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

async function connect(url: string, headers: Record<string, string>): Promise<Client> {
  const client = new Client({ name: 'viewgate-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
  await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers } }));
  return client;
}

async function token(claims: Record<string, unknown>, opts: { audience?: string } = {}): Promise<string> {
  const jwt = srv.rt.config.auth.jwt!;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('partner-app')
    .setIssuer(jwt.issuer!)
    .setAudience(opts.audience ?? jwt.audience!)
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(new TextEncoder().encode(jwt.secret!));
}

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
};

function post(headers: Record<string, string>, body: unknown = INITIALIZE) {
  return fetch(`${srv.url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(body),
  });
}

function text(result: any): string {
  return result.content.map((c: any) => c.text).join('\n');
}

describe('authorization flow', () => {
  it('answers a request without a credential with 401 naming the resource metadata, which the client can follow', async () => {
    const publicUrl = srv.rt.config.server.publicUrl;
    srv.rt.config.server.publicUrl = srv.url; // so the advertised URL is this test server
    try {
      const res = await post({});
      expect(res.status).toBe(401);
      const challenge = res.headers.get('www-authenticate')!;
      expect(challenge).toBe(`Bearer resource_metadata="${srv.url}/.well-known/oauth-protected-resource"`);
      const metaUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
      const meta = await get(metaUrl);
      expect(meta.status).toBe(200);
      expect(meta.body).toMatchObject({ resource: srv.url, bearer_methods_supported: ['header'] });
      expect(Array.isArray(meta.body.authorization_servers)).toBe(true);
      // The path-aware location (RFC 9728 section 3.1) for the /mcp endpoint serves the same document.
      expect((await get(`${srv.url}/.well-known/oauth-protected-resource/mcp`)).body).toEqual(meta.body);
    } finally {
      srv.rt.config.server.publicUrl = publicUrl;
    }
  });

  it('names the configured publicUrl and authorization servers', async () => {
    // Without a publicUrl (the reference config's default), the URL the request came to.
    const meta = await get(`${srv.url}/.well-known/oauth-protected-resource`);
    expect(meta.body.resource).toBe(srv.url);
    const other = await startServer(
      referenceConfig({ ...stores.env, VIEWGATE_PUBLIC_URL: 'https://vg.example/' }, (y) =>
        y.replace('mcp:\n', 'mcp:\n    authorizationServers: [https://idp.example.com/]\n'),
      ),
    );
    try {
      const otherMeta = (await get(`${other.url}/.well-known/oauth-protected-resource`)).body;
      expect(otherMeta.resource).toBe('https://vg.example');
      expect(otherMeta.authorization_servers).toEqual(['https://idp.example.com/']);
    } finally {
      await other.close();
    }
  });

  it('refuses a bad or foreign token with invalid_token, and a wrong API key', async () => {
    const bad = await post({ authorization: 'Bearer not.a.jwt' });
    expect(bad.status).toBe(401);
    expect(bad.headers.get('www-authenticate')).toMatch(
      /^Bearer resource_metadata="[^"]+", error="invalid_token", error_description="the token is malformed"$/,
    );
    const foreign = await post({
      authorization: `Bearer ${await token({ roles: ['external'], tenant_id: 't2' }, { audience: 'someone-else' })}`,
    });
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toContain('audience');
    const key = await post({ 'x-api-key': 'wrong' });
    expect(key.status).toBe(401);
    expect(((await key.json()) as any).error.message).toBe('the API key is not valid');
  });

  it('refuses a token whose role is not configured with 403', async () => {
    const res = await post({ authorization: `Bearer ${await token({ roles: ['admin'] })}` });
    expect(res.status).toBe(403);
  });

  it('rejects a client that sends no credential', async () => {
    await expect(connect(srv.url, {})).rejects.toThrow();
  });
});

describe('Origin', () => {
  it('refuses an Origin that is not listed, before looking at the credential', async () => {
    const res = await post({ origin: 'http://evil.example', 'x-api-key': KEYS.internal });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toContain('allowedOrigins');
    expect((await post({ origin: 'http://evil.example' })).status).toBe(403);
  });

  it('serves a listed Origin (any port of a listed scheme and host) with CORS headers', async () => {
    const res = await post({ origin: 'http://localhost:5173', 'x-api-key': KEYS.internal });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const pre = await fetch(`${srv.url}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'http://127.0.0.1:3000', 'access-control-request-method': 'POST' },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    const refused = await fetch(`${srv.url}/mcp`, {
      method: 'OPTIONS',
      headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(refused.status).toBe(403);
  });

  it('serves clients that send no Origin (non-browser clients)', async () => {
    expect((await post({ 'x-api-key': KEYS.internal })).status).toBe(200);
  });
});

describe('a tenant with a JWT', () => {
  it('reads the federated reference view: only its tenant, e-mails masked, the same rows as REST', async () => {
    const jwt = await token({ roles: ['external'], tenant_id: 't2' });
    const client = await connect(srv.url, { authorization: `Bearer ${jwt}` });
    try {
      const d = await client.callTool({ name: 'describe_view', arguments: { view: 'federation.unified_customer_activity' } });
      expect((d.structuredContent as any).key).toEqual(['customer_id', 'order_id', 'event_id']);
      const args = { view: 'federation.unified_customer_activity', order: ['customer_id', 'order_id desc'], limit: 100 };
      const r = await client.callTool({ name: 'query_view', arguments: args });
      expect(r.isError).toBeFalsy();
      const rows = (r.structuredContent as any).rows as any[];
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.tenant_id).toBe('t2');
        expect(row.email).toMatch(/^.\*\*\*@/);
      }
      const rest = await get(`${srv.url}/api/v2/federation/_table/unified_customer_activity?order=customer_id,order_id%20desc&limit=100`, {
        authorization: `Bearer ${jwt}`,
      });
      expect(rows).toEqual(rest.body.resource);
    } finally {
      await client.close();
    }
  });

  it('sees only its tenant rows with masked e-mails, the same rows REST gives the same token', async () => {
    const jwt = await token({ roles: ['external'], tenant_id: 't2' });
    const client = await connect(srv.url, { authorization: `Bearer ${jwt}` });
    try {
      const views = await client.callTool({ name: 'list_views', arguments: {} });
      expect((views.structuredContent as any).views.map((v: any) => v.name)).toEqual([
        'federation.unified_customer_activity',
        'crm.customers',
      ]);
      const r = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', order: 'customer_id' } });
      expect(r.isError).toBeFalsy();
      const rows = (r.structuredContent as any).rows as any[];
      expect(rows.length).toBeGreaterThan(0);
      for (const row of rows) {
        expect(row.tenant_id).toBe('t2');
        expect(row.email).toMatch(/^.\*\*\*@example\.org$/);
        expect(row).not.toHaveProperty('is_active');
      }
      const rest = await get(`${srv.url}/api/v2/crm/_table/customers?order=customer_id`, { authorization: `Bearer ${jwt}` });
      expect(rows).toEqual(rest.body.resource);
      // The masked column cannot be used to probe the real values.
      const probe = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filter: "email like 'ada%'" } });
      expect(probe.isError).toBe(true);
      expect(text(probe)).toContain('masked for your role');
      expect(text(probe)).toMatch(/Filterable fields of crm\.customers: customer_id, tenant_id, full_name, created_at\./);
      // Views it may not read do not exist for it.
      const hidden = await client.callTool({ name: 'query_view', arguments: { view: 'app.orders' } });
      expect(hidden.isError).toBe(true);
      expect(text(hidden)).toContain('Error 404');
      expect(text(hidden)).toContain('Views you can read: federation.unified_customer_activity, crm.customers.');
      const res = await client.listResources();
      expect(res.resources.map((x) => x.uri)).toEqual([
        'viewgate://views/federation.unified_customer_activity',
        'viewgate://views/crm.customers',
      ]);
      await expect(client.readResource({ uri: 'viewgate://views/app.orders' })).rejects.toThrow();
    } finally {
      await client.close();
    }
  });
});

describe('a token without the claim its row filter needs', () => {
  it('gets through the door but its queries fail with 403 naming the claim', async () => {
    const client = await connect(srv.url, { authorization: `Bearer ${await token({ roles: ['external'] })}` });
    try {
      const r = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers' } });
      expect(r.isError).toBe(true);
      expect(text(r)).toMatch(/^Error 403: .*tenant_id/);
    } finally {
      await client.close();
    }
  });
});

describe('tools', () => {
  let client: Client;
  beforeAll(async () => {
    client = await connect(srv.url, { 'x-api-key': KEYS.internal });
  });
  afterAll(async () => {
    await client?.close();
  });

  it('lists the tools (built-in and curated), read-only annotated, each with an input and an output schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(INTERNAL_TOOLS);
    for (const t of tools) {
      // export_view makes a new export on every call: read-only, but not idempotent.
      expect(t.annotations).toEqual({
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: t.name !== 'export_view',
        openWorldHint: false,
      });
      expect(t.inputSchema.type).toBe('object');
      expect(t.outputSchema?.type).toBe('object');
    }
    const q = tools.find((t) => t.name === 'query_view')!;
    expect(Object.keys(q.inputSchema.properties ?? {}).sort()).toEqual(['cursor', 'fields', 'filter', 'limit', 'offset', 'order', 'view']);
    expect(q.inputSchema.required).toEqual(['view']);
    expect(Object.keys((q.outputSchema as any).properties).sort()).toEqual(['next_cursor', 'next_offset', 'returned', 'rows', 'truncated']);
  });

  it('gives integers beyond 2^53 as strings of digits (REST gives bare digits)', async () => {
    const r = await client.callTool({
      name: 'query_view',
      arguments: { view: 'app.orders', filter: { field: 'order_id', op: 'eq', value: BIG_ORDER } },
    });
    expect((r.structuredContent as any).rows).toEqual([
      { order_id: BIG_ORDER, customer_id: 3, total_amount: '10.00', status: 'paid', created_at: '2024-08-01T00:00:00.000000Z' },
    ]);
    expect(text(r)).toContain(`"order_id":"${BIG_ORDER}"`);
    const rest = await get(`${srv.url}/api/v2/app/_table/orders?filter=order_id=${BIG_ORDER}`, { 'x-api-key': KEYS.internal });
    expect(rest.text).toContain(`"order_id":${BIG_ORDER}`);
  });

  it('answers mistakes with isError results that say what to do', async () => {
    const unknown = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filter: 'nope = 1' } });
    expect(unknown.isError).toBe(true);
    expect(text(unknown)).toContain('unknown field "nope"');
    expect(text(unknown)).toContain('Filterable fields of crm.customers: customer_id, tenant_id, email, full_name, is_active, created_at.');

    const syntax = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filter: 'customer_id = = 1' } });
    expect(syntax.isError).toBe(true);
    expect(text(syntax)).toMatch(/position/);

    const limit = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 0 } });
    expect(limit.isError).toBe(true);
    expect(text(limit)).toContain('limit is 1 or more rows per call');

    const typo = await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', filters: 'x' } });
    expect(typo.isError).toBe(true);
    expect(text(typo)).toContain('filters');

    const noView = await client.callTool({ name: 'describe_view', arguments: { view: 'customers' } });
    expect(noView.isError).toBe(true);
    expect(text(noView)).toContain('Views you can read: ');
    expect(text(noView)).toContain('crm.customers');
  });

  it('describes a view as the caller sees it, with an example call that works', async () => {
    const llm = await connect(srv.url, { 'x-api-key': KEYS.llm });
    try {
      const d = await llm.callTool({ name: 'describe_view', arguments: { view: 'crm.customers' } });
      const s = d.structuredContent as any;
      expect(s).toMatchObject({ view: 'crm.customers', key: ['customer_id'], max_limit: 50 });
      expect(s.columns.map((c: any) => [c.name, c.type, c.masked, c.filterable])).toEqual([
        ['customer_id', 'int', false, true],
        ['full_name', 'text', false, true],
        ['is_active', 'bool', false, true],
      ]);
      expect(s.example.tool).toBe('query_view');
      const r = await llm.callTool({ name: 'query_view', arguments: s.example.arguments });
      expect(r.isError).toBeFalsy();
    } finally {
      await llm.close();
    }
  });

  it('audits every tool call with surface mcp, the tool name and its arguments', async () => {
    const args = { view: 'crm.customers', fields: ['customer_id'], filter: 'customer_id < 3', order: 'customer_id' };
    await client.callTool({ name: 'query_view', arguments: args });
    await client.callTool({ name: 'describe_view', arguments: { view: 'nope.nope' } });
    const records = srv.audit.records.filter((r) => r.surface === 'mcp');
    const q = records.findLast((r) => r.action === 'query_view')!;
    expect(q).toMatchObject({
      surface: 'mcp',
      action: 'query_view',
      subject: 'key:internal-tools',
      role: 'internal',
      keyName: 'internal-tools',
      view: 'crm.customers',
      fields: ['customer_id'],
      rowCount: 2,
      decision: 'allow',
      status: 200,
      args,
    });
    expect(q.filter).toBeDefined();
    expect(records.findLast((r) => r.action === 'describe_view')).toMatchObject({ view: 'nope.nope', decision: 'deny', status: 404 });
    // A request turned away at the door is audited too.
    await post({ 'x-api-key': 'wrong' });
    expect(srv.audit.records.at(-1)).toMatchObject({ surface: 'mcp', action: 'connect', decision: 'deny', status: 401 });
  });

  it('answers a 2025-era stateless tools/call as one complete event stream, audited once', async () => {
    const before = srv.audit.records.length;
    const res = await post(
      { 'x-api-key': KEYS.internal, 'mcp-protocol-version': '2025-06-18' },
      {
        jsonrpc: '2.0',
        id: 7,
        method: 'tools/call',
        params: { name: 'query_view', arguments: { view: 'app.orders', filter: 'order_id = 1001' } },
      },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Sent whole (one write with its length), not piped chunk by chunk.
    expect(res.headers.get('transfer-encoding')).toBeNull();
    const body = await res.text();
    expect(Number(res.headers.get('content-length'))).toBe(Buffer.byteLength(body));
    const data = body
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => JSON.parse(l.slice(6)));
    expect(data).toHaveLength(1);
    expect(data[0]).toMatchObject({ jsonrpc: '2.0', id: 7, result: { structuredContent: { rows: [{ order_id: 1001 }] } } });
    const records = srv.audit.records.slice(before);
    expect(records.map((r) => r.action)).toEqual(['query_view']);
    expect(records[0]).toMatchObject({ surface: 'mcp', view: 'app.orders', rowCount: 1, status: 200 });
  });

  it('fails closed when the audit log cannot be written and audit.failClosed is set', async () => {
    const strict = await startServer(
      referenceConfig(stores.env, (y) => y.replace('audit:\n  sink: stdout', 'audit:\n  sink: stdout\n  failClosed: true')),
    );
    const c = await connect(strict.url, { 'x-api-key': KEYS.internal });
    try {
      strict.audit.fail = true;
      const r = await c.callTool({ name: 'list_views', arguments: {} });
      expect(r.isError).toBe(true);
      expect(text(r)).toContain('Error 503');
    } finally {
      strict.audit.fail = false;
      await c.close();
      await strict.close();
    }
  });
});

describe('a small text budget (server.mcp.maxChars: 500)', () => {
  let small: RunningServer;
  let client: Client;
  beforeAll(async () => {
    small = await startServer(
      referenceConfig(stores.env, (y) =>
        y.replace('mcp:\n', 'mcp:\n    maxChars: 500\n').replace(/maxLimit: 50(?![\s\S]*maxLimit: 50)/, 'maxLimit: 2'),
      ),
    );
    client = await connect(small.url, { 'x-api-key': KEYS.internal });
  });
  afterAll(async () => {
    await client?.close();
    await small?.close();
  });

  it('pages through the whole result within the budget, and the pages add up to the REST result', async () => {
    const args = { view: 'crm.customers', fields: 'customer_id,tenant_id', order: ['customer_id'] };
    const pages: unknown[] = [];
    let offset = 0;
    for (let i = 0; i < 50; i++) {
      const r = await client.callTool({ name: 'query_view', arguments: { ...args, offset } });
      const s = r.structuredContent as any;
      expect(text(r).length).toBeLessThanOrEqual(500);
      expect(s.returned).toBe(s.rows.length);
      expect(s.returned).toBeGreaterThanOrEqual(1);
      pages.push(...s.rows);
      if (!s.truncated) {
        expect(s.next_offset).toBeNull();
        expect(text(r)).toContain('No more rows match.');
        break;
      }
      expect(s.next_offset).toBe(offset + s.returned);
      expect(text(r)).toContain(`"offset": ${s.next_offset}`);
      offset = s.next_offset;
    }
    expect(offset).toBeGreaterThan(0);
    const rest = await get(`${small.url}/api/v2/crm/_table/customers?fields=customer_id,tenant_id&order=customer_id`, {
      'x-api-key': KEYS.internal,
    });
    expect(pages).toEqual(rest.body.resource);
  });

  it('cuts a long value with a marker in the text, and keeps it whole in structuredContent', async () => {
    const r = await client.callTool({
      name: 'query_view',
      arguments: { view: 'crm.customers', fields: ['customer_id', 'full_name'], filter: 'customer_id = 99' },
    });
    expect(text(r).length).toBeLessThanOrEqual(500);
    expect(text(r)).toContain('…[cut]');
    expect((r.structuredContent as any).rows).toEqual([{ customer_id: 99, full_name: LONG_NAME }]);
  });

  it('says when the limit was capped at the grant maximum, and pages on from there', async () => {
    const llm = await connect(small.url, { 'x-api-key': KEYS.llm });
    try {
      const r = await llm.callTool({ name: 'query_view', arguments: { view: 'crm.customers', fields: ['customer_id'], limit: 10 } });
      const s = r.structuredContent as any;
      expect(s).toEqual({
        rows: [{ customer_id: 3 }, { customer_id: 6 }],
        returned: 2,
        truncated: true,
        next_offset: 2,
        next_cursor: expect.any(String),
      });
      expect(text(r)).toContain("limit 10 is above this view's maximum, so at most 2 rows are returned per call.");
    } finally {
      await llm.close();
    }
  });
});
