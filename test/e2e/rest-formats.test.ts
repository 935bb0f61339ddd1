// GET /_table/{view} as CSV and NDJSON over real HTTP on a real PostgreSQL table: the same policy
// as JSON (masks, hidden fields, row filter, limits), exact bodies (RFC 4180 quoting, NULL as the
// empty field, 64-bit integers exact), refusals in the JSON envelope before any body, no ETag, 406.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { get, type RunningServer } from '../support/reference.js';
import { createExpStore, keyHeader, startExpServer, type ExpStore } from '../support/exports.js';

let store: ExpStore;
let srv: RunningServer;

beforeAll(async () => {
  store = await createExpStore('fmt');
  srv = await startExpServer(store);
});

afterAll(async () => {
  await srv?.close();
  await store?.drop();
});

const PATH = '/api/v2/exp/_table/exp_items';
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const csv = { ...keyHeader('a'), accept: 'text/csv' };
const ndjson = { ...keyHeader('a'), accept: 'application/x-ndjson' };

describe('CSV', () => {
  it('writes a header row and RFC 4180 records: quoting, NULL as empty, "" for an empty string, exact 64-bit integers, masked values', async () => {
    const r = await get(`${srv.url}${PATH}?limit=6`, csv);
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/csv; charset=utf-8; header=present');
    expect(r.text).toBe(
      [
        'id,label,email,amount,big,flag,meta',
        '1,plain,a***@x.org,10.50,9007199254740993,true,"{""a"":1}"',
        '2,"has,comma",b***@x.org,,-9223372036854775808,false,',
        '3,"say ""hi""",,0.00,0,,"[""x"",""y,z""]"',
        '4,"two\r\nlines",c***@x.org,-1.25,1,true,str',
        '5,"",d***@x.org,2.00,2,true,',
        '6,,e***@x.org,3.00,3,false,',
        '',
      ].join('\r\n'),
    );
  });

  it('applies the row filter and leaves hidden fields out; the same rows as JSON', async () => {
    const r = await get(`${srv.url}${PATH}?fields=id,label&limit=100`, csv);
    expect(r.status).toBe(200);
    const lines = r.text.split('\r\n');
    expect(lines[0]).toBe('id,label');
    const json = await get(`${srv.url}${PATH}?fields=id&limit=100`, keyHeader('a'));
    const ids = json.body.resource.map((row: any) => String(row.id));
    expect(ids).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']); // tenant t1 only
    const all = await get(`${srv.url}${PATH}?limit=100`, csv);
    expect(all.text.split('\r\n')[0]).toBe('id,label,email,amount,big,flag,meta'); // no tenant_id, no secret
    expect(all.text).not.toContain('other11');
    expect(all.text).not.toContain('s1');
  });

  it('refuses a hidden or masked field in the JSON envelope, with no CSV body', async () => {
    const hidden = await get(`${srv.url}${PATH}?fields=id,secret`, csv);
    expect(hidden.status).toBe(400);
    expect(hidden.headers.get('content-type')).toMatch(/^application\/json/);
    expect(hidden.body.error.message).toContain('secret');
    const masked = await get(`${srv.url}${PATH}?filter=${encodeURIComponent("email = 'ann@x.org'")}`, csv);
    expect(masked.status).toBe(400);
    expect(masked.body.error.message).toContain('masked');
  });

  it('a request over the row budget is the JSON 422 before any body', async () => {
    // The key is hidden for this role, so every matching row is read to order them opaquely: 10 > 8.
    const r = await get(`${srv.url}${PATH}?limit=2`, { ...keyHeader('opaque'), accept: 'text/csv' });
    expect(r.status).toBe(422);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    expect(r.body.error.code).toBe(422);
    expect(r.text).not.toContain('label,amount');
  });

  it('has no ETag, varies on Accept, and carries count and next in headers', async () => {
    const r = await get(`${srv.url}${PATH}?fields=id&limit=3&include_count=true`, csv);
    expect(r.status).toBe(200);
    expect(r.headers.get('etag')).toBeNull();
    expect(r.headers.get('vary')).toMatch(/Accept/);
    expect(r.headers.get('x-total-count')).toBe('10');
    expect(r.headers.get('x-next-offset')).toBe('3');
    expect(r.headers.get('x-next-cursor')).toMatch(/^[\w-]+$/);
    expect(r.text).toBe('id\r\n1\r\n2\r\n3\r\n');
    const json = await get(`${srv.url}${PATH}?fields=id&limit=3`, keyHeader('a'));
    expect(json.headers.get('etag')).toMatch(/^"/);
  });
});

describe('NDJSON', () => {
  it('writes one JSON object per line, as the JSON body writes each row', async () => {
    const r = await get(`${srv.url}${PATH}?limit=3`, ndjson);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    expect(r.headers.get('etag')).toBeNull();
    expect(r.text).toBe(
      [
        '{"id":1,"label":"plain","email":"a***@x.org","amount":"10.50","big":9007199254740993,"flag":true,"meta":{"a":1}}',
        '{"id":2,"label":"has,comma","email":"b***@x.org","amount":null,"big":-9223372036854775808,"flag":false,"meta":null}',
        '{"id":3,"label":"say \\"hi\\"","email":null,"amount":"0.00","big":0,"flag":null,"meta":["x","y,z"]}',
        '',
      ].join('\n'),
    );
    const json = await get(`${srv.url}${PATH}?limit=3`, keyHeader('a'));
    expect(json.text).toMatch(new RegExp(`^\\{"resource":\\[${escape(r.text.trimEnd().split('\n').join(','))}\\],"meta":\\{"next":3,`));
  });

  it('an empty result is an empty body', async () => {
    const r = await get(`${srv.url}${PATH}?filter=id%20%3D%2011`, ndjson);
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
  });
});

describe('content negotiation', () => {
  it.each([
    [undefined, 'application/json'],
    ['*/*', 'application/json'],
    ['application/*', 'application/json'],
    ['text/*', 'text/csv'],
    ['text/csv;q=0.5, application/json', 'application/json'],
    ['application/json;q=0.2, application/x-ndjson', 'application/x-ndjson'],
    ['text/csv;q=0, */*', 'application/json'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', 'application/json'],
  ])('Accept %s is answered as %s', async (accept, type) => {
    const r = await get(`${srv.url}${PATH}?limit=1`, { ...keyHeader('a'), ...(accept ? { accept } : {}) });
    expect(r.status, r.text).toBe(200);
    expect(r.headers.get('content-type')).toMatch(new RegExp(`^${type.replace('/', '\\/')}`));
  });

  it('an Accept that allows none of the formats is a 406 in the JSON envelope, recorded', async () => {
    const r = await get(`${srv.url}${PATH}?limit=1`, { ...keyHeader('a'), accept: 'text/html' });
    expect(r.status).toBe(406);
    expect(r.body.error.code).toBe(406);
    expect(r.body.error.message).toContain('text/csv');
    const rec = srv.audit.records.find((x) => x.requestId === r.headers.get('x-request-id'));
    expect(rec).toMatchObject({ status: 406, action: 'query' });
  });

  it('without credentials the 401 comes first', async () => {
    const r = await get(`${srv.url}${PATH}`, { accept: 'text/html' });
    expect(r.status).toBe(401);
  });
});
