// Aggregate-only grants and minGroupSize over governed SQL (docs/sql.md, "Aggregate-only grants
// and minGroupSize"), over real HTTP and the real MCP SDK client: only aggregates of an
// aggregate-only view, never min/max of it, groups below k entities left out and counted, a whole
// result below k left out, LIMIT counting kept groups only.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSql, startSqlServer, type SqlServer, type Who } from '../support/sql-fixture.js';

let env: SqlServer;

beforeAll(async () => {
  env = await startSqlServer('sql_agg');
}, 60_000);

afterAll(() => env?.close());

const sql = (who: Who, text: string) => postSql(env.srv.url, who, { sql: text });

describe('aggregate-only grants over SQL', () => {
  it('answers aggregates grouped by columns of the view', async () => {
    const r = await sql(
      'aggonly',
      `SELECT a.tenant, count(*) AS n, sum(a.amount) AS s, count(DISTINCT a.divisor) AS d, avg(a.divisor) AS av
       FROM pg.sql_accounts a GROUP BY a.tenant ORDER BY a.tenant`,
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { tenant: 't1', n: 4, s: '119.75', d: 4, av: '3.0000000000000000' },
      { tenant: 't2', n: 3, s: '13.99', d: 1, av: '0.00000000000000000000' },
    ]);
    expect(r.body.meta.suppressed_groups).toBeUndefined();
    const whole = await sql('aggonly', 'SELECT count(*) AS n FROM pg.sql_accounts a');
    expect(whole.body.resource).toEqual([{ n: 7 }]);
  });

  it('refuses row-level output with a 403 that says so', async () => {
    for (const s of [
      'SELECT a.id FROM pg.sql_accounts a',
      'SELECT a.amount * 2 AS x FROM pg.sql_accounts a WHERE a.id = 1',
      "SELECT a.name || '' AS n FROM pg.sql_accounts a",
    ]) {
      const r = await sql('aggonly', s);
      expect(r.status, s).toBe(403);
      expect(r.body.error.message).toMatch(
        /"pg.sql_accounts" is aggregate-only \(read: false\): rows cannot be read; a statement over it must aggregate/,
      );
    }
  });

  it('refuses min and max, which return one row value', async () => {
    const r = await sql('aggonly', 'SELECT a.tenant, max(a.amount) AS m FROM pg.sql_accounts a GROUP BY a.tenant');
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/max\(a\.amount\) returns one row's value.*aggregate-only/);
    expect((await sql('aggonly', 'SELECT min(a.name) AS m FROM pg.sql_accounts a')).status).toBe(403);
  });
});

