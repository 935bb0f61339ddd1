// The data sets of the differential oracle (docs/testing.md; issue 3 item 6).
//
// Each fixture is written once, natively per store (MariaDB rows for `crm`, PostgreSQL SQL for
// `app`, MongoDB documents for `analytics`, SQLite rows for `lite`); the loader (env.ts) puts it
// into the four stores and then copies what the stores actually hold into the oracle PostgreSQL
// database.
//
//  - `reference`: examples/reference/data exactly as `viewgate demo` loads it, plus a small
//    `crm.tenants` table so the tenant views have something to join, and reference data in SQLite
//    (countries, the tenants' countries, order statuses) keyed by the other stores' text values.
//  - `adversarial`: the cases a federation engine gets wrong: NULL vs missing fields, mixed case,
//    unicode (supplementary plane vs U+E000-U+FFFF, where UTF-16 order and code-point order
//    disagree), quotes and backslashes, trailing spaces, integers above 2^53 (and int8's maximum),
//    long and mixed-scale numerics, timestamps on both sides of the 2024 EU and US DST changes,
//    pre-epoch and sub-millisecond timestamps, orphan keys on both sides, non-numeric and
//    near-miss join keys ('01', '1 ', 'abc', 2^53 vs 2^53+1), duplicate join keys (1:N and N:M),
//    string `_id`s beside ObjectIds, and values that do not fit a column declared
//    `onTypeMismatch: null`. Its SQLite tables add what SQLite gets wrong by default: LIKE that
//    ignores ASCII case, NULLs sorted first, integers beyond 2^53 read as doubles, booleans stored
//    as 0/1, NUMERIC values stored as REAL or INTEGER, DATETIME values of several forms in one
//    column (their text order is not time order), and GLOB's metacharacters in text.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BSON, Double, Long, ObjectId, type Document } from 'mongodb';

export interface MongoColumnDecl {
  type: 'text' | 'int' | 'timestamptz' | 'jsonb' | 'float' | 'numeric' | 'bool' | 'date';
  path?: string;
  onTypeMismatch?: 'error' | 'null';
}

export interface Fixture {
  /** 'reference' and 'adversarial' here; regressions.test.ts builds tiny ones of its own. */
  name: string;
  /** MariaDB: DDL (multi-statement SQL) and rows per table. */
  mysql: { ddl: string; rows: Record<string, { columns: string[]; values: unknown[][] }> };
  /** PostgreSQL `app` source: SQL with unqualified table names (also run in the oracle's schema app). */
  postgres: string;
  /** MongoDB `analytics` source: documents per collection. */
  mongo: Record<string, Document[]>;
  /** SQLite `lite` source (a file written by the loader): DDL and rows per table; absent, no `lite` source. */
  sqlite?: { ddl: string; rows: Record<string, { columns: string[]; values: unknown[][] }> };
}

/** The declared MongoDB columns (docs/configuration.md), the same for both fixtures. */
export const MONGO_COLLECTIONS: Record<string, { columns: Record<string, MongoColumnDecl> }> = {
  events: {
    columns: {
      _id: { type: 'text' },
      user_id: { type: 'text' },
      event_type: { type: 'text' },
      ts: { type: 'timestamptz' },
      sku: { type: 'text', path: 'payload.sku' },
      qty: { type: 'int', path: 'payload.qty', onTypeMismatch: 'null' },
      seq: { type: 'int' },
      payload: { type: 'jsonb' },
    },
  },
};

const DATA = fileURLToPath(new URL('../../examples/reference/data/', import.meta.url));

const TENANTS_DDL = `
CREATE TABLE tenants (
  tenant_no INT NOT NULL PRIMARY KEY,
  tenant_id VARCHAR(16) NULL,
  tenant_name VARCHAR(64) NOT NULL,
  plan VARCHAR(16) NULL
) DEFAULT CHARSET=utf8mb4;`;

const TENANT_COLUMNS = ['tenant_no', 'tenant_id', 'tenant_name', 'plan'];

// ---- SQLite (`lite`): reference data keyed by the other stores' values --------------------------

