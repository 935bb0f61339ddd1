// Aggregates checked against PostgreSQL: a generated corpus of group/aggregate/having/order
// queries, sent over REST to table views on PostgreSQL and MariaDB and to an embedded view joining
// them, must give the rows PostgreSQL gives for the same SQL over the same data under the same
// policy (row filter, minGroupSize). NULL groups, empty inputs, numeric scale, sums of int8 beyond
// 64 bits and count(distinct) are in the data. Federated views over MariaDB and PostgreSQL cover
// partial aggregation below the join (docs/engine.md, "Aggregate pushdown") where it is sound and
// where it must decline: both give PostgreSQL's rows. The oracle is SQL text run by PostgreSQL; it shares
// no code with viewgate. A property check on every response under minGroupSize: each returned
// group comes from at least k distinct customers, counted by PostgreSQL.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { parseConfig } from '../../src/config/load.js';
import { rng } from '../support/random.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { createMongoDatabase, createMysqlDatabase, createPgDatabase, mysqlExec } from '../support/stores.js';
import { parseLossless, type Num } from '../support/lossless-json.js';

const SEED = Number(process.env.VG_ORACLE_SEED ?? 20_240_331);
const N = Number(process.env.VG_ORACLE_AGGREGATES ?? 60);
const K = 3;
/** The row budget of the view fp.budget_oc. */
const BUDGET = 80;

const COLUMNS = ['id', 'region', 'status', 'cust', 'qty', 'small', 'big', 'amount', 'price'];

function salesRows(): unknown[][] {
  const r = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const maybe = <T>(v: T): T | null => (r() < 0.15 ? null : v);
  const rows: unknown[][] = [];
  for (let id = 1; id <= 160; id++) {
    const big = r() < 0.1 ? 4_611_686_018_427_387_000n + BigInt(id) : BigInt(Math.floor(r() * 2e12) - 1e12);
    rows.push([
      id,
      pick(['north', 'North', 'south', 'east', 'west', null]),
      pick(['a', 'b', 'c']),
      1 + Math.floor(r() * 14),
      maybe(Math.floor(r() * 200) - 60),
      maybe(Math.floor(r() * 600) - 300),
      maybe(big.toString()),
      maybe((Math.floor(r() * 2_000_000) / 1000 - 500).toFixed(3)),
      maybe((Math.floor(r() * 100_000) / 100).toFixed(2)),
    ]);
  }
  return rows;
}

const SALES_DDL = (q: string) => `CREATE TABLE ${q}agg_sales${q} (
  id INT PRIMARY KEY, region VARCHAR(8) NULL, status VARCHAR(4) NOT NULL, cust INT NOT NULL, qty INT NULL,
  small SMALLINT NULL, big BIGINT NULL, amount NUMERIC(12,3) NULL, price NUMERIC(10,2) NULL)`;

/** The customers' segments, in PostgreSQL; customers 13 and 14 have none (NULL after the LEFT JOIN). */
const SEGMENTS = Array.from({ length: 12 }, (_, i) => [i + 1, ['retail', 'b2b', 'gov'][i % 3]!]);

const JOINED_SQL = (sales: string, customers: string) =>
  `SELECT s.id, s.region, s.status, s.cust, s.qty, s.amount, c.segment FROM ${sales} s LEFT JOIN ${customers} c ON c.cust = s.cust`;

/** Customers 1-12 in MariaDB (5 and 9 without a segment); orders of customers 13 and 14, and orders without one, meet none. */
const FED_CUSTOMERS = Array.from({ length: 12 }, (_, i) => [i + 1, i === 4 || i === 8 ? null : ['retail', 'b2b', 'gov'][i % 3]!, i % 2]);
/** Two or three contacts per customer: the contacts' customer column is not unique. */
const FED_CONTACTS = Array.from({ length: 30 }, (_, i) => [i + 1, (i % 12) + 1, ['mail', 'phone', 'web'][i % 3]!]);

interface FedTables {
  orders: string;
  customers: string;
  contacts: string;
}

const FED_OUTPUTS = 'o.id, o.region, o.status, o.cust, o.qty, o.small, o.big, o.amount, o.price, c.segment, c.tier';
/** Orders (PostgreSQL) joined with customers and contacts (MariaDB); the first two views aggregate below the join. */
const FED_SQL: Record<string, (t: FedTables) => string> = {
  inner_oc: (t) => `SELECT ${FED_OUTPUTS} FROM ${t.customers} c JOIN ${t.orders} o ON o.cust = c.cust`,
  left_oc: (t) => `SELECT ${FED_OUTPUTS} FROM ${t.orders} o LEFT JOIN ${t.customers} c ON c.cust = o.cust`,
  // Declined: the orders are on the NULL-padded side.
  cust_left: (t) =>
    `SELECT c.cust, c.segment, c.tier, o.id, o.status, o.qty, o.amount FROM ${t.customers} c LEFT JOIN ${t.orders} o ON o.cust = c.cust`,
  // Declined: a row of orders meets several contacts.
  contacts: (t) =>
    `SELECT o.id, o.status, o.cust, o.qty, o.amount, t.id AS contact_id, t.channel FROM ${t.orders} o JOIN ${t.contacts} t ON t.cust = o.cust`,
};
const FED_KEYS: Record<string, string[]> = { inner_oc: ['id'], left_oc: ['id'], cust_left: ['cust', 'id'], contacts: ['id', 'contact_id'] };
const FED_FIELDS: Record<string, string[]> = {
  inner_oc: FED_OUTPUTS.split(', ').map((c) => c.slice(2)),
  left_oc: FED_OUTPUTS.split(', ').map((c) => c.slice(2)),
  cust_left: ['cust', 'segment', 'tier', 'id', 'status', 'qty', 'amount'],
  contacts: ['id', 'status', 'cust', 'qty', 'amount', 'contact_id', 'channel'],
};
const ORACLE_FED: FedTables = { orders: 'agf_orders', customers: 'oracle_agf_customers', contacts: 'oracle_agf_contacts' };
const SOURCE_FED: FedTables = { orders: 'pg.agf_orders', customers: 'my.agf_customers', contacts: 'my.agf_contacts' };
const fedFrom = (view: string) => `(${FED_SQL[view]!(ORACLE_FED)}) j`;

