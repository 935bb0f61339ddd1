// Governed SQL checked against PostgreSQL (docs/sql.md): each statement is sent to POST /_sql as
// tenant t1 (row filter tenant = 't1', email masked, notes' secret hidden) and run by PostgreSQL
// over the same data with that policy written as views (t1_accounts, t1_notes). The rows must be
// equal. The oracle is SQL text run by PostgreSQL; it shares no code with viewgate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { startServer, type RunningServer } from '../support/reference.js';
import { ACCOUNTS, ACCOUNTS_DDL, NOTES, NOTES_DDL, createSqlStores, sqlConfig, type SqlStores } from '../support/sql-fixture.js';
import { createPgDatabase } from '../support/stores.js';

let stores: SqlStores;
let srv: RunningServer;
let oracle: { url: string; drop: () => Promise<void> };
let pool: pg.Pool;

beforeAll(async () => {
  stores = await createSqlStores('sql_oracle');
  srv = await startServer(sqlConfig(stores));
  oracle = await createPgDatabase('sql_oracle_ref');
  pool = new pg.Pool({
    connectionString: oracle.url,
    max: 2,
    options: '-c TimeZone=UTC',
    types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig,
  });
  await pool.query(ACCOUNTS_DDL);
  await pool.query(NOTES_DDL('"'));
  for (const a of ACCOUNTS) await pool.query('INSERT INTO sql_accounts VALUES ($1,$2,$3,$4,$5,$6,$7)', a);
  for (const n of NOTES) await pool.query('INSERT INTO sql_notes VALUES ($1,$2,$3,$4,$5)', n);
  // The policy of role "tenant" for claims {tenant: t1}, as PostgreSQL views.
  await pool.query("CREATE VIEW t1_accounts AS SELECT id, tenant, name, score, amount, divisor FROM sql_accounts WHERE tenant = 't1'");
  await pool.query("CREATE VIEW t1_notes AS SELECT id, account_id, tenant, body FROM sql_notes WHERE tenant = 't1'");
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await pool?.end();
  await stores?.drop();
  await oracle?.drop();
});

