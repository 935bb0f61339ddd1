// Scalar functions in governed SQL (docs/sql.md, "Functions"), over real HTTP: a masked column
// stays masked through every function (lineage), a function that would fail only on another
// tenant's rows succeeds (no error oracle), functions outside the list are refused. Their results
// are checked against PostgreSQL in test/oracle/sql.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postSql, startSqlServer, type SqlServer, type Who } from '../support/sql-fixture.js';

let env: SqlServer;

beforeAll(async () => {
  env = await startSqlServer('sql_fn');
}, 60_000);

afterAll(() => env?.close());

const sql = (who: Who, text: string) => postSql(env.srv.url, who, { sql: text });

/** Every function and expression of the list, applied to the masked column `e`. */
const OVER_MASKED = [
  'lower(e)',
  'upper(e)',
  'length(e)',
  'char_length(e)',
  'btrim(e)',
  'ltrim(e, $$a$$)',
  'rtrim(e)',
  'trim(both $$a$$ from e)',
  'substring(e from 1 for 2)',
  'substr(e, 2)',
  'left(e, 1)',
  'right(e, 3)',
  'replace(e, $$x$$, $$y$$)',
  'strpos(e, $$@$$)',
  'position($$@$$ in e)',
  'concat(e)',
  'concat($$x$$, e)',
  'abs(length(e))',
  'round(length(e))',
  'trunc(length(e), 1)',
  'floor(length(e))',
  'ceil(length(e))',
  'mod(length(e), 2)',
  'nullif(e, $$x$$)',
  'greatest(e, $$a$$)',
  'least($$z$$, e)',
];

describe('functions in governed SQL', () => {
  it.each(OVER_MASKED)('a masked column stays masked through %s', async (expr) => {
    const e = expr.replaceAll('$$', "'").replaceAll(/\be\b/g, 'a.email');
    const out = await sql('t1', `SELECT ${e} AS v FROM pg.sql_accounts a`);
    expect(out.status, out.text).toBe(400);
    expect(out.body.error.message).toMatch(/column a\.email is masked for your role/);
    const where = await sql('t1', `SELECT a.id FROM pg.sql_accounts a WHERE ${e} IS NOT NULL`);
    expect(where.status, where.text).toBe(400);
    expect(where.body.error.message).toMatch(/column a\.email is masked for your role.*WHERE/);
  });

  it("a function that fails only on another tenant's rows succeeds", async () => {
    // t2's rows have divisor 0: substr with a negative length and mod by zero fail on them.
    const statement =
      'SELECT a.id, substr(a.name, 1, a.divisor - 1) AS s, mod(10, a.divisor) AS m FROM pg.sql_accounts a WHERE mod(a.id, a.divisor) >= 0 ORDER BY a.id';
    const r = await sql('t1', statement);
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { id: 1, s: 'A', m: 0 },
      { id: 2, s: 'Bob', m: 0 },
      { id: 3, s: '', m: 0 },
      { id: 4, s: 'Dee', m: 2 },
    ]);
    const admin = await sql('admin', statement);
    expect(admin.status).toBe(400);
    expect(admin.body.error.message).toMatch(/division by zero|negative substring length/);
  });

  it('refuses functions outside the list, naming them', async () => {
    for (const [s, name] of [
      ['SELECT md5(a.name) AS h FROM pg.sql_accounts a', 'md5'],
      ["SELECT regexp_replace(a.name, 'A', 'B') AS h FROM pg.sql_accounts a", 'regexp_replace'],
      ["SELECT substring(a.name from 'A.') AS h FROM pg.sql_accounts a", 'substring'],
      ['SELECT lower(DISTINCT a.name) AS h FROM pg.sql_accounts a', 'lower'],
      ['SELECT abs(a.name) AS h FROM pg.sql_accounts a', 'abs'],
    ] as const) {
      const r = await sql('t1', s);
      expect(r.status, s).toBe(400);
      expect(r.body.error.message, s).toContain(name);
    }
  });

  it('date functions refuse an unknown field or unit, naming it and its position', async () => {
    const day = "('2024-02-2' || a.id)::date";
    for (const [s, message] of [
      [
        `SELECT extract(fortnight FROM ${day}) AS v FROM pg.sql_accounts a`,
        'line 1, column 16: extract field "fortnight" is not recognized',
      ],
      [`SELECT date_part('eon', ${day}) AS v FROM pg.sql_accounts a`, `line 1, column 18: date_part field "eon" is not recognized`],
      [
        `SELECT a.id FROM pg.sql_accounts a WHERE date_trunc('dow', ${day}) IS NULL`,
        'line 1, column 53: date_trunc unit "dow" is not recognized',
      ],
      [
        `SELECT extract(hour FROM ${day}) AS v FROM pg.sql_accounts a`,
        'line 1, column 16: extract field "hour" is not supported for type date',
      ],
      [`SELECT date_trunc(a.name, ${day}) AS v FROM pg.sql_accounts a`, 'the first argument of date_trunc must be a constant text'],
    ] as const) {
      const r = await sql('t1', s);
      expect(r.status, s).toBe(400);
      expect(r.body.error.message, s).toContain(message);
    }
  });
});
