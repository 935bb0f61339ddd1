// The three store adapters against one fixture, with PostgreSQL (C collation, hand-written SQL from
// a tiny independent printer) as the oracle: every operator, NULL/missing semantics, text order,
// sort with limit/offset, and the value model. Runs in a far-off time zone, so a date or timestamp
// that went through local time would show up shifted.
process.env.TZ = 'Pacific/Kiritimati'; // UTC+14

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Document } from 'mongodb';
import { Binary, Double, Long, ObjectId } from 'mongodb';
import pg from 'pg';
import type { OrderTerm, Predicate } from '../../src/query/predicate.js';
import type { Source } from '../../src/sources/source.js';
import { PostgresSource } from '../../src/sources/postgres/source.js';
import { MysqlSource } from '../../src/sources/mysql/source.js';
import { MongoSource } from '../../src/sources/mongodb/source.js';
import type { ColumnType, Row, Value } from '../../src/values.js';
import { createMongoDatabase, createMysqlDatabase, createPgDatabase, mysqlExec, pgExec } from '../support/stores.js';

// ---- the fixture ------------------------------------------------------------------------------

interface Item {
  id: number;
  txt: string | null;
  big: bigint | null;
  num: string | null; // numeric(20,4); values exact as doubles, because FerretDB has no Decimal128
  flt: number | null;
  flag: boolean | null;
  ts: string | null; // millisecond values: exact in BSON dates too
  day: string | null;
  doc: unknown;
  sku: string | null; // MongoDB: payload.sku
  bin: string | null; // base64
}

const TEXTS: (string | null)[] = [
  'alpha',
  'Alpha',
  'ALPHA',
  'alpha ',
  'alpha  ',
  'beta',
  "it's",
  'say "hi"',
  'back\\slash',
  '100%',
  'under_score',
  'a%b_c\\d',
  'é',
  'e',
  'Ünïcödé',
  '日本語',
  '😀 grin',
  '\uE000 private',
  '\uFFFD replacement',
  'ｆｕｌｌ',
  '',
  'line\nbreak',
  null,
  null,
  'alpha\t',
  'zeta',
  'end\n',
];
const BIGS = [
  0n,
  1n,
  -1n,
  9007199254740993n,
  -9007199254740993n,
  9223372036854775807n,
  -9223372036854775808n,
  42n,
  null,
  9007199254740992n,
  4611686018427387904n,
  null,
  7n,
];
const NUMS = ['12.5000', '-0.2500', '0.0000', '1234567.5000', '3.0625', '-99999.9375', null, '0.5000', '100.0000', '12.5000', null];
const FLTS = [1.5, -2.25, 0, 1e300, -1e-300, 3.141592653589793, null, 0.1, 1.5, -7];
const TSS = [
  '2024-02-29T23:59:59.123000Z',
  '1970-01-01T00:00:00.000000Z',
  '1999-12-31T23:59:59.999000Z',
  null,
  '2038-01-19T03:14:08.001000Z',
  '2000-01-01T12:00:00.500000Z',
  '2024-02-29T23:59:59.124000Z',
];
const DAYS = ['2024-01-01', '1999-12-31', '2000-02-29', '1969-07-20', null, '2024-12-31', '1000-01-01'];
const FLAGS = [true, false, null, true, false];
const DOCS: unknown[] = [{ a: 1, b: [1, 2] }, { s: 'x"y' }, null, [], { nested: { k: 'v' } }, 'str', 3];
const SKUS = ['SKU-1', 'sku-1', null, 'SKU_2', 'SKU%3', 'SKU-1 ', 'A'];
const BINS = [Buffer.from([0, 1, 2, 255]).toString('base64'), null, Buffer.from('hello').toString('base64')];

const ITEMS: Item[] = TEXTS.map((txt, i) => ({
  id: i + 1,
  txt,
  big: BIGS[i % BIGS.length]!,
  num: NUMS[i % NUMS.length]!,
  flt: FLTS[i % FLTS.length]!,
  flag: FLAGS[i % FLAGS.length]!,
  ts: TSS[i % TSS.length]!,
  day: DAYS[i % DAYS.length]!,
  doc: DOCS[i % DOCS.length],
  sku: SKUS[i % SKUS.length]!,
  bin: BINS[i % BINS.length]!,
}));

