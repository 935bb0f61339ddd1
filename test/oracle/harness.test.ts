// Tests of the oracle itself, independent of the engine: the stores and the oracle database hold
// the same data, every view runs on the oracle with a unique key, the generator is deterministic
// and produces valid grammar, the two printers (filter text and SQL) mean the same thing, and the
// three-valued partition filters partition the rows on PostgreSQL itself.
process.env.TZ = 'Europe/Berlin';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import Database from 'better-sqlite3';
import { bindFilter } from '../../src/query/bind.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import { evaluate } from '../../src/query/evaluate.js';
import type { ColumnType, Row } from '../../src/values.js';
import { createOracleEnv, decodeOracle, type OracleEnv } from './env.js';
import { FIXTURES, fixture } from './fixtures.js';
import {
  genQuery,
  oracleCountSql,
  printFilter,
  printSql,
  Rng,
  seedFor,
  truthOf,
  unknownOf,
  type GenColumn,
  type GFilter,
} from './generate.js';
import { canon, canonRow, checkQuery, mapPool, report, SEED, show, viewContext } from './harness.js';
import { directedFor } from './directed.js';
import { checkPages, checkPartition, checkPushdownOff } from './metamorphic.js';
import { viewsFor } from './views.js';

const envs = new Map<string, OracleEnv>();

beforeAll(async () => {
  for (const name of FIXTURES) envs.set(name, await createOracleEnv(fixture(name), viewsFor(name)));
}, 120_000);

afterAll(async () => {
  for (const env of envs.values()) await env.close();
});

async function columnsOf(env: OracleEnv, sql: string): Promise<GenColumn[]> {
  const all = await env.oracle(`SELECT * FROM (${sql}) v`);
  return all.columns.map((name) => {
    const seen = new Map<string, unknown>();
    for (const r of all.rows) if (r[name] !== null) seen.set(canon(r[name]), r[name]);
    return { name, type: all.types[name]!, values: [...seen.values()], hasNull: all.rows.some((r) => r[name] === null) };
  });
}