// The declared types are the ones SQLite's affinity rules and viewgate map (docs/configuration.md):
// INTEGER, REAL, NUMERIC, TEXT, BOOLEAN (0/1), DATE ('YYYY-MM-DD' text) and DATETIME (UTC text).
// A TEXT PRIMARY KEY may hold NULL in SQLite unless it says NOT NULL.
const SQLITE_DDL = `
CREATE TABLE countries (
  code TEXT NOT NULL PRIMARY KEY,
  name TEXT NOT NULL,
  capital TEXT,
  population INTEGER,
  area_km2 REAL,
  eu BOOLEAN,
  eu_since DATE,
  updated_at DATETIME,
  vat_rate NUMERIC
);
CREATE TABLE tenant_countries (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  country_code TEXT,
  since DATE,
  seats INTEGER
);
CREATE TABLE statuses (
  status TEXT NOT NULL PRIMARY KEY,
  label TEXT NOT NULL,
  rank INTEGER,
  is_final BOOLEAN,
  refund_days INTEGER
);`;

const COUNTRY_COLUMNS = ['code', 'name', 'capital', 'population', 'area_km2', 'eu', 'eu_since', 'updated_at', 'vat_rate'];
const TENANT_COUNTRY_COLUMNS = ['tenant_id', 'country_code', 'since', 'seats'];
const STATUS_COLUMNS = ['status', 'label', 'rank', 'is_final', 'refund_days'];

// prettier-ignore
const REFERENCE_SQLITE: NonNullable<Fixture['sqlite']> = {
  ddl: SQLITE_DDL,
  rows: {
    countries: {
      columns: COUNTRY_COLUMNS,
      values: [
        ['AT', 'Österreich', 'Wien', 9104772, 83879.0, 1, '1995-01-01', '2024-03-31 01:00:00', '20'],
        ['CZ', 'Česko', 'Praha', 10900555, 78871.5, 1, '2004-05-01', '2024-10-27 00:30:00.250', '21'],
        ['DE', 'Deutschland', 'Berlin', 84482267, 357592.1, 1, '1958-01-01', '2023-12-31 23:59:59.999999', '19'],
        ['JP', '日本', '東京', 124000000, 377975.25, 0, null, '2024-01-10 12:00:00', '10'],
        ['IS', 'Ísland', 'Reykjavík', 387758, 102775.0, 0, null, null, '24'],
        ['GB', 'United Kingdom', 'London', 68265209, 243610.0, 0, '1973-01-01', '2020-01-31 23:00:00', '20'],
        ['ch', 'Schweiz (lower-case code)', 'Bern', 8962258, 41285.0, 0, null, '2024-06-01 00:00:00', '8.1'],
        ['XX', 'Unknown', null, null, null, null, null, null, null],
      ],
    },
    tenant_countries: {
      columns: TENANT_COUNTRY_COLUMNS,
      values: [
        ['t1', 'AT', '2023-01-01', 5],
        ['t2', 'CZ', '2023-06-15', 12],
        ['t3', 'JP', null, null],
        ['t4', 'ch', '2024-02-29', 1],
        ['T1', 'DE', '2024-03-31', 3], // upper case: no customer (MariaDB's collation would say t1's)
        ['t9', null, null, 0], // a tenant MariaDB does not know
      ],
    },
    statuses: {
      columns: STATUS_COLUMNS,
      values: [
        ['paid', 'Bezahlt', 1, 0, 14],
        ['shipped', 'Versandt ✈', 2, 0, 30],
        ['refunded', 'Erstattet — zurück', 3, 1, null],
        ['cancelled', 'Storniert', 4, 1, 0],
        ['PAID', 'upper case: no order has it', 9, null, null],
      ],
    },
  },
};

function referenceFixture(): Fixture {
  return {
    name: 'reference',
    mysql: {
      ddl: readFileSync(DATA + 'crm.sql', 'utf8') + TENANTS_DDL,
      rows: {
        tenants: {
          columns: TENANT_COLUMNS,
          values: [
            [1, 't1', 'Tenant One', 'gold'],
            [2, 't2', 'Tenant Two', 'silver'],
            [3, 't3', 'Tenant Three', null],
            [4, 't4', 'Tenant Four (no customers)', 'free'],
          ],
        },
      },
    },
    postgres: readFileSync(DATA + 'app.sql', 'utf8'),
    mongo: { events: BSON.EJSON.parse(readFileSync(DATA + 'events.json', 'utf8')) as Document[] },
    sqlite: REFERENCE_SQLITE,
  };
}

