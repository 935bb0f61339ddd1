// rowSecurity compiled to SQL, checked against viewgate's own predicate evaluator: for each filter
// and each set of claims, the security-barrier view in a real PostgreSQL returns exactly the rows
// that binding the same filter to the same claims and evaluating it in process keeps. A claim the
// credential lacks (a 403 in the gateway) must give no rows inside PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parseFilter } from '../../src/query/filter-parser.js';
import { bindFilter } from '../../src/query/bind.js';
import { evaluate } from '../../src/query/evaluate.js';
import { claimValue } from '../../src/policy/row-filter.js';
import { RowSecurityCompiler, exemptSql } from '../../src/hub/row-security.js';
import type { ColumnType, Row } from '../../src/values.js';
import { createPgDatabase } from '../support/stores.js';

const TYPES: Record<string, ColumnType> = { id: 'int', tenant: 'text', n: 'int', amt: 'numeric', label: 'text', day: 'date' };
const ROWS: Row[] = [
  { id: 1n, tenant: 't1', n: 5n, amt: '1.50', label: 'alpha', day: '2024-01-01' },
  { id: 2n, tenant: 't2', n: 10n, amt: '20.00', label: 'al%pha', day: '2024-02-01' },
  { id: 3n, tenant: 't1', n: null, amt: null, label: null, day: null },
  { id: 4n, tenant: null, n: 7n, amt: '7.25', label: 'beta_x', day: '2024-03-01' },
  { id: 5n, tenant: 't3', n: -1n, amt: '0.00', label: "it's", day: '2023-12-31' },
  { id: 6n, tenant: 'T1', n: 100n, amt: '100.10', label: 'ALPHA', day: '2024-01-02' },
];

const FILTERS = [
  'tenant = {claims.tenant}',
  'tenant != {claims.tenant}',
  'tenant in {claims.tenants}',
  'tenant not in {claims.tenants}',
  "tenant in ('t3', null, {claims.tenant})",
  'n between {claims.lo} and {claims.hi}',
  'not (n > {claims.lo}) or label is null',
  "amt >= {claims.min} and tenant != 'x'",
  'label starts with {claims.prefix}',
  'label contains {claims.part}',
  'label not ends with {claims.part}',
  'day < {claims.until}',
  'tenant = {claims.org.tenant}',
  'tenant = {claims["https://ns/tenant"]}',
  "label like 'al%' and n >= 5",
];

const CLAIMS: Record<string, unknown>[] = [
  {
    tenant: 't1',
    tenants: ['t1', 't3'],
    lo: 5,
    hi: 10,
    min: '7.25',
    prefix: 'al%',
    part: 'ph',
    until: '2024-01-02',
    org: { tenant: 't2' },
    'https://ns/tenant': 't3',
  },
  {
    tenant: 't2',
    tenants: 't2',
    lo: '6',
    hi: '100',
    min: 0,
    prefix: 'al',
    part: '_',
    until: '2030-01-01',
    org: { tenant: 'T1' },
    'https://ns/tenant': 't1',
  },
  { tenant: "t1' OR 'a'='a", tenants: [], lo: -5, hi: -1, min: '1000', prefix: "it'", part: "'", until: '2000-01-01' },
  {},
];

let db: { url: string; drop: () => Promise<void> };
let client: pg.Client;

beforeAll(async () => {
  db = await createPgDatabase('hubrls');
  client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query(
    'CREATE TABLE items (id bigint PRIMARY KEY, tenant varchar(20), n bigint, amt numeric(10,2), label text, day date); CREATE SCHEMA s_internal; CREATE SCHEMA s',
  );
  for (const r of ROWS)
    await client.query(
      'INSERT INTO items VALUES ($1, $2, $3, $4, $5, $6)',
      [r.id, r.tenant, r.n, r.amt, r.label, r.day].map((v) => (typeof v === 'bigint' ? String(v) : v)),
    );
  await client.query('CREATE VIEW s_internal.v AS SELECT * FROM items');
  for (const [i, f] of FILTERS.entries()) {
    const pred = new RowSecurityCompiler('"s_internal"."v"', 'v', 'test').where(parseFilter(f, { allowClaims: true }));
    await client.query(`CREATE VIEW s.v${i} WITH (security_barrier) AS SELECT v.* FROM "s_internal"."v" AS v WHERE ${pred}`);
  }
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

async function hubIds(view: string, claims: Record<string, unknown> | undefined, role = ''): Promise<number[]> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query("SELECT set_config('request.jwt.claims', $1, true), set_config('viewgate.role', $2, true)", [
      claims ? JSON.stringify(claims) : '',
      role,
    ]);
    return (await client.query(`SELECT id FROM ${view} ORDER BY id`)).rows.map((r) => Number(r.id));
  } finally {
    await client.query('ROLLBACK');
  }
}

/** What the gateway's binding and evaluator say, or 'forbidden' when binding is a 403. */
function expected(filter: string, claims: Record<string, unknown>): number[] | 'forbidden' {
  let pred;
  try {
    pred = bindFilter(parseFilter(filter, { allowClaims: true }), {
      columnType: (f) => TYPES[f]!,
      claim: (path) => claimValue(claims, path),
    });
  } catch (err) {
    if ((err as { status?: number }).status === 403) return 'forbidden';
    throw err;
  }
  const types = new Map(Object.entries(TYPES));
  return ROWS.filter((r) => evaluate(pred, r, types) === true).map((r) => Number(r.id));
}

describe('rowSecurity compiled into a security-barrier view', () => {
  FILTERS.forEach((filter, i) => {
    it(filter, async () => {
      for (const claims of CLAIMS) {
        const want = expected(filter, claims);
        const got = await hubIds(`s.v${i}`, claims);
        if (want === 'forbidden') expect(got, JSON.stringify(claims)).toEqual([]);
        else expect(got, JSON.stringify(claims)).toEqual(want);
      }
      // No claims setting at all (a connection that never went through viewgate): no rows.
      expect(await hubIds(`s.v${i}`, undefined)).toEqual(filter.includes('{claims') ? [] : expected(filter, {}));
    });
  });

  it('exempt roles pass through viewgate.role, which is never NULL-ish: unset and empty are not exempt', async () => {
    const exempt = exemptSql(['internal', "ops'team"]);
    const r = async (role: string | undefined) => {
      await client.query('BEGIN');
      try {
        if (role !== undefined) await client.query("SELECT set_config('viewgate.role', $1, true)", [role]);
        return (await client.query(`SELECT ${exempt} AS ok`)).rows[0].ok as boolean;
      } finally {
        await client.query('ROLLBACK');
      }
    };
    expect(await r('internal')).toBe(true);
    expect(await r("ops'team")).toBe(true);
    expect(await r('Internal')).toBe(false);
    expect(await r('')).toBe(false);
    expect(await r(undefined)).toBe(false);
  });
});
