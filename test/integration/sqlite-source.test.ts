// The SQLite source over a real database file written by the test: introspection, every type's
// reading, misfits, read-only access, pushdown exactness (each taken predicate and order against
// src/query/evaluate.ts and compareForSort over all rows), declines, joins, count and errors.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nextStep } from '../../src/commands/check-hints.js';
import { evaluate } from '../../src/query/evaluate.js';
import type { CompareOp, Predicate } from '../../src/query/predicate.js';
import type { TableInfo } from '../../src/sources/source.js';
import { SqliteSource } from '../../src/sources/sqlite/source.js';
import { compareForSort, type ColumnType, type Row, type Value } from '../../src/values.js';
import { storeError } from '../support/store-error.js';

const dir = mkdtempSync(join(tmpdir(), 'vg-sqlite-'));
const file = join(dir, 'reference.db');
const opened: SqliteSource[] = [];
const source = (path = file, timeoutMs?: number): SqliteSource => {
  const s = new SqliteSource({ name: 'ref', path, ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  opened.push(s);
  return s;
};

const cmp = (column: string, op: CompareOp, value: Exclude<Value, null>): Predicate => ({ op: 'cmp', column, cmp: op, value });

// Text values in code-point order: 'B' < 'a', non-ASCII and an emoji above U+FFFD.
const TEXTS = ['', 'A', 'B', 'a', 'a b', 'a%', 'a_', 'a\\b', 'ab', 'b', 'x*y', 'x?y', '[x]', 'É', 'é', '\uFFFD', '😀', 'a😀b'];

beforeAll(() => {
  const db = new Database(file);
  db.defaultSafeIntegers(true);
  db.exec(`
    CREATE TABLE kinds (
      id INTEGER PRIMARY KEY, i BIGINT, f REAL, n DECIMAL(12,2), nn NUMERIC, t TEXT, v VARCHAR(20) COLLATE NOCASE NOT NULL,
      b BOOLEAN, d DATE, ts DATETIME, j JSON, bl BLOB, u, s STRING);
    CREATE TABLE vals (id INTEGER PRIMARY KEY, t TEXT COLLATE NOCASE, i INTEGER, f DOUBLE, n NUMERIC, b BOOL, d DATE, ts TIMESTAMP, u);
    CREATE TABLE misfits (id INTEGER PRIMARY KEY, i INTEGER, f REAL, n NUMERIC, b BOOLEAN, d DATE, ts DATETIME, t TEXT, j JSON, bl BLOB, u);
    CREATE TABLE pairs (a TEXT, b INT, c TEXT, PRIMARY KEY (b, a)) WITHOUT ROWID;
    CREATE TABLE loose (k TEXT PRIMARY KEY, x INT);
    CREATE VIEW kinds_view AS SELECT id, t, i * 2 AS doubled FROM kinds;
    CREATE TABLE customers (id INTEGER PRIMARY KEY, code TEXT COLLATE NOCASE, name TEXT);
    CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER, code TEXT, total DECIMAL(10,2), placed DATETIME);
  `);
  const kinds = db.prepare('INSERT INTO kinds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  kinds.run(
    1n,
    9223372036854775807n,
    1.5,
    '12.5',
    '0.1',
    'x',
    'Mixed',
    1n,
    '2024-03-10',
    '2024-01-02 03:04:05.123456',
    '{"b":1,"a":[1,2.5]}',
    Buffer.from([0, 255]),
    10n,
    '00123',
  );
  kinds.run(
    2n,
    -5n,
    1e300,
    7n,
    1152921504606846976,
    'é😀',
    'v',
    0n,
    '0001-01-01',
    '2024-01-02T05:04:05+02:00',
    '"s"',
    Buffer.alloc(0),
    2.5,
    'abc',
  );
  kinds.run(3n, null, null, null, null, null, 'w', null, null, 1704164645n, '5', null, 'text', null);
  kinds.run(4n, 0n, -0.0, '-0.125', '100000000000000000000', '', '', 0n, '2000-02-29', '2024-01-02', '[1,null]', null, null, '1e3');

  const vals = db.prepare('INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const ints = [-9223372036854775808n, -1n, 0n, 1n, 9007199254740993n, 9223372036854775807n, null];
  const floats = [-Infinity, -1.5, -0.0, 0, 0.1, 1e300, Infinity, 2.5, null];
  const numerics: unknown[] = [0.1, 12.5, 1152921504606846976n, 1152921504606846976.0, 3n, -7.25, 1e20, null, 0.30000000000000004];
  const bools = [0n, 1n, null];
  const dates = ['2024-01-02', '1999-12-31', '0001-01-01', '2024-02-29', null];
  const stamps = [
    '2024-01-02 03:04:05',
    '2024-01-02T03:04:05.123456Z',
    '2024-01-02T05:04:05+02:00',
    1704164645n,
    '2024-01-02',
    '2023-12-31 23:59:59.9999995',
    null,
    '2024-01-02T03:04:05.1234565',
  ];
  const untyped: unknown[] = [10n, 9n, '10', 'abc', 2.5, null, '9', 'B', 'a'];
  const pick = <T>(xs: T[], k: number): T => xs[k % xs.length]!;
  for (let k = 0; k < 40; k++) {
    const text = k < TEXTS.length ? TEXTS[k] : k % 7 === 0 ? null : pick(TEXTS, k * 5);
    vals.run(
      BigInt(k + 1),
      text,
      pick(ints, k),
      pick(floats, k),
      pick(numerics, k),
      pick(bools, k),
      pick(dates, k),
      pick(stamps, k),
      pick(untyped, k),
    );
  }

  const misfits = db.prepare('INSERT INTO misfits VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)');
  const misfit = (id: number, column: string, value: unknown): void => {
    const row: unknown[] = [BigInt(id), null, null, null, null, null, null, null, null, null, null];
    row[['id', 'i', 'f', 'n', 'b', 'd', 'ts', 't', 'j', 'bl', 'u'].indexOf(column)] = value;
    misfits.run(...row);
  };
  misfit(1, 'i', 'eleven');
  misfit(2, 'i', 1.5);
  misfit(3, 'f', 'x');
  misfit(4, 'n', 'twelve');
  misfit(5, 'b', 2n);
  misfit(6, 'b', 'true');
  misfit(7, 'd', '2024-1-2');
  misfit(8, 'd', '2024-02-30');
  misfit(9, 'ts', 'yesterday');
  misfit(10, 'ts', 2460000.5);
  misfit(11, 't', Buffer.from('x'));
  misfit(12, 'j', '{not json');
  misfit(13, 'bl', 'text');
  misfit(14, 'u', Buffer.from('x'));
  misfit(15, 'n', 1e999);

  db.prepare('INSERT INTO pairs VALUES (?, ?, ?)').run('x', 1n, 'c');
  db.prepare('INSERT INTO loose VALUES (?, ?)').run(null, 1n);
  const customers = db.prepare('INSERT INTO customers VALUES (?, ?, ?)');
  customers.run(1n, 'ab', 'Ann');
  customers.run(2n, 'cd', 'Bob');
  customers.run(3n, 'ef', 'Cyd');
  const orders = db.prepare('INSERT INTO orders VALUES (?, ?, ?, ?, ?)');
  orders.run(10n, 1n, 'ab', 5n, '2024-01-01 10:00:00');
  orders.run(11n, 1n, 'AB', '7.5', '2024-01-03T00:00:00Z');
  orders.run(12n, 2n, 'cd', '1.25', 1704067200n);
  db.close();
});

afterAll(async () => {
  await Promise.allSettled(opened.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

describe('SqliteSource: catalog and values', () => {
  it('introspects tables and views: declared types mapped, nullability and primary keys', async () => {
    const src = source();
    const info = await src.introspect('kinds');
    expect(info.primaryKey).toEqual(['id']);
    expect(info.columns.map((c) => [c.name, c.type, c.nullable, c.nativeType])).toEqual([
      ['id', 'int', false, 'INTEGER (int8)'],
      ['i', 'int', true, 'BIGINT (int8)'],
      ['f', 'float', true, 'REAL'],
      ['n', 'numeric', true, 'DECIMAL(12,2)'],
      ['nn', 'numeric', true, 'NUMERIC'],
      ['t', 'text', true, 'TEXT'],
      ['v', 'text', false, 'VARCHAR(20)'],
      ['b', 'bool', true, 'BOOLEAN'],
      ['d', 'date', true, 'DATE'],
      ['ts', 'timestamptz', true, 'DATETIME'],
      ['j', 'jsonb', true, 'JSON'],
      ['bl', 'bytea', true, 'BLOB'],
      ['u', 'text', true, ''],
      ['s', 'text', true, 'STRING'],
    ]);
    const pairs = await src.introspect('pairs');
    expect(pairs.primaryKey).toEqual(['b', 'a']);
    expect(pairs.columns.map((c) => c.nullable)).toEqual([false, false, true]); // WITHOUT ROWID keys are NOT NULL
    expect((await src.introspect('loose')).columns[0]!.nullable).toBe(true); // a rowid table's TEXT key may hold NULL
    const view = await src.introspect('kinds_view');
    expect(view.primaryKey).toEqual([]);
    expect(view.columns.map((c) => [c.name, c.type])).toEqual([
      ['id', 'int'],
      ['t', 'text'],
      ['doubled', 'text'],
    ]);
    expect((await src.introspect('KINDS')).columns).toHaveLength(14); // SQLite's names are case-insensitive
    const err = await storeError(src.introspect('nope'));
    expect(err.message).toContain('table "nope" does not exist');
  });

  it('reads every type into the value model', async () => {
    const src = source();
    const cols = (await src.introspect('kinds')).columns.map((c) => c.name);
    const { rows } = await src.scan('kinds', { columns: cols, orderBy: [{ column: 'id', desc: false }] });
    expect(rows).toEqual([
      {
        id: 1n,
        i: 9223372036854775807n,
        f: 1.5,
        n: '12.50', // DECIMAL(12,2): the declared scale
        nn: '0.1',
        t: 'x',
        v: 'Mixed',
        b: true,
        d: '2024-03-10',
        ts: '2024-01-02T03:04:05.123456Z', // no offset: UTC
        j: { b: 1, a: [1, 2.5] },
        bl: Buffer.from([0, 255]).toString('base64'),
        u: '10', // no declared type: text, numbers as text
        s: '123', // STRING has NUMERIC affinity: SQLite stored '00123' as 123
      },
      {
        id: 2n,
        i: -5n,
        f: 1e300,
        n: '7.00',
        nn: '1152921504606846976', // an integral REAL is its exact integer
        t: 'é😀',
        v: 'v',
        b: false,
        d: '0001-01-01',
        ts: '2024-01-02T03:04:05.000000Z', // offset applied
        j: 's',
        bl: '',
        u: '2.5',
        s: 'abc',
      },
      {
        id: 3n,
        i: null,
        f: null,
        n: null,
        nn: null,
        t: null,
        v: 'w',
        b: null,
        d: null,
        ts: '2024-01-02T03:04:05.000000Z',
        j: 5,
        bl: null,
        u: 'text',
        s: null,
      },
      {
        id: 4n,
        i: 0n,
        f: 0,
        n: '-0.125', // more digits than the declared scale are kept, never rounded
        nn: '100000000000000000000',
        t: '',
        v: '',
        b: false,
        d: '2000-02-29',
        ts: '2024-01-02T00:00:00.000000Z', // a date alone is midnight UTC
        j: [1, null],
        bl: null,
        u: null,
        s: '1000', // '1e3' became the INTEGER 1000
      },
    ]);
    expect(Object.is(rows[3]!.f, -0) || rows[3]!.f === 0).toBe(true);
  });

  it('fails on a stored value that does not fit its column, naming the column', async () => {
    const src = source();
    const cases: [number, string, RegExp][] = [
      [1, 'i', /column "i" holds a TEXT value that does not fit its type int \(declared INTEGER\)/],
      [2, 'i', /column "i" holds a REAL value that does not fit its type int/],
      [3, 'f', /column "f" holds a TEXT value that does not fit its type float/],
      [4, 'n', /column "n" holds a TEXT value that does not fit its type numeric/],
      [5, 'b', /column "b" holds an INTEGER value that does not fit its type bool/],
      [6, 'b', /column "b" holds a TEXT value that does not fit its type bool/],
      [7, 'd', /column "d" holds a TEXT value that does not fit its type date/],
      [8, 'd', /column "d" holds a TEXT value that does not fit its type date/],
      [9, 'ts', /column "ts" holds a TEXT value that does not fit its type timestamptz/],
      [10, 'ts', /column "ts" holds a REAL value that does not fit its type timestamptz/],
      [11, 't', /column "t" holds a BLOB value that does not fit its type text/],
      [12, 'j', /column "j" holds a TEXT value that does not fit its type jsonb/],
      [13, 'bl', /column "bl" holds a TEXT value that does not fit its type bytea/],
      [14, 'u', /column "u" holds a BLOB value that does not fit its type text \(declared without a type\)/],
      [15, 'n', /column "n" holds a REAL value that does not fit its type numeric/],
    ];
    for (const [id, column, message] of cases) {
      const err = await storeError(src.scan('misfits', { columns: ['id', column], where: cmp('id', '=', BigInt(id)) }));
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain('eleven'); // never the value
    }
    // The other rows of the same columns read as NULL.
    expect((await src.scan('misfits', { columns: ['i'], where: cmp('id', '=', 3n) })).rows).toEqual([{ i: null }]);
    // A comparison through viewgate_timestamp() meets the misfit even when the column is not returned.
    const err = await storeError(src.scan('misfits', { columns: ['id'], where: cmp('ts', '>', '2000-01-01T00:00:00.000000Z') }));
    expect(err.message).toMatch(/column "ts" holds a TEXT value that does not fit its type timestamptz/);
  });

  it('is read-only: writes fail in SQLite itself, and query_only is on', async () => {
    const src = source();
    await src.ping();
    const run = (sql: string): Promise<unknown[][]> =>
      (src as unknown as { run(t: string, p: unknown[]): Promise<unknown[][]> }).run(sql, []);
    for (const sql of [
      "INSERT INTO loose VALUES ('w', 1) RETURNING k",
      'DELETE FROM loose RETURNING k',
      'UPDATE loose SET x = 2 RETURNING x',
    ]) {
      const err = await storeError(run(sql));
      expect(err.detail).toMatch(/readonly database/);
    }
    expect(await run('PRAGMA query_only')).toEqual([[1n]]);
    expect((await src.scan('loose', { columns: ['x'] })).rows).toEqual([{ x: 1n }]);
  });
});

describe('SqliteSource: pushdown is exact', () => {
  let src: SqliteSource;
  let info: TableInfo;
  let all: Row[];
  let types: Map<string, ColumnType>;
  const columns = ['id', 't', 'i', 'f', 'n', 'b', 'd', 'ts', 'u'];

  beforeAll(async () => {
    src = source();
    info = await src.introspect('vals');
    types = new Map(info.columns.map((c) => [c.name, c.type]));
    all = (await src.scan('vals', { columns })).rows;
    expect(all).toHaveLength(40);
  });

  const probes: Record<string, Exclude<Value, null>[]> = {
    t: ['', 'A', 'B', 'a', 'ab', 'b', 'é', 'É', '\uFFFD', '😀', 'zz'],
    i: [-9223372036854775808n, -1n, 0n, 1n, 9007199254740992n, 9007199254740993n, 9223372036854775807n],
    f: [-Infinity, -1.5, -0, 0, 0.1, 2.5, 1e300, Infinity],
    n: [
      '0.1',
      '0.10',
      '12.50',
      '3',
      '-7.25',
      '1152921504606846976',
      '1152921504606846975',
      '1152921504606846977',
      '100000000000000000000',
      '0.30000000000000004',
      '0.3',
      '0.1000000000000000001',
    ],
    b: [false, true],
    d: ['0001-01-01', '1999-12-31', '2024-01-02', '2024-02-29', '2030-01-01'],
    ts: [
      '2024-01-02T03:04:05.000000Z',
      '2024-01-02T03:04:05.123456Z',
      '2024-01-02T03:04:05.123457Z',
      '2024-01-01T00:00:00.000000Z',
      '2024-01-02T00:00:00.000000Z',
    ],
    u: ['10', '9', '2.5', 'abc', 'B', 'a', '100'],
  };
  const likes = [
    '%',
    'a%',
    '%b',
    '_',
    'a_',
    'a\\%',
    'a\\_',
    '%\\\\%',
    'x*y',
    'x?y',
    '[x]',
    '[%',
    '%😀%',
    '_😀_',
    'A%',
    'é',
    'É',
    '1%',
    '2._',
    '',
  ];

  function predicates(): Predicate[] {
    const out: Predicate[] = [];
    for (const [column, values] of Object.entries(probes)) {
      for (const op of ['=', '<>', '<', '<=', '>', '>='] as CompareOp[]) for (const v of values) out.push(cmp(column, op, v));
      out.push({ op: 'in', column, values: values.slice(0, 3) }, { op: 'in', column, values });
      out.push({ op: 'isnull', column }, { op: 'not', arg: { op: 'isnull', column } });
      out.push({ op: 'not', arg: cmp(column, '<', values[1]!) });
      out.push({ op: 'or', args: [cmp(column, '=', values[0]!), { op: 'isnull', column }] });
    }
    for (const column of ['t', 'u'])
      for (const pattern of likes) out.push({ op: 'like', column, pattern }, { op: 'not', arg: { op: 'like', column, pattern } });
    out.push(
      { op: 'and', args: [cmp('i', '>', 0n), cmp('t', '<', 'b')] },
      { op: 'or', args: [cmp('d', '=', '2024-01-02'), { op: 'not', arg: cmp('b', '=', true) }] },
      { op: 'in', column: 'n', values: ['0.1000000000000000001', '3'] }, // an inexact value matches nothing
      { op: 'in', column: 'n', values: ['0.1000000000000000001'] },
      { op: 'not', arg: { op: 'in', column: 'n', values: ['0.1000000000000000001'] } },
      { op: 'in', column: 'f', values: [NaN, 2.5] },
      { op: 'in', column: 'i', values: [] },
      { op: 'const', value: null },
      { op: 'not', arg: { op: 'const', value: false } },
    );
    return out;
  }

  it('returns and counts exactly the rows the value model keeps, for every predicate it takes', async () => {
    const declined: Predicate[] = [];
    let checked = 0;
    for (const p of predicates()) {
      const acceptance = src.offer(info, { where: [p], orderBy: [] });
      if (acceptance.taken.length === 0) {
        expect(acceptance.remaining).toEqual([p]);
        declined.push(p);
        continue;
      }
      expect(acceptance.taken[0]).toBe(p);
      const expected = all
        .filter((r) => evaluate(p, r, types) === true)
        .map((r) => r.id)
        .sort();
      const got = (await src.scan('vals', { columns: ['id'], where: p })).rows.map((r) => r.id).sort();
      expect({ p, ids: got }).toEqual({ p, ids: expected });
      expect(await src.count('vals', p)).toBe(expected.length);
      checked++;
    }
    expect(checked).toBeGreaterThan(450);
    // Declined: only comparisons with a numeric value no stored number can hold.
    expect(declined).toEqual((['=', '<>', '<', '<=', '>', '>='] as CompareOp[]).map((op) => cmp('n', op, '0.1000000000000000001')));
  });

  it('declines what SQLite cannot evaluate exactly', () => {
    const offer = (p: Predicate) => src.offer(info, { where: [p], orderBy: [] }).taken.length === 1;
    expect(offer(cmp('n', '=', '0.1000000000000000001'))).toBe(false); // no double holds it
    expect(offer(cmp('n', '<', '12345678901234567890.5'))).toBe(false);
    expect(offer(cmp('n', '=', '0.1'))).toBe(true);
    expect(offer(cmp('f', '<', NaN))).toBe(false); // NaN is never stored: SQLite would compare NULL
    expect(offer({ op: 'like', column: 'i', pattern: '1%' })).toBe(false);
    expect(offer({ op: 'like', column: 't', pattern: 'x'.repeat(50_001) })).toBe(false); // over SQLite's pattern limit
    expect(offer({ op: 'isnull', column: 'nope' })).toBe(false);
    expect(offer(cmp('t', '=', 'a\uD800'))).toBe(false); // an unpaired surrogate: UTF-8 cannot hold it
    expect(offer({ op: 'like', column: 't', pattern: 'a\0%' })).toBe(false); // GLOB stops at NUL
    const kinds: TableInfo = {
      name: 'kinds',
      primaryKey: ['id'],
      columns: [{ name: 'j', type: 'jsonb', nullable: true, nativeType: 'JSON' }],
    };
    expect(src.offer(kinds, { where: [{ op: 'isnull', column: 'j' }], orderBy: [{ column: 'j', desc: false }] })).toEqual({
      taken: [{ op: 'isnull', column: 'j' }],
      remaining: [],
      orderBy: false,
    });
    const mixed = [cmp('n', '=', '0.1000000000000000001'), cmp('t', '=', 'a')];
    expect(src.offer(info, { where: mixed, orderBy: [{ column: 'ts', desc: true }] })).toEqual({
      taken: [mixed[1]],
      remaining: [mixed[0]],
      orderBy: true,
    });
  });

  it('sorts every comparable type as compareForSort does (text by code point), NULLs last ascending', async () => {
    const codePoints = (
      await src.scan('vals', {
        columns: ['t'],
        where: { op: 'in', column: 't', values: ['B', 'a', 'é', 'É', '😀', '\uFFFD', 'A'] },
        orderBy: [{ column: 't', desc: false }],
      })
    ).rows.map((r) => r.t);
    expect([...new Set(codePoints)]).toEqual(['A', 'B', 'a', 'É', 'é', '\uFFFD', '😀']);
    for (const column of ['t', 'i', 'f', 'n', 'b', 'd', 'ts', 'u']) {
      for (const desc of [false, true]) {
        const orderBy = [
          { column, desc },
          { column: 'id', desc: false },
        ];
        expect(src.offer(info, { where: [], orderBy }).orderBy).toBe(true);
        const type = types.get(column)!;
        const expected = [...all]
          .sort((a, b) => compareForSort(type, a[column]!, b[column]!, desc) || compareForSort('int', a.id!, b.id!, false))
          .map((r) => r.id);
        const got = (await src.scan('vals', { columns: ['id'], orderBy })).rows.map((r) => r.id);
        expect({ column, desc, got }).toEqual({ column, desc, got: expected });
        // LIMIT and OFFSET apply after the order.
        const page = (await src.scan('vals', { columns: ['id'], orderBy, limit: 5, offset: 3 })).rows.map((r) => r.id);
        expect(page).toEqual(expected.slice(3, 8));
      }
    }
    const offsetOnly = (await src.scan('vals', { columns: ['id'], orderBy: [{ column: 'id', desc: false }], offset: 38 })).rows;
    expect(offsetOnly.map((r) => r.id)).toEqual([39n, 40n]);
  });
});

describe('SqliteSource: a UTF-16 database', () => {
  it('takes text equality, LIKE and other types, and leaves text ordering to the engine', async () => {
    const path = join(dir, 'utf16.db');
    const db = new Database(path);
    db.pragma("encoding = 'UTF-16le'");
    db.exec('CREATE TABLE words (id INTEGER PRIMARY KEY, w TEXT)');
    const insert = db.prepare('INSERT INTO words VALUES (?, ?)');
    ['a', 'B', 'Ā', '😀', 'ab'].forEach((w, k) => insert.run(k + 1, w));
    db.close();
    const src = source(path);
    const info = await src.introspect('words');
    const takes = (p: Predicate) => src.offer(info, { where: [p], orderBy: [] }).taken.length === 1;
    expect(takes(cmp('w', '=', 'Ā'))).toBe(true);
    expect(takes({ op: 'in', column: 'w', values: ['a', '😀'] })).toBe(true);
    expect(takes({ op: 'like', column: 'w', pattern: '_b' })).toBe(true);
    expect(takes(cmp('w', '<', 'b'))).toBe(false); // memcmp over UTF-16 is not code-point order
    expect(takes(cmp('id', '<', 3n))).toBe(true);
    expect(src.offer(info, { where: [], orderBy: [{ column: 'w', desc: false }] }).orderBy).toBe(false);
    expect(src.offer(info, { where: [], orderBy: [{ column: 'id', desc: true }] }).orderBy).toBe(true);
    const ids = async (where: Predicate) => (await src.scan('words', { columns: ['id'], where })).rows.map((r) => r.id);
    expect(await ids({ op: 'in', column: 'w', values: ['Ā', '😀'] })).toEqual([3n, 4n]);
    expect(await ids({ op: 'like', column: 'w', pattern: '_b' })).toEqual([5n]);
    expect((await src.scan('words', { columns: ['w'], where: cmp('id', '=', 4n) })).rows).toEqual([{ w: '😀' }]);
  });
});

describe('SqliteSource: joins, count, explain', () => {
  it('joins its own tables in one query, text keys compared by bytes', async () => {
    const src = source();
    const { rows, native } = await src.scanJoin({
      tables: [
        { alias: 'c', table: 'customers', columns: ['id', 'name'], where: cmp('id', '<', 3n) },
        { alias: 'o', table: 'orders', columns: ['id', 'total', 'placed'], where: cmp('placed', '>=', '2024-01-01T00:00:00.000000Z') },
      ],
      joins: [{ kind: 'left', alias: 'o', parentAlias: 'c', on: [{ parentColumn: 'id', column: 'customer_id' }] }],
      orderBy: [
        { alias: 'c', column: 'id', desc: false },
        { alias: 'o', column: 'placed', desc: true },
      ],
    });
    expect(rows).toEqual([
      { 'c.id': 1n, 'c.name': 'Ann', 'o.id': 11n, 'o.total': '7.50', 'o.placed': '2024-01-03T00:00:00.000000Z' },
      { 'c.id': 1n, 'c.name': 'Ann', 'o.id': 10n, 'o.total': '5.00', 'o.placed': '2024-01-01T10:00:00.000000Z' },
      { 'c.id': 2n, 'c.name': 'Bob', 'o.id': 12n, 'o.total': '1.25', 'o.placed': '2024-01-01T00:00:00.000000Z' },
    ]);
    expect(native.params).toEqual([3n, '2024-01-01T00:00:00.000000Z']);
    // customers.code is COLLATE NOCASE; the join still compares bytes: 'ab' does not meet 'AB'.
    const byCode = await src.scanJoin({
      tables: [
        { alias: 'c', table: 'customers', columns: ['code'] },
        { alias: 'o', table: 'orders', columns: ['id'] },
      ],
      joins: [{ kind: 'inner', alias: 'o', parentAlias: 'c', on: [{ parentColumn: 'code', column: 'code' }] }],
      orderBy: [{ alias: 'o', column: 'id', desc: false }],
      limit: 5,
      offset: 0,
    });
    expect(byCode.rows).toEqual([
      { 'c.code': 'ab', 'o.id': 10n },
      { 'c.code': 'cd', 'o.id': 12n },
    ]);
  });

  it('counts, explains with placeholders and bound parameters only, and binds a large key set', async () => {
    const src = source();
    const where: Predicate = { op: 'or', args: [cmp('name', '=', "x' OR '1'='1"), { op: 'like', column: 'name', pattern: 'A%' }] };
    expect(await src.count('customers', where)).toBe(1);
    expect(await src.count('customers')).toBe(3);
    const q = await src.explainScan('customers', {
      columns: ['id', 'name'],
      where,
      orderBy: [{ column: 'name', desc: true }],
      limit: 5,
      offset: 1,
    });
    expect(q).toEqual({
      source: 'ref',
      text: 'SELECT "id", "name" FROM "main"."customers" WHERE (("name" COLLATE BINARY = ?) OR ("name" GLOB ?)) ORDER BY "name" COLLATE BINARY DESC NULLS FIRST LIMIT ? OFFSET ?',
      params: ["x' OR '1'='1", 'A*', 5, 1],
    });
    const keys = Array.from({ length: src.limits.maxKeysPerStatement }, (_, k) => BigInt(k));
    const { rows } = await src.scan('customers', { columns: ['id'], where: { op: 'in', column: 'id', values: keys } });
    expect(rows).toHaveLength(3);
  });
});

describe('SqliteSource: failures', () => {
  it('reports a missing file as unavailable, naming the path, with a next step for check', async () => {
    const missing = join(dir, 'missing.db');
    const src = source(missing);
    await src.connect(); // opens nothing yet
    for (const err of await Promise.all([src.ping(), src.introspect('t'), src.count('t')].map(storeError))) {
      expect(err.status).toBe(503);
      expect(err.message).toContain('"ref"');
      expect(err.detail).toContain(missing);
      expect(err.detail).toMatch(/unable to open database file \[SQLITE_CANTOPEN\]/);
      expect(nextStep(err.detail)).toMatch(/check `path`/);
    }
    const noDir = source(join(dir, 'nowhere', 'x.db'));
    const err = await storeError(noDir.ping());
    expect(err.detail).toMatch(/\[SQLITE_CANTOPEN\]$/);
    expect(nextStep(err.detail)).toMatch(/check `path`/);
    // The file appearing later is picked up by the next query.
    writeFileSync(missing, '');
    await src.ping();
  });

  it('reports a file that is not a database', async () => {
    const junk = join(dir, 'junk.db');
    writeFileSync(junk, 'not a database '.repeat(40));
    const err = await storeError(source(junk).ping());
    expect(err.status).toBe(503);
    expect(err.detail).toMatch(/file is not a database/);
    expect(nextStep(err.detail)).toMatch(/not an SQLite database/);
  });

  it('times out waiting for a writer lock after the busy timeout', async () => {
    const src = source(file, 200);
    await src.ping();
    const writer = new Database(file);
    try {
      writer.exec('BEGIN EXCLUSIVE');
      const started = Date.now();
      const err = await storeError(src.count('customers'));
      expect(err.status).toBe(504);
      expect(err.detail).toMatch(/database is locked/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(150);
      expect(nextStep(err.detail)).toMatch(/timeout/);
    } finally {
      writer.exec('ROLLBACK');
      writer.close();
    }
    expect(await src.count('customers')).toBe(3);
  });
});