interface Target {
  path: string;
  /** The oracle's FROM: a table or subquery over the same data, in PostgreSQL. */
  from: string;
  groupable: string[];
  metrics: [string, string][];
  /** Filters beside FILTERS. */
  filters?: string[];
  /** Columns masked for the caller: no filter, group or aggregate but count(col) names them. */
  masked?: string[];
}

const TABLE_METRICS: [string, string][] = [
  ['count(*)', 'count(*)'],
  ['count(qty)', 'count(qty)'],
  ['count(distinct region)', 'count(DISTINCT region)'],
  ['sum(qty)', 'sum(qty)'],
  ['sum(small)', 'sum(small)'],
  ['sum(big)', 'sum(big)'],
  ['sum(amount)', 'sum(amount)'],
  ['avg(qty)', 'avg(qty)'],
  ['avg(amount)', 'avg(amount)'],
  ['avg(price)', 'avg(price)'],
  ['min(region)', 'min(region)'],
  ['max(amount)', 'max(amount)'],
  ['min(big)', 'min(big)'],
];
const JOINED_METRICS: [string, string][] = [
  ['count(*)', 'count(*)'],
  ['count(segment)', 'count(segment)'],
  ['count(distinct cust)', 'count(DISTINCT cust)'],
  ['sum(qty)', 'sum(qty)'],
  ['sum(amount)', 'sum(amount)'],
  ['avg(amount)', 'avg(amount)'],
  ['max(segment)', 'max(segment)'],
];

/** Pushed below the join, except count(distinct status) (not the join key) and max(segment) (a column of the joined side). */
const FED_METRICS: [string, string][] = [
  ...TABLE_METRICS.filter(([m]) => m !== 'count(distinct region)'),
  ['count(distinct cust)', 'count(DISTINCT cust)'],
  ['count(distinct status)', 'count(DISTINCT status)'],
  ['max(segment)', 'max(segment)'],
];
const FED_DECLINED_METRICS: [string, string][] = [
  ['count(*)', 'count(*)'],
  ['count(qty)', 'count(qty)'],
  ['count(distinct cust)', 'count(DISTINCT cust)'],
  ['sum(qty)', 'sum(qty)'],
  ['avg(amount)', 'avg(amount)'],
];
/** One condition over both sides of the join: declines. */
const BOTH_SIDES = "qty > 10 or segment = 'b2b'";

const TARGETS: Target[] = [
  { path: '/pgs/_table/agg_sales', from: 'agg_sales', groupable: ['region', 'status'], metrics: TABLE_METRICS },
  { path: '/mys/_table/agg_sales', from: 'oracle_my_sales', groupable: ['region', 'status'], metrics: TABLE_METRICS },
  {
    path: '/fed/_table/joined',
    from: `(${JOINED_SQL('oracle_my_sales', 'agg_customers')}) j`,
    groupable: ['region', 'status', 'segment'],
    metrics: JOINED_METRICS,
  },
  ...['inner_oc', 'left_oc'].map((v) => ({
    path: `/fp/_table/${v}`,
    from: fedFrom(v),
    groupable: ['status', 'segment', 'tier', 'cust'],
    metrics: FED_METRICS,
    filters: [BOTH_SIDES, "segment = 'b2b'", 'tier = 1'],
  })),
  { path: '/fp/_table/cust_left', from: fedFrom('cust_left'), groupable: ['segment', 'status'], metrics: FED_DECLINED_METRICS },
  { path: '/fp/_table/contacts', from: fedFrom('contacts'), groupable: ['channel', 'status'], metrics: FED_DECLINED_METRICS },
];

const FILTERS = ['', 'qty > 10', "status = 'a'", 'amount is null', 'id < 0', 'cust in (1, 2, 3)'];

interface AggCase {
  target: Target;
  params: Record<string, string>;
  sql: string;
  /** Under minGroupSize: SQL counting the groups below k. */
  suppressedSql?: string;
  names: string[];
  kanon: boolean;
  who: Who;
}

/** The callers: every right; aggregate-only with a row filter and minGroupSize; masks (MASKS). */
type Who = 'all' | 'kanon' | 'masked';

/** The masks of role `masked` per target: each countable, except `null`, which hides even whether a value is NULL. */
const MASKS: Record<string, Record<string, string>> = {
  '/pgs/_table/agg_sales': { region: 'partial(1,0)', qty: 'redact', big: 'hash', price: 'null' },
  '/mys/_table/agg_sales': { region: 'email', qty: 'hash', small: 'redact', amount: 'null' },
  '/fed/_table/joined': { region: 'partial(1,0)', qty: 'redact', segment: 'email', amount: 'null' },
  '/fp/_table/inner_oc': { region: 'partial(1,0)', qty: 'redact', segment: 'email', big: 'hash', price: 'null' },
  '/fp/_table/left_oc': { status: 'hash', segment: 'partial(2,1)', amount: 'redact', small: 'null' },
  '/fp/_table/cust_left': { segment: 'email', qty: 'redact', amount: 'null' },
  '/fp/_table/contacts': { channel: 'partial(2,1)', qty: 'redact', amount: 'null' },
};

const mentions = (text: string, column: string) => new RegExp(`\\b${column}\\b`).test(text);

