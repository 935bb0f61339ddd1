// Keyset cursors end to end (docs/query.md "Cursors", docs/security.md "Cursors") on the real
// stores (PostgreSQL, MariaDB, FerretDB and an embedded view joining two of them), over real HTTP
// and the MCP SDK client:
// - walking every page by next_cursor gives exactly the one-page result, with ties and NULLs in the
//   order and in both directions, also when the key is masked or hidden (opaque order);
// - rows inserted or deleted between pages neither repeat nor skip rows that existed;
// - a cursor continues only for its caller, view, query and grant, and a flipped byte is refused;
// - a deep page is a keyset predicate in the native query, never an OFFSET.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseConfig } from '../../src/config/load.js';
import { get, startServer, type RunningServer } from '../support/reference.js';
import { createMongoDatabase, createMysqlDatabase, createPgDatabase, mysqlExec, pgExec } from '../support/stores.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const SECRET = 'cursor-test-secret-0123456789';
const KEYS = ['reader', 'reader2', 't1', 't2', 'masked', 'hidden', 'cached1', 'cached2', 'cachedmasked'] as const;
/** The role of each key whose role is not its own name. */
const ROLE_OF: Partial<Record<Key, string>> = { reader2: 'reader', t1: 'tenant', t2: 'tenant', cached1: 'cached', cached2: 'cached' };
type Key = (typeof KEYS)[number];

let pgDb: Awaited<ReturnType<typeof createPgDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let mongoDb: Awaited<ReturnType<typeof createMongoDatabase>>;
let srv: RunningServer;
let dir: string;

/** 40 rows: grp has ties and NULLs, score has NULLs; tenant alternates. */
const ROWS = Array.from({ length: 40 }, (_, i) => {
  const id = i + 1;
  return {
    id,
    grp: ['a', 'b', null, 'c', 'b'][id % 5]!,
    score: id % 7 === 0 ? null : (id * 37) % 11,
    tenant: id % 2 ? 't1' : 't2',
    name: `n${String(id).padStart(2, '0')}`,
  };
});

function configYaml(grant = '{ read: true, explain: true }'): string {
  return `
audit: { sink: off }
logging: { level: silent }
server: { cursorSecret: "${SECRET}" }
masking: { hashSecret: cursor-test-hash-secret }
sources:
  pg: { kind: postgres, url: "${pgDb.url}" }
  my: { kind: mysql, url: "${myDb.url}" }
  mgo:
    kind: mongodb
    url: "${mongoDb.url}"
    database: ${mongoDb.name}
    collections:
      cur_items:
        columns: { _id: { type: text }, id: { type: int }, grp: { type: text }, score: { type: int }, tenant: { type: text }, name: { type: text } }
services:
  pgs: { source: pg, tables: [cur_items, cur_live] }
  mys: { source: my, tables: [cur_items, cur_live] }
  mgs: { source: mgo, tables: [{ name: cur_items, key: [id] }] }
  mgid: { source: mgo, tables: [cur_items] }
  fed:
    engine: embedded
    views:
      cur_join:
        key: [id]
        sql: SELECT p.id, p.grp, p.score, p.tenant, m.name FROM pg.cur_items p JOIN my.cur_items m ON m.id = p.id
auth:
  apiKeys:
${KEYS.map((k) => `    - { name: ${k}, sha256: ${sha256(`key-${k}`)}, role: ${ROLE_OF[k] ?? k}${k.startsWith('t') ? `, claims: { tenant_id: ${k} }` : ''} }`).join('\n')}
roles:
  reader: { grants: { "*": ${grant} } }
  tenant: { grants: { "*": { read: true, rowFilter: "tenant = {claims.tenant_id}" } } }
  masked: { grants: { "*": { read: true, explain: true, masks: { id: hash } } } }
  hidden: { grants: { "*": { read: true, fields: [grp, score, tenant, name] } } }
  cached: { grants: { "*": { read: true, cacheTtl: 60s } } }
  cachedmasked: { grants: { "*": { read: true, cacheTtl: 60s, masks: { id: hash } } } }
`;
}

const configOf = (grant?: string) => parseConfig(configYaml(grant), join(dir, 'viewgate.yaml'), {});