const TYPES: Record<string, ColumnType> = {
  id: 'int',
  txt: 'text',
  big: 'int',
  num: 'numeric',
  flt: 'float',
  flag: 'bool',
  ts: 'timestamptz',
  day: 'date',
  doc: 'jsonb',
  sku: 'text',
  bin: 'bytea',
};
const ALL = Object.keys(TYPES);

const PG_DDL = (name: string, textCollation: string): string => `CREATE TABLE ${name} (
  id int PRIMARY KEY, txt text ${textCollation}, big bigint, num numeric(20,4), flt double precision, flag boolean,
  ts timestamptz, day date, doc jsonb, sku varchar(50) ${textCollation}, bin bytea)`;

const pgRow = (r: Item): unknown[] => [
  r.id,
  r.txt,
  r.big?.toString() ?? null,
  r.num,
  r.flt,
  r.flag,
  r.ts,
  r.day,
  r.doc === null ? null : JSON.stringify(r.doc),
  r.sku,
  r.bin === null ? null : Buffer.from(r.bin, 'base64'),
];

const myRow = (r: Item): unknown[] => [
  r.id,
  r.txt,
  r.big?.toString() ?? null,
  r.num,
  r.flt,
  r.flag === null ? null : Number(r.flag),
  r.ts === null ? null : r.ts.slice(0, 10) + ' ' + r.ts.slice(11, 26),
  r.day,
  r.doc === null ? null : JSON.stringify(r.doc),
  r.sku,
  r.bin === null ? null : Buffer.from(r.bin, 'base64'),
];

/** NULLs alternate between an explicit null and a missing field; ints alternate between int32/double and int64. */
function mongoDoc(r: Item): Document {
  const d: Document = { _id: r.id };
  const put = (k: string, v: unknown): void => {
    if (v !== null) d[k] = v;
    else if (r.id % 2 === 0) d[k] = null;
  };
  put('txt', r.txt);
  put('big', r.big === null ? null : r.id % 3 === 0 && r.big >= -(2n ** 31n) && r.big < 2n ** 31n ? Number(r.big) : r.big);
  put('num', r.num === null ? null : Number(r.num));
  put('flt', r.flt);
  put('flag', r.flag);
  put('ts', r.ts === null ? null : new Date(r.ts));
  put('day', r.day === null ? null : new Date(`${r.day}T00:00:00Z`));
  put('doc', r.doc);
  if (r.sku !== null) d.payload = { sku: r.sku, other: r.id };
  else if (r.id % 2 === 0) d.payload = { sku: null };
  put('bin', r.bin === null ? null : new Binary(Buffer.from(r.bin, 'base64')));
  return d;
}

// ---- stores -----------------------------------------------------------------------------------

let pgDb: Awaited<ReturnType<typeof createPgDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let mgDb: Awaited<ReturnType<typeof createMongoDatabase>>;
let sources: { name: string; source: Source }[] = [];

beforeAll(async () => {
  [pgDb, myDb, mgDb] = await Promise.all([createPgDatabase('sources'), createMysqlDatabase('sources'), createMongoDatabase('sources')]);

  // The adapter's table uses an ICU collation, so only its COLLATE "C" gives code-point order;
  // the oracle's table uses the database's C collation.
  await pgExec(pgDb.url, `${PG_DDL('items', 'COLLATE "en-x-icu"')}; ${PG_DDL('oracle', '')}`);
  const ph = ITEMS.map((_, i) => `(${ALL.map((_c, j) => `$${i * ALL.length + j + 1}`).join(', ')})`).join(', ');
  const values = ITEMS.flatMap(pgRow);
  await pgExec(pgDb.url, `INSERT INTO items VALUES ${ph}`, values);
  await pgExec(pgDb.url, `INSERT INTO oracle VALUES ${ph}`, values);

  // MariaDB: the database default utf8mb4_general_ci is case-insensitive and PAD SPACE.
  await mysqlExec(
    myDb.url,
    `CREATE TABLE items (id int PRIMARY KEY, txt varchar(100), big bigint, num decimal(20,4), flt double, flag tinyint(1),
       ts datetime(6), day date, doc json, sku varchar(50), bin varbinary(100), KEY (txt), KEY (sku))`,
  );
  await mysqlExec(
    myDb.url,
    `INSERT INTO items VALUES ${ITEMS.map(() => `(${ALL.map(() => '?').join(', ')})`).join(', ')}`,
    ITEMS.flatMap(myRow),
  );

  await mgDb.client.db(mgDb.name).collection('items').insertMany(ITEMS.map(mongoDoc));

  const timeoutMs = 10_000;
  sources = [
    { name: 'postgres', source: new PostgresSource({ name: 'pg', url: pgDb.url, timeoutMs }) },
    { name: 'mysql', source: new MysqlSource({ name: 'maria', url: myDb.url, timeoutMs }) },
    {
      name: 'mongodb',
      source: new MongoSource({
        name: 'mongo',
        url: mgDb.url,
        database: mgDb.name,
        timeoutMs,
        collections: {
          items: {
            columns: {
              id: { type: 'int', path: '_id' },
              txt: { type: 'text' },
              big: { type: 'int' },
              num: { type: 'numeric' },
              flt: { type: 'float' },
              flag: { type: 'bool' },
              ts: { type: 'timestamptz' },
              day: { type: 'date' },
              doc: { type: 'jsonb' },
              sku: { type: 'text', path: 'payload.sku' },
              bin: { type: 'bytea' },
            },
          },
        },
      }),
    },
  ];
  await Promise.all(sources.map((s) => s.source.connect()));
  oracle = new pg.Client({ connectionString: pgDb.url });
  await oracle.connect();
});