/** `t` as role `masked` may aggregate it: no masked column in groups, filters or aggregates, and count(col) of each countable one. */
function maskedTarget(t: Target): Target {
  const masks = MASKS[t.path]!;
  const masked = Object.keys(masks);
  const free = (text: string) => !masked.some((c) => mentions(text, c));
  const counts = masked.filter((c) => masks[c] !== 'null').map((c): [string, string] => [`count(${c})`, `count(${c})`]);
  return { ...t, groupable: t.groupable.filter(free), metrics: [...t.metrics.filter(([m]) => free(m)), ...counts], masked };
}

const alias = (rest: string) =>
  rest
    .replace(/\(\*\)/, '')
    .replace(/\(distinct (\w+)\)/, '_distinct_$1')
    .replace(/\((\w+)\)/, '_$1');

function genCase(r: () => number, target: Target, who: Who): AggCase {
  const kanon = who === 'kanon';
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const group = target.groupable.filter(() => r() < 0.45);
  const allowed = kanon ? target.metrics.filter(([m]) => !/^(min|max)/.test(m)) : target.metrics;
  const chosen = [...new Set(Array.from({ length: 1 + Math.floor(r() * 3) }, () => pick(allowed)))];
  const withN = r() < 0.6;
  const metrics = [
    ...(withN ? ([['count(*) as n', 'count(*)']] as [string, string][]) : []),
    ...chosen.filter(([m]) => !(withN && m === 'count(*)')),
  ];
  const names = [...group, ...metrics.map(([m]) => (m.includes(' as ') ? m.split(' as ')[1]! : alias(m)))];
  const filter = pick([...FILTERS, ...(target.filters ?? [])].filter((f) => !target.masked?.some((c) => mentions(f, c))));
  const having = withN && r() < 0.4 ? pick(['n > 3', 'n <= 6']) : '';
  const orderName = r() < 0.5 ? pick(names) : undefined;
  const desc = r() < 0.5;
  const limit = r() < 0.3 ? pick([1, 2, 5]) : undefined;
  const rowFilter = kanon ? "status <> 'c'" : '';
  const where = [rowFilter, filter]
    .filter(Boolean)
    .map((f) => `(${f})`)
    .join(' AND ');
  const select = [...group, ...metrics.map(([, s], i) => `${s} AS ${names[group.length + i]}`)];
  const size = kanon ? 'count(DISTINCT cust)' : undefined;
  const havingSql = [size ? `${size} >= ${K}` : '', having.replace(/\bn\b/, 'count(*)')].filter(Boolean).join(' AND ');
  const order = [
    ...(orderName ? [`${orderName} ${desc ? 'DESC' : 'ASC'}`] : []),
    ...group.filter((g) => g !== orderName).map((g) => `${g} ASC`),
  ];
  const groupBy = group.length ? ` GROUP BY ${group.join(', ')}` : '';
  const sql =
    `SELECT ${select.join(', ')}${size ? `, ${size} AS size_k` : ''} FROM ${target.from}${where ? ` WHERE ${where}` : ''}${groupBy}` +
    `${havingSql ? ` HAVING ${havingSql}` : ''}${order.length ? ` ORDER BY ${order.join(', ')}` : ''}${limit ? ` LIMIT ${limit}` : ''}`;
  const params: Record<string, string> = { fields: [...group, ...metrics.map(([m]) => m)].join(',') };
  if (group.length) params.group = group.join(',');
  if (filter) params.filter = filter;
  if (having) params.having = having;
  if (orderName) params.order = `${orderName} ${desc ? 'desc' : 'asc'}`;
  if (limit) params.limit = String(limit);
  const suppressedSql = kanon
    ? `SELECT count(*) AS c FROM (SELECT 1 FROM ${target.from}${where ? ` WHERE ${where}` : ''}${groupBy} HAVING ${size} < ${K}) x`
    : undefined;
  return { target, params, sql, names, kanon, who, ...(suppressedSql ? { suppressedSql } : {}) };
}

let oracleDb: Awaited<ReturnType<typeof createPgDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let mongoDb: Awaited<ReturnType<typeof createMongoDatabase>>;
let pool: pg.Pool;
let srv: RunningServer;
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

