// Cursors over groups (docs/query.md "Cursors", "Aggregates") on real stores, over real HTTP and the
// MCP SDK client: walking every page of groups by next_cursor gives exactly the one-page result on
// a PostgreSQL table (GROUP BY in the store), a MariaDB table (aggregated in process) and an
// embedded view joining the two, with NULL groups, descending orders on group columns and on
// aggregate names, having, and minGroupSize (a suppressed group is on no page); a group cursor
// is refused when altered, used by another caller or with another aggregation.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { get, startServer, type RunningServer } from '../support/reference.js';
import { createMysqlDatabase, createPgDatabase, mysqlExec, pgExec } from '../support/stores.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const KEYS = ['analyst', 'analyst2', 'kanon'] as const;
const ROLE_OF: Partial<Record<Key, string>> = { analyst2: 'analyst' };
type Key = (typeof KEYS)[number];

let pgDb: Awaited<ReturnType<typeof createPgDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let srv: RunningServer;
let dir: string;

/** 60 rows in 15 (status, region) groups with NULLs in both; 3 more rows form groups of one customer. */
const ROWS = [
  ...Array.from({ length: 60 }, (_, i) => {
    const id = i + 1;
    return {
      id,
      status: ['paid', 'shipped', null, 'refunded', 'new'][id % 5]!,
      region: ['north', 'south', null][id % 3]!,
      customer: id % 13,
      amount: id % 11 === 0 ? null : `${(id * 37) % 101}.50`,
    };
  }),
  { id: 61, status: 'rare', region: 'north', customer: 1, amount: '5.00' },
  { id: 62, status: 'rare', region: 'north', customer: 1, amount: '6.00' },
  { id: 63, status: 'odd', region: null, customer: 2, amount: '7.00' },
];

const VIEWS = { pg: '/pgs/_table/agc_sales', my: '/mys/_table/agc_sales', fed: '/fed/_table/agc_join' } as const;

function configYaml(): string {
  return `
audit: { sink: off }
logging: { level: silent }
server: { cursorSecret: "aggregate-cursor-test-secret-0123" }
sources:
  pg: { kind: postgres, url: "${pgDb.url}" }
  my: { kind: mysql, url: "${myDb.url}" }
services:
  pgs: { source: pg, tables: [agc_sales] }
  mys: { source: my, tables: [agc_sales] }
  fed:
    engine: embedded
    views:
      agc_join:
        key: [id]
        sql: SELECT p.id, p.status, p.region, p.customer, m.amount FROM pg.agc_sales p JOIN my.agc_sales m ON m.id = p.id
auth:
  apiKeys:
${KEYS.map((k) => `    - { name: ${k}, sha256: ${sha256(`key-${k}`)}, role: ${ROLE_OF[k] ?? k} }`).join('\n')}
roles:
  analyst: { grants: { "*": { read: true, aggregate: true, explain: true } } }
  kanon: { grants: { "*": { read: false, aggregate: true, minGroupSize: { k: 3, distinctOn: customer } } } }
`;
}

beforeAll(async () => {
  [pgDb, myDb] = await Promise.all([createPgDatabase('agc'), createMysqlDatabase('agc')]);
  const values = ROWS.map(
    (r) =>
      `(${r.id}, ${r.status === null ? 'NULL' : `'${r.status}'`}, ${r.region === null ? 'NULL' : `'${r.region}'`}, ${r.customer}, ${r.amount ?? 'NULL'})`,
  ).join(', ');
  await pgExec(
    pgDb.url,
    `CREATE TABLE agc_sales (id int PRIMARY KEY, status text, region text, customer int NOT NULL, amount numeric(10,2));
    INSERT INTO agc_sales VALUES ${values}`,
  );
  await mysqlExec(
    myDb.url,
    `CREATE TABLE agc_sales (id int PRIMARY KEY, status varchar(10), region varchar(10), customer int NOT NULL, amount decimal(10,2));
    INSERT INTO agc_sales VALUES ${values}`,
  );
  dir = mkdtempSync(join(tmpdir(), 'vg-agc-'));
  srv = await startServer(parseConfig(configYaml(), join(dir, 'viewgate.yaml'), {}));
});