afterAll(async () => {
  await oracle?.end();
  await Promise.allSettled(sources.map((s) => s.source.close()));
  await Promise.allSettled([pgDb?.drop(), myDb?.drop(), mgDb?.drop()]);
});

// ---- the oracle: a predicate printed as plain PostgreSQL on the C-collation table ----------------

function literal(column: string, v: Value): string {
  switch (TYPES[column]) {
    case 'text':
      return `'${String(v).replace(/'/g, "''")}'`;
    case 'int':
      return `'${String(v)}'::int8`;
    case 'bool':
      return v ? 'TRUE' : 'FALSE';
    default:
      return `'${String(v)}'::${TYPES[column] === 'float' ? 'float8' : TYPES[column]}`;
  }
}

function oracleSql(p: Predicate): string {
  switch (p.op) {
    case 'and':
      return p.args.length ? `(${p.args.map(oracleSql).join(' AND ')})` : 'TRUE';
    case 'or':
      return p.args.length ? `(${p.args.map(oracleSql).join(' OR ')})` : 'FALSE';
    case 'not':
      return `(NOT ${oracleSql(p.arg)})`;
    case 'const':
      return p.value === null ? 'NULL' : String(p.value);
    case 'isnull':
      return `(${p.column} IS NULL)`;
    case 'cmp':
      return `(${p.column} ${p.cmp} ${literal(p.column, p.value)})`;
    case 'in':
      return p.values.length ? `(${p.column} IN (${p.values.map((v) => literal(p.column, v)).join(', ')}))` : 'FALSE';
    case 'like':
      return `(${p.column} LIKE ${literal(p.column, p.pattern)})`;
  }
}

let oracle: pg.Client;

async function oracleIds(
  where: Predicate | undefined,
  order: OrderTerm[] = [{ column: 'id', desc: false }],
  limit?: number,
  offset?: number,
): Promise<number[]> {
  const orderSql = order.map((o) => `${o.column} ${o.desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`).join(', ');
  const res = await oracle.query(
    `SELECT id FROM oracle${where ? ` WHERE ${oracleSql(where)}` : ''} ORDER BY ${orderSql}` +
      `${limit !== undefined ? ` LIMIT ${limit}` : ''}${offset ? ` OFFSET ${offset}` : ''}`,
  );
  return res.rows.map((r: { id: number }) => r.id);
}

const ids = (rows: Row[]): number[] => rows.map((r) => Number(r.id));
const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);

// ---- the predicate cases ----------------------------------------------------------------------

const cmp = (column: string, op: '=' | '<>' | '<' | '<=' | '>' | '>=', value: Exclude<Value, null>): Predicate => ({
  op: 'cmp',
  column,
  cmp: op,
  value,
});
const not = (arg: Predicate): Predicate => ({ op: 'not', arg });
const and = (...args: Predicate[]): Predicate => ({ op: 'and', args });
const or = (...args: Predicate[]): Predicate => ({ op: 'or', args });
const like = (column: string, pattern: string): Predicate => ({ op: 'like', column, pattern });
const isnull = (column: string): Predicate => ({ op: 'isnull', column });
const inList = (column: string, values: Exclude<Value, null>[]): Predicate => ({ op: 'in', column, values });
const konst = (value: boolean | null): Predicate => ({ op: 'const', value });