beforeAll(async () => {
  oracleDb = await createPgDatabase('agg_oracle');
  myDb = await createMysqlDatabase('agg_oracle');
  mongoDb = await createMongoDatabase('agp_oracle');
  // The same sales in FerretDB, without the decimal and int8 columns; a NULL field is left out.
  await mongoDb.client
    .db(mongoDb.name)
    .collection('agp_sales')
    .insertMany(
      salesRows().map((r) =>
        Object.fromEntries(['id', 'region', 'status', 'cust', 'qty', 'small'].flatMap((c, i) => (r[i] === null ? [] : [[c, r[i]]]))),
      ),
    );
  pool = new pg.Pool({
    connectionString: oracleDb.url,
    max: 4,
    types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig,
  });
  const rows = salesRows();
  const marks = (n: number, pgStyle: boolean) =>
    rows.map((_, i) => `(${COLUMNS.map((__, j) => (pgStyle ? `$${i * n + j + 1}` : '?')).join(', ')})`).join(', ');
  await pool.query(SALES_DDL('"'));
  await pool.query(SALES_DDL('"').replace('"agg_sales"', 'oracle_my_sales'));
  await pool.query(`INSERT INTO agg_sales VALUES ${marks(COLUMNS.length, true)}`, rows.flat());
  await pool.query(`INSERT INTO oracle_my_sales VALUES ${marks(COLUMNS.length, true)}`, rows.flat());
  await pool.query('CREATE TABLE agg_customers (cust INT PRIMARY KEY, segment TEXT NOT NULL)');
  await pool.query(
    `INSERT INTO agg_customers VALUES ${SEGMENTS.map((_, i) => `($${2 * i + 1}, $${2 * i + 2})`).join(', ')}`,
    SEGMENTS.flat(),
  );
  // Orders in PostgreSQL, some without a customer; customers and contacts in MariaDB, copied for the oracle.
  await pool.query(
    'CREATE TABLE agf_orders AS SELECT id, region, status, CASE WHEN id % 13 = 0 THEN NULL ELSE cust END AS cust, qty, small, big, amount, price FROM agg_sales',
  );
  await pool.query('ALTER TABLE agf_orders ADD PRIMARY KEY (id)');
  const customersDdl = (t: string) => `CREATE TABLE ${t} (cust INT PRIMARY KEY, segment VARCHAR(8) NULL, tier INT NOT NULL)`;
  const contactsDdl = (t: string) => `CREATE TABLE ${t} (id INT PRIMARY KEY, cust INT NOT NULL, channel VARCHAR(8) NOT NULL)`;
  const values = (rows: unknown[][], pgStyle: boolean) =>
    rows.map((r, i) => `(${r.map((_, j) => (pgStyle ? `$${i * r.length + j + 1}` : '?')).join(', ')})`).join(', ');
  await pool.query(customersDdl('oracle_agf_customers'));
  await pool.query(`INSERT INTO oracle_agf_customers VALUES ${values(FED_CUSTOMERS, true)}`, FED_CUSTOMERS.flat());
  await pool.query(contactsDdl('oracle_agf_contacts'));
  await pool.query(`INSERT INTO oracle_agf_contacts VALUES ${values(FED_CONTACTS, true)}`, FED_CONTACTS.flat());
  await mysqlExec(myDb.url, customersDdl('agf_customers'));
  await mysqlExec(myDb.url, `INSERT INTO agf_customers VALUES ${values(FED_CUSTOMERS, false)}`, FED_CUSTOMERS.flat());
  await mysqlExec(myDb.url, contactsDdl('agf_contacts'));
  await mysqlExec(myDb.url, `INSERT INTO agf_contacts VALUES ${values(FED_CONTACTS, false)}`, FED_CONTACTS.flat());
  await mysqlExec(myDb.url, SALES_DDL('`'));
  await mysqlExec(myDb.url, 'CREATE TABLE agp_measures (id INT PRIMARY KEY, grp VARCHAR(8) NOT NULL, w DOUBLE NULL)');
  await mysqlExec(myDb.url, "INSERT INTO agp_measures VALUES (1, 'A', 0.1), (2, 'a', 0.2), (3, 'A', 0.3), (4, 'a ', NULL)");
  await mysqlExec(myDb.url, `INSERT INTO agg_sales VALUES ${marks(COLUMNS.length, false)}`, rows.flat());
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    audit: { sink: 'off' },
    masking: { hashSecret: 'aggregate-oracle-hash-secret' },
    logging: { level: 'silent' },
    sources: {
      pg: { kind: 'postgres', url: oracleDb.url },
      my: { kind: 'mysql', url: myDb.url },
      mg: {
        kind: 'mongodb',
        url: mongoDb.url,
        database: mongoDb.name,
        collections: {
          agp_sales: {
            columns: Object.fromEntries(
              ['id', 'cust', 'qty', 'small']
                .map((c) => [c, { type: 'int' }])
                .concat(['region', 'status'].map((c) => [c, { type: 'text' }])),
            ),
          },
        },
      },
    },
    services: {
      pgs: { source: 'pg', tables: ['agg_sales'] },
      mys: { source: 'my', tables: ['agg_sales', 'agp_measures'] },
      mgs: { source: 'mg', tables: ['agp_sales'] },
      fed: { engine: 'embedded', views: { joined: { key: ['id'], sql: JOINED_SQL('my.agg_sales', 'pg.agg_customers') } } },
      fp: {
        engine: 'embedded',
        views: {
          ...Object.fromEntries(Object.keys(FED_SQL).map((v) => [v, { key: FED_KEYS[v], sql: FED_SQL[v]!(SOURCE_FED) }])),
          // 160 orders, more than the budget; grouped per customer and status they are at most 45 partial groups.
          budget_oc: { key: ['id'], sql: FED_SQL.left_oc!(SOURCE_FED), rowBudget: BUDGET },
        },
      },
    },
    auth: {
      apiKeys: [
        { name: 'all', sha256: sha('key-all'), role: 'all' },
        { name: 'kanon', sha256: sha('key-kanon'), role: 'kanon' },
        { name: 'regions', sha256: sha('key-regions'), role: 'regions' },
        { name: 'masked', sha256: sha('key-masked'), role: 'masked' },
      ],
    },
    roles: {
      all: { grants: { '*': { read: true, aggregate: true, explain: true } } },
      // distinctOn a column that is neither the join key nor always a group column.
      regions: {
        grants: {
          'fp.left_oc': { read: true, aggregate: true, explain: true, minGroupSize: { k: 2, distinctOn: 'region' } },
          'fp.inner_oc': { read: true, aggregate: true, explain: true, minGroupSize: { k: K, distinctOn: 'cust' } },
        },
      },
      masked: {
        grants: Object.fromEntries(
          Object.entries(MASKS).map(([path, masks]) => [path.replace(/^\/(\w+)\/_table\//, '$1.'), { read: true, aggregate: true, masks }]),
        ),
      },
      kanon: {
        grants: {
          '*': {
            read: false,
            aggregate: true,
            rowFilter: "status <> 'c'",
            minGroupSize: { k: K, distinctOn: 'cust' },
            fields: ['id', 'region', 'status', 'qty', 'small', 'big', 'amount', 'price', 'segment', 'cust'],
          },
        },
      },
    },
  };
  // The fields list names columns a view may lack: give each view its own grant instead.
  const kanonGrant = config.roles.kanon.grants['*'];
  config.roles.kanon.grants = {
    'pgs.*': { ...kanonGrant, fields: COLUMNS },
    'mys.agg_sales': { ...kanonGrant, fields: COLUMNS },
    'mgs.*': { ...kanonGrant, fields: ['id', 'region', 'status', 'cust', 'qty', 'small'] },
    'fed.*': { ...kanonGrant, fields: ['id', 'region', 'status', 'cust', 'qty', 'amount', 'segment'] },
    ...Object.fromEntries(Object.entries(FED_FIELDS).map(([v, fields]) => [`fp.${v}`, { ...kanonGrant, fields }])),
  } as unknown as typeof config.roles.kanon.grants;
  srv = await startServer(parseConfig(JSON.stringify(config), 'agg-oracle.yaml', {}));
}, 120_000);

afterAll(async () => {
  await srv?.close();
  await pool?.end();
  await oracleDb?.drop();
  await myDb?.drop();
  await mongoDb?.drop();
});

/** A REST value as text: integers by their digits, numerics by their text, NULL as null. */
const asText = (v: unknown): string | null =>
  v === null ? null : typeof v === 'object' && v !== null && 'num' in v ? (v as Num).num : String(v);

async function check(c: AggCase): Promise<string | undefined> {
  const who = c.who;
  const res = await fetch(`${srv.url}/api/v2${c.target.path}?${new URLSearchParams(c.params).toString()}`, {
    headers: { 'X-API-Key': `key-${who}` },
  });
  const text = await res.text();
  const where = `${who} GET ${c.target.path}?${new URLSearchParams(c.params).toString()}\n  oracle: ${c.sql}`;
  if (res.status !== 200) return `${where}\n  status ${res.status}: ${text}`;
  const body = parseLossless(text) as { resource: Record<string, unknown>[]; meta: Record<string, unknown> };
  const oracle = await pool.query(c.sql);
  for (const row of oracle.rows as Record<string, string>[]) {
    // The property: every group returned is built from at least k distinct customers.
    if (c.kanon && Number(row.size_k) < K) return `${where}\n  oracle group below k: ${JSON.stringify(row)}`;
  }
  const got = body.resource.map((r) => JSON.stringify(c.names.map((n) => asText(r[n]))));
  const want = (oracle.rows as Record<string, string | null>[]).map((r) => JSON.stringify(c.names.map((n) => r[n] ?? null)));
  if (JSON.stringify(got) !== JSON.stringify(want)) return `${where}\n  got  ${got.join(' ')}\n  want ${want.join(' ')}`;
  if (c.suppressedSql) {
    const s = await pool.query(c.suppressedSql);
    const expected = Number((s.rows[0] as { c: string }).c);
    const meta = body.meta.suppressed_groups as Num | undefined;
    if (meta?.num !== String(expected)) return `${where}\n  suppressed_groups ${meta?.num} want ${expected}`;
  }
  return undefined;
}

describe('aggregates against PostgreSQL', () => {
  it(`a generated corpus (${N} queries per target and role) gives PostgreSQL's rows`, async () => {
    const r = rng(SEED + 1);
    const failures: string[] = [];
    for (const target of TARGETS) {
      for (const kanon of [false, true]) {
        for (let i = 0; i < N; i++) {
          const failure = await check(genCase(r, target, kanon ? 'kanon' : 'all'));
          if (failure) failures.push(failure);
        }
      }
    }
    expect(failures.slice(0, 6).join('\n\n'), `${failures.length} of ${TARGETS.length * 2 * N} differ`).toBe('');
  }, 300_000);

  it('count_only under minGroupSize is a number only when at least k customers match', async () => {
    for (const target of TARGETS) {
      for (const filter of ['cust = 1', 'cust in (1, 2)', 'cust in (1, 2, 3)', '']) {
        const res = await fetch(
          `${srv.url}/api/v2${target.path}?${new URLSearchParams({ count_only: 'true', ...(filter ? { filter } : {}) })}`,
          {
            headers: { 'X-API-Key': 'key-kanon' },
          },
        );
        const where = `WHERE status <> 'c'${filter ? ` AND ${filter}` : ''}`;
        const o = (await pool.query(`SELECT count(*) AS n, count(DISTINCT cust) AS k FROM ${target.from} ${where}`)).rows[0] as {
          n: string;
          k: string;
        };
        if (Number(o.k) < K) expect(res.status, `${target.path} ${filter}`).toBe(403);
        else expect(await res.text(), `${target.path} ${filter}`).toBe(o.n);
      }
    }
  });
});

type Misuse = 'group' | 'aggregate' | 'having' | 'order';

/** One use of a masked column that SPEC 12 refuses, added to an answered case of role `masked`: the parameter the 400 must name. */
function misuse(r: () => number, c: AggCase): { kind: Misuse; params: Record<string, string>; field: string } {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const masks = MASKS[c.target.path]!;
  const field = pick(Object.keys(masks));
  const kind = pick<Misuse>(['group', 'aggregate', 'having', 'order']);
  const p = { ...c.params };
  if (kind === 'group') {
    p.group = [field, ...(p.group ? [p.group] : [])].join(',');
    p.fields = `${field},${p.fields}`;
  } else if (kind === 'aggregate') {
    // Under a null mask not even count(col) is allowed.
    const fns = ['count(distinct #)', 'sum(#)', 'avg(#)', 'min(#)', 'max(#)', ...(masks[field] === 'null' ? ['count(#)'] : [])];
    p.fields = `${p.fields},${pick(fns).replace('#', field)} as misused`;
  } else if (kind === 'having') {
    p.having = p.having ? `(${p.having}) and ${field} is not null` : `${field} is not null`;
  } else {
    p.order = [`${field} desc`, ...(p.order ? [p.order] : [])].join(',');
  }
  return { kind, params: p, field };
}

async function checkMisuse(c: AggCase, m: ReturnType<typeof misuse>): Promise<string | undefined> {
  const query = new URLSearchParams(m.params).toString();
  const res = await fetch(`${srv.url}/api/v2${c.target.path}?${query}`, { headers: { 'X-API-Key': 'key-masked' } });
  const text = await res.text();
  const param = m.kind === 'aggregate' ? 'fields' : m.kind;
  const error =
    res.status === 400 ? (JSON.parse(text) as { error: { message: string; context: Record<string, unknown> } }).error : undefined;
  if (error?.context.param === param && error.context.field === m.field && error.message.includes(`"${m.field}" is masked`))
    return undefined;
  return `masked GET ${c.target.path}?${query}\n  want 400 naming "${m.field}" in ${param}; got ${res.status}: ${text}`;
}

async function getAll(path: string, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v2${path}?${new URLSearchParams(params).toString()}`, { headers: { 'X-API-Key': 'key-all' } });
  const text = await res.text();
  return { status: res.status, body: parseLossless(text) };
}

describe('masked fields in aggregates', () => {
  it(`count(masked) gives PostgreSQL's count; a masked field in group, having, order or another aggregate is a 400 naming it`, async () => {
    const r = rng(SEED + 2);
    const failures: string[] = [];
    let counted = 0;
    const misused: Record<Misuse, number> = { group: 0, aggregate: 0, having: 0, order: 0 };
    for (const target of TARGETS) {
      const masked = maskedTarget(target);
      for (let i = 0; i < N; i++) {
        const c = genCase(r, masked, 'masked');
        if (masked.masked!.some((col) => c.params.fields!.includes(`count(${col})`))) counted++;
        const answered = await check(c);
        if (answered) failures.push(answered);
        const m = misuse(r, c);
        misused[m.kind]++;
        const refused = await checkMisuse(c, m);
        if (refused) failures.push(refused);
      }
    }
    const total = TARGETS.length * N;
    expect(failures.slice(0, 6).join('\n\n'), `${failures.length} of ${2 * total} wrong`).toBe('');
    // The corpus must count masked columns often, and misuse them every way.
    expect(counted, `${counted} of ${total} cases count a masked column`).toBeGreaterThan(total / 4);
    for (const [kind, n] of Object.entries(misused)) expect(n, kind).toBeGreaterThan(total / 10);
  }, 300_000);
});