beforeAll(async () => {
  [pgDb, myDb, mongoDb] = await Promise.all([createPgDatabase('cursor'), createMysqlDatabase('cursor'), createMongoDatabase('cursor')]);
  const values = (rows: typeof ROWS) =>
    rows.map((r) => `(${r.id}, ${r.grp === null ? 'NULL' : `'${r.grp}'`}, ${r.score ?? 'NULL'}, '${r.tenant}', '${r.name}')`).join(', ');
  for (const table of ['cur_items', 'cur_live']) {
    await pgExec(
      pgDb.url,
      `CREATE TABLE ${table} (id int PRIMARY KEY, grp text, score int, tenant text NOT NULL, name text NOT NULL);
      INSERT INTO ${table} VALUES ${values(ROWS)}`,
    );
    await mysqlExec(
      myDb.url,
      `CREATE TABLE ${table} (id int PRIMARY KEY, grp varchar(5), score int, tenant varchar(5) NOT NULL, name varchar(10) NOT NULL);
      INSERT INTO ${table} VALUES ${values(ROWS)}`,
    );
  }
  await mongoDb.client
    .db(mongoDb.name)
    .collection('cur_items')
    .insertMany(ROWS.map((r) => ({ ...r })));
  dir = mkdtempSync(join(tmpdir(), 'vg-cursor-'));
  srv = await startServer(configOf());
});