const OPS = ['=', '<>', '<', '<=', '>', '>='] as const;
const PROBES: Record<string, Exclude<Value, null>[]> = {
  id: [5n, 26n],
  txt: ['alpha', 'alpha ', 'Alpha', 'e', 'é', '\uFFFD', '😀', '', 'alpha\t', 'back\\slash', "it's"],
  big: [9007199254740992n, 9007199254740993n, -9223372036854775808n, 0n],
  num: ['12.5', '12.5000', '-0.25', '0'],
  flt: [1.5, 0.1, -1e-300],
  flag: [true, false],
  ts: ['2024-02-29T23:59:59.123000Z', '2024-02-29T23:59:59.123500Z', '1970-01-01T00:00:00.000000Z'],
  day: ['2000-02-29', '1969-07-20'],
  sku: ['SKU-1', 'sku-1', 'SKU-1 '],
};

const CASES: { name: string; where: Predicate }[] = [];
for (const [column, values] of Object.entries(PROBES)) {
  for (const value of values) {
    for (const op of OPS) {
      CASES.push({ name: `${column} ${op} ${JSON.stringify(String(value))}`, where: cmp(column, op, value) });
    }
    CASES.push({ name: `not ${column} = ${String(value)}`, where: not(cmp(column, '=', value)) });
  }
  CASES.push({ name: `${column} is null`, where: isnull(column) });
  CASES.push({ name: `${column} is not null`, where: not(isnull(column)) });
}
for (const column of ['doc', 'bin']) {
  CASES.push({ name: `${column} is null`, where: isnull(column) }, { name: `${column} is not null`, where: not(isnull(column)) });
}

const manyBigs = [...Array.from({ length: 400 }, (_, i) => BigInt(i * 7919 - 1_000_000)), 9007199254740993n, -9223372036854775808n, 42n];
const manyTexts = [
  ...Array.from({ length: 300 }, (_, i) => `v${i}`),
  'alpha',
  'ALPHA ',
  'é',
  '😀 grin',
  'beta ',
  '',
  "it's",
  'back\\slash',
  'say "hi"',
  'NULL',
  '{a,b}',
];
CASES.push(
  { name: 'big in many', where: inList('big', manyBigs) },
  { name: 'big not in many', where: not(inList('big', manyBigs)) },
  { name: 'txt in many', where: inList('txt', manyTexts) },
  { name: 'txt not in many', where: not(inList('txt', manyTexts)) },
  { name: 'id in', where: inList('id', [1n, 3n, 5n, 99n]) },
  { name: 'num in', where: inList('num', ['12.5', '0', '7']) },
  { name: 'ts in', where: inList('ts', ['1970-01-01T00:00:00.000000Z', '2024-02-29T23:59:59.123500Z']) },
  { name: 'ts not in sub-ms only', where: not(inList('ts', ['2024-02-29T23:59:59.123500Z'])) },
  { name: 'day in', where: inList('day', ['2000-02-29', '1000-01-01']) },
  { name: 'flag in', where: inList('flag', [false]) },
  { name: 'sku not in', where: not(inList('sku', ['SKU-1', 'A'])) },
  { name: 'in empty', where: inList('txt', []) },
  { name: 'not in empty', where: not(inList('txt', [])) },
);

const LIKES = [
  'alpha',
  'alpha%',
  '%alpha',
  'Alpha%',
  '%pha',
  'a_pha',
  'alpha_',
  'alpha__',
  '%',
  '_',
  '',
  '%\\%',
  '100\\%',
  '%\\_%',
  'under\\_score',
  'under_score',
  'a\\%b\\_c\\\\d',
  '%\\\\%',
  'back\\\\slash',
  '%é%',
  'é',
  '_',
  '😀%',
  '_ grin',
  '%\uE000%',
  // 'end' must not match 'end\n': with MongoDB's PCRE a `$` anchor would (FerretDB's Go regexp would not).
  'end',
  'end_',
  'end%',
  '%\n',
  'line_break',
  'line%',
  '%break',
  "it''s",
  "it's",
  '%"hi"',
  'alpha\\',
  '%a%a%',
  'ALPHA',
  'ｆ%',
  '.*',
  'a.pha',
  '(%',
  '[a]%',
];
for (const pattern of LIKES) {
  if (pattern === 'alpha\\' || pattern === "it''s") continue; // PostgreSQL rejects a trailing escape; '' is not SQL here
  CASES.push({ name: `txt like ${JSON.stringify(pattern)}`, where: like('txt', pattern) });
  CASES.push({ name: `txt not like ${JSON.stringify(pattern)}`, where: not(like('txt', pattern)) });
}
CASES.push({ name: 'sku like', where: like('sku', 'SKU_%') }, { name: 'sku not like', where: not(like('sku', 'SKU\\_%')) });