describe('where aggregates run', () => {
  const FULL = 'region,count(*) as n,count(distinct status),sum(qty),sum(big),avg(amount),avg(qty),min(region),max(price)';
  for (const path of ['/pgs/_table/agg_sales', '/mys/_table/agg_sales']) {
    it(`${path}: explain says every aggregate runs in the store, and the groups are PostgreSQL's`, async () => {
      const plan = await getAll(path, { fields: FULL, group: 'region', filter: 'qty > 0', explain: 'true' });
      expect(plan.status, JSON.stringify(plan.body)).toBe(200);
      expect(Object.values(plan.body.explain.plan.aggregates)).toEqual(Array(8).fill('store'));
      expect(plan.body.explain.queries).toHaveLength(1);
      expect(plan.body.explain.queries[0].text).toMatch(/GROUP BY 1/);
    });
  }

  it('MariaDB groups text by its bytes: North and north are two groups, as in PostgreSQL', async () => {
    const got = await getAll('/mys/_table/agg_sales', {
      fields: 'region,count(*) as n,min(region) as lo',
      group: 'region',
      order: 'region asc',
    });
    expect(got.status).toBe(200);
    const want = await pool.query(
      'SELECT region, count(*)::text AS n, min(region) AS lo FROM oracle_my_sales GROUP BY region ORDER BY region COLLATE "C" ASC',
    );
    const rows = (got.body.resource as Record<string, unknown>[]).map((r) => [r.region, asText(r.n), r.lo]);
    expect(rows).toEqual((want.rows as Record<string, unknown>[]).map((r) => [r.region, r.n, r.lo]));
    expect(rows.map((r) => r[0])).toEqual(expect.arrayContaining(['North', 'north']));
  });

  it('MariaDB: text with trailing blanks and other case stays apart; a double sum runs in process', async () => {
    const grouped = await getAll('/mys/_table/agp_measures', { fields: 'grp,count(*) as n', group: 'grp', order: 'grp asc' });
    expect(grouped.body.resource.map((r: Record<string, unknown>) => [r.grp, asText(r.n)])).toEqual([
      ['A', '2'],
      ['a', '1'],
      ['a ', '1'],
    ]);
    const counted = await getAll('/mys/_table/agp_measures', { fields: 'grp,count(*) as n', group: 'grp', explain: 'true' });
    expect(counted.body.explain.plan.aggregates).toEqual({ n: 'store' });
    const summed = await getAll('/mys/_table/agp_measures', { fields: 'grp,count(*) as n,sum(w)', group: 'grp', explain: 'true' });
    expect(summed.body.explain.plan.aggregates).toEqual({ n: 'process', sum_w: 'process' });
    const sums = await getAll('/mys/_table/agp_measures', { fields: 'grp,sum(w)', group: 'grp', order: 'grp asc' });
    expect(sums.body.resource.map((r: Record<string, unknown>) => asText(r.sum_w))).toEqual([String(0.1 + 0.3), '0.2', null]);
  });
});