afterAll(async () => {
  await srv?.close();
  await Promise.allSettled([pgDb?.drop(), myDb?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function call(path: string, params: Record<string, string>, who: Key) {
  return get(`${srv.url}/api/v2${path}?${new URLSearchParams(params).toString()}`, { 'X-API-Key': `key-${who}` });
}

/** Every page of `params` by next_cursor (limit `size`), checking each page's meta; the pages and their metas. */
async function walk(path: string, params: Record<string, string>, size: number, who: Key = 'analyst') {
  const rows: unknown[] = [];
  const metas: Record<string, unknown>[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 50; page++) {
    const r = await call(path, { ...params, limit: String(size), ...(cursor ? { cursor } : {}) }, who);
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource.length).toBeLessThanOrEqual(size);
    rows.push(...r.body.resource);
    metas.push(r.body.meta);
    cursor = r.body.meta.next_cursor;
    if (!cursor) return { rows, metas };
    expect(r.body.resource.length).toBe(size);
  }
  throw new Error('more than 50 pages');
}

const QUERIES: Record<string, Record<string, string>> = {
  'group columns only, NULL groups': { fields: 'status,region,count(*),sum(amount) as revenue', group: 'status,region' },
  'desc on a group column': { fields: 'status,region,count(*)', group: 'status,region', order: 'region desc,status desc' },
  'desc on an aggregate alias': { fields: 'status,region,sum(amount) as revenue', group: 'status,region', order: 'revenue desc' },
  'ties on an aggregate, having': { fields: 'status,count(*) as n', group: 'status', order: 'n', having: 'n >= 1' },
  'group alone': { group: 'region,status', order: 'status desc' },
};

describe('REST: walking group pages by cursor', () => {
  for (const [store, path] of Object.entries(VIEWS)) {
    it(`${store}: the pages are the whole grouped result, in order, for every order`, async () => {
      for (const [name, params] of Object.entries(QUERIES)) {
        const full = await call(path, { ...params, limit: '1000' }, 'analyst');
        expect(full.status, full.text).toBe(200);
        expect(full.body.meta.next_cursor, name).toBeUndefined();
        expect(full.body.resource.length, name).toBeGreaterThan(4);
        for (const size of [1, 4]) {
          const { rows } = await walk(path, params, size);
          expect(rows, `${name}, pages of ${size}`).toEqual(full.body.resource);
        }
      }
    });
  }

  it('NULL groups sort as in PostgreSQL: last ascending, first descending', async () => {
    const asc = await walk(VIEWS.my, { group: 'status' }, 2);
    expect(asc.rows.at(-1)).toEqual({ status: null });
    const desc = await walk(VIEWS.fed, { group: 'status', order: 'status desc' }, 2);
    expect(desc.rows[0]).toEqual({ status: null });
  });

  it('all stores give the same groups', async () => {
    const params = { fields: 'status,region,count(*),sum(amount) as revenue', group: 'status,region', order: 'revenue desc' };
    const pages = await Promise.all(Object.values(VIEWS).map((p) => walk(p, params, 4)));
    expect(pages[1]!.rows).toEqual(pages[0]!.rows);
    expect(pages[2]!.rows).toEqual(pages[0]!.rows);
  });

  it('on PostgreSQL a keyset on group columns is a WHERE under the GROUP BY, with bound values', async () => {
    const params = { fields: 'status,count(*)', group: 'status', limit: '2' };
    const first = await call(VIEWS.pg, params, 'analyst');
    const cursor = first.body.meta.next_cursor as string;
    expect(first.body.resource.map((r: { status: string }) => r.status)).toEqual(['new', 'odd']);
    const plan = await call(VIEWS.pg, { ...params, cursor, explain: 'true' }, 'analyst');
    expect(plan.status, plan.text).toBe(200);
    expect(plan.body.explain.plan.aggregates).toEqual({ count: 'store' });
    const sql = plan.body.explain.queries[0];
    expect(sql.text).toMatch(/WHERE[\s\S]*"status"[\s\S]*GROUP BY/);
    expect(sql.text).not.toContain("'odd'");
    expect(sql.params).toContain('odd');
    // On an aggregate the keyset cannot narrow the rows: it applies after aggregation.
    const byCount = { fields: 'status,count(*)', group: 'status', order: 'count desc', limit: '2' };
    const c1 = await call(VIEWS.pg, byCount, 'analyst');
    const p2 = await call(VIEWS.pg, { ...byCount, cursor: c1.body.meta.next_cursor, explain: 'true' }, 'analyst');
    expect(p2.body.explain.queries[0].text).not.toMatch(/WHERE/);
  });
});

describe('REST: minGroupSize across pages', () => {
  for (const [store, path] of Object.entries(VIEWS)) {
    it(`${store}: a suppressed group is on no page, and every page counts the same suppressed groups`, async () => {
      const params = { fields: 'status,region,count(*),sum(amount) as revenue', group: 'status,region', order: 'revenue desc' };
      const full = await call(path, { ...params, limit: '1000' }, 'kanon');
      expect(full.status, full.text).toBe(200);
      expect(full.body.meta.suppressed_groups).toBe(2);
      const { rows, metas } = await walk(path, params, 3, 'kanon');
      expect(rows).toEqual(full.body.resource);
      expect(rows.some((r) => ['rare', 'odd'].includes((r as { status: string }).status))).toBe(false);
      expect(metas.length).toBeGreaterThan(2);
      for (const m of metas) expect(m.suppressed_groups).toBe(2);
      // The analyst sees the two small groups the grant leaves out.
      const all = await call(path, { ...params, limit: '1000' }, 'analyst');
      expect(all.body.resource.length).toBe(full.body.resource.length + 2);
    });
  }
});

describe('REST: group cursors that do not fit', () => {
  const params = { fields: 'status,region,count(*)', group: 'status,region', limit: '3' };

  it('an altered cursor, another caller, another view or another aggregation is a 400 naming cursor', async () => {
    const first = await call(VIEWS.pg, params, 'analyst');
    const cursor = first.body.meta.next_cursor as string;
    expect(cursor).toBeTruthy();
    const flipped = cursor.slice(0, 20) + (cursor[20] === 'A' ? 'B' : 'A') + cursor.slice(21);
    const cases: [string, Record<string, string>, Key, RegExp][] = [
      [VIEWS.pg, { ...params, cursor: flipped }, 'analyst', /malformed or was altered/],
      [VIEWS.pg, { ...params, cursor }, 'analyst2', /issued to another caller/],
      [VIEWS.my, { ...params, cursor }, 'analyst', /issued for another view/],
      [VIEWS.pg, { ...params, fields: 'status,region,count(amount)', cursor }, 'analyst', /issued for another query/],
      [VIEWS.pg, { ...params, group: 'region,status', fields: 'region,status,count(*)', cursor }, 'analyst', /another query/],
      [VIEWS.pg, { ...params, having: 'count > 1', cursor }, 'analyst', /issued for another query/],
      [VIEWS.pg, { limit: '3', order: 'status,region', cursor }, 'analyst', /issued for another query/],
      [VIEWS.pg, { ...params, cursor }, 'kanon', /issued to another caller/],
    ];
    for (const [path, p, who, message] of cases) {
      const r = await call(path, p, who);
      expect(r.status, `${JSON.stringify(p)} as ${who}`).toBe(400);
      expect(r.body.error.message).toMatch(message);
      expect(r.body.error.context.param).toBe('cursor');
    }
    const again = await call(VIEWS.pg, { ...params, cursor }, 'analyst');
    expect(again.status).toBe(200);
  });

  it('a row cursor does not continue an aggregation; count_only takes no cursor', async () => {
    const rows = await call(VIEWS.pg, { fields: 'status,region', limit: '3' }, 'analyst');
    const rowCursor = rows.body.meta.next_cursor as string;
    const r = await call(VIEWS.pg, { ...params, cursor: rowCursor }, 'analyst');
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/issued for another query/);
    const c = await call(VIEWS.pg, { count_only: 'true', cursor: rowCursor }, 'analyst');
    expect(c.status).toBe(400);
    expect(c.body.error.context.param).toBe('cursor');
  });
});

describe('MCP aggregate_view', () => {
  async function mcp(who: Key): Promise<Client> {
    const client = new Client({ name: 'viewgate-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': `key-${who}` } } }),
    );
    return client;
  }

  it('takes cursor and returns next_cursor; the pages are the REST result; suppressed groups stay out', async () => {
    const client = await mcp('kanon');
    try {
      const args = {
        view: 'fed.agc_join',
        group_by: ['status', 'region'],
        metrics: [{ fn: 'count' }, { fn: 'sum', field: 'amount', as: 'revenue' }],
        order: ['revenue desc'],
        limit: 4,
      };
      const rows: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 20; page++) {
        const r = (await client.callTool({ name: 'aggregate_view', arguments: { ...args, ...(cursor ? { cursor } : {}) } })) as any;
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        expect(r.structuredContent.suppressed_groups).toBe(2);
        rows.push(...r.structuredContent.rows);
        cursor = r.structuredContent.next_cursor;
        expect(r.structuredContent.truncated).toBe(cursor !== undefined);
        const footer = cursor ? `call aggregate_view again with the same arguments and "cursor": "${cursor}"` : 'No more rows match.';
        expect(r.content[0].text).toContain(footer);
        if (!cursor) break;
      }
      expect(cursor).toBeUndefined();
      const rest = await call(
        VIEWS.fed,
        { fields: 'status,region,count(*),sum(amount) as revenue', group: 'status,region', order: 'revenue desc', limit: '1000' },
        'kanon',
      );
      expect(rows).toEqual(JSON.parse(JSON.stringify(rest.body.resource)));
      expect(rows.length).toBe(15);

      const bad = (await client.callTool({ name: 'aggregate_view', arguments: { ...args, cursor: 'AAAA' } })) as any;
      expect(bad.isError).toBe(true);
      expect(JSON.stringify(bad.content)).toMatch(/invalid cursor/);
    } finally {
      await client.close();
    }
  });

  it('describe_view gives an aggregate-only caller an aggregate_view example that runs', async () => {
    const client = await mcp('kanon');
    try {
      const d = (await client.callTool({ name: 'describe_view', arguments: { view: 'pgs.agc_sales' } })) as any;
      expect(d.isError, JSON.stringify(d.content)).toBeFalsy();
      const example = d.structuredContent.example;
      expect(example.tool).toBe('aggregate_view');
      expect(example.arguments).toMatchObject({ view: 'pgs.agc_sales', metrics: [{ fn: 'count' }, { fn: 'sum' }] });
      expect(JSON.stringify(d.content)).toContain('Example: aggregate_view');
      const run = (await client.callTool({ name: 'aggregate_view', arguments: example.arguments })) as any;
      expect(run.isError, JSON.stringify(run.content)).toBeFalsy();
      expect(run.structuredContent.rows.length).toBeGreaterThan(0);
    } finally {
      await client.close();
    }
    const reader = await mcp('analyst');
    try {
      const d = (await reader.callTool({ name: 'describe_view', arguments: { view: 'pgs.agc_sales' } })) as any;
      expect(d.structuredContent.example.tool).toBe('query_view');
    } finally {
      await reader.close();
    }
  });
});