CASES.push(
  { name: 'const true', where: konst(true) },
  { name: 'const false', where: konst(false) },
  { name: 'const null', where: konst(null) },
  { name: 'not const null', where: not(konst(null)) },
  { name: 'not const false', where: not(konst(false)) },
  { name: 'null and false', where: and(konst(null), konst(false)) },
  { name: 'not (null and false)', where: not(and(konst(null), konst(false))) },
  { name: 'null or true', where: or(konst(null), konst(true)) },
  { name: 'not (null or cmp)', where: not(or(konst(null), cmp('big', '>', 0n))) },
  { name: 'not (null and cmp)', where: not(and(konst(null), cmp('big', '>', 0n))) },
  { name: 'empty and', where: and() },
  { name: 'empty or', where: or() },
  { name: 'not empty or', where: not(or()) },
  { name: 'and nesting', where: and(cmp('txt', '>', 'a'), cmp('big', '<', 10n), not(isnull('flag'))) },
  { name: 'or nesting', where: or(and(cmp('txt', '>=', 'b'), cmp('flag', '=', true)), cmp('num', '<', '0'), like('sku', 'sku%')) },
  { name: 'not or', where: not(or(cmp('big', '=', 0n), cmp('txt', '=', 'alpha'), cmp('flt', '>', 1))) },
  { name: 'not and', where: not(and(cmp('big', '>', 0n), cmp('flag', '=', true))) },
  { name: 'double not', where: not(not(cmp('txt', '<>', 'beta'))) },
  { name: 'not not and null', where: not(not(and(cmp('txt', '<>', 'beta'), konst(null)))) },
  {
    name: 'deep',
    where: or(not(and(or(cmp('day', '<', '2000-01-01'), isnull('ts')), not(cmp('num', '>=', '1')))), and(konst(true), like('txt', '%a'))),
  },
  { name: 'mixed null and', where: and(cmp('flt', '<>', 0), not(cmp('sku', '=', 'SKU-1'))) },
);

// ---- tests ------------------------------------------------------------------------------------