const STATEMENTS = [
  'SELECT a.id, a.name FROM {A} a ORDER BY a.id',
  'SELECT a.id, a.score::int AS s, 100 / a.divisor AS q, a.amount * 2 AS dbl FROM {A} a WHERE a.score::int >= 5 ORDER BY a.id',
  "SELECT a.id, a.name || '-' || a.tenant AS label FROM {A} a WHERE a.name LIKE '%e%' OR a.id IN (1, 2) ORDER BY a.id",
  'SELECT a.id, coalesce(a.amount, 0) AS amt FROM {A} a WHERE a.amount IS NULL OR a.amount BETWEEN 5 AND 50 ORDER BY a.id',
  "SELECT a.id, CASE WHEN a.amount > 10 THEN 'big' WHEN a.amount IS NULL THEN 'none' ELSE 'small' END AS size FROM {A} a ORDER BY a.id",
  'SELECT a.name, n.body FROM {A} a LEFT JOIN {N} n ON n.account_id = a.id ORDER BY a.name, n.body NULLS FIRST',
  'SELECT a.name, n.body FROM {A} a JOIN {N} n ON n.account_id = a.id ORDER BY n.body DESC',
  'SELECT n.id, a.name FROM {N} n LEFT JOIN {A} a ON a.id = n.account_id ORDER BY n.id',
  'SELECT a.tenant, count(*) AS n, sum(a.amount) AS s, avg(a.amount) AS av, min(a.name) AS mn, max(a.id) AS mx FROM {A} a GROUP BY a.tenant',
  'SELECT a.name, count(n.id) AS notes FROM {A} a LEFT JOIN {N} n ON n.account_id = a.id GROUP BY a.name ORDER BY notes DESC, a.name',
  'SELECT count(*) AS n FROM {A} a WHERE a.divisor > 1',
  'SELECT a.id FROM {A} a ORDER BY a.amount DESC NULLS LAST, a.id LIMIT 2 OFFSET 1',
  "SELECT a.id FROM {A} a WHERE NOT (a.name = 'Ann') AND a.id <> 3 ORDER BY a.id",
  "SELECT a.id, a.name ILIKE 'b%' AS b FROM {A} a ORDER BY a.id",
  'SELECT a.id % 2 AS parity, count(*) AS n FROM {A} a GROUP BY a.id % 2 ORDER BY parity',
  'SELECT a.amount::text AS t, -a.id AS neg FROM {A} a ORDER BY a.id',
  "SELECT a.id FROM {A} a WHERE a.tenant = 't2' ORDER BY a.id",
  'SELECT a.id, n.id AS note FROM {A} a LEFT JOIN {N} n ON n.account_id = a.id AND n.id > 1 ORDER BY a.id, note',
  'SELECT sum(a.divisor) AS s, count(a.amount) AS c FROM {A} a',
  'SELECT a.score, count(*) AS n FROM {A} a GROUP BY a.score ORDER BY a.score',
  // Scalar functions (docs/sql.md "Functions"), NULL handling included.
  "SELECT a.id, lower(a.name) AS l, upper(a.name || 'éßﬀǆ') AS u, lower('İÉǅΣ' || a.name) AS lu, length(a.name || 'é') AS n, char_length(a.tenant) AS c, lower(NULL) AS z FROM {A} a ORDER BY a.id",
  "SELECT a.id, btrim('  ' || a.name || 'xx', ' x') AS b, ltrim('..' || a.name, '.') AS l, rtrim(a.name || '  ') AS r, trim(both 'A' from a.name) AS t, btrim(a.name, NULL) AS n FROM {A} a ORDER BY a.id",
  'SELECT a.id, substring(a.name from 2 for 2) AS s1, substr(a.name, 0, 3) AS s2, substr(a.name, 2) AS s3, substring(a.name for 1) AS s4, substr(a.name, -5, 7) AS s5, substr(a.name, a.divisor) AS s6 FROM {A} a ORDER BY a.id',
  'SELECT a.id, left(a.name, 2) AS l, right(a.name, -1) AS r, left(a.name, -1) AS l2, right(a.name, 2) AS r2, left(a.name, 10) AS l3, right(a.name, NULL) AS rn FROM {A} a ORDER BY a.id',
  "SELECT a.id, replace(a.name, 'e', 'E') AS r, replace(a.name, '', 'x') AS r2, replace(a.name, 'n', '') AS r3, strpos(a.name, 'e') AS p, position('b' in a.name) AS p2, strpos(a.name, '') AS p3, strpos('ééx' || a.name, 'x') AS p4 FROM {A} a ORDER BY a.id",
  "SELECT a.id, concat(a.name, '-', a.amount, '-', a.id, NULL, a.divisor * 1.5, a.divisor > 2, a.divisor::float8 / 4) AS c, concat(NULL) AS n FROM {A} a ORDER BY a.id",
  'SELECT a.id, abs(-a.divisor) AS ai, abs(a.amount - 50) AS an, abs(a.divisor * -1.5::float8) AS af, abs(NULL::int) AS nn FROM {A} a ORDER BY a.id',
  'SELECT a.id, round(a.amount) AS r0, round(a.amount, 1) AS r1, round(a.amount, -1) AS rn, round(a.amount, 4) AS r4, trunc(a.amount, 1) AS t1, trunc(a.amount) AS t0, trunc(a.amount, -1) AS tn, floor(a.amount) AS f, ceil(a.amount) AS c, ceiling(-a.amount) AS c2 FROM {A} a ORDER BY a.id',
  'SELECT a.id, round(a.divisor * 0.5::float8) AS half, round(a.divisor) AS ri, floor(a.divisor / 3.0::float8) AS ff, ceil(a.divisor / 3.0::float8) AS cf, trunc(a.divisor / 3.0::float8) AS tf, round(a.id, 2) AS rid FROM {A} a ORDER BY a.id',
  'SELECT a.id, mod(a.id, 3) AS m, mod(a.amount, 3) AS mn, mod(-a.id, a.divisor) AS mneg, mod(a.id, 2.5) AS mf, mod(NULL, a.id) AS mnull FROM {A} a ORDER BY a.id',
  "SELECT a.id, nullif(a.name, 'Ann') AS n, nullif(a.divisor, 5) AS d, nullif(a.amount, NULL) AS an, greatest(a.divisor, a.id, 3) AS g, least(a.amount, 10) AS l, greatest(a.name, 'B') AS gt, least(a.amount, NULL) AS ln, greatest(NULL::int, NULL) AS gn FROM {A} a ORDER BY a.id",
  'SELECT upper(a.tenant) AS t, round(avg(a.amount), 2) AS av, count(*) AS n, greatest(max(a.id), 2) AS g FROM {A} a GROUP BY upper(a.tenant)',
  "SELECT a.id FROM {A} a WHERE lower(a.name) LIKE '%e%' AND length(a.name) = 3 OR strpos(a.name, 'C') = 1 ORDER BY a.id",
  'SELECT a.name, upper(n.body) AS b, length(n.body) AS len FROM {A} a JOIN {N} n ON n.account_id = a.id ORDER BY a.name, b',
  'SELECT left(a.name, 1) AS initial, count(*) AS n FROM {A} a GROUP BY left(a.name, 1) ORDER BY initial',
  // DISTINCT, NULLs included (DISTINCT treats them as equal).
  'SELECT DISTINCT a.tenant FROM {A} a',
  'SELECT DISTINCT a.amount FROM {A} a ORDER BY a.amount NULLS FIRST',
  'SELECT DISTINCT n.body FROM {A} a LEFT JOIN {N} n ON n.account_id = a.id AND n.id > 5',
  'SELECT DISTINCT n.body IS NULL AS orphan, a.divisor > 1 AS big FROM {A} a LEFT JOIN {N} n ON n.account_id = a.id ORDER BY 1, 2',
  'SELECT DISTINCT count(*) AS k FROM {N} n GROUP BY n.account_id ORDER BY k DESC',
  'SELECT DISTINCT a.tenant, a.amount IS NULL AS none FROM {A} a ORDER BY none LIMIT 1',
  // HAVING, with and without GROUP BY.
  'SELECT n.account_id, count(*) AS c FROM {N} n GROUP BY n.account_id HAVING count(*) > 1 ORDER BY n.account_id',
  'SELECT count(*) AS c FROM {A} a HAVING count(*) > 3',
  'SELECT count(*) AS c FROM {A} a HAVING count(*) > 10',
  'SELECT sum(a.amount) AS s FROM {A} a WHERE a.id < 0 HAVING count(*) = 0',
  'SELECT a.tenant FROM {A} a GROUP BY a.tenant HAVING max(a.amount) > 50',
  'SELECT a.divisor FROM {A} a GROUP BY a.divisor HAVING sum(a.amount) > 5 OR a.divisor = 1 ORDER BY a.divisor',
  // WITH (non-recursive): referenced twice, one over another, joined to a view.
  'WITH big AS (SELECT a.id, a.name FROM {A} a WHERE a.amount > 10) SELECT b.name FROM big b ORDER BY b.name',
  'WITH x AS (SELECT a.id, a.divisor FROM {A} a) SELECT x1.id, x2.divisor FROM x x1 JOIN x x2 ON x2.id = x1.id WHERE x1.divisor > 1 ORDER BY x1.id',
  'WITH a1 AS (SELECT a.id, a.amount FROM {A} a), a2 AS (SELECT a1.id FROM a1 WHERE a1.amount IS NOT NULL) SELECT a2.id FROM a2 ORDER BY a2.id',
  'WITH c AS (SELECT n.account_id, count(*) AS k FROM {N} n GROUP BY n.account_id) SELECT a.name, c.k FROM {A} a LEFT JOIN c ON c.account_id = a.id ORDER BY a.name',
  // Subqueries in FROM, joined to a view (across stores), with their own LIMIT, with an expression that fails on other tenants' rows.
  'SELECT a.name, s.body FROM {A} a JOIN (SELECT n.account_id, n.body FROM {N} n WHERE n.id > 1) s ON s.account_id = a.id ORDER BY s.body',
  'SELECT s.account_id, a.name FROM (SELECT n.account_id FROM {N} n GROUP BY n.account_id) s LEFT JOIN {A} a ON a.id = s.account_id ORDER BY s.account_id',
  'SELECT s.v FROM (SELECT a.id, a.score::int AS v FROM {A} a) s WHERE s.v > 5 ORDER BY s.v',
  'SELECT s.id FROM (SELECT a.id FROM {A} a ORDER BY a.id DESC LIMIT 2) s ORDER BY s.id',
  'SELECT t.n, count(*) AS c FROM (SELECT a.id, a.amount IS NULL AS n FROM {A} a) t GROUP BY t.n ORDER BY t.n',
  // IN (SELECT ...) and NOT IN with PostgreSQL's NULL semantics, across stores.
  'SELECT a.id FROM {A} a WHERE a.id IN (SELECT n.account_id FROM {N} n) ORDER BY a.id',
  'SELECT n.id FROM {N} n WHERE n.account_id NOT IN (SELECT a.id FROM {A} a) ORDER BY n.id',
  'SELECT a.id FROM {A} a WHERE a.id NOT IN (SELECT n.account_id FROM {A} x LEFT JOIN {N} n ON n.account_id = x.id) ORDER BY a.id',
  'SELECT a.id, a.amount IN (SELECT b.amount FROM {A} b WHERE b.id < 3) AS hit FROM {A} a ORDER BY a.id',
  'SELECT a.id, a.amount NOT IN (SELECT b.amount FROM {A} b WHERE b.id < 0) AS miss FROM {A} a ORDER BY a.id',
  'SELECT a.id, a.amount NOT IN (SELECT b.amount FROM {A} b) AS miss FROM {A} a ORDER BY a.id',
  'SELECT a.id FROM {A} a WHERE a.amount IN (SELECT n.account_id * 12.5 AS v FROM {N} n) ORDER BY a.id',
  "SELECT a.name FROM {A} a WHERE a.id IN (SELECT s.account_id FROM (SELECT n.account_id FROM {N} n WHERE n.body LIKE '%e%') s) ORDER BY a.name",
  'SELECT n.account_id, count(*) AS c FROM {N} n GROUP BY n.account_id HAVING n.account_id IN (SELECT a.id FROM {A} a) ORDER BY n.account_id',
  'WITH ids AS (SELECT n.account_id FROM {N} n) SELECT a.name FROM {A} a WHERE a.id IN (SELECT ids.account_id FROM ids) AND a.id IN (SELECT i.account_id FROM ids i) ORDER BY a.name',
  // Date functions (PostgreSQL's result types: extract numeric, date_part double precision, date_trunc timestamptz), TimeZone UTC.
  "SELECT a.id, date_trunc('month', ('2024-02-2' || a.id)::date) AS m, extract(dow FROM ('2024-02-2' || a.id)::date) AS dow, extract(epoch FROM ('2024-02-2' || a.id)::date) AS ep, date_part('doy', ('2024-02-2' || a.id)::date) AS doy, extract(week FROM ('2024-12-2' || (a.id + 5))::date) AS wk, extract(isoyear FROM ('202' || (a.id + 4) || '-01-01')::date) AS iy FROM {A} a ORDER BY a.id",
  "SELECT a.id, extract(second FROM t.ts) AS s, extract(milliseconds FROM t.ts) AS ms, extract(microseconds FROM t.ts) AS us, extract(epoch FROM t.ts) AS ep, date_part('epoch', t.ts) AS dep, date_part('second', t.ts) AS ds, extract(century FROM t.ts) AS c, extract(millennium FROM t.ts) AS mil, extract(decade FROM t.ts) AS dec, extract(quarter FROM t.ts) AS q, extract(isodow FROM t.ts) AS idow FROM {A} a JOIN (SELECT b.id, ('1969-12-31 23:59:5' || b.id || '.25+00')::timestamptz AS ts FROM {A} b) t ON t.id = a.id ORDER BY a.id",
  "SELECT t.u, date_trunc('year', t.ts) AS y, date_trunc('quarter', t.ts) AS q, date_trunc('week', t.ts) AS w, date_trunc('hour', t.ts) AS h, date_trunc('milliseconds', t.ts) AS ms, date_trunc('second', t.ts) AS s, date_trunc('decade', t.ts) AS d, date_trunc('century', t.ts) AS c, date_trunc('millennium', t.ts) AS m FROM (SELECT a.id AS u, ('2000-0' || a.id || '-0' || a.divisor || ' 1' || a.id || ':3' || a.id || ':5' || a.id || '.123456+00')::timestamptz AS ts FROM {A} a) t ORDER BY t.u",
  "SELECT date_trunc('week', ('2024-02-2' || a.id)::date) AS wk, count(*) AS n FROM {A} a WHERE extract(year FROM ('2024-02-2' || a.id)::date) = 2024 GROUP BY date_trunc('week', ('2024-02-2' || a.id)::date) ORDER BY wk",
  // IN items that compare in different types (int and numeric): PostgreSQL resolves them, as x = a OR x = b.
  'SELECT a.id FROM {A} a WHERE a.id IN (1, 9223372036854775808, 3) ORDER BY a.id',
  'SELECT a.id FROM {A} a WHERE a.id NOT IN (1, 2.0, 9223372036854775808) ORDER BY a.id',
  // A bound beyond the column's integer range is never sent to the store as a value of its type.
  'SELECT a.id FROM {A} a WHERE a.id < 9223372036854775808 AND a.id > -9223372036854775809.5 AND a.id <> 99999999999 ORDER BY a.id',
];

