// Cursors for governed SQL (docs/sql.md, "Cursors"), over real HTTP and the real MCP SDK client:
// next_cursor pages through a statement's result without repeating or skipping rows (also without
// ORDER BY, with ties, with masked columns), and a cursor tampered with, used by another caller,
// with another statement or limit, or made under another grant is a 400.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../support/reference.js';
import { postSql, sqlConfig, startSqlServer, type SqlServer, type Who } from '../support/sql-fixture.js';

let env: SqlServer;
const SECRET = 'sql-cursor-test-secret';

beforeAll(async () => {
  env = await startSqlServer('sql_cursor', (raw) => (raw.server.cursorSecret = SECRET));
}, 60_000);

afterAll(() => env?.close());

const sql = (who: Who, body: Record<string, unknown>, url = env.srv.url) => postSql(url, who, body);

/** Every page of a statement, following next_cursor. */
async function allPages(who: Who, body: Record<string, unknown>): Promise<Record<string, unknown>[][]> {
  const pages: Record<string, unknown>[][] = [];
  let cursor: string | undefined;
  do {
    const r = await sql(who, { ...body, ...(cursor ? { cursor } : {}) });
    expect(r.status, r.text).toBe(200);
    pages.push(r.body.resource);
    cursor = r.body.meta.next_cursor;
    expect(cursor === undefined).toBe(r.body.meta.truncated !== true);
    expect(pages.length).toBeLessThan(20);
  } while (cursor);
  return pages;
}

const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();

describe('SQL cursors', () => {
  it('continue an ordered statement after its last row', async () => {
    const pages = await allPages('t1', { sql: 'SELECT a.id, a.name FROM pg.sql_accounts a ORDER BY a.id', limit: 3 });
    expect(pages).toEqual([
      [
        { id: 1, name: 'Ann' },
        { id: 2, name: 'Bob' },
        { id: 3, name: 'Cid' },
      ],
      [{ id: 4, name: 'Dee' }],
    ]);
  });

  it('page exactly without ORDER BY, through ties, joins and masked columns', async () => {
    for (const statement of [
      'SELECT a.tenant FROM pg.sql_accounts a',
      'SELECT a.email, a.tenant FROM pg.sql_accounts a',
      'SELECT a.name, n.body FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id',
      'SELECT a.tenant, a.divisor FROM pg.sql_accounts a ORDER BY a.tenant',
    ]) {
      // Pages of the largest size the views allow, against pages of one row.
      const whole = (await allPages('t1', { sql: statement })).flat();
      const pages = await allPages('t1', { sql: statement, limit: 1 });
      expect(pages.every((p) => p.length === 1)).toBe(true);
      if (statement.includes('JOIN')) expect(whole).toHaveLength(5);
      expect(sorted(pages.flat()), statement).toEqual(sorted(whole));
    }
    const masked = await allPages('t1', { sql: 'SELECT a.email FROM pg.sql_accounts a', limit: 2 });
    expect(masked.flat().map((r) => r.email)).toEqual(['a***@x.io', 'b***@x.io', 'd***@x.io', null]);
  });

  it('follow the smallest maxLimit of the views read and the statement LIMIT', async () => {
    // Five rows; notes allow 4 per page.
    const pages = await allPages('t1', {
      sql: 'SELECT a.id, n.id AS note FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id ORDER BY a.id, n.id',
    });
    expect(pages.map((p) => p.length)).toEqual([4, 1]);
    const limited = await allPages('t1', { sql: 'SELECT a.id FROM pg.sql_accounts a ORDER BY a.id LIMIT 3 OFFSET 1', limit: 2 });
    expect(limited).toEqual([[{ id: 2 }, { id: 3 }], [{ id: 4 }]]);
  });

  it('refuse a tampered cursor, another caller, another statement or limit', async () => {
    const body = { sql: 'SELECT a.id FROM pg.sql_accounts a ORDER BY a.id', limit: 2 };
    const first = await sql('t1', body);
    const cursor: string = first.body.meta.next_cursor;
    expect(cursor).toEqual(expect.any(String));
    const tampered = cursor.slice(0, -2) + (cursor.endsWith('AA') ? 'BB' : 'AA');
    const cases: [Who, Record<string, unknown>, RegExp][] = [
      ['t1', { ...body, cursor: tampered }, /malformed or was altered/],
      ['t2', { ...body, cursor }, /issued to another caller/],
      ['t1', { ...body, sql: 'SELECT a.id, a.name FROM pg.sql_accounts a ORDER BY a.id', cursor }, /another query/],
      ['t1', { ...body, limit: 3, cursor }, /another query/],
      ['t1', { ...body, cursor: 'not a cursor' }, /malformed/],
    ];
    for (const [who, b, message] of cases) {
      const r = await sql(who, b);
      expect(r.status, r.text).toBe(400);
      expect(r.body.error.message).toMatch(/^invalid cursor: /);
      expect(r.body.error.message).toMatch(message);
    }
    expect((await sql('t1', { ...body, cursor })).body.resource).toEqual([{ id: 3 }, { id: 4 }]);
  });

  it('refuse a cursor made under another grant', async () => {
    const body = { sql: 'SELECT a.id FROM pg.sql_accounts a ORDER BY a.id', limit: 2 };
    const cursor: string = (await sql('t1', body)).body.meta.next_cursor;
    const changed = await startServer(
      sqlConfig(env.stores, (raw) => {
        raw.server.cursorSecret = SECRET;
        raw.roles.tenant.grants['pg.sql_accounts'].maxLimit = 40;
      }),
    );
    try {
      const same = await startServer(sqlConfig(env.stores, (raw) => (raw.server.cursorSecret = SECRET)));
      try {
        expect((await sql('t1', { ...body, cursor }, same.url)).body.resource).toEqual([{ id: 3 }, { id: 4 }]);
      } finally {
        await same.close();
      }
      const r = await sql('t1', { ...body, cursor }, changed.url);
      expect(r.status).toBe(400);
      expect(r.body.error.message).toMatch(/access to this view has changed/);
    } finally {
      await changed.close();
    }
  });

  it('MCP query_sql returns next_cursor and takes cursor', async () => {
    const client = new Client({ name: 'sql-cursor', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${env.srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': 'key-t1' } } }),
    );
    const tool = (await client.listTools()).tools.find((t) => t.name === 'query_sql');
    expect(JSON.stringify(tool?.inputSchema)).toContain('next_cursor');
    const args = { sql: 'SELECT a.id FROM pg.sql_accounts a ORDER BY a.id', limit: 3 };
    const first = await client.callTool({ name: 'query_sql', arguments: args });
    const s1 = first.structuredContent as { rows: unknown[]; truncated: boolean; next_cursor?: string };
    expect(s1.rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    expect(s1.truncated).toBe(true);
    expect((first.content as { text: string }[])[0]!.text).toContain(s1.next_cursor!);
    const second = await client.callTool({ name: 'query_sql', arguments: { ...args, cursor: s1.next_cursor } });
    expect(second.structuredContent).toEqual({ rows: [{ id: 4 }], fields: [{ name: 'id', type: 'int' }], returned: 1, truncated: false });
    const foreign = await client.callTool({ name: 'query_sql', arguments: { ...args, limit: 2, cursor: s1.next_cursor } });
    expect(foreign.isError).toBe(true);
    await client.close();
  });
});