afterAll(async () => {
  await srv?.close();
  await Promise.allSettled([pgDb?.drop(), myDb?.drop(), mongoDb?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function call(base: string, path: string, params: Record<string, string>, who: Key) {
  const qs = new URLSearchParams(params).toString();
  return get(`${base}/api/v2${path}${qs ? `?${qs}` : ''}`, { 'X-API-Key': `key-${who}` });
}

/** Every page by next_cursor; also checks each page's shape. */
async function walk(path: string, params: Record<string, string>, who: Key, size: number, base = srv.url): Promise<any[]> {
  const out: any[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const r = await call(base, path, { ...params, limit: String(size), ...(cursor ? { cursor } : {}) }, who);
    expect(r.status, r.text).toBe(200);
    out.push(...r.body.resource);
    if (cursor) expect(r.body.meta.next).toBeUndefined();
    cursor = r.body.meta.next_cursor;
    if (cursor === undefined) return out;
    expect(r.body.resource.length).toBe(size);
  }
  throw new Error('more than 100 pages');
}

async function whole(path: string, params: Record<string, string>, who: Key): Promise<any[]> {
  const r = await call(srv.url, path, { ...params, limit: '1000' }, who);
  expect(r.status, r.text).toBe(200);
  expect(r.body.meta.next_cursor).toBeUndefined();
  return r.body.resource;
}

const VIEWS = ['/pgs/_table/cur_items', '/mys/_table/cur_items', '/mgs/_table/cur_items', '/fed/_table/cur_join'];
const ORDERS = ['', 'grp', 'grp desc', 'score desc,grp', 'grp,score desc', 'name desc'];

describe('walking pages by cursor gives the whole ordered result', () => {
  for (const path of VIEWS) {
    it(`${path}: every order, ties and NULLs included, in both directions`, async () => {
      for (const order of ORDERS) {
        const params: Record<string, string> = order ? { order } : {};
        const all = await whole(path, params, 'reader');
        expect(all.length).toBe(40);
        expect(await walk(path, params, 'reader', 7)).toEqual(all);
      }
      // Fields without the order's columns, and a filter: the cursor still knows where it was.
      const params = { order: 'score', fields: 'name', filter: 'score is null or score > 3' };
      expect(await walk(path, params, 'reader', 3)).toEqual(await whole(path, params, 'reader'));
    });
  }

  it('MongoDB keyed by its ObjectId _id', async () => {
    const schema = await call(srv.url, '/mgid/_schema/cur_items', {}, 'reader');
    expect(schema.body.key).toEqual(['_id']);
    for (const order of ['', 'grp', 'score desc']) {
      const params: Record<string, string> = order ? { order } : {};
      expect(await walk('/mgid/_table/cur_items', params, 'reader', 7)).toEqual(await whole('/mgid/_table/cur_items', params, 'reader'));
    }
  });

  it('a row filter (tenant) and a masked or hidden key (opaque order) page alike', async () => {
    for (const path of ['/pgs/_table/cur_items', '/fed/_table/cur_join', '/mgs/_table/cur_items']) {
      for (const [who, params] of [
        ['t1', { order: 'grp desc' }],
        ['masked', { order: 'grp' }],
        ['masked', {}],
        ['hidden', { order: 'score desc' }],
      ] as const) {
        const all = await whole(path, params, who);
        expect(all.length).toBe(who === 't1' ? 20 : 40);
        expect(await walk(path, params, who, 6)).toEqual(all);
      }
    }
  });
});

describe('cursors and the response cache', () => {
  it('cached pages walk like uncached ones, with the opaque order too (the tag is part of the key)', async () => {
    for (const [who, params] of [
      ['cached1', { order: 'grp desc' }],
      ['cachedmasked', { order: 'grp' }],
    ] as const) {
      const all = await whole('/pgs/_table/cur_items', params, who);
      // Pages of 3 inside runs of tying grp values: two pages differ only by the tag in their cursor.
      expect(await walk('/pgs/_table/cur_items', params, who, 3)).toEqual(all);
      expect(await walk('/pgs/_table/cur_items', params, who, 3)).toEqual(all);
    }
  });

  it('two callers sharing a cached page each get their own cursor', async () => {
    const params = { order: 'name', limit: '4' };
    const a = await call(srv.url, '/mys/_table/cur_items', params, 'cached1');
    const b = await call(srv.url, '/mys/_table/cur_items', params, 'cached2');
    expect(b.body.resource).toEqual(a.body.resource);
    expect(b.body.meta.next_cursor).not.toBe(a.body.meta.next_cursor);
    for (const [who, r] of [
      ['cached1', a],
      ['cached2', b],
    ] as const) {
      const next = await call(srv.url, '/mys/_table/cur_items', { ...params, cursor: r.body.meta.next_cursor }, who);
      expect(next.status, next.text).toBe(200);
      expect(next.body.resource[0].name).toBe('n05');
    }
  });
});

describe('a cursor continues only what it was made for', () => {
  async function firstCursor(path: string, params: Record<string, string>, who: Key, base = srv.url): Promise<string> {
    const r = await call(base, path, { ...params, limit: '5' }, who);
    expect(r.status, r.text).toBe(200);
    expect(typeof r.body.meta.next_cursor).toBe('string');
    return r.body.meta.next_cursor;
  }
  const refused = async (path: string, params: Record<string, string>, who: Key, message: RegExp, base = srv.url) => {
    const r = await call(base, path, params, who);
    expect(r.status, r.text).toBe(400);
    expect(r.body.error.code).toBe(400);
    expect(r.body.error.message).toMatch(message);
    return r;
  };

  it('the same cursor twice gives the same page (and the same ETag)', async () => {
    const cursor = await firstCursor('/pgs/_table/cur_items', { order: 'grp' }, 'reader');
    const a = await call(srv.url, '/pgs/_table/cur_items', { order: 'grp', limit: '5', cursor }, 'reader');
    const b = await call(srv.url, '/pgs/_table/cur_items', { order: 'grp', limit: '5', cursor }, 'reader');
    expect(a.status).toBe(200);
    expect(b.text).toBe(a.text);
    expect(b.headers.get('etag')).toBe(a.headers.get('etag'));
  });

  it('tampered or malformed: a flipped byte anywhere is refused without echoing anything', async () => {
    const cursor = await firstCursor('/pgs/_table/cur_items', { order: 'name' }, 'reader');
    const raw = Buffer.from(cursor, 'base64url');
    for (const i of [0, 5, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] = bad[i]! ^ 0x80;
      const r = await refused(
        '/pgs/_table/cur_items',
        { order: 'name', limit: '5', cursor: bad.toString('base64url') },
        'reader',
        /^invalid cursor: it is malformed or was altered/,
      );
      expect(r.text).not.toContain('n05');
      expect(r.body.error.context).toEqual({ param: 'cursor' });
    }
    await refused('/pgs/_table/cur_items', { order: 'name', limit: '5', cursor: 'not a cursor' }, 'reader', /malformed/);
  });

  it('another caller: another API key of the same role, another tenant', async () => {
    const cursor = await firstCursor('/pgs/_table/cur_items', { order: 'grp' }, 'reader');
    await refused(
      '/pgs/_table/cur_items',
      { order: 'grp', limit: '5', cursor },
      'reader2',
      /invalid cursor: it was issued to another caller/,
    );
    const t1 = await firstCursor('/fed/_table/cur_join', {}, 't1');
    await refused('/fed/_table/cur_join', { limit: '5', cursor: t1 }, 't2', /another caller/);
    expect((await call(srv.url, '/fed/_table/cur_join', { limit: '5', cursor: t1 }, 't1')).status).toBe(200);
  });

  it('another view, another query, cursor with offset', async () => {
    const cursor = await firstCursor('/pgs/_table/cur_items', { order: 'grp', filter: 'score > 2' }, 'reader');
    const same = { order: 'grp', filter: 'score > 2', limit: '5', cursor };
    await refused('/mys/_table/cur_items', same, 'reader', /issued for another view/);
    await refused('/pgs/_table/cur_live', same, 'reader', /issued for another view/);
    await refused('/pgs/_table/cur_items', { ...same, filter: 'score > 3' }, 'reader', /issued for another query/);
    await refused('/pgs/_table/cur_items', { ...same, order: 'grp desc' }, 'reader', /another query/);
    await refused('/pgs/_table/cur_items', { ...same, limit: '6' }, 'reader', /another query/);
    await refused('/pgs/_table/cur_items', { ...same, fields: 'name' }, 'reader', /another query/);
    await refused('/pgs/_table/cur_items', { ...same, offset: '5' }, 'reader', /cursor and offset cannot be combined/);
    await refused('/pgs/_table/cur_items', { ...same, include_count: 'true' }, 'reader', /include_count cannot be combined/);
    // The same query in other spelling continues.
    expect((await call(srv.url, '/pgs/_table/cur_items', { ...same, filter: 'score>2' }, 'reader')).status).toBe(200);
  });

  it('another instance with the same secret continues; one whose grant changed refuses', async () => {
    const cursor = await firstCursor('/pgs/_table/cur_items', { order: 'grp' }, 'reader');
    const expected = await call(srv.url, '/pgs/_table/cur_items', { order: 'grp', limit: '5', cursor }, 'reader');
    const twin = await startServer(configOf());
    const changed = await startServer(configOf('{ read: true, explain: true, maxLimit: 500 }'));
    try {
      const r = await call(twin.url, '/pgs/_table/cur_items', { order: 'grp', limit: '5', cursor }, 'reader');
      expect(r.status, r.text).toBe(200);
      expect(r.body).toEqual(expected.body);
      await refused(
        '/pgs/_table/cur_items',
        { order: 'grp', limit: '5', cursor },
        'reader',
        /your access to this view has changed/,
        changed.url,
      );
    } finally {
      await Promise.all([twin.close(), changed.close()]);
    }
  });
});

describe('rows inserted or deleted between pages', () => {
  for (const [path, exec, url] of [
    ['/pgs/_table/cur_live', pgExec, () => pgDb.url],
    ['/mys/_table/cur_live', mysqlExec, () => myDb.url],
  ] as const) {
    it(`${path}: no row that existed repeats or is skipped`, async () => {
      const params = { order: 'grp desc,score', limit: '6' };
      const first = await call(srv.url, path, params, 'reader');
      expect(first.status, first.text).toBe(200);
      const seen: any[] = [...first.body.resource];
      const last = seen.at(-1);
      // NULLs come first descending: page one is rows with no grp by score, and ends at (NULL, 8, id 2).
      expect(last).toMatchObject({ id: 2, grp: null, score: 8 });
      // Rows that sort before the cursor, after it (one tying with it up to the key), and the cursor's own row gone.
      await exec(
        url(),
        `INSERT INTO cur_live VALUES (101, NULL, -1, 't1', 'before'), (102, 'a', 99, 't1', 'after'), (103, NULL, 3, 't1', 'before'), (104, NULL, 8, 't1', 'after')`,
      );
      await exec(url(), `DELETE FROM cur_live WHERE id = ${last.id}`);
      let cursor: string | undefined = first.body.meta.next_cursor;
      while (cursor) {
        const r = await call(srv.url, path, { ...params, cursor }, 'reader');
        expect(r.status, r.text).toBe(200);
        seen.push(...r.body.resource);
        cursor = r.body.meta.next_cursor;
      }
      const ids = seen.map((r) => r.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids.filter((id) => id <= 40).sort((a, b) => a - b)).toEqual(ROWS.map((r) => r.id));
      expect(ids).toContain(102);
      expect(ids).toContain(104);
      expect(ids).not.toContain(101);
      expect(ids).not.toContain(103);
    });
  }
});

describe('a deep page is a keyset predicate, never an OFFSET', () => {
  async function deepCursor(path: string, params: Record<string, string>, who: Key, pages: number): Promise<string> {
    let cursor: string | undefined;
    for (let i = 0; i < pages; i++) {
      const r = await call(srv.url, path, { ...params, ...(cursor ? { cursor } : {}) }, who);
      expect(r.status, r.text).toBe(200);
      cursor = r.body.meta.next_cursor;
    }
    return cursor!;
  }

  for (const path of ['/pgs/_table/cur_items', '/mys/_table/cur_items']) {
    it(`${path}: the native query of page 5 has the keyset in WHERE and no OFFSET`, async () => {
      const params = { order: 'score desc,grp', limit: '4' };
      const cursor = await deepCursor(path, params, 'reader', 4);
      const plan = await call(srv.url, path, { ...params, cursor, explain: 'true' }, 'reader');
      expect(plan.status, plan.text).toBe(200);
      const [native] = plan.body.explain.queries;
      expect(native.text).not.toMatch(/OFFSET/i);
      expect(native.text).toMatch(/WHERE/i);
      expect(native.text).toMatch(/LIMIT/i);
      // The offset page says OFFSET, so the assertion above can fail.
      const byOffset = await call(srv.url, path, { ...params, offset: '16', explain: 'true' }, 'reader');
      expect(byOffset.body.explain.queries[0].text).toMatch(/OFFSET/i);
    });
  }

  it('with a masked key, the pushed predicate holds only the visible order values, never the key', async () => {
    const params = { order: 'grp', limit: '4' };
    const cursor = await deepCursor('/pgs/_table/cur_items', params, 'masked', 3);
    const plan = await call(srv.url, '/pgs/_table/cur_items', { ...params, cursor, explain: 'true' }, 'masked');
    expect(plan.status, plan.text).toBe(200);
    const [native] = plan.body.explain.queries;
    const where = native.text.slice(native.text.search(/WHERE/i));
    expect(where).toMatch(/"grp"/);
    expect(where.split(/ORDER BY/i)[0]).not.toMatch(/"id"/);
    // The order value of the last row, and the limit (every matching row up to the row budget).
    for (const p of native.params) {
      if (typeof p === 'string') expect(['a', 'b', 'c']).toContain(p);
      else expect(Number(p)).toBeGreaterThan(100_000);
    }
  });
});

describe('MCP query_view', () => {
  async function mcp(who: Key): Promise<Client> {
    const client = new Client({ name: 'viewgate-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': `key-${who}` } } }),
    );
    return client;
  }

  it('takes cursor and returns next_cursor; the pages are the whole result; a bad cursor is an error result', async () => {
    const client = await mcp('reader');
    try {
      const tools = await client.listTools();
      const tool = tools.tools.find((t) => t.name === 'query_view')!;
      expect(Object.keys((tool.inputSchema as any).properties)).toContain('cursor');
      expect(Object.keys((tool.outputSchema as any).properties)).toContain('next_cursor');

      const args = { view: 'fed.cur_join', order: ['score desc', 'grp'], limit: 9 };
      const rows: any[] = [];
      let cursor: string | undefined;
      for (let i = 0; i < 20; i++) {
        const r = await client.callTool({ name: 'query_view', arguments: { ...args, ...(cursor ? { cursor } : {}) } });
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        const s = r.structuredContent as any;
        rows.push(...s.rows);
        if (cursor) {
          expect(s.next_offset).toBeNull();
          if (s.next_cursor) expect((r.content as any)[0].text).toContain(JSON.stringify(s.next_cursor));
        }
        cursor = s.next_cursor;
        expect(s.truncated).toBe(cursor !== undefined);
        if (!cursor) break;
      }
      expect(rows).toEqual(await whole('/fed/_table/cur_join', { order: 'score desc,grp' }, 'reader'));

      const bad = await client.callTool({ name: 'query_view', arguments: { ...args, cursor: 'AAAA' } });
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toMatch(/invalid cursor/);
      const mixed = await client.callTool({ name: 'query_view', arguments: { ...args, cursor: 'AAAA', offset: 3 } });
      expect(JSON.stringify(mixed.content)).toMatch(/cursor and offset cannot be combined/);
    } finally {
      await client.close();
    }
  });

  it('a REST cursor continues on MCP for the same caller and query, and not for another caller', async () => {
    const first = await call(srv.url, '/pgs/_table/cur_items', { order: 'grp', limit: '5' }, 'reader');
    const cursor = first.body.meta.next_cursor;
    const next = await call(srv.url, '/pgs/_table/cur_items', { order: 'grp', limit: '5', cursor }, 'reader');
    for (const [who, ok] of [
      ['reader', true],
      ['reader2', false],
    ] as const) {
      const client = await mcp(who);
      try {
        const r = await client.callTool({ name: 'query_view', arguments: { view: 'pgs.cur_items', order: 'grp', limit: 5, cursor } });
        if (ok) expect((r.structuredContent as any).rows).toEqual(next.body.resource);
        else expect(JSON.stringify(r.content)).toMatch(/invalid cursor: it was issued to another caller/);
      } finally {
        await client.close();
      }
    }
  });
});
