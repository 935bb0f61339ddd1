// Governed SQL against hostile statements (docs/sql.md, docs/security.md "Governed SQL"): each is
// refused or answered within the caller's policy (only its tenant's rows, masked values masked),
// and the stores' contents, relations and settings are the same afterwards. Plus a tenancy
// property: random statements never return another tenant's row.
import { createHash } from 'node:crypto';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rng } from '../support/random.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { ACCOUNTS, NOTES, createSqlStores, sqlConfig, type SqlStores, type Who } from '../support/sql-fixture.js';
import { mysqlExec, pgExec } from '../support/stores.js';

let stores: SqlStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createSqlStores('sql_hostile');
  srv = await startServer(sqlConfig(stores));
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

async function sql(who: Who, text: string): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${srv.url}/api/v2/_sql`, {
    method: 'POST',
    headers: { 'X-API-Key': `key-${who}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: text }),
  });
  const body = await res.text();
  return { status: res.status, body: JSON.parse(body), text: body };
}

/** The stores as a hash: every row, every relation, every setting. */
async function fingerprint(): Promise<string> {
  const h = createHash('sha256');
  const pgParts = [
    'SELECT * FROM sql_accounts ORDER BY id',
    "SELECT relname, relkind FROM pg_class WHERE relnamespace = 'public'::regnamespace ORDER BY relname",
    'SELECT name, setting FROM pg_settings ORDER BY name',
  ];
  for (const q of pgParts) h.update(JSON.stringify((await pgExec(stores.pgUrl, q)).rows));
  for (const q of ['SELECT * FROM sql_notes ORDER BY id', 'SHOW TABLES', 'SHOW GLOBAL VARIABLES']) {
    const rows = (await mysqlExec(stores.myUrl, q)) as unknown[];
    // Counters and clocks move on their own.
    h.update(JSON.stringify(Array.isArray(rows) ? rows.filter((r) => !/timestamp|gtid|uptime/i.test(JSON.stringify(r))) : rows));
  }
  return h.digest('hex');
}

const T2_VALUES = new Set(
  [...ACCOUNTS.filter((a) => a[1] === 't2').flat(), ...NOTES.filter((n) => n[2] === 't2').flatMap((n) => [n[3], n[4]])]
    .filter((v) => typeof v === 'string' && v.length > 1)
    .map(String),
);
const RAW_EMAILS = new Set(ACCOUNTS.map((a) => a[3]).filter((v): v is string => typeof v === 'string'));
const HIDDEN = new Set(NOTES.map((n) => n[4] as string));

/** Refused, or only the caller's tenant's values, no raw email, no hidden value. */
function withinPolicy(r: { status: number; body: any; text: string }): string | undefined {
  if (r.status >= 400 && r.status < 500) return r.body.error?.message ? undefined : `no error message: ${r.text}`;
  if (r.status !== 200) return `status ${r.status}: ${r.text}`;
  for (const row of r.body.resource as Record<string, unknown>[]) {
    for (const v of Object.values(row)) {
      const s = String(v);
      if (T2_VALUES.has(s) || RAW_EMAILS.has(s) || HIDDEN.has(s) || s === 't2') return `leaked ${s}: ${r.text}`;
      if ([...RAW_EMAILS].some((e) => s.includes(e))) return `leaked an email: ${r.text}`;
    }
  }
  return undefined;
}