describe('aggregates over FerretDB', () => {
  const MONGO_CASES: [Record<string, string>, string, 'store' | 'process'][] = [
    [{ fields: 'count(*) as n' }, 'SELECT count(*) AS n FROM oracle_my_sales', 'store'],
    [{ fields: 'count(*) as n', filter: 'qty > 10' }, 'SELECT count(*) AS n FROM oracle_my_sales WHERE qty > 10', 'store'],
    [{ fields: 'count(*) as n', filter: "region = 'North'" }, "SELECT count(*) AS n FROM oracle_my_sales WHERE region = 'North'", 'store'],
    [{ fields: 'count(*) as n', filter: 'id < 0' }, 'SELECT count(*) AS n FROM oracle_my_sales WHERE id < 0', 'store'],
    [
      { fields: 'region,count(*) as n,sum(qty),avg(small)', group: 'region', order: 'region asc' },
      'SELECT region, count(*) AS n, sum(qty) AS sum_qty, avg(small) AS avg_small FROM oracle_my_sales GROUP BY region ORDER BY region COLLATE "C" ASC',
      'process',
    ],
    [{ fields: 'sum(qty),count(qty)' }, 'SELECT sum(qty) AS sum_qty, count(qty) AS count_qty FROM oracle_my_sales', 'process'],
  ];
  for (const [params, sql, ranIn] of MONGO_CASES) {
    it(`${new URLSearchParams(params).toString()}: PostgreSQL's rows, aggregated in the ${ranIn}`, async () => {
      const got = await getAll('/mgs/_table/agp_sales', params);
      expect(got.status, JSON.stringify(got.body)).toBe(200);
      const oracle = await pool.query(sql);
      const names = oracle.fields.map((f) => f.name);
      const rows = (got.body.resource as Record<string, unknown>[]).map((r) => names.map((n) => asText(r[n])));
      expect(rows).toEqual((oracle.rows as Record<string, string | null>[]).map((r) => names.map((n) => r[n] ?? null)));
      const plan = await getAll('/mgs/_table/agp_sales', { ...params, explain: 'true' });
      expect(new Set(Object.values(plan.body.explain.plan.aggregates))).toEqual(new Set([ranIn]));
      if (ranIn === 'store') expect(plan.body.explain.queries[0].text).toMatch(/\$group/);
    });
  }

  it('count_only under minGroupSize counts in FerretDB and still refuses fewer than k customers', async () => {
    for (const [filter, status] of [
      ['cust = 1', 403],
      ['cust in (1, 2, 3)', 200],
    ] as const) {
      const res = await fetch(`${srv.url}/api/v2/mgs/_table/agp_sales?${new URLSearchParams({ count_only: 'true', filter }).toString()}`, {
        headers: { 'X-API-Key': 'key-kanon' },
      });
      expect(res.status, filter).toBe(status);
    }
  });
});