describe.each(FIXTURES)('oracle fixture %s', (name) => {
  const env = (): OracleEnv => envs.get(name)!;

  it('copies every MariaDB row into crm.* exactly', async () => {
    const m = await mysql.createConnection({ uri: env().urls.mysql, supportBigNumbers: true, bigNumberStrings: true, dateStrings: true });
    try {
      for (const table of Object.keys(env().fixture.mysql.rows).concat(['customers'])) {
        const [rows] = (await m.query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as unknown as [{ n: number | string }[]];
        const o = await env().oracle(`SELECT count(*) AS n FROM crm.${table}`);
        expect(Number(o.rows[0]!.n), table).toBe(Number(rows[0]!.n));
      }
      // Byte-exact text (trailing spaces, supplementary characters) and exact 64-bit ids.
      const [names] = (await m.query({
        sql: 'SELECT customer_id, full_name, HEX(full_name) AS h FROM customers ORDER BY customer_id',
        rowsAsArray: true,
      })) as unknown as [[string, string, string][]];
      const o = await env().oracle(
        `SELECT customer_id, full_name, encode(convert_to(full_name, 'UTF8'), 'hex') AS h FROM crm.customers ORDER BY customer_id`,
      );
      expect(o.rows.map((r) => [String(r.customer_id), r.full_name, String(r.h).toUpperCase()])).toEqual(
        names.map((r) => [String(r[0]), r[1], r[2]]),
      );
    } finally {
      await m.end();
    }
  });

  it('copies every MongoDB document into analytics.events, missing and null fields as NULL', async () => {
    const c = new MongoClient(env().urls.mongo);
    await c.connect();
    try {
      const n = await c.db(env().urls.mongoDb).collection('events').countDocuments({});
      const o = await env().oracle('SELECT count(*) AS n FROM analytics.events');
      expect(Number(o.rows[0]!.n)).toBe(n);
      expect(n).toBe(env().fixture.mongo.events!.length);
    } finally {
      await c.close();
    }
    if (name === 'adversarial') {
      const o = await env().oracle(
        `SELECT _id, user_id, event_type, ts, sku, qty, seq, payload FROM analytics.events WHERE _id IN ('65f000000000000000000004', '65f000000000000000000006', '65f00000000000000000000c', '65f00000000000000000000a', 'custom-id', '65f000000000000000000011') ORDER BY _id`,
      );
      const byId = Object.fromEntries(o.rows.map((r) => [r._id as string, r]));
      expect(byId['65f000000000000000000004']).toMatchObject({ user_id: '2', sku: null, qty: null, ts: '2024-10-27T00:30:00.000000Z' }); // qty '3' does not fit int: NULL
      expect(byId['65f000000000000000000006']).toMatchObject({ user_id: '2', event_type: null, ts: null, payload: null }); // all missing
      expect(byId['65f00000000000000000000c']).toMatchObject({ seq: 9007199254740993n }); // int64 beyond 2^53, exact
      expect(byId['65f00000000000000000000a']).toMatchObject({ qty: null, sku: 'SKU-BIG' }); // 2.5 does not fit int
      expect(byId['custom-id']).toMatchObject({ payload: { nested: { deep: true } } });
      expect(byId['65f000000000000000000011']).toMatchObject({ sku: null, payload: 'not an object' });
    }
  });

  it('copies every SQLite row into lite.* exactly, with the storage classes the fixture is about', async () => {
    const db = new Database(env().urls.sqlite!, { readonly: true });
    try {
      for (const [table, { values }] of Object.entries(env().fixture.sqlite!.rows)) {
        const n = db.prepare(`SELECT count(*) FROM "${table}"`).pluck().get();
        const o = await env().oracle(`SELECT count(*) AS n FROM lite.${table}`);
        expect(Number(o.rows[0]!.n), table).toBe(n);
        expect(n, table).toBe(values.length);
      }
      // Byte-exact text and exact 64-bit integers (SQLite's BINARY order and "C" are both code-point order).
      const rows = db.prepare('SELECT code, hex(name) AS h, population FROM countries ORDER BY code').safeIntegers(true).all();
      const o = await env().oracle(
        `SELECT code, upper(encode(convert_to(name, 'UTF8'), 'hex')) AS h, population FROM lite.countries ORDER BY code`,
      );
      expect(o.rows).toEqual(rows);
      // What SQLite made of the values: booleans and NUMERIC as INTEGER or REAL, dates and timestamps as text.
      const classes = (column: string): string[] =>
        db.prepare(`SELECT DISTINCT typeof(${column}) FROM countries WHERE ${column} IS NOT NULL ORDER BY 1`).pluck().all() as string[];
      expect(classes('vat_rate')).toEqual(['integer', 'real']);
      expect(classes('eu')).toEqual(['integer']);
      expect(classes('population')).toEqual(['integer']);
      expect(classes('area_km2')).toEqual(['real']);
      expect(classes('eu_since')).toEqual(['text']);
      expect(classes('updated_at')).toEqual(name === 'adversarial' ? ['integer', 'text'] : ['text']);
    } finally {
      db.close();
    }
  });

  it('runs app.sql unchanged in schema app', async () => {
    const a = new pg.Client({ connectionString: env().urls.app });
    await a.connect();
    try {
      const s = await a.query('SELECT order_id::text, total_amount::text, status, created_at::text FROM orders ORDER BY order_id');
      await a.query("SET TimeZone = 'UTC'");
      const s2 = await a.query('SELECT order_id::text, total_amount::text, status, created_at::text FROM orders ORDER BY order_id');
      const o = await env().oracle('SELECT order_id::text, total_amount::text, status, created_at::text FROM app.orders ORDER BY order_id');
      expect(o.rows.length).toBe(s.rows.length);
      expect(o.rows).toEqual(s2.rows);
    } finally {
      await a.end();
    }
  });

  it.each(viewsFor(name).map((v) => [v.name, v] as const))('view %s runs on the oracle and its key is unique', async (_n, v) => {
    const all = await env().oracle(`SELECT * FROM (${v.sql}) v`);
    expect(all.rows.length).toBeGreaterThan(0);
    const keys = v.key.map((k) => `v.${JSON.stringify(k)}`).join(', ');
    const dup = await env().oracle(`SELECT ${keys}, count(*) FROM (${v.sql}) v GROUP BY ${keys} HAVING count(*) > 1`);
    if (v.duplicates) {
      // The key is every column: ties are identical rows, and there are some.
      expect(v.key.sort()).toEqual([...all.columns].sort());
      expect(dup.rows.length).toBeGreaterThan(0);
    } else {
      expect(dup.rows).toEqual([]);
    }
  });

  it('generated filter text and generated SQL select the same rows (via the in-process evaluator)', async () => {
    let checked = 0;
    for (const v of viewsFor(name)) {
      const cols = await columnsOf(env(), v.sql);
      const types = Object.fromEntries(cols.map((c) => [c.name, c.type]));
      const all = (await env().oracle(`SELECT * FROM (${v.sql}) v`)).rows as Row[];
      const colTypes = new Map(cols.map((c) => [c.name, c.type as ColumnType]));
      const rng = new Rng(seedFor(SEED, 'harness', name, v.name));
      for (let i = 0; i < 60; i++) {
        const q = genQuery(rng, i, cols, v.key);
        if (!q.filter) continue;
        const pred = bindFilter(parseFilter(q.filterText!), { columnType: (f) => colTypes.get(f)! });
        const mine = all.filter((r) => evaluate(pred, r, colTypes) === true).map((r) => canonRow(r, Object.keys(types)));
        const params: unknown[] = [];
        const sql = `SELECT * FROM (${v.sql}) v WHERE ${printSql(q.filter, types, params)}`;
        const pgRows = (await env().oracle(sql, params)).rows.map((r) => canonRow(r, Object.keys(types)));
        expect(mine.sort(), `${v.name} #${i}: ${q.filterText}\n${sql}\n${show(params)}`).toEqual(pgRows.sort());
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });

  it('the comparison harness passes a model engine (evaluator + value-model sort) on every view', async () => {
    for (const v of viewsFor(name)) {
      const ctx = await viewContext(env(), v, { model: true });
      const rng = new Rng(seedFor(SEED, 'model', name, v.name));
      const queries = [
        ...directedFor(v, Object.keys(ctx.types)),
        ...Array.from({ length: 40 }, (_, i) => genQuery(rng, i, ctx.cols, v.key)),
      ];
      const outcomes = await mapPool(queries, 4, (q) => checkQuery(ctx, q));
      const failures = outcomes.flatMap((o) => (o.failure ? [o.failure] : []));
      expect(failures.length, report(failures, queries.length)).toBe(0);
    }
  });

  it('the metamorphic checks pass on the model engine', async () => {
    for (const v of viewsFor(name)) {
      const ctx = await viewContext(env(), v, { model: true });
      const rng = new Rng(seedFor(SEED, 'model-meta', name, v.name));
      for (let i = 0; i < 15; i++) {
        const q = genQuery(rng, i, ctx.cols, v.key, { filter: true });
        expect(await checkPartition(ctx, q)).toBeUndefined();
        expect(await checkPages(ctx, q)).toBeUndefined();
        expect(await checkPushdownOff(ctx, ctx.view, q)).toBeUndefined();
      }
    }
  });

  it('the comparison harness notices wrong rows, wrong order, wrong hasMore and wrong count', async () => {
    const v = viewsFor(name)[0]!;
    const ctx = await viewContext(env(), v, { model: true });
    const q = {
      id: 1,
      columns: Object.keys(ctx.types),
      order: v.key.map((k) => ({ column: k, desc: false })),
      limit: 5,
      offset: 1,
      count: true,
    };
    expect((await checkQuery(ctx, q)).failure).toBeUndefined();
    const broken = (edit: (r: Awaited<ReturnType<typeof ctx.view.engine.execute>>) => void) => ({
      ...ctx.view,
      engine: {
        ...ctx.view.engine,
        execute: async (eq: Parameters<typeof ctx.view.engine.execute>[0]) => {
          const r = await ctx.view.engine.execute(eq);
          edit(r);
          return r;
        },
      },
    });
    const first = Object.keys(ctx.types)[0]!;
    expect(
      (
        await checkQuery(
          ctx,
          q,
          broken((r) => r.rows.reverse()),
        )
      ).failure,
    ).toMatch(/different order/);
    expect(
      (
        await checkQuery(
          ctx,
          q,
          broken((r) => r.rows.pop()),
        )
      ).failure,
    ).toMatch(/rows only PostgreSQL returned/);
    expect(
      (
        await checkQuery(
          ctx,
          q,
          broken((r) => (r.rows[0]![first] = typeof r.rows[0]![first] === 'bigint' ? String(r.rows[0]![first]) : 12345n)),
        )
      ).failure,
    ).toMatch(/rows differ/);
    expect(
      (
        await checkQuery(
          ctx,
          q,
          broken((r) => (r.hasMore = !r.hasMore)),
        )
      ).failure,
    ).toMatch(/hasMore/);
    expect(
      (
        await checkQuery(
          ctx,
          q,
          broken((r) => (r.count = (r.count ?? 0) + 1)),
        )
      ).failure,
    ).toMatch(/count is/);
  });

  it('truthOf/unknownOf partition the rows on PostgreSQL', async () => {
    for (const v of viewsFor(name)) {
      const cols = await columnsOf(env(), v.sql);
      const types = Object.fromEntries(cols.map((c) => [c.name, c.type]));
      const total = Number((await env().oracle(`SELECT count(*) AS n FROM (${v.sql}) v`)).rows[0]!.n);
      const rng = new Rng(seedFor(SEED, 'partition', name, v.name));
      for (let i = 0; i < 25; i++) {
        const q = genQuery(rng, i, cols, v.key);
        if (!q.filter) continue;
        const n = async (f: GFilter | string): Promise<number> => {
          if (typeof f === 'string') {
            const params: unknown[] = [];
            const sql = `SELECT count(*) AS n FROM (${v.sql}) v WHERE ${f.replace('$P', printSql(q.filter!, types, params))}`;
            return Number((await env().oracle(sql, params)).rows[0]!.n);
          }
          const c = oracleCountSql(v.sql, f, types);
          return Number((await env().oracle(c.sql, c.params)).rows[0]!.n);
        };
        const [t, f, u] = [await n(truthOf(q.filter, true)), await n(truthOf(q.filter, false)), await n(unknownOf(q.filter))];
        expect(t + f + u, `${v.name}: ${q.filterText}`).toBe(total);
        expect(t).toBe(await n('$P'));
        expect(f).toBe(await n('NOT $P'));
        expect(u).toBe(await n('($P) IS NULL'));
        // And the printed forms parse.
        for (const g of [truthOf(q.filter, true), truthOf(q.filter, false), unknownOf(q.filter)]) parseFilter(printFilter(g, new Rng(1)));
      }
    }
  });
});

describe('generator', () => {
  it('is deterministic for a seed', () => {
    const cols: GenColumn[] = [
      { name: 'id', type: 'int', values: [1n, 2n, 9007199254740993n], hasNull: false },
      { name: 'name', type: 'text', values: ['a', "O'Brien", '\u{1F600}'], hasNull: true },
      { name: 'ts', type: 'timestamptz', values: ['2024-03-31T01:00:00.000000Z'], hasNull: true },
      { name: 'amount', type: 'numeric', values: ['12.50'], hasNull: true },
    ];
    const a = Array.from({ length: 50 }, (_, i) => genQuery(new Rng(seedFor(7, i)), i, cols, ['id']));
    const b = Array.from({ length: 50 }, (_, i) => genQuery(new Rng(seedFor(7, i)), i, cols, ['id']));
    expect(show(a)).toBe(show(b));
    const c = Array.from({ length: 50 }, (_, i) => genQuery(new Rng(seedFor(8, i)), i, cols, ['id']));
    expect(show(c)).not.toBe(show(a));
  });

  it('covers every operator of the grammar', () => {
    const cols: GenColumn[] = [
      { name: 'id', type: 'int', values: [1n, 2n], hasNull: false },
      { name: 'name', type: 'text', values: ['abc', 'x%y'], hasNull: true },
      { name: 'flag', type: 'bool', values: [true, false], hasNull: true },
    ];
    const rng = new Rng(3);
    const text = Array.from({ length: 400 }, (_, i) => genQuery(rng, i, cols, ['id']).filterText ?? '')
      .join('\n')
      .toLowerCase();
    for (const op of [
      ' = ',
      ' != ',
      ' <> ',
      ' < ',
      ' <= ',
      ' > ',
      ' >= ',
      ' like ',
      ' not like ',
      ' contains ',
      ' starts with ',
      ' ends with ',
      ' in (',
      ' not in (',
      'null)',
      'null,',
      ' is null',
      ' is not null',
      ' between ',
      ' not between ',
      ' and ',
      ' or ',
      'not (',
    ]) {
      expect(text, op).toContain(op);
    }
  });

  it('decodes PostgreSQL text into the value model', () => {
    expect(decodeOracle('timestamptz', '2024-03-31 00:59:59.999999+00')).toBe('2024-03-31T00:59:59.999999Z');
    expect(decodeOracle('timestamptz', '1969-12-31 23:59:59+00')).toBe('1969-12-31T23:59:59.000000Z');
    expect(decodeOracle('int', '9223372036854775807')).toBe(9223372036854775807n);
    expect(decodeOracle('numeric', '12.50')).toBe('12.50');
  });
});