// [statement, the status it must get (undefined: refused or answered within policy)]
const CORPUS: [string, number?][] = [
  // More than one statement, or not a SELECT.
  ['SELECT a.id FROM pg.sql_accounts a; SELECT n.id FROM my.sql_notes n', 400],
  ['SELECT a.id FROM pg.sql_accounts a; DROP TABLE sql_accounts', 400],
  ['SELECT 1; DELETE FROM sql_notes', 400],
  ['DROP TABLE pg.sql_accounts', 400],
  ['DELETE FROM pg.sql_accounts', 400],
  ["UPDATE pg.sql_accounts SET name = 'x'", 400],
  ['INSERT INTO pg.sql_accounts (id) VALUES (9)', 400],
  ['TRUNCATE pg.sql_accounts', 400],
  ['BEGIN', 400],
  ['COMMIT', 400],
  ['ROLLBACK', 400],
  ['START TRANSACTION READ WRITE', 400],
  ['SET search_path = evil', 400],
  ['SET ROLE postgres', 400],
  ['RESET ALL', 400],
  ['EXPLAIN SELECT a.id FROM pg.sql_accounts a', 400],
  ['COPY sql_accounts TO STDOUT', 400],
  ['VALUES (1)', 400],
  ['CREATE TABLE sql_evil (x int)', 400],
  ['GRANT ALL ON sql_accounts TO public', 400],
  ['LISTEN x', 400],
  ["NOTIFY x, 'y'", 400],
  ['PREPARE p AS SELECT 1', 400],
  ['DO $$BEGIN PERFORM 1; END$$', 400],
  // Data changes and locks inside a SELECT.
  ['WITH d AS (DELETE FROM pg.sql_accounts RETURNING id) SELECT d.id FROM d', 400],
  ["WITH u AS (UPDATE pg.sql_accounts SET name = 'x' RETURNING id) SELECT u.id FROM u", 400],
  ['WITH i AS (INSERT INTO pg.sql_accounts (id) VALUES (9) RETURNING id) SELECT i.id FROM i', 400],
  ['SELECT a.id FROM pg.sql_accounts a FOR UPDATE', 400],
  ['SELECT a.id FROM pg.sql_accounts a FOR SHARE NOWAIT', 400],
  ['SELECT a.id INTO sql_copy FROM pg.sql_accounts a', 400],
  // Side effects, sleeps, settings, catalogs.
  ['SELECT pg_sleep(5) AS s FROM pg.sql_accounts a', 400],
  ["SELECT set_config('search_path', 'evil', false) AS s FROM pg.sql_accounts a", 400],
  ["SELECT pg_catalog.set_config('a.b', 'c', false) AS s FROM pg.sql_accounts a", 400],
  ['SELECT pg_terminate_backend(1) AS s FROM pg.sql_accounts a', 400],
  ["SELECT lo_import('/etc/passwd') AS s FROM pg.sql_accounts a", 400],
  ["SELECT pg_read_file('/etc/passwd') AS s FROM pg.sql_accounts a", 400],
  ["SELECT nextval('x') AS s FROM pg.sql_accounts a", 400],
  ['SELECT version() AS v FROM pg.sql_accounts a', 400],
  ['SELECT current_user AS u FROM pg.sql_accounts a', 400],
  ['SELECT now() AS t FROM pg.sql_accounts a', 400],
  ["SELECT 'sql_accounts'::regclass AS r FROM pg.sql_accounts a", 400],
  ['SELECT t.tablename FROM pg_catalog.pg_tables t', 400],
  ['SELECT t.table_name FROM information_schema.tables t', 400],
  ['SELECT s.usename FROM pg_user s', 400],
  ['SELECT a.id FROM sql_accounts a', 400],
  ['SELECT a.id FROM pgsrc.sql_accounts a', 400],
  ["SELECT x.y FROM dblink('dbname=test', 'SELECT 1') AS x(y int)", 400],
  ['SELECT g.x FROM generate_series(1, 10) g(x)', 400],
  ['SELECT a.id FROM pg.sql_accounts a TABLESAMPLE SYSTEM (50)', 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.id = $1', 400],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.name ~ 'A'", 400],
  // Comments and strings that hide or fake statements.
  ['SELECT a.id FROM pg.sql_accounts a -- ; DROP TABLE sql_accounts'],
  ['SELECT a.id FROM pg.sql_accounts a /* ; DROP TABLE sql_accounts */'],
  ["SELECT a.id, 'x; DROP TABLE sql_accounts' AS s FROM pg.sql_accounts a"],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.name = 'Ann''; DROP TABLE sql_accounts; --'"],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.name = $q$Ann$q$'],
  ['SELECT a.id FROM pg.sql_accounts a /* nested /* comment */ still */ WHERE a.id > 0'],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.name = U&'\\0041nn'"],
  ['SELECT "a".id FROM pg."sql_accounts" "a"'],
  ['SELECT a.id FROM pg.sql_accounts a; ', 200],
  // Aggregates that build one value from many rows.
  ["SELECT string_agg(a.name, ',') AS s FROM pg.sql_accounts a", 400],
  ['SELECT array_agg(a.name) AS s FROM pg.sql_accounts a', 400],
  ['SELECT json_agg(a.name) AS s FROM pg.sql_accounts a', 400],
  ['SELECT row_number() OVER () AS r FROM pg.sql_accounts a', 400],
  ["SELECT count(*) FILTER (WHERE a.email LIKE 'a%') AS c FROM pg.sql_accounts a", 400],
  // Masked columns (email) anywhere but a plain output or count(col).
  ['SELECT a.email::text AS e FROM pg.sql_accounts a', 400],
  ["SELECT CASE WHEN a.email LIKE 'a%' THEN 1 ELSE 0 END AS x FROM pg.sql_accounts a", 400],
  ["SELECT a.email || '' AS x FROM pg.sql_accounts a", 400],
  ["SELECT coalesce(a.email, 'x') AS x FROM pg.sql_accounts a", 400],
  ['SELECT a.email = a.email AS same FROM pg.sql_accounts a', 400],
  ['SELECT min(a.email) AS m FROM pg.sql_accounts a', 400],
  ['SELECT max(a.email) AS m FROM pg.sql_accounts a', 400],
  ['SELECT count(DISTINCT a.email) AS n FROM pg.sql_accounts a', 400],
  ['SELECT a.email FROM pg.sql_accounts a GROUP BY a.email', 400],
  ['SELECT a.email FROM pg.sql_accounts a GROUP BY 1', 400],
  ['SELECT count(*) AS n FROM pg.sql_accounts a GROUP BY a.email', 400],
  ['SELECT a.email FROM pg.sql_accounts a ORDER BY 1', 400],
  ['SELECT a.email AS e FROM pg.sql_accounts a ORDER BY e', 400],
  ['SELECT a.name FROM pg.sql_accounts a ORDER BY a.email', 400],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.email = 'ann@x.io'", 400],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.email LIKE 'a%'", 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.email IS NULL', 400],
  ['SELECT a.id FROM pg.sql_accounts a JOIN my.sql_notes n ON n.body = a.email', 400],
  ["SELECT a.id FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id AND a.email LIKE 'a%'", 400],
  ['SELECT a.id, a.email FROM (SELECT b.id, b.email FROM pg.sql_accounts b) a', 400],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.id IN (SELECT b.id FROM pg.sql_accounts b WHERE b.email LIKE 'a%')", 400],
  ['WITH x AS (SELECT b.email FROM pg.sql_accounts b) SELECT x.email FROM x', 400],
  ['SELECT DISTINCT a.email FROM pg.sql_accounts a', 400],
  ['SELECT a.email FROM pg.sql_accounts a', 200],
  ['SELECT count(a.email) AS c FROM pg.sql_accounts a', 200],
  // Hidden columns and other tenants' rows.
  ['SELECT n.secret FROM my.sql_notes n', 400],
  ['SELECT count(n.secret) AS c FROM my.sql_notes n', 400],
  ["SELECT a.id FROM pg.sql_accounts a WHERE a.tenant = 't2'", 200],
  ["SELECT a.id, a.tenant FROM pg.sql_accounts a WHERE a.tenant = 't1' OR a.tenant = 't2'", 200],
  ['SELECT a.id, a.tenant FROM pg.sql_accounts a WHERE true OR 1 = 1', 200],
  ["SELECT a.id, a.tenant FROM pg.sql_accounts a WHERE NOT (a.tenant = 't1')", 200],
  ['SELECT n.id, n.body, a.name FROM my.sql_notes n LEFT JOIN pg.sql_accounts a ON a.id = n.account_id', 200],
  ['SELECT a.name, n.body FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id', 200],
  ["SELECT a.name, n.body FROM pg.sql_accounts a LEFT JOIN my.sql_notes n ON n.account_id = a.id OR n.tenant = 't2'"],
  ['SELECT a.id FROM pg.sql_accounts a RIGHT JOIN my.sql_notes n ON n.account_id = a.id', 400],
  ['SELECT a.id FROM pg.sql_accounts a FULL JOIN my.sql_notes n ON n.account_id = a.id', 400],
  ['SELECT a.id FROM pg.sql_accounts a CROSS JOIN my.sql_notes n', 400],
  ['SELECT a.id FROM pg.sql_accounts a, my.sql_notes n', 400],
  ['SELECT a.id FROM pg.sql_accounts a UNION SELECT n.id FROM my.sql_notes n', 400],
  ['SELECT a.id, a.score::int AS s FROM pg.sql_accounts a WHERE a.score::int > 0', 200],
  ['SELECT a.id, 100 / a.divisor AS q FROM pg.sql_accounts a', 200],
  ['SELECT count(*) AS n, sum(a.amount) AS s FROM pg.sql_accounts a', 200],
  ['SELECT a.id FROM pg.sql_accounts a LIMIT 1000000', 200],
  // WITH, subqueries, DISTINCT and HAVING: data changes and locks in a WITH query, recursion.
  ['WITH d AS (DELETE FROM pg.sql_accounts RETURNING id) SELECT a.id FROM pg.sql_accounts a', 400],
  ['WITH d AS (DELETE FROM sql_accounts RETURNING id) SELECT a.id FROM pg.sql_accounts a', 400],
  ['WITH x AS (SELECT a.id FROM pg.sql_accounts a FOR UPDATE) SELECT x.id FROM x', 400],
  ['WITH x AS (SELECT a.id FROM pg.sql_accounts a) DELETE FROM sql_accounts', 400],
  ["WITH x AS (SELECT set_config('a.b', 'c', false) AS s FROM pg.sql_accounts a) SELECT x.s FROM x", 400],
  ['WITH x AS (SELECT pg_sleep(5) AS s FROM pg.sql_accounts a) SELECT count(*) AS n FROM x', 400],
  ['WITH RECURSIVE r AS (SELECT a.id FROM pg.sql_accounts a UNION ALL SELECT r.id + 1 FROM r WHERE r.id < 9) SELECT r.id FROM r', 400],
  ['WITH RECURSIVE r AS (SELECT a.id FROM pg.sql_accounts a) SELECT r.id FROM r', 400],
  ['WITH x AS (SELECT t.tablename FROM pg_catalog.pg_tables t) SELECT x.tablename FROM x', 400],
  ['SELECT s.id FROM (SELECT a.id FROM pg.sql_accounts a UNION SELECT n.id FROM my.sql_notes n) s', 400],
  ['SELECT s.id FROM pg.sql_accounts a JOIN LATERAL (SELECT n.id FROM my.sql_notes n) s ON s.id = a.id', 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE EXISTS (SELECT n.id FROM my.sql_notes n)', 400],
  ['SELECT (SELECT max(b.id) FROM pg.sql_accounts b) AS m FROM pg.sql_accounts a', 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.id = ANY (SELECT n.account_id FROM my.sql_notes n)', 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.id IN (SELECT n.account_id FROM my.sql_notes n WHERE n.account_id = a.id)', 400],
  ['SELECT DISTINCT ON (a.tenant) a.id FROM pg.sql_accounts a', 400],
  // Masked columns reached through a WITH query, a subquery, IN (SELECT ...), DISTINCT and HAVING.
  ["WITH x AS (SELECT b.id, b.email AS e FROM pg.sql_accounts b) SELECT x.id FROM x WHERE x.e LIKE 'a%'", 400],
  ['WITH x AS (SELECT b.id, b.email FROM pg.sql_accounts b) SELECT x.id FROM x', 400],
  ['WITH x AS (SELECT b.email FROM pg.sql_accounts b) SELECT count(x.email) AS c FROM x', 400],
  ['SELECT s.e FROM (SELECT b.email AS e FROM pg.sql_accounts b) s', 400],
  ["SELECT s.id FROM (SELECT b.id FROM pg.sql_accounts b WHERE b.email LIKE 'a%') s", 400],
  ['SELECT s.id FROM (SELECT b.id FROM pg.sql_accounts b ORDER BY b.email LIMIT 1) s', 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.email IN (SELECT n.body FROM my.sql_notes n)', 400],
  ['SELECT a.id FROM pg.sql_accounts a WHERE a.id IN (SELECT b.id FROM pg.sql_accounts b WHERE b.email IS NULL)', 400],
  ['SELECT n.id FROM my.sql_notes n WHERE n.body IN (SELECT b.email FROM pg.sql_accounts b)', 400],
  ['SELECT DISTINCT a.id, a.email FROM pg.sql_accounts a', 400],
  ['SELECT a.tenant FROM pg.sql_accounts a GROUP BY a.tenant HAVING count(a.email) > 2', 400],
  ["SELECT a.tenant FROM pg.sql_accounts a GROUP BY a.tenant HAVING min(a.email) > 'a'", 400],
  ["SELECT count(*) AS n FROM pg.sql_accounts a HAVING max(a.email) LIKE 'a%'", 400],
  ['SELECT s.c FROM (SELECT count(b.email) AS c FROM pg.sql_accounts b) s', 200],
  // Hidden columns through subqueries; row-filter escapes through subqueries, WITH and IN (SELECT ...).
  ['SELECT s.secret FROM (SELECT n.secret FROM my.sql_notes n) s', 400],
  ["WITH x AS (SELECT n.id FROM my.sql_notes n WHERE n.secret = 's4') SELECT x.id FROM x", 400],
  ["SELECT s.id, s.tenant FROM (SELECT a.id, a.tenant FROM pg.sql_accounts a WHERE a.tenant = 't2' OR true) s", 200],
  ["SELECT a.id, a.tenant FROM pg.sql_accounts a WHERE a.id IN (SELECT b.id FROM pg.sql_accounts b WHERE b.tenant = 't2')", 200],
  ["WITH x AS (SELECT a.id, a.tenant FROM pg.sql_accounts a) SELECT x.id, x.tenant FROM x WHERE x.tenant <> 't1'", 200],
  ['SELECT n.id, n.tenant, n.body FROM my.sql_notes n WHERE n.account_id NOT IN (SELECT a.id FROM pg.sql_accounts a)', 200],
  [
    'SELECT s.id, s.body FROM pg.sql_accounts a RIGHT JOIN (SELECT n.id, n.account_id, n.body FROM my.sql_notes n) s ON s.account_id = a.id',
    400,
  ],
  [
    'SELECT s.id, s.body FROM pg.sql_accounts a LEFT JOIN (SELECT n.id, n.account_id, n.body FROM my.sql_notes n) s ON s.account_id = a.id OR true',
    400,
  ],
  ["SELECT DISTINCT s.tenant FROM (SELECT a.tenant FROM pg.sql_accounts a WHERE NOT (a.tenant = 't1')) s", 200],
  ["SELECT a.tenant, count(*) AS n FROM pg.sql_accounts a GROUP BY a.tenant HAVING a.tenant = 't2' OR count(*) > 0", 200],
  ['SELECT s.v FROM (SELECT a.score::int AS v, 100 / a.divisor AS q FROM pg.sql_accounts a) s', 200],
  ['SELECT x.id FROM (SELECT a.id FROM pg.sql_accounts a) x WHERE x.id IN (SELECT y.id FROM (SELECT b.id FROM pg.sql_accounts b) y)', 200],
];

describe('hostile statements', () => {
  it(`${CORPUS.length} statements are refused or answered within policy; the stores are unchanged`, async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(60);
    const before = await fingerprint();
    const problems: string[] = [];
    for (const [text, status] of CORPUS) {
      const r = await sql('t1', text);
      if (status !== undefined && r.status !== status) problems.push(`${text}\n  expected ${status}, got ${r.status}: ${r.text}`);
      const bad = withinPolicy(r);
      if (bad) problems.push(`${text}\n  ${bad}`);
    }
    expect(problems).toEqual([]);
    expect(await fingerprint()).toBe(before);
  }, 120_000);

  it('refusals name the construct and its position', async () => {
    const r = await sql('t1', 'SELECT a.id FROM pg.sql_accounts a FOR UPDATE');
    expect(r.body.error.message).toMatch(/line 1, column \d+: FOR UPDATE\/SHARE is not allowed/);
    const f = await sql('t1', 'SELECT a.id,\n  pg_sleep(1) AS s FROM pg.sql_accounts a');
    expect(f.body.error.message).toMatch(
      /^sql at line 2, column 3: function pg_sleep\(\) is not allowed; the functions are count, sum, avg, min, max/,
    );
    const m = await sql('t1', 'SELECT a.id FROM pg.sql_accounts a WHERE a.email IS NULL');
    expect(m.body.error.message).toMatch(/column a.email is masked for your role.*cannot be used in WHERE/);
    const rec = await sql('t1', 'WITH RECURSIVE r AS (SELECT a.id FROM pg.sql_accounts a) SELECT r.id FROM r');
    expect(rec.body.error.message).toMatch(/^sql at line 1, column \d+: WITH RECURSIVE is not allowed/);
    const dml = await sql('t1', 'WITH d AS (DELETE FROM pg.sql_accounts RETURNING id) SELECT d.id FROM d');
    expect(dml.body.error.message).toMatch(/WITH query "d" must be a SELECT/);
  });

  it('masked and hidden columns are named wherever a subquery, WITH, DISTINCT or HAVING reaches them', async () => {
    const cases: [string, RegExp][] = [
      [
        'WITH x AS (SELECT b.email FROM pg.sql_accounts b) SELECT x.email FROM x',
        /column b\.email is masked .*output of a subquery or WITH query/,
      ],
      [
        'SELECT s.e FROM (SELECT b.email AS e FROM pg.sql_accounts b) s',
        /column b\.email is masked .*output of a subquery or WITH query \("e"\)/,
      ],
      ['SELECT DISTINCT a.email FROM pg.sql_accounts a', /column a\.email is masked .*cannot be used in DISTINCT/],
      [
        'SELECT a.tenant FROM pg.sql_accounts a GROUP BY a.tenant HAVING count(a.email) > 2',
        /column a\.email is masked .*cannot be used in HAVING/,
      ],
      [
        'SELECT a.id FROM pg.sql_accounts a WHERE a.id IN (SELECT b.id FROM pg.sql_accounts b WHERE b.email IS NULL)',
        /column b\.email is masked .*WHERE/,
      ],
    ];
    for (const [text, message] of cases) {
      const r = await sql('t1', text);
      expect(r.status, text).toBe(400);
      expect(r.body.error.message, text).toMatch(message);
    }
    // A hidden column is worded exactly as one that does not exist.
    const hidden = await sql('t1', 'SELECT s.secret FROM (SELECT n.secret FROM my.sql_notes n) s');
    const missing = await sql('t1', 'SELECT s.absent FROM (SELECT n.absent FROM my.sql_notes n) s');
    expect(hidden.body.error.message.replace('secret', 'X')).toBe(missing.body.error.message.replace('absent', 'X'));
  });
});

function randomStatement(r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const conds = [
    "a.tenant = 't2'",
    "a.tenant <> 't1'",
    'a.id > 0',
    'a.id IN (1, 5, 6, 7)',
    "a.name LIKE '%'",
    'a.amount IS NULL',
    "a.score = 'oops'",
    'a.divisor = 0',
    "n.tenant = 't2'",
    'n.account_id = 5',
    'n.id IS NULL',
  ];
  const join = pick(['', 'LEFT JOIN my.sql_notes n ON n.account_id = a.id', 'JOIN my.sql_notes n ON n.account_id = a.id']);
  const usable = conds.filter((c) => join !== '' || !c.startsWith('n.'));
  const where = Array.from({ length: Math.floor(r() * 3) }, () => pick(usable)).join(pick([' OR ', ' AND ']));
  const cols = join ? 'a.id, a.tenant, n.id AS note, n.tenant AS note_tenant' : 'a.id, a.tenant';
  const inner = `SELECT ${cols} FROM pg.sql_accounts a ${join}${where ? ` WHERE ${where}` : ''}`;
  const outer = join ? 's.id, s.tenant, s.note, s.note_tenant' : 's.id, s.tenant';
  // The same statement read through a subquery, a WITH query, DISTINCT or IN (SELECT ...).
  return pick([
    inner,
    `SELECT ${outer} FROM (${inner}) s`,
    `WITH s AS (${inner}) SELECT DISTINCT ${outer} FROM s`,
    `SELECT b.id, b.tenant FROM pg.sql_accounts b WHERE b.id IN (SELECT s.id FROM (${inner}) s) OR b.id NOT IN (SELECT s.id FROM (${inner}) s)`,
  ]);
}

describe('tenancy property', () => {
  it("random statements never return another tenant's row", async () => {
    const r = rng(Number(process.env.VG_SQL_SEED ?? 4242));
    const ids = (t: string) => new Set(ACCOUNTS.filter((a) => a[1] === t).map((a) => a[0]));
    for (let i = 0; i < 80; i++) {
      const who = i % 2 === 0 ? 't1' : 't2';
      const text = randomStatement(r);
      const res = await sql(who, text);
      expect(res.status, `${who}: ${text}\n${res.text}`).toBe(200);
      for (const row of res.body.resource as Record<string, unknown>[]) {
        expect(row.tenant, text).toBe(who);
        expect(ids(who).has(row.id as number), text).toBe(true);
        if (row.note_tenant !== undefined && row.note_tenant !== null) expect(row.note_tenant, text).toBe(who);
      }
    }
  }, 120_000);
});

describe('MCP query_sql', () => {
  const connect = async (who: Who) => {
    const client = new Client({ name: 'sql-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': `key-${who}` } } }),
    );
    return client;
  };

  it("describes the caller's own views and answers rows through the same policy", async () => {
    const client = await connect('t1');
    const tool = (await client.listTools()).tools.find((t) => t.name === 'query_sql');
    expect(tool?.description).toContain('pg.sql_accounts(id int, tenant text, name text, email masked');
    expect(tool?.description).toContain('my.sql_notes(id int, account_id int, tenant text, body text)');
    expect(tool?.description).not.toContain('secret');
    const r = await client.callTool({
      name: 'query_sql',
      arguments: { sql: 'SELECT a.id, a.email FROM pg.sql_accounts a ORDER BY a.id', limit: 2 },
    });
    expect(r.isError).toBeFalsy();
    expect(r.structuredContent).toEqual({
      rows: [
        { id: 1, email: 'a***@x.io' },
        { id: 2, email: 'b***@x.io' },
      ],
      fields: [
        { name: 'id', type: 'int' },
        { name: 'email', type: 'text' },
      ],
      returned: 2,
      truncated: true,
      next_cursor: expect.any(String),
    });
    const refused = await client.callTool({
      name: 'query_sql',
      arguments: { sql: 'SELECT a.id FROM pg.sql_accounts a WHERE a.email IS NULL' },
    });
    expect(refused.isError).toBe(true);
    await client.close();
    const nosql = await connect('nosql');
    expect((await nosql.listTools()).tools.map((t) => t.name)).not.toContain('query_sql');
    await nosql.close();
  });

  it('every call is audited through the one pipeline', async () => {
    const before = srv.audit.records.length;
    await sql('t1', 'SELECT a.id FROM pg.sql_accounts a');
    await sql('t1', 'DROP TABLE x');
    const mine = srv.audit.records.slice(before).filter((x) => (x as { action?: string }).action === 'query_sql');
    expect(mine.map((x) => (x as { status?: number }).status)).toEqual([200, 400]);
  });
});