// ---- adversarial ------------------------------------------------------------------------------

const BIG = '9007199254740993'; // 2^53 + 1: a double reads it as 2^53
const BIG_MINUS = '9007199254740992'; // 2^53
const INT8_MAX = '9223372036854775807';

const CUSTOMERS_DDL = `
CREATE TABLE customers (
  customer_id BIGINT NOT NULL PRIMARY KEY,
  tenant_id VARCHAR(16) NULL,
  email VARCHAR(255) NULL,
  full_name VARCHAR(255) NOT NULL,
  is_active TINYINT(1) NULL,
  created_at DATETIME(6) NULL,
  credit DECIMAL(20,4) NULL,
  score DOUBLE NULL,
  KEY customers_tenant (tenant_id)
) DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci;`;

const CUSTOMER_COLUMNS = ['customer_id', 'tenant_id', 'email', 'full_name', 'is_active', 'created_at', 'credit', 'score'];

// prettier-ignore
const CUSTOMERS: unknown[][] = [
  ['1', 't1', 'ada@example.org', 'Ada Lovelace', 1, '2024-01-10 01:00:00', '1000.5000', 1.5],
  ['2', 'T1', 'GRACE@Example.NET', 'grace hopper', 1, '2024-03-31 00:59:59.999999', '0.0001', -2.25],
  ['3', 't1 ', 'alan@example.com ', 'Alan  Turing ', 0, '2024-03-31 01:00:00', null, null],
  ['4', 't2', null, `O'Brien "Quote" \\ back`, null, '2024-10-27 00:30:00', '-12.3400', 1e300],
  ['5', 't2', 'zoë@example.org', 'Zoë', 1, '2024-10-27 01:30:00.123456', '9999999999999999.9999', 0],
  ['6', 't3', 'smile@example.org', '\u{1F600} Smile', 1, '2024-11-03 06:00:00', '0.0000', 3.14159],
  ['7', 't3', 'pua@example.org', '\uE000 private use', 1, '2024-11-03 05:59:59.5', '7.0000', null],
  ['8', 't3', 'fffd@example.org', '\uFFFD replacement', 1, '2024-03-10 07:00:00', '8.0000', 8],
  ['9', null, 'no-tenant@example.org', 'No Tenant', 1, null, null, null],
  ['10', '', '', '', 0, '1970-01-01 00:00:00', '0.0000', -1e-300],
  ['11', 't2', 'pct@example.org', '100% _under_score\\', 1, '2024-06-01 12:00:00', '11.1100', 11],
  ['12', 't1', 'NEWLINE@example.org', 'line1\nline2', 1, '2024-06-01 12:00:00.000001', '12.0000', 12.5],
  ['13', 't2', 'alice1@example.org', 'alice', 1, '2024-03-10 06:59:59.999999', '13.0000', 13],
  ['14', 't2', 'alice2@example.org', 'Alice', 1, '2024-03-10 07:00:00.000001', '14.0000', 14],
  ['15', 't2', 'alice3@example.org', 'ALICE', 0, '2024-11-03 05:00:00', '15.0000', 15],
  ['16', 't2', 'alice4@example.org', 'ålice', 1, '2024-11-03 06:59:59', '16.0000', 16],
  ['17', 't2', 'alice5@example.org', 'Ålice', 1, '1969-12-31 23:59:59.999999', '17.0000', 17],
  ['18', 'Ω', 'omega@example.org', 'Ωmega \u{1D518}nicode', 1, '2038-01-19 03:14:08', '18.0000', 18],
  ['19', 't3', 'fullwidth@example.org', '\uFF21 fullwidth A', 1, '2024-02-29 23:59:59', '19.0000', 19],
  ['20', 't1', 'tab@example.org', 'tab\there', 1, '2024-02-29 00:00:00', '20.0000', 20],
  ['21', 't3', 'ffff@example.org', 'end \uFFFF', 1, '2024-07-01 00:00:00', '21.0000', 21],
  [BIG, 't2', 'big@example.org', 'Big Int', 1, '2024-05-01 00:00:00', '1.0000', 9007199254740993],
  [BIG_MINUS, 't1', 'big2@example.org', 'Big Int Minus One', 1, '2024-05-01 00:00:00', '2.0000', 2],
  [INT8_MAX, 't3', 'max@example.org', 'Max Int', 1, '2024-05-01 00:00:00', '3.0000', 3],
  ['22', 't2', 'zoe@example.org', 'Zoe', 1, '2024-05-01 00:00:00', '22.0000', 22],
  ['23', 't2', 'zoe-nfd@example.org', 'Zoe\u0308', 1, '2024-05-01 00:00:00', '23.0000', 23],
  ['24', 'ω', 'omega-lower@example.org', 'ZOE', 1, '2024-05-01 00:00:00', '24.0000', 24],
  ['-5', 't1', 'neg@example.org', 'Negative', 1, '2024-05-01 00:00:00', '-5.0000', -5],
  ['0', 't1', 'zero@example.org', 'Zero', 1, '2024-05-01 00:00:00', '0.0000', 0],
];