describe('minGroupSize over SQL', () => {
  it('leaves out groups of fewer than k distinct entities and counts them', async () => {
    const kept = await sql('kanon', 'SELECT a.tenant, count(*) AS n FROM pg.sql_accounts a GROUP BY a.tenant ORDER BY a.tenant');
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.resource).toEqual([
      { tenant: 't1', n: 4 },
      { tenant: 't2', n: 3 },
    ]);
    expect(kept.body.meta.suppressed_groups).toBe(0);
    // divisor 0: Eve, Fay, Gus; every other divisor has one name.
    const r = await sql(
      'kanon',
      'SELECT a.divisor, count(*) AS n, sum(a.amount) AS s FROM pg.sql_accounts a GROUP BY a.divisor ORDER BY a.divisor',
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([{ divisor: 0, n: 3, s: '13.99' }]);
    expect(r.body.meta.suppressed_groups).toBe(4);
  });

  it('LIMIT and OFFSET count the groups kept only', async () => {
    const r = await sql(
      'kanon',
      'SELECT a.divisor, count(*) AS n FROM pg.sql_accounts a GROUP BY a.divisor ORDER BY a.divisor DESC LIMIT 1',
    );
    expect(r.body.resource).toEqual([{ divisor: 0, n: 3 }]);
    const none = await sql('kanon', 'SELECT a.divisor, count(*) AS n FROM pg.sql_accounts a GROUP BY a.divisor LIMIT 1 OFFSET 1');
    expect(none.body.resource).toEqual([]);
  });

  it('a whole-result aggregate below k is left out; at k or above it is answered', async () => {
    const small = await sql('kanon', 'SELECT count(*) AS n, sum(a.amount) AS s FROM pg.sql_accounts a WHERE a.id <= 2');
    expect(small.status, small.text).toBe(200);
    expect(small.body.resource).toEqual([]);
    expect(small.body.meta.suppressed_groups).toBe(1);
    const all = await sql('kanon', 'SELECT count(*) AS n FROM pg.sql_accounts a');
    expect(all.body.resource).toEqual([{ n: 7 }]);
    expect(all.body.meta.suppressed_groups).toBe(0);
  });

  it('the hidden distinctOn column stays hidden; a masked column only counts', async () => {
    const hidden = await sql('kanon', 'SELECT count(DISTINCT a.name) AS n FROM pg.sql_accounts a');
    const missing = await sql('kanon', 'SELECT count(DISTINCT a.nothing) AS n FROM pg.sql_accounts a');
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message).toBe(missing.body.error.message.replace('nothing', 'name'));
    expect((await sql('kanon', 'SELECT count(a.email) AS e FROM pg.sql_accounts a')).body.resource).toEqual([{ e: 6 }]);
    const grouped = await sql('kanon', 'SELECT a.email, count(*) AS n FROM pg.sql_accounts a GROUP BY a.email');
    expect(grouped.status).toBe(400);
    expect(grouped.body.error.message).toMatch(/masked/);
  });

  it('a grant that may read rows answers rows; its groups need k rows; a join cannot count them', async () => {
    const rows = await sql('rowsk', 'SELECT a.id FROM pg.sql_accounts a ORDER BY a.id');
    expect(rows.body.resource).toHaveLength(7);
    expect(rows.body.meta.suppressed_groups).toBeUndefined();
    const groups = await sql('rowsk', 'SELECT a.tenant, a.divisor, count(*) AS n FROM pg.sql_accounts a GROUP BY a.tenant, a.divisor');
    expect(groups.body.resource).toEqual([{ tenant: 't2', divisor: 0, n: 3 }]);
    expect(groups.body.meta.suppressed_groups).toBe(4);
    const join = await sql('rowsk', 'SELECT count(*) AS n FROM pg.sql_accounts a JOIN my.sql_notes n ON n.account_id = a.id');
    expect(join.status).toBe(403);
    expect(join.body.error.message).toMatch(/minGroupSize without distinctOn/);
  });
});

describe('MCP query_sql under aggregate rights', () => {
  it('reports suppressed_groups, marks the view aggregate-only and refuses rows', async () => {
    const client = new Client({ name: 'sql-agg', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${env.srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': 'key-kanon' } } }),
    );
    const tool = (await client.listTools()).tools.find((t) => t.name === 'query_sql');
    expect(tool?.description).toContain('pg.sql_accounts(');
    expect(tool?.description).toContain('[aggregates only]');
    const r = await client.callTool({
      name: 'query_sql',
      arguments: { sql: 'SELECT a.divisor, count(*) AS n FROM pg.sql_accounts a GROUP BY a.divisor ORDER BY a.divisor' },
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toEqual({
      rows: [{ divisor: 0, n: 3 }],
      fields: [
        { name: 'divisor', type: 'int' },
        { name: 'n', type: 'int' },
      ],
      returned: 1,
      truncated: false,
      suppressed_groups: 4,
    });
    const rows = await client.callTool({ name: 'query_sql', arguments: { sql: 'SELECT a.id FROM pg.sql_accounts a' } });
    expect(rows.isError).toBe(true);
    expect((rows.content as { text: string }[])[0]!.text).toMatch(/aggregate-only/);
    await client.close();
  });
});