describe('partial aggregation below a federated join', () => {
  /** The REST groups of `params` against the oracle's rows for `sql`; names from the oracle's columns. */
  async function expectOracle(path: string, params: Record<string, string>, sql: string, who = 'all'): Promise<any> {
    const res = await fetch(`${srv.url}/api/v2${path}?${new URLSearchParams(params).toString()}`, {
      headers: { 'X-API-Key': `key-${who}` },
    });
    const body = parseLossless(await res.text()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    const oracle = await pool.query(sql);
    const names = oracle.fields.map((f) => f.name);
    const rows = (body.resource as Record<string, unknown>[]).map((r) => names.map((n) => asText(r[n])));
    expect(rows, `${path} ${JSON.stringify(params)}`).toEqual(
      (oracle.rows as Record<string, string | null>[]).map((r) => names.map((n) => r[n] ?? null)),
    );
    return body;
  }

  async function explainOf(path: string, params: Record<string, string>, who = 'all'): Promise<any> {
    const res = await fetch(`${srv.url}/api/v2${path}?${new URLSearchParams({ ...params, explain: 'true' }).toString()}`, {
      headers: { 'X-API-Key': `key-${who}` },
    });
    const body = parseLossless(await res.text()) as any;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body.explain;
  }

  const fed = (view: string, where = '') => `${fedFrom(view)}${where ? ` WHERE ${where}` : ''}`;

  /** [path, params, oracle SQL, the store that aggregates below the join]. */
  const PUSHED: [string, Record<string, string>, string, string][] = [
    [
      '/fp/_table/left_oc',
      {
        fields: 'status,segment,count(*) as n,count(qty),sum(amount),sum(big),avg(price),min(region),max(small),count(distinct cust)',
        group: 'status,segment',
      },
      'SELECT status, segment, count(*) AS n, count(qty) AS count_qty, sum(amount) AS sum_amount, sum(big) AS sum_big, avg(price) AS avg_price, ' +
        `min(region) AS min_region, max(small) AS max_small, count(DISTINCT cust) AS count_distinct_cust FROM ${fed('left_oc')} GROUP BY status, segment ORDER BY status, segment`,
      'pg',
    ],
    [
      '/fp/_table/inner_oc',
      { fields: 'tier,count(*) as n,sum(qty),avg(amount)', group: 'tier', filter: "status = 'a'" },
      `SELECT tier, count(*) AS n, sum(qty) AS sum_qty, avg(amount) AS avg_amount FROM ${fed('inner_oc', "status = 'a'")} GROUP BY tier ORDER BY tier`,
      'pg',
    ],
    [
      // A condition on the joined side alone filters its rows before the join.
      '/fp/_table/left_oc',
      { fields: 'cust,count(*) as n,sum(qty)', group: 'cust', filter: "segment = 'b2b'" },
      `SELECT cust, count(*) AS n, sum(qty) AS sum_qty FROM ${fed('left_oc', "segment = 'b2b'")} GROUP BY cust ORDER BY cust`,
      'pg',
    ],
    [
      // No group: one row, NULL join keys included (LEFT).
      '/fp/_table/left_oc',
      { fields: 'count(*) as n,sum(amount),avg(qty)' },
      `SELECT count(*) AS n, sum(amount) AS sum_amount, avg(qty) AS avg_qty FROM ${fed('left_oc')}`,
      'pg',
    ],
    [
      '/fp/_table/inner_oc',
      { fields: 'count(*) as n,sum(qty)', filter: 'id < 0' },
      `SELECT count(*) AS n, sum(qty) AS sum_qty FROM ${fed('inner_oc', 'id < 0')}`,
      'pg',
    ],
    [
      // Sales in MariaDB, customers in PostgreSQL.
      '/fed/_table/joined',
      { fields: 'region,segment,count(*) as n,sum(qty),avg(amount)', group: 'region,segment' },
      `SELECT region, segment, count(*) AS n, sum(qty) AS sum_qty, avg(amount) AS avg_amount FROM (${JOINED_SQL('oracle_my_sales', 'agg_customers')}) j GROUP BY region, segment ORDER BY region, segment`,
      'my',
    ],
  ];
  for (const [path, params, sql, store] of PUSHED) {
    it(`${path}?${new URLSearchParams(params).toString()}: aggregated in "${store}" below the join, PostgreSQL's rows`, async () => {
      await expectOracle(path, params, sql);
      const explain = await explainOf(path, params);
      expect(new Set(Object.values(explain.plan.aggregates))).toEqual(new Set(['store']));
      const grouped = (explain.queries as { source: string; text: string }[]).filter((q) => /GROUP BY/.test(q.text));
      expect(grouped.length, JSON.stringify(explain.queries)).toBeGreaterThan(0);
      expect(new Set(grouped.map((q) => q.source))).toEqual(new Set([store]));
      expect(explain.plan.text).toContain('partial groups in store: GROUP BY');
    });
  }

  /** [why, path, params, oracle SQL]. */
  const DECLINED: [string, string, Record<string, string>, string][] = [
    [
      'the joined key is not unique',
      '/fp/_table/contacts',
      { fields: 'status,count(*) as n,sum(qty),avg(amount)', group: 'status' },
      `SELECT status, count(*) AS n, sum(qty) AS sum_qty, avg(amount) AS avg_amount FROM ${fed('contacts')} GROUP BY status ORDER BY status`,
    ],
    [
      'the aggregated side is NULL-padded',
      '/fp/_table/cust_left',
      { fields: 'segment,count(*) as n,count(qty),sum(qty)', group: 'segment' },
      `SELECT segment, count(*) AS n, count(qty) AS count_qty, sum(qty) AS sum_qty FROM ${fed('cust_left')} GROUP BY segment ORDER BY segment`,
    ],
    [
      'a condition over both sides',
      '/fp/_table/left_oc',
      { fields: 'status,count(*) as n,sum(qty)', group: 'status', filter: BOTH_SIDES },
      `SELECT status, count(*) AS n, sum(qty) AS sum_qty FROM ${fed('left_oc', BOTH_SIDES)} GROUP BY status ORDER BY status`,
    ],
    [
      'count(distinct) not on the join key',
      '/fp/_table/left_oc',
      { fields: 'segment,count(distinct status),sum(qty)', group: 'segment' },
      `SELECT segment, count(DISTINCT status) AS count_distinct_status, sum(qty) AS sum_qty FROM ${fed('left_oc')} GROUP BY segment ORDER BY segment`,
    ],
    [
      'an aggregate over the joined side',
      '/fp/_table/inner_oc',
      { fields: 'status,count(segment),sum(qty)', group: 'status' },
      `SELECT status, count(segment) AS count_segment, sum(qty) AS sum_qty FROM ${fed('inner_oc')} GROUP BY status ORDER BY status`,
    ],
  ];
  for (const [why, path, params, sql] of DECLINED) {
    it(`declined when ${why}: aggregated in process, PostgreSQL's rows`, async () => {
      await expectOracle(path, params, sql);
      const explain = await explainOf(path, params);
      expect(new Set(Object.values(explain.plan.aggregates))).toEqual(new Set(['process']));
      expect((explain.queries as { text: string }[]).some((q) => /GROUP BY/.test(q.text))).toBe(false);
    });
  }

  it('minGroupSize distinctOn: pushed on the join key or a group column, declined on another column', async () => {
    // [view, distinctOn, k, group, where it runs]
    const cases = [
      ['inner_oc', 'cust', K, 'status', 'store'],
      ['left_oc', 'region', 2, 'region', 'store'],
      ['left_oc', 'region', 2, 'status', 'process'],
    ] as const;
    for (const [view, on, k, group, ranIn] of cases) {
      const params = { fields: `${group},count(*) as n,sum(qty)`, group };
      const from = `${fed(view)} GROUP BY ${group}`;
      const sql = `SELECT ${group}, count(*) AS n, sum(qty) AS sum_qty FROM ${from} HAVING count(DISTINCT ${on}) >= ${k} ORDER BY ${group}`;
      const body = await expectOracle(`/fp/_table/${view}`, params, sql, 'regions');
      const below = await pool.query(`SELECT count(*) AS c FROM (SELECT 1 FROM ${from} HAVING count(DISTINCT ${on}) < ${k}) x`);
      expect(asText(body.meta.suppressed_groups), `${view} ${group}`).toBe((below.rows[0] as { c: string }).c);
      const explain = await explainOf(`/fp/_table/${view}`, params, 'regions');
      expect(new Set(Object.values(explain.plan.aggregates)), `${view} ${group}`).toEqual(new Set([ranIn]));
    }
  });

  it('the row budget bounds the partial groups: more rows than the budget aggregate when their partial groups fit', async () => {
    const rows = Number((await pool.query('SELECT count(*) AS n FROM agf_orders')).rows[0].n);
    expect(rows).toBeGreaterThan(BUDGET);
    // In process the aggregation reads every row: over the budget.
    const declined = await getAll('/fp/_table/budget_oc', { fields: 'status,count(distinct region)', group: 'status' });
    expect(declined.status).toBe(422);
    expect(declined.body.error.message).toContain(`${BUDGET} rows`);
    const params = { fields: 'status,segment,count(*) as n,sum(amount),avg(qty)', group: 'status,segment' };
    await expectOracle(
      '/fp/_table/budget_oc',
      params,
      `SELECT status, segment, count(*) AS n, sum(amount) AS sum_amount, avg(qty) AS avg_qty FROM ${fed('left_oc')} GROUP BY status, segment ORDER BY status, segment`,
    );
    const explain = await explainOf('/fp/_table/budget_oc', params);
    const fetched = (store: string) => Number(asText(explain.plan.fetched[store]));
    expect(fetched('pg') + fetched('my')).toBeLessThanOrEqual(BUDGET);
  });
});