// prettier-ignore
const TENANTS: unknown[][] = [
  [1, 't1', 'Tenant One', 'gold'],
  [2, 'T1', 'Tenant One (upper case)', 'silver'],
  [3, 't1 ', 'Tenant One (trailing space)', null],
  [4, 't2', 'Tenant Two', 'silver'],
  [5, 't3', 'Tenant Three', 'gold'],
  [6, '', 'Empty id', 'free'],
  [7, null, 'Null id', 'free'],
  [8, 'tX', 'No customers', 'free'],
  [9, 'Ω', 'Omega', "o'plan"],
  [10, 't2', 'Tenant Two again (duplicate id: N:M join)', 'bronze'],
];

const ORDERS_SQL = `
CREATE TABLE orders (
  order_id BIGINT PRIMARY KEY,
  customer_id BIGINT,
  total_amount NUMERIC,
  status TEXT,
  created_at TIMESTAMPTZ,
  note TEXT
);
CREATE INDEX orders_customer ON orders (customer_id);
INSERT INTO orders (order_id, customer_id, total_amount, status, created_at, note) VALUES
  (1001, 1, 490.50, 'paid', '2024-04-21 01:49:00+00', NULL),
  (1002, 1, 425, 'PAID', '2024-03-31 01:00:00+00', 'first'),
  (1003, 1, 12.5, 'Paid', '2024-03-31 00:59:59.999999+00', 'it''s'),
  (1004, 2, 12.50, 'paid ', '2024-10-27 00:30:00+00', ' lead'),
  (1005, 2, 0.000000000000000000001, 'shipped', '2024-10-27 01:30:00+00', 'tiny'),
  (1006, 3, 123456789012345678901234567890.123456789012, 'shipped', '2024-10-27 01:00:00.000001+00', 'huge'),
  (1007, 4, -0.5, 'refunded', '2024-03-10 06:59:59.999999+00', 'neg'),
  (1008, 4, NULL, NULL, NULL, 'all null'),
  (1009, 5, 99.99, 'paid', '2024-11-03 06:00:00.5+00', 'dst us'),
  (1010, 999, 10.00, 'paid', '2024-05-05 05:05:05+00', 'orphan: no customer 999'),
  (1011, NULL, 5.00, 'paid', '2024-05-05 05:05:05+00', 'orphan: null customer'),
  (1012, ${BIG}, 1.10, 'paid', '2024-05-06 00:00:00+00', 'big customer'),
  (1013, ${BIG_MINUS}, 2.20, 'paid', '2024-05-06 00:00:00+00', 'big customer minus one'),
  (${INT8_MAX}, ${INT8_MAX}, 3.30, 'paid', '2024-05-07 00:00:00+00', 'max ids'),
  (${BIG}, 6, 100, 'shipped', '2024-05-08 00:00:00+00', 'big order id'),
  (-1, -5, -100.000, 'refunded', '1969-12-31 23:59:59.999999+00', 'pre-epoch'),
  (1014, 6, 100.0, 'shipped', '2024-05-08 00:00:00+00', '100 vs 100.0'),
  (1015, 6, 100.00, 'Shipped', '2024-05-08 00:00:00.000001+00', E'tab\\there'),
  (1016, 11, 7, E'\\U0001F600', '2024-06-01 00:00:00+00', 'emoji status'),
  (1017, 11, 8, E'\\uE000', '2024-06-01 00:00:00+00', 'private use status'),
  (1018, 12, 0, 'ñ', '2024-06-02 00:00:00+00', NULL),
  (1019, 13, 13.13, 'paid', '2024-06-03 00:00:00+00', 'alice'),
  (1020, 13, 13.13, 'paid', '2024-06-03 00:00:00+00', 'alice again, same values'),
  (1021, 14, 14.14, 'paid', '2024-06-03 00:00:00+00', NULL),
  (1022, 0, 0.00, 'paid', '2024-06-04 00:00:00+00', 'customer zero'),
  (1023, 18, 18.18, 'Ωpaid', '2038-01-19 03:14:08+00', 'omega'),
  (1024, 21, 21.21, E'\\uFFFF', '2024-07-01 00:00:00+00', 'U+FFFF status'),
  (1025, 5, 1000000000000000000000.5, 'paid', '2024-11-03 05:59:59.999999+00', 'long'),
  (1026, 9, 9.9, 'paid', '2024-02-29 12:00:00+00', 'no tenant'),
  (1027, 22, 22.22, 'zoe', '2024-05-09 00:00:00+00', 'Zoe'),
  (1028, 23, 23.23, 'zoë', '2024-05-09 00:00:00+00', 'Zoe + combining diaeresis'),
  (1029, 20, 20.0000, 'paid', '2024-06-01 12:00:00.000001+00', 'same instant as customer 12'),
  (1030, 20, 8.00, 'paid', '2024-05-01 00:00:00+00', 'same instant as five customers');
-- A text reference to crm.tenants across stores: case, trailing space, empty, Greek case pairs.
ALTER TABLE orders ADD COLUMN tenant_ref TEXT;
UPDATE orders SET tenant_ref = CASE order_id % 9
  WHEN 0 THEN 't1' WHEN 1 THEN 'T1' WHEN 2 THEN 't1 ' WHEN 3 THEN 't2' WHEN 4 THEN 'Ω'
  WHEN 5 THEN 'ω' WHEN 6 THEN '' WHEN 7 THEN 'T2' ELSE NULL END;
`;

