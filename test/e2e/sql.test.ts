// Governed SQL over real HTTP and the real MCP SDK client (docs/sql.md): relations resolved through
// the caller's policy, masks, row filters, maxLimit, explain, and the refusals.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../support/reference.js';
import { createSqlStores, postSql, sqlConfig, startSqlServer, type SqlStores, type Who } from '../support/sql-fixture.js';

let stores: SqlStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createSqlStores('sql_e2e');
  srv = await startServer(sqlConfig(stores));
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

async function sql(who: Who, body: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${srv.url}/api/v2/_sql`, {
    method: 'POST',
    headers: { 'X-API-Key': `key-${who}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

describe('POST /api/v2/_sql', () => {
  it('answers rows and fields; the row filter and masks apply', async () => {
    const r = await sql('t1', { sql: 'SELECT a.id, a.name, a.email FROM pg.sql_accounts a ORDER BY a.id' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { id: 1, name: 'Ann', email: 'a***@x.io' },
      { id: 2, name: 'Bob', email: 'b***@x.io' },
      { id: 3, name: 'Cid', email: null },
      { id: 4, name: 'Dee', email: 'd***@x.io' },
    ]);
    expect(r.body.meta.fields).toEqual([
      { name: 'id', type: 'int' },
      { name: 'name', type: 'text' },
      { name: 'email', type: 'text' },
    ]);
  });

  it('joins views of two stores, aggregates and counts a masked column', async () => {
    const r = await sql('t1', {
      sql: `SELECT a.name, count(n.id) AS notes, count(a.email) AS emails, sum(a.amount) AS total
            FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id
            GROUP BY a.name ORDER BY a.name`,
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { name: 'Ann', notes: 2, emails: 2, total: '25.00' },
      { name: 'Bob', notes: 1, emails: 1, total: '7.25' },
      { name: 'Cid', notes: 0, emails: 0, total: null },
      { name: 'Dee', notes: 0, emails: 1, total: '100.00' },
    ]);
  });

  it('a column under a null mask keeps its type, as in the caller schema', async () => {
    const server = await startSqlServer('sql_nullmask', (raw) => {
      raw.roles.tenant.grants['pg.sql_accounts'].masks = { email: 'email', amount: 'null' };
    });
    try {
      const r = await postSql(server.srv.url, 't1', {
        sql: 'SELECT a.id, a.amount, a.email FROM pg.sql_accounts a WHERE a.id < 3 ORDER BY a.id',
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.resource).toEqual([
        { id: 1, amount: null, email: 'a***@x.io' },
        { id: 2, amount: null, email: 'b***@x.io' },
      ]);
      expect(r.body.meta.fields).toEqual([
        { name: 'id', type: 'int' },
        { name: 'amount', type: 'numeric' },
        { name: 'email', type: 'text' },
      ]);
      // Under a null mask even whether a value is NULL is hidden: count(col) is refused, as elsewhere.
      const counted = await postSql(server.srv.url, 't1', {
        sql: 'SELECT count(a.amount) AS n, count(a.email) AS e FROM pg.sql_accounts a',
      });
      expect(counted.status, counted.text).toBe(400);
      expect(counted.body.error.message).toMatch(/a\.amount is masked with null .*not even counted/);
      const emails = await postSql(server.srv.url, 't1', { sql: 'SELECT count(a.email) AS e FROM pg.sql_accounts a' });
      expect(emails.status, emails.text).toBe(200);
    } finally {
      await server.close();
    }
  });

  it('caps the result by the smallest maxLimit of the views read', async () => {
    const r = await sql('t1', {
      sql: 'SELECT a.id, n.id AS note FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id ORDER BY a.id, n.id',
      limit: 500,
    });
    expect(r.status, r.text).toBe(200);
    // Five rows match; my.sql_notes allows 4.
    expect(r.body.resource).toEqual([
      { id: 1, note: 1 },
      { id: 1, note: 2 },
      { id: 2, note: 3 },
      { id: 3, note: null },
    ]);
    expect(r.body.meta.truncated).toBe(true);
    const whole = await sql('t1', { sql: 'SELECT a.id FROM pg.sql_accounts a ORDER BY a.id', limit: 2 });
    expect(whole.body.resource).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("an expression that fails only on another tenant's rows succeeds", async () => {
    const r = await sql('t1', {
      sql: 'SELECT a.id, a.score::int AS s, 100 / a.divisor AS q FROM pg.sql_accounts a WHERE a.score::int >= 0 ORDER BY a.id',
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { id: 1, s: 10, q: 50 },
      { id: 2, s: 20, q: 20 },
      { id: 3, s: 5, q: 100 },
      { id: 4, s: 0, q: 25 },
    ]);
    // The same statement for the admin, who reads t2's rows, fails on them.
    const admin = await sql('admin', { sql: 'SELECT a.id, a.score::int AS s FROM pg.sql_accounts a' });
    expect(admin.status, admin.text).toBe(400);
  });

  it('an unreadable view is worded like a nonexistent one; a view without sql: true is a 403', async () => {
    const hidden = await sql('notesonly', { sql: 'SELECT a.id FROM pg.sql_accounts a' });
    const missing = await sql('notesonly', { sql: 'SELECT a.id FROM pg.sql_nothing a' });
    expect(hidden.status).toBe(400);
    expect(missing.status).toBe(400);
    expect(hidden.body.error.message).toBe(missing.body.error.message.replace('sql_nothing', 'sql_accounts'));
    expect(hidden.body.error.message).toMatch(/no such relation "pg.sql_accounts"/);
    const nosql = await sql('nosql', { sql: 'SELECT a.id FROM pg.sql_accounts a' });
    expect(nosql.status).toBe(403);
    expect(nosql.body.error.message).toMatch(/"pg.sql_accounts" does not allow SQL: it needs `sql: true`/);
    // An aggregate-only grant answers aggregates (test/e2e/sql-aggregates.test.ts) but no rows.
    const agg = await sql('aggonly', { sql: 'SELECT a.id FROM pg.sql_accounts a' });
    expect(agg.status).toBe(403);
  });

  it('a hidden column is reported exactly like a nonexistent one', async () => {
    const hidden = await sql('t1', { sql: 'SELECT n.secret FROM my.sql_notes n' });
    const missing = await sql('t1', { sql: 'SELECT n.nothing FROM my.sql_notes n' });
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message).toBe(missing.body.error.message.replace('nothing', 'secret'));
    expect(hidden.body.error.message).toMatch(/my.sql_notes has id, account_id, tenant, body$/);
  });

  it('a missing claim denies', async () => {
    const r = await sql('noclaim', { sql: 'SELECT a.id FROM pg.sql_accounts a' });
    expect(r.status).toBe(403);
  });

  it('explain shows the governed scans', async () => {
    const r = await sql('admin', { sql: "SELECT a.id FROM pg.sql_accounts a WHERE a.tenant = 't1'", explain: true });
    expect(r.status, r.text).toBe(200);
    expect(r.body.explain.plan.text).toContain('sql_accounts');
    const denied = await sql('t1', { sql: 'SELECT a.id FROM pg.sql_accounts a', explain: true });
    expect(denied.status).toBe(403);
  });

  it('explain shows the whole statement: WITH queries, subqueries in FROM and IN (SELECT ...) with their native queries', async () => {
    const r = await sql('admin', {
      sql: `WITH big AS (SELECT a.id, a.name FROM pg.sql_accounts a WHERE a.amount > 10)
            SELECT b.name, s.body FROM big b
            JOIN (SELECT n.account_id, n.body FROM my.sql_notes n WHERE n.id > 1) s ON s.account_id = b.id
            WHERE b.id IN (SELECT x.account_id FROM my.sql_notes x WHERE x.body LIKE '%e%')`,
      explain: true,
    });
    expect(r.status, r.text).toBe(200);
    const text = r.body.explain.plan.text as string;
    // Each subquery's own plan, with the native query it sent to its store (the WITH query's and the
    // FROM subquery's conditions pushed into their scans).
    const section = (header: string): string => {
      const at = text.indexOf(`\nSubquery ${header}:\n`);
      expect(at, `${header} in\n${text}`).toBeGreaterThan(0);
      const end = text.indexOf('\nSubquery ', at + 1);
      return text.slice(at, end < 0 ? undefined : end);
    };
    expect(section('IN (subquery 1)')).toMatch(
      /Fetch my \(view\): my\.sql_notes x.*\n(.*\n)*\s+Native queries:\n\s+my: governed scan of my\.sql_notes: SELECT `account_id` .*LIKE/,
    );
    expect(section('(subquery).b')).toMatch(
      /pushed: amount > '10'(.*\n)*\s+Native queries:\n\s+pg: governed scan of pg\.sql_accounts: SELECT .*"amount" > /,
    );
    expect(section('(subquery).s')).toMatch(
      /pushed: id > 1(.*\n)*\s+Native queries:\n\s+my: governed scan of my\.sql_notes: SELECT .*`id` > /,
    );
  });

  it('bad bodies are 400s naming the problem', async () => {
    expect((await sql('t1', {})).body.error.message).toMatch(/"sql" is required/);
    expect((await sql('t1', { sql: 'SELECT 1', limit: 0 })).body.error.message).toMatch(/"limit" is a positive integer/);
    expect((await sql('t1', { sql: 'SELECT 1', x: 1 })).body.error.message).toMatch(/unknown property "x"/);
  });
});