describe.each(['postgres', 'mysql', 'mongodb'])('%s source', (store) => {
  const src = (): Source => sources.find((s) => s.name === store)!.source;

  it('returns every value in the value model', async () => {
    expect(new Date(2024, 0, 1).getTimezoneOffset()).toBe(-14 * 60); // the far-off zone is in effect
    const { rows } = await src().scan('items', { columns: ALL, orderBy: [{ column: 'id', desc: false }] });
    expect(rows).toHaveLength(ITEMS.length);
    for (const [i, row] of rows.entries()) {
      const want = ITEMS[i]!;
      const expected: Row = {
        id: BigInt(want.id),
        txt: want.txt,
        big: want.big,
        num: want.num,
        flt: want.flt,
        flag: want.flag,
        ts: want.ts,
        day: want.day,
        doc: want.doc as Value,
        sku: want.sku,
        bin: want.bin,
      };
      if (store === 'mongodb') {
        // Stored as doubles (FerretDB has no Decimal128), so the scale is the double's: 12.5, not 12.5000.
        expect(row.num === null ? null : Number(row.num)).toEqual(want.num === null ? null : Number(want.num));
        expect(row.num === null || /^-?\d+(\.\d+)?$/.test(row.num as string)).toBe(true);
        expected.num = row.num!;
      }
      expect(row).toEqual(expected);
    }
    // Exact 64-bit integers, scale as the store prints it, canonical timestamps, unshifted dates.
    expect(rows.map((r) => r.big)).toContain(9007199254740993n);
    expect(rows.map((r) => r.big)).toContain(-9223372036854775808n);
    if (store !== 'mongodb') expect(rows[0]!.num).toBe('12.5000');
    expect(rows[0]!.ts).toBe('2024-02-29T23:59:59.123000Z');
    expect(rows[0]!.day).toBe('2024-01-01');
    expect(typeof rows[0]!.id).toBe('bigint');
  });

  it.each(CASES)('where $name', async ({ where }) => {
    const [want, { rows }, count] = await Promise.all([
      oracleIds(where),
      src().scan('items', { columns: ['id'], where }),
      src().count('items', where),
    ]);
    expect(sorted(ids(rows))).toEqual(sorted(want));
    expect(count).toBe(want.length);
  });

  it('negations never match NULL or missing values', async () => {
    const nullTxt = ITEMS.filter((r) => r.txt === null).map((r) => r.id);
    expect(nullTxt.length).toBeGreaterThan(1); // one null, one missing in MongoDB
    for (const where of [
      not(cmp('txt', '=', 'alpha')),
      cmp('txt', '<>', 'alpha'),
      not(inList('txt', ['alpha'])),
      not(like('txt', '%')),
      not(cmp('txt', '<', 'm')),
      not(or(cmp('txt', '=', 'x'), konst(false))),
    ]) {
      const got = ids((await src().scan('items', { columns: ['id'], where })).rows);
      for (const id of nullTxt) expect(got).not.toContain(id);
    }
  });

  it('compares text case-sensitively, by code point, with trailing spaces', async () => {
    const find = async (where: Predicate): Promise<(string | null)[]> =>
      (await src().scan('items', { columns: ['txt'], where, orderBy: [{ column: 'txt', desc: false }] })).rows.map((r) => r.txt as string);
    expect(await find(cmp('txt', '=', 'alpha'))).toEqual(['alpha']);
    expect(await find(cmp('txt', '=', 'alpha '))).toEqual(['alpha ']);
    expect(await find(inList('txt', ['ALPHA', 'alpha  ']))).toEqual(['ALPHA', 'alpha  ']);
    expect(await find(like('txt', 'alpha'))).toEqual(['alpha']);
    expect(await find(like('txt', 'alpha_'))).toEqual(['alpha\t', 'alpha ']);
    // U+E000..U+FFFF sort before supplementary-plane characters (UTF-16 order would say otherwise).
    expect(await find(cmp('txt', '>', '\uE000'))).toEqual(['\uE000 private', 'ｆｕｌｌ', '\uFFFD replacement', '😀 grin']);
  });

  const SORTS: OrderTerm[][] = [
    ...['txt', 'big', 'num', 'flt', 'flag', 'ts', 'day', 'sku'].flatMap((c) => [
      [
        { column: c, desc: false },
        { column: 'id', desc: false },
      ],
      [
        { column: c, desc: true },
        { column: 'id', desc: true },
      ],
    ]),
    [{ column: 'id', desc: true }],
    // nullable keys after the first one
    [
      { column: 'flag', desc: false },
      { column: 'sku', desc: true },
      { column: 'id', desc: false },
    ],
    [
      { column: 'day', desc: true },
      { column: 'txt', desc: false },
      { column: 'id', desc: true },
    ],
  ];

  it.each(SORTS.map((order) => ({ name: order.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', '), order })))(
    'orders by $name like PostgreSQL, across limit/offset',
    async ({ order }) => {
      const want = await oracleIds(undefined, order);
      const all = await src().scan('items', { columns: ['id'], orderBy: order });
      expect(ids(all.rows)).toEqual(want);
      const pages = [
        [0, 5],
        [3, 4],
        [17, 5],
        [20, 3],
        [21, 10],
        [24, 10],
        [30, 5],
        [0, 0],
      ] as const;
      const got = await Promise.all(
        pages.map(([offset, limit]) => src().scan('items', { columns: ['id'], orderBy: order, limit, offset })),
      );
      pages.forEach(([offset, limit], i) =>
        expect(ids(got[i]!.rows), `offset ${offset} limit ${limit}`).toEqual(want.slice(offset, offset + limit)),
      );
      const offsetOnly = await src().scan('items', { columns: ['id'], orderBy: order, offset: 22 });
      expect(ids(offsetOnly.rows)).toEqual(want.slice(22));
    },
  );

  it('filters, sorts and pages together', async () => {
    const where = or(not(cmp('big', '=', 0n)), isnull('txt'));
    const order: OrderTerm[] = [
      { column: 'txt', desc: false },
      { column: 'id', desc: false },
    ];
    const want = await oracleIds(where, order, 6, 12);
    const got = await src().scan('items', { columns: ['id', 'txt'], where, orderBy: order, limit: 6, offset: 12 });
    expect(ids(got.rows)).toEqual(want);
  });
});