const oid = (n: number): ObjectId => new ObjectId(`65f0000000000000000000${n.toString(16).padStart(2, '0')}`);
const d = (iso: string): Date => new Date(iso);

// prettier-ignore
const EVENTS: Document[] = [
  { _id: oid(1), user_id: '1', event_type: 'view', ts: d('2024-03-31T00:59:59.999Z'), payload: { sku: 'SKU-1', qty: 1 }, seq: 1 },
  { _id: oid(2), user_id: '1', event_type: 'View', ts: d('2024-03-31T01:00:00.000Z'), payload: { sku: 'sku-1', qty: 2 }, seq: 2 },
  { _id: oid(3), user_id: '1', event_type: 'VIEW', ts: d('2024-10-27T00:59:59.999Z'), payload: { sku: 'SKU-2' } },
  { _id: oid(4), user_id: '2', event_type: 'buy', ts: d('2024-10-27T00:30:00.000Z'), payload: { sku: null, qty: '3' } },
  { _id: oid(5), user_id: '2', event_type: null, ts: null, payload: null, seq: null },
  { _id: oid(6), user_id: '2' },
  { _id: oid(7), user_id: 'abc', event_type: 'view', ts: d('2024-10-27T01:00:00.000Z'), payload: { sku: 'SKU-%_\\' } },
  { _id: oid(8), user_id: '01', event_type: 'view', ts: d('2024-10-27T01:30:00.000Z') },
  { _id: oid(9), user_id: '1 ', event_type: 'view', ts: d('2024-03-10T07:00:00.000Z') },
  { _id: oid(10), user_id: BIG, event_type: 'buy', ts: d('2024-03-10T06:59:59.999Z'), payload: { qty: 2.5, sku: 'SKU-BIG' } },
  { _id: oid(11), user_id: BIG_MINUS, event_type: 'buy', ts: d('2024-11-03T05:59:59.999Z') },
  { _id: oid(12), user_id: INT8_MAX, event_type: 'search', ts: d('2024-11-03T06:00:00.000Z'), seq: Long.fromString(BIG) },
  { _id: oid(13), user_id: '-5', event_type: '\u{1F600}', ts: d('2024-11-03T06:30:00.000Z'), payload: { qty: 7, sku: 'SKU-NEG' } },
  { _id: oid(14), user_id: null, event_type: 'orphan-null' },
  { _id: oid(15), event_type: 'orphan-missing', ts: d('2024-01-01T00:00:00.000Z') },
  { _id: oid(16), user_id: '999', event_type: 'unknown-user', payload: { sku: 'SKU-1', qty: 1 } },
  { _id: oid(17), user_id: '6', event_type: '\uE000', payload: 'not an object' },
  { _id: oid(18), user_id: '6', event_type: '\uFFFF', payload: { sku: '\u{1F600}', qty: new Double(4) } },
  { _id: oid(19), user_id: '6', event_type: 'view', payload: { sku: '\uE000x', tags: ['a', 'b'] } },
  { _id: 'custom-id', user_id: '3', event_type: "it's", ts: d('2024-02-29T23:59:59.999Z'), payload: { nested: { deep: true } } },
  { _id: 'AAAA', user_id: '3', event_type: 'caps', seq: 3 },
  { _id: '65f0000000000000000000aa', user_id: '4', event_type: 'hex-like string id', seq: new Double(7) },
  { _id: oid(20), user_id: '0', event_type: 'zero', seq: new Double(7) },
  { _id: oid(21), user_id: '', event_type: 'empty-user' },
  { _id: oid(22), user_id: '12', event_type: 'line\nbreak', payload: { sku: 'a\nb', qty: -1 } },
  { _id: oid(23), user_id: '5', event_type: 'view', ts: d('1969-12-31T23:59:59.999Z'), payload: { sku: 'SKU-1', qty: 0 } },
  { _id: oid(24), user_id: '18', event_type: 'Ωmega', ts: d('2038-01-19T03:14:08.000Z'), payload: {} },
  { _id: oid(25), user_id: '13', event_type: 'view', ts: d('2024-06-03T00:00:00.000Z'), payload: { sku: 'SKU-1', qty: 3 } },
  { _id: oid(26), user_id: '13', event_type: 'buy', ts: d('2024-06-03T00:00:00.000Z'), payload: { sku: 'SKU-1', qty: 3 } },
  { _id: oid(27), user_id: '9', event_type: 'view', ts: d('2024-02-29T12:00:00.000Z'), payload: { sku: 'sku-9', qty: 9 } },
  { _id: oid(29), user_id: '22', event_type: 'zoe', ts: d('2024-05-09T00:00:00.000Z') },
  { _id: oid(30), user_id: '23', event_type: 'zoë', ts: d('2024-05-09T00:00:00.000Z') },
  { _id: oid(28), user_id: '14', event_type: 'search', ts: d('2024-06-03T00:00:00.001Z'), payload: { sku: ' SKU-1', qty: Long.fromString(BIG) } },
];

