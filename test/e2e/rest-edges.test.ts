// The rough edges a new user hits on the REST surface, over real HTTP on the reference scenario:
// writes the caller may not make, typos in query parameters, credentials in the wrong place, and filter
// mistakes that deserve a hint.
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

let stores: ReferenceStores;
let srv: RunningServer;
const api = (path: string) => `${srv.url}/api/v2${path}`;
const internal = { 'X-API-Key': KEYS.internal };
const partner = { 'X-API-Key': KEYS.partner };
const llm = { 'X-API-Key': KEYS.llm };

async function send(method: string, url: string, headers: Record<string, string> = {}, body?: unknown) {
  const res = await fetch(url, {
    method,
    headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const enc = encodeURIComponent;

beforeAll(async () => {
  stores = await createReferenceStores('restedge');
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

describe('writes the caller may not make', () => {
  const FED = '/federation/_table/unified_customer_activity';
  it.each([
    ['POST', FED, { resource: [{ customer_id: 99 }] }],
    ['PUT', `${FED}/1`, { full_name: 'x' }],
    ['PATCH', `${FED}/1`, { full_name: 'x' }],
    ['PATCH', FED, { resource: [{ customer_id: 1, full_name: 'x' }] }],
    ['DELETE', `${FED}/1`, undefined],
    ['DELETE', `${FED}?ids=1,2`, undefined],
  ])('%s %s on a federated view by a reader is a 405 with Allow: GET, HEAD', async (method, path, body) => {
    const r = await send(method, api(path), internal, body);
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
    expect(r.body.error.code).toBe(405);
    expect(r.body.error.message).toContain('read-only');
    expect(r.body.error.message).toContain(method);
  });

  it.each([
    ['POST', '/crm/_table/customers', { resource: [{ customer_id: 99 }] }],
    ['PUT', '/crm/_table/customers/1', { full_name: 'x' }],
    ['PATCH', '/crm/_table/customers/1', { full_name: 'x' }],
    ['PATCH', '/crm/_table/customers', { resource: [{ customer_id: 1, full_name: 'x' }] }],
    ['DELETE', '/crm/_table/customers/1', undefined],
    ['DELETE', '/app/_table/orders?ids=1,2', undefined],
  ])('%s %s on a table by a role without write rights is a 403', async (method, path, body) => {
    const r = await send(method, api(path), internal, body);
    expect(r.status).toBe(403);
    expect(r.headers.get('allow')).toBeNull();
    expect(r.body.error.message).toContain('may read');
  });

  it('whatever the body: bad JSON, form data or none at all', async () => {
    for (const path of ['/federation/_table/unified_customer_activity', '/crm/_table/customers']) {
      for (const [type, body] of [
        ['application/json', '{"resource": ['],
        ['application/x-www-form-urlencoded', 'a=1'],
        ['text/csv', 'a,b'],
      ]) {
        const r = await fetch(api(path), { method: 'POST', headers: { ...internal, 'content-type': type! }, body });
        expect(r.status).toBe(path.startsWith('/federation') ? 405 : 403);
      }
    }
    expect(
      (await fetch(api('/crm/_table/customers/1'), { method: 'DELETE', headers: { ...internal, 'content-type': 'application/json' } }))
        .status,
    ).toBe(403);
  });

  it('the row really is unchanged', async () => {
    const r = await get(api('/crm/_table/customers/1?fields=customer_id,full_name'), internal);
    expect(r.status).toBe(200);
    expect(r.body.full_name).not.toBe('x');
  });

  it('a caller who may not read the view gets 404, as for a read; no credential is a 401', async () => {
    const ungranted = await send('DELETE', api('/app/_table/orders/1'), partner);
    expect(ungranted.status).toBe(404);
    expect(ungranted.headers.get('allow')).toBeNull();
    const unknown = await send('POST', api('/crm/_table/nope'), internal, { resource: [] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toBe((await get(api('/crm/_table/nope'), internal)).body.error.message);
    const anonymous = await send('DELETE', api('/crm/_table/customers/1'));
    expect(anonymous.status).toBe(401);
    // A reader with a partial grant may still read, so learns it may not write.
    expect((await send('PATCH', api('/crm/_table/customers/3'), llm, { full_name: 'x' })).status).toBe(403);
    expect((await send('PATCH', api('/federation/_table/unified_customer_activity/3'), llm, { full_name: 'x' })).status).toBe(405);
  });

  it('writes are audited like reads', async () => {
    const r = await send('POST', api('/app/_table/orders'), internal, { resource: [{ order_id: 1 }] });
    expect(r.status).toBe(403);
    await srv.rt.audit.flush();
    const rec = srv.audit.records.findLast((a) => a.requestId === r.headers.get('x-request-id'));
    expect(rec).toMatchObject({
      surface: 'rest',
      action: 'insert',
      view: 'app.orders',
      subject: 'key:internal-tools',
      status: 403,
      decision: 'deny',
    });
  });

  it('the answer needs only the grant: with the store down, a federated view is still a 405 and a table a 403', async () => {
    const down = await startServer(referenceConfig({ ...stores.env, APP_PG_URL: 'postgres://postgres@127.0.0.1:1/nothing' }));
    try {
      expect((await get(`${down.url}/api/v2/app/_table/orders`, internal)).status).toBe(503);
      expect((await send('DELETE', `${down.url}/api/v2/app/_table/orders/1`, internal)).status).toBe(403);
      const r = await send('DELETE', `${down.url}/api/v2/federation/_table/unified_customer_activity/1`, internal);
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD');
    } finally {
      await down.close();
    }
  });

  it('with CORS configured, OPTIONS is among the allowed methods', async () => {
    const cors = await startServer(
      referenceConfig(stores.env, (y) => y.replace('server:\n', 'server:\n  cors: { origins: ["https://app.example"] }\n')),
    );
    try {
      const fed = `${cors.url}/api/v2/federation/_table/unified_customer_activity/1`;
      const r = await send('PUT', fed, internal, { full_name: 'x' });
      expect(r.status).toBe(405);
      expect(r.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
      const browser = await send('PUT', fed, { ...internal, Origin: 'https://app.example' }, {});
      expect(browser.headers.get('access-control-expose-headers')).toContain('Allow');
    } finally {
      await cors.close();
    }
  });
});

describe('query parameters', () => {
  it('an unknown parameter is a 400 naming it and listing the parameters that exist', async () => {
    const r = await get(api('/crm/_table/customers?limt=5'), internal);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain('unknown query parameter "limt" (did you mean "limit"?)');
    expect(r.body.error.message).toContain('fields, filter, order, limit, offset, include_count, ids, explain');
    expect(r.body.error.context).toMatchObject({ param: 'limt' });
    const row = await get(api('/crm/_table/customers/1?filter=x'), internal);
    expect(row.status).toBe(400);
    expect(row.body.error.message).toContain('parameters here are: fields');
    const df = await get(api('/crm/_table/customers?related=orders'), internal);
    expect(df.status).toBe(400);
    expect(df.body.error.message).toContain('DreamFactory parameter "related" is not supported');
  });

  it("DreamFactory's parameter names keep working", async () => {
    const r = await get(
      api(
        `/crm/_table/customers?fields=customer_id&filter=${enc('customer_id <= 5')}&order=${enc('customer_id desc')}&limit=2&offset=1&include_count=true`,
      ),
      internal,
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      resource: [{ customer_id: 4 }, { customer_id: 3 }],
      meta: { count: 5, next: 3, next_cursor: expect.any(String) },
    });
    const ids = await get(api('/crm/_table/customers?ids=2,3&fields=customer_id'), internal);
    expect(ids.body.resource).toEqual([{ customer_id: 2 }, { customer_id: 3 }]);
  });

  it('filter= also takes the structured JSON filter MCP takes', async () => {
    const json = JSON.stringify({
      and: [{ field: 'customer_id', op: 'lte', value: 5 }, { not: { field: 'customer_id', op: 'in', value: [1, 2] } }],
    });
    const r = await get(api(`/crm/_table/customers?fields=customer_id&order=customer_id&filter=${enc(json)}`), internal);
    expect(r.status).toBe(200);
    expect(r.body.resource).toEqual([{ customer_id: 3 }, { customer_id: 4 }, { customer_id: 5 }]);
    const text = await get(
      api(`/crm/_table/customers?fields=customer_id&order=customer_id&filter=${enc('customer_id <= 5 and not customer_id in (1, 2)')}`),
      internal,
    );
    expect(text.body).toEqual(r.body);
  });

  it('a structured filter with bad JSON, or a bad shape, is a 400 naming the problem', async () => {
    const broken = await get(api(`/crm/_table/customers?filter=${enc('{"field":"customer_id","op":"eq",}')}`), internal);
    expect(broken.status).toBe(400);
    expect(broken.body.error.message).toContain('looks like JSON');
    expect(broken.body.error.message).toContain('does not parse');
    expect(broken.body.error.context.param).toBe('filter');
    const shape = await get(api(`/crm/_table/customers?filter=${enc('{"field":"customer_id","op":"equals","value":1}')}`), internal);
    expect(shape.status).toBe(400);
    expect(shape.body.error.message).toContain('equals');
    // The policy applies to structured filters too: a masked column cannot be filtered on.
    const masked = await get(api(`/crm/_table/customers?filter=${enc('{"field":"email","op":"eq","value":"a@b.c"}')}`), partner);
    expect(masked.status).toBe(400);
  });
});

describe('filter hints', () => {
  it('an unquoted date suggests quoting it, with the position', async () => {
    const r = await get(api(`/crm/_table/customers?filter=${enc('created_at > 2024-01-01')}`), internal);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain("write '2024-01-01'");
    expect(r.body.error.context).toEqual({ param: 'filter', position: 13 });
    const quoted = await get(api(`/crm/_table/customers?filter=${enc("created_at > '2024-01-01'")}&limit=1`), internal);
    expect(quoted.status).toBe(200);
  });

  it('&& and || suggest and / or, with the position', async () => {
    const and = await get(api(`/crm/_table/customers?filter=${enc('customer_id > 1 && customer_id < 5')}`), internal);
    expect(and.status).toBe(400);
    expect(and.body.error.message).toContain("write 'and' instead");
    expect(and.body.error.context).toEqual({ param: 'filter', position: 16 });
    const or = await get(api(`/crm/_table/customers?filter=${enc('customer_id = 1 || customer_id = 2')}`), internal);
    expect(or.status).toBe(400);
    expect(or.body.error.message).toContain("write 'or' instead");
  });
});

describe('credentials in the wrong place', () => {
  it('?api_key= is refused with a 401 saying to use the X-API-Key header', async () => {
    const r = await get(api(`/crm/_table/customers?api_key=${KEYS.internal}`));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain('X-API-Key header');
    expect(r.body.error.message).toContain('not accepted in the URL');
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_request"');
    // Even alongside a valid header: the key has leaked into the URL either way.
    const both = await get(api(`/crm/_table/customers?api_key=${KEYS.internal}`), internal);
    expect(both.status).toBe(401);
    const token = await get(api('/crm/_table/customers?access_token=abc.def.ghi'));
    expect(token.status).toBe(401);
    expect(token.body.error.message).toContain('Authorization: Bearer header');
  });

  it('an API key sent as a bearer token gets a 401 saying to use X-API-Key', async () => {
    const r = await get(api('/crm/_table/customers'), { Authorization: `Bearer ${KEYS.internal}` });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toContain('X-API-Key header');
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // A real-looking JWT that does not verify is still just invalid.
    const jwt = await get(api('/crm/_table/customers'), { Authorization: 'Bearer abc.def.ghi' });
    expect(jwt.status).toBe(401);
    expect(jwt.body.error.message).not.toContain('X-API-Key');
  });

  it('MCP over HTTP gives the same hint (the authenticator decides, not the surface)', async () => {
    const res = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${KEYS.internal}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
      }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('X-API-Key header');
  });
});