// ---- MongoDB: ObjectIds beside strings, and values that read as NULL ----------------------------

// Regressions of the oracle's "MongoDB source adapter, scanned directly" cases (LIKE and NOT LIKE
// on ObjectIds, ORDER BY across strings and ObjectIds, onTypeMismatch: null under filters), against
// PostgreSQL holding the same rows as the value model reads them: the ObjectId's hex text, and NULL
// for a value that does not fit. FerretDB 1.24 answers the operators involved ($type with a list,
// $not {$type}, ObjectId ranges, implicit array traversal) as MongoDB documents them.
describe('mongodb source with mixed ObjectId/string text and misfit-is-NULL values, against PostgreSQL', () => {
  const HEXES = [
    '65f000000000000000000001',
    '65f000000000000000000002',
    '65f00000000000000000000a',
    '65a1b2c3d4e5f60718293a4b',
    '000000000000000000000000',
    'ffffffffffffffffffffffff',
    '6afedcba9876543210abcdef',
    '65f0ab000000000000000010',
  ];
  const STRINGS = [
    '65f000000000000000000001x',
    '65F000000000000000000002',
    '65f0',
    '',
    'A',
    'a',
    'zz',
    '0',
    '~',
    'é',
    '65f00000000000000000000',
    'ab%c_d',
  ];
  const QTYS: unknown[] = [1, '3', new Double(2.5), 5, undefined, null, Long.fromNumber(7), new Double(4), true, [2], -1, 2];
  type Doc = { _id: ObjectId | string; ref?: ObjectId | string | null; p?: unknown };
  const DOCS: Doc[] = [...HEXES.map((h) => new ObjectId(h)), ...STRINGS].map((id, i) => {
    const d: Doc = { _id: id };
    const r = i % 4;
    if (r === 0) d.ref = new ObjectId(HEXES[(i * 3) % HEXES.length]!);
    else if (r === 1) d.ref = STRINGS[(i * 5) % STRINGS.length]!;
    else if (r === 2 && i % 8 === 2) d.ref = null; // else missing
    const q = QTYS[i % QTYS.length];
    if (q !== undefined) d.p = i === 7 ? [{ qty: q }] : { qty: q }; // one array on the path
    return d;
  });
  /** The value model's reading of a document (what PostgreSQL holds). */
  const text = (v: unknown): string | null => (v instanceof ObjectId ? v.toHexString() : typeof v === 'string' ? v : null);
  const qtyOf = (d: Doc): string | null => {
    const q = d.p && !Array.isArray(d.p) ? (d.p as { qty?: unknown }).qty : undefined;
    if (q instanceof Long) return q.toString();
    if (q instanceof Double) return Number.isInteger(q.value) ? String(q.value) : null;
    return typeof q === 'number' && Number.isInteger(q) ? String(q) : null;
  };

  let src: MongoSource;
  beforeAll(async () => {
    await mgDb.client
      .db(mgDb.name)
      .collection('mixed_ids')
      .insertMany(DOCS as never[]);
    await pgExec(pgDb.url, 'CREATE TABLE mixed_ids (id text PRIMARY KEY, ref text, qty bigint)');
    await pgExec(
      pgDb.url,
      `INSERT INTO mixed_ids VALUES ${DOCS.map((_, i) => `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`).join(', ')}`,
      DOCS.flatMap((d) => [text(d._id), text(d.ref), qtyOf(d)]),
    );
    src = new MongoSource({
      name: 'mongo_mixed',
      url: mgDb.url,
      database: mgDb.name,
      timeoutMs: 10_000,
      collections: {
        mixed_ids: {
          columns: {
            id: { type: 'text', path: '_id' },
            ref: { type: 'text' },
            qty: { type: 'int', path: 'p.qty', onTypeMismatch: 'null' },
          },
        },
      },
    });
  });
  afterAll(async () => {
    await src?.close();
  });

  const sql = (p: Predicate): string => {
    const lit = (column: string, v: Value): string => (column === 'qty' ? `${String(v)}::int8` : `'${String(v).replace(/'/g, "''")}'`);
    switch (p.op) {
      case 'and':
      case 'or':
        return `(${p.args.map(sql).join(` ${p.op} `)})`;
      case 'not':
        return `(NOT ${sql(p.arg)})`;
      case 'const':
        return String(p.value);
      case 'isnull':
        return `(${p.column} IS NULL)`;
      case 'cmp':
        return `(${p.column} ${p.cmp} ${lit(p.column, p.value)})`;
      case 'in':
        return `(${p.column} IN (${p.values.map((v) => lit(p.column, v)).join(', ')}))`;
      case 'like':
        return `(${p.column} LIKE ${lit(p.column, p.pattern)})`;
    }
  };
  const pgIds = async (where: Predicate | undefined, order: OrderTerm[], offset = 0, limit?: number): Promise<string[]> => {
    const res = await oracle.query(
      `SELECT id FROM mixed_ids${where ? ` WHERE ${sql(where)}` : ''} ORDER BY ${order.map((o) => `${o.column} ${o.desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`).join(', ')}` +
        `${limit !== undefined ? ` LIMIT ${limit}` : ''} OFFSET ${offset}`,
    );
    return res.rows.map((r: { id: string }) => r.id);
  };

  const WHERE: Predicate[] = [
    ...[
      '65f%',
      '%1',
      '%0_',
      '6_f%',
      '%',
      '_%',
      '',
      'A%',
      '%f',
      '%a%b%',
      '65f0',
      '65f00000000000000000000_',
      '%\\%%',
      '______________________%',
    ].flatMap((pattern) => [like('id', pattern), not(like('id', pattern)), like('ref', pattern), not(like('ref', pattern))]),
    isnull('qty'),
    not(isnull('qty')),
    cmp('qty', '>', 2n),
    not(cmp('qty', '>', 2n)),
    cmp('qty', '<>', 5n),
    inList('qty', [1n, 3n, 7n]),
    not(inList('qty', [1n, 3n])),
    or(isnull('qty'), like('id', '%2')),
    and(not(isnull('qty')), like('ref', '6%')),
    not(or(cmp('qty', '=', 5n), like('id', '%1'))),
    cmp('id', '>=', '65f'),
    cmp('ref', '<', 'a'),
  ];
  const ORDERS: OrderTerm[][] = [
    [{ column: 'id', desc: false }],
    [{ column: 'id', desc: true }],
    [
      { column: 'ref', desc: false },
      { column: 'id', desc: false },
    ],
    [
      { column: 'ref', desc: true },
      { column: 'id', desc: true },
    ],
    [
      { column: 'qty', desc: false },
      { column: 'id', desc: true },
    ],
  ];

  it.each(WHERE.map((where) => ({ name: sql(where), where })))('where $name: rows and count', async ({ where }) => {
    const want = await pgIds(where, [{ column: 'id', desc: false }]);
    const got = await src.scan('mixed_ids', { columns: ['id'], where, orderBy: [{ column: 'id', desc: false }] });
    expect(got.rows.map((r) => r.id)).toEqual(want);
    expect(await src.count('mixed_ids', where)).toBe(want.length);
    const page = await src.scan('mixed_ids', { columns: ['id'], where, orderBy: [{ column: 'id', desc: true }], offset: 2, limit: 3 });
    expect(page.rows.map((r) => r.id)).toEqual(await pgIds(where, [{ column: 'id', desc: true }], 2, 3));
  });

  it.each(ORDERS.map((order) => ({ name: order.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', '), order })))(
    'orders by $name like PostgreSQL, across limit/offset, with and without a residual',
    async ({ order }) => {
      for (const where of [undefined, like('id', '%0%'), isnull('qty')]) {
        const want = await pgIds(where, order);
        expect((await src.scan('mixed_ids', { columns: ['id'], where, orderBy: order })).rows.map((r) => r.id)).toEqual(want);
        for (const [offset, limit] of [
          [0, 4],
          [3, 5],
          [9, 7],
          [18, 10],
          [0, 0],
        ] as const) {
          const got = await src.scan('mixed_ids', { columns: ['id'], where, orderBy: order, offset, limit });
          expect(
            got.rows.map((r) => r.id),
            `${where ? sql(where) : ''} offset ${offset} limit ${limit}`,
          ).toEqual(want.slice(offset, offset + limit));
        }
      }
    },
  );
});