// The timestamps of one DATETIME column come in the forms SQLite files hold (0, 3 and 6 fractional
// digits, 'T' or a space, 'Z' or an offset, Unix seconds), so comparing their text is not comparing
// instants ('2024-03-31 01:00:00', '2024-03-31 01:00:00.000000' and 1711846800 are one instant);
// integers beyond 2^53 and int8's maximum; case, trailing-space, Greek case pair, NFC/NFD, LIKE and
// GLOB metacharacter keys and text.
// prettier-ignore
const ADVERSARIAL_SQLITE: NonNullable<Fixture['sqlite']> = {
  ddl: SQLITE_DDL,
  rows: {
    countries: {
      columns: COUNTRY_COLUMNS,
      values: [
        ['AT', 'Österreich', 'Wien', 9104772, 83879.0, 1, '1995-01-01', '2024-03-31 01:00:00', '20'],
        ['at', 'österreich (lower case)', 'wien', -1, -0.5, 0, '1969-12-31', '2024-03-31 00:59:59.999999', '-0.5'],
        ['At ', 'Trailing space', 'Wien ', 0, 0, 1, '2024-02-29', '2024-03-31 00:59:59.999', '0'],
        ['Ω', 'Omega \u{1D518}nicode', null, BigInt(BIG), 1e300, 1, '2038-01-19', '2038-01-19 03:14:08', '100.25'],
        ['ω', 'omega', 'Ωmega', BigInt(BIG_MINUS), 1.5, 0, null, '2024-10-27 01:30:00.123456', '0.001'],
        ['\u{1F600}', '\u{1F600} Smile', '\uE000', BigInt(INT8_MAX), 3.14159, null, '2000-01-01', '1969-12-31 23:59:59.999999', '12.5'],
        ['\uE000', 'private use', '\uFFFF', -5, -2.25, 1, '2024-10-27', '2024-10-27 00:59:59.999', null],
        ['', 'empty code', '', null, null, 0, null, '1970-01-01 00:00:00', '0'],
        ['%_\\', '100% _under_score\\', `O'Brien "Quote"`, 7, 7, 1, '2024-03-31', '2024-11-03 06:00:00', '7'],
        ['ZZ', 'line1\nline2', 'tab\there', 22, 22.5, 0, '2024-03-10', '2024-03-10T07:00:00Z', '22.22'],
        ['Zoë', 'Zoë', 'Zoe\u0308', 23, 23.25, 1, '2024-05-01', '2024-05-01T02:00:00.000001+02:00', '23'],
        ['G*', 'Glob [*?] chars', '[x]', 1, 1.25, 0, '2024-01-01', 1711846800n, '1.5'], // Unix seconds: 2024-03-31 01:00:00 UTC
        ['XX', 'Unknown', null, null, null, null, null, null, null],
      ],
    },
    tenant_countries: {
      columns: TENANT_COUNTRY_COLUMNS,
      values: [
        ['t1', 'AT', '2023-01-01', 5],
        ['T1', 'at', '2024-03-31', 3],
        ['t1 ', 'At ', null, 1],
        ['t2', 'Ω', '1969-12-31', BigInt(BIG)],
        ['t3', '\u{1F600}', '2024-02-29', null],
        ['Ω', 'ω', null, 0],
        ['ω', null, null, -1],
        ['', '', '2000-01-01', 2],
        ['tX', 'ZZ', '2024-10-27', 4],
        ['T2', 'NOPE', null, null], // a country the table does not have
        ['t9', '%_\\', null, null], // a tenant MariaDB does not know
      ],
    },
    statuses: {
      columns: STATUS_COLUMNS,
      values: [
        ['paid', 'Bezahlt', 1, 0, 14],
        ['PAID', 'BEZAHLT', 1, 0, 14],
        ['paid ', 'trailing space', 1, 0, null],
        ['shipped', 'Versandt ✈', 2, 0, 30],
        ['refunded', 'Erstattet', 3, 1, null],
        ['\u{1F600}', 'smile', 5, null, 0],
        ['\uFFFF', 'U+FFFF', 6, 1, BigInt(BIG)],
        ['ñ', 'eñe', 7, 0, -1],
        ['zoë', 'NFC', 8, 1, 8],
        ['zoe\u0308', 'NFD', 8, 1, 8],
        ['%', 'percent: no order has it', 10, null, null],
        ['Pa_d', 'LIKE-shaped: no order has it', 11, 0, 11],
      ],
    },
  },
};

function adversarialFixture(): Fixture {
  return {
    name: 'adversarial',
    mysql: {
      ddl: CUSTOMERS_DDL + TENANTS_DDL,
      rows: {
        customers: { columns: CUSTOMER_COLUMNS, values: CUSTOMERS },
        tenants: { columns: TENANT_COLUMNS, values: TENANTS },
      },
    },
    postgres: ORDERS_SQL,
    mongo: { events: EVENTS },
    sqlite: ADVERSARIAL_SQLITE,
  };
}

export type FixtureName = 'reference' | 'adversarial';

export function fixture(name: FixtureName): Fixture {
  return name === 'reference' ? referenceFixture() : adversarialFixture();
}

export const FIXTURES: FixtureName[] = ['reference', 'adversarial'];