/** viewgate's timestamp (`2000-01-02T11:31:51.123000Z`) as PostgreSQL prints it with TimeZone UTC (`2000-01-02 11:31:51.123+00`). */
const pgTimestamp = (v: string): string =>
  v.replace(/^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)\.(\d{6})Z$/, (_m, d: string, t: string, f: string) => {
    const frac = f.replace(/0+$/, '');
    return `${d} ${t}${frac ? `.${frac}` : ''}+00`;
  });
const text = (v: unknown): string | null => (v === null ? null : typeof v === 'boolean' ? (v ? 't' : 'f') : pgTimestamp(String(v)));

describe('governed SQL equals PostgreSQL over the policy as views', () => {
  it.each(STATEMENTS)('%s', async (s) => {
    const res = await fetch(`${srv.url}/api/v2/_sql`, {
      method: 'POST',
      headers: { 'X-API-Key': 'key-t1', 'content-type': 'application/json' },
      body: JSON.stringify({ sql: s.replaceAll('{A}', 'pg.sql_accounts').replaceAll('{N}', 'my.sql_notes') }),
    });
    const body = (await res.json()) as { resource: Record<string, unknown>[] };
    expect(res.status, JSON.stringify(body)).toBe(200);
    const expected = (await pool.query(s.replaceAll('{A}', 't1_accounts').replaceAll('{N}', 't1_notes'))).rows as Record<string, unknown>[];
    // The answer is capped by the smallest maxLimit of the views read (notes: 4, accounts: 50).
    const cap = s.includes('{N}') ? 4 : 50;
    const got = body.resource.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])));
    expect(got).toEqual(expected.slice(0, cap).map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)]))));
  });
});
