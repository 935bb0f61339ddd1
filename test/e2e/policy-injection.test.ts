// Injection attempts through every client parameter (filter, fields, order, ids, /{id}, limit,
// offset) against all three stores, over real HTTP. Each attempt is refused with a 4xx or treated
// as a literal value (and then matches nothing), and a fingerprint of every store taken before and
// after proves nothing changed: same tables and collections, same rows, same contents.
import { createHash } from 'node:crypto';
import { MongoClient } from 'mongodb';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createReferenceStores,
  get,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';

let stores: ReferenceStores;
let srv: RunningServer;
let before: Fingerprint;

interface Fingerprint {
  mysqlTables: string;
  customers: string;
  pgTables: string;
  orders: string;
  mongoCollections: string;
  events: string;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** Tables/collections with their row counts and a checksum of their full contents. */
async function fingerprint(): Promise<Fingerprint> {
  const my = await mysql.createConnection(stores.env.CRM_MYSQL_URL!);
  const pgc = new pg.Client({ connectionString: stores.env.APP_PG_URL });
  const mongo = new MongoClient(stores.env.EVENTS_MONGO_URL!);
  try {
    await pgc.connect();
    await mongo.connect();
    const [tables] = await my.query('SHOW TABLES');
    const [crm] = await my.query('SELECT * FROM customers ORDER BY customer_id');
    const pgTables = await pgc.query("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1");
    const orders = await pgc.query("SELECT count(*)::int AS n, md5(string_agg(o::text, '|' ORDER BY order_id)) AS sum FROM orders o");
    const db = mongo.db(stores.env.EVENTS_MONGO_DB!);
    const collections = (await db.listCollections().toArray()).map((c) => c.name).sort();
    const events = await db.collection('events').find({}).sort({ _id: 1 }).toArray();
    return {
      mysqlTables: JSON.stringify(tables),
      customers: `${(crm as unknown[]).length}:${md5(JSON.stringify(crm))}`,
      pgTables: JSON.stringify(pgTables.rows),
      orders: `${orders.rows[0].n}:${orders.rows[0].sum}`,
      mongoCollections: JSON.stringify(collections),
      events: `${events.length}:${md5(JSON.stringify(events))}`,
    };
  } finally {
    await my.end();
    await pgc.end();
    await mongo.close();
  }
}

beforeAll(async () => {
  stores = await createReferenceStores('policy_inject');
  srv = await startServer(referenceConfig(stores.env));
  before = await fingerprint();
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

const internal = { 'X-API-Key': KEYS.internal };
const partner = { 'X-API-Key': KEYS.partner };

const VIEWS = {
  'crm.customers (MariaDB)': { path: '/crm/_table/customers', text: 'tenant_id', key: 'customer_id' },
  'app.orders (PostgreSQL)': { path: '/app/_table/orders', text: 'status', key: 'order_id' },
  'analytics.events (FerretDB)': { path: '/analytics/_table/events', text: 'event_type', key: '_id' },
} as const;

/** Values that must only ever be data: quotes, statement breaks, comments, operators, unicode look-alikes. */
const NASTY_STRINGS = [
  "'; DROP TABLE customers; --",
  "' OR '1'='1",
  "x' OR 1=1 #",
  '"; DROP TABLE orders; --',
  '`customers`; DROP TABLE `customers`',
  "\\'; DROP TABLE customers; --",
  '/* comment */ OR 1=1',
  '1; SELECT pg_sleep(5)',
  "'||(SELECT version())||'",
  '{"$ne": null}',
  '{"$where": "sleep(1000) || true"}',
  '$where',
  "'; db.events.drop(); '",
  'ʼ OR ʼ1ʼ=ʼ1', // U+02BC modifier apostrophe
  '＇ OR 1=1 －－', // fullwidth apostrophe and hyphens
  'admin\u200B', // zero-width space
  '\u202Edrop table', // right-to-left override
  '%',
  '_',
  '\\',
];

/** U+0000 cannot be stored in PostgreSQL text; it is refused as a 400 for every store alike. */
const NUL = 'nul\u0000byte';

/** A literal inside the filter grammar: single quotes doubled. */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function call(path: string, params: Record<string, string>, headers = internal) {
  const qs = new URLSearchParams(params).toString();
  return get(`${srv.url}/api/v2${path}${qs ? `?${qs}` : ''}`, headers);
}

function refused(r: { status: number; text: string }, what: string): void {
  expect(r.status, what).toBeGreaterThanOrEqual(400);
  expect(r.status, what).toBeLessThan(500);
  expect(r.text, what).not.toMatch(/\n\s+at /); // never a stack trace
}

describe.each(Object.entries(VIEWS))('%s', (_name, v) => {
  it('filter: nasty strings are only literal values and change nothing', async () => {
    for (const s of NASTY_STRINGS) {
      for (const filter of [
        `${v.text} = ${lit(s)}`,
        `${v.text} in (${lit(s)}, ${lit(s + 'x')})`,
        `${v.text} > ${lit(s)} and ${v.text} < ${lit(s)}`,
      ]) {
        const r = await call(v.path, { filter });
        expect(r.status, filter).toBe(200);
        expect(r.body.resource, filter).toEqual([]);
      }
      // `contains` treats % _ \\ as text too: every row returned holds the string literally.
      const c = await call(v.path, { filter: `${v.text} contains ${lit(s)}` });
      expect(c.status, s).toBe(200);
      for (const row of c.body.resource) expect(String(row[v.text]), s).toContain(s);
    }
    const underscore = await call(v.path, { filter: `${v.text} contains '_'`, fields: v.text });
    const all = await call(v.path, { fields: v.text, limit: '1000' });
    expect(underscore.body.resource).toEqual(all.body.resource.filter((row: any) => String(row[v.text]).includes('_')));
  });

  it('filter and ids: a NUL character is a 400 in every store, never a store error', async () => {
    for (const filter of [`${v.text} = ${lit(NUL)}`, `${v.text} contains ${lit(NUL)}`, `${v.text} in ('a', ${lit(NUL)})`]) {
      const r = await call(v.path, { filter });
      refused(r, filter);
      expect(r.body.error.context.param).toBe('filter');
    }
    refused(await call(v.path, { ids: NUL }), 'ids NUL');
  });

  it('filter: SQL/MQL outside quotes is a 400 that names the parameter', async () => {
    const attempts = [
      `${v.key} = 1; DROP TABLE customers`,
      `${v.key} = 1 OR 1=1`,
      `${v.text} = 'x' OR 1=1`,
      `${v.text} = 'x'; --`,
      `${v.text} = 'x' -- comment`,
      `${v.text} = 'x' /* c */`,
      `${v.text} = 'x' # c`,
      `\`${v.text}\` = 'x'`,
      `${v.text} = "x"`,
      `"${v.text} = 'x' OR 1=1" = 'x'`,
      `${v.text} = 'x' UNION SELECT * FROM customers`,
      `${v.text} in ('x', (SELECT 1))`,
      `${v.text} = x`,
      `${v.text} = 'unterminated`,
      `${v.text} = 'x' ＯＲ 1=1`,
      `${v.text} = 0x41`,
      `{"$where": "true"}`,
      `{"${v.text}": {"$ne": null}}`,
      `$where = 'true'`,
      `${v.text}.$ne = 1`,
      `${v.text} $ne 'x'`,
      `${v.text} = {claims.tenant_id}`,
      `sleep(5) = 0`,
      `${v.text} = 'a' or ${'('.repeat(200)}${v.text} = 'b'${')'.repeat(200)}`,
    ];
    for (const filter of attempts) {
      const r = await call(v.path, { filter });
      refused(r, filter);
      expect(r.body.error.context.param, filter).toBe('filter');
    }
  });

  it('fields and order: anything but a column name of the caller is a 400', async () => {
    const names = [
      `${v.key}; DROP TABLE customers`,
      `${v.key},(SELECT 1)`,
      `\`${v.key}\``,
      `"${v.key}"`,
      `${v.key}--`,
      `${v.key}/**/`,
      '$where',
      '$natural',
      'payload.qty',
      '__proto__',
      'constructor',
      `${v.key}\u0000`,
      `${v.key}ʼ`,
    ];
    for (const n of names) {
      refused(await call(v.path, { fields: n }), `fields=${n}`);
      refused(await call(v.path, { order: n }), `order=${n}`);
    }
    // An aggregate is a field only with `aggregate: true` (the internal role's grant has it); as an order of rows it is not.
    refused(await call(v.path, { order: 'count(*)' }), 'order=count(*)');
    for (const order of [
      `${v.key} desc; DROP TABLE orders`,
      `${v.key} desc nulls first`,
      `${v.key} asc--`,
      '1',
      `RAND()`,
      `${v.key} desc, (SELECT 1)`,
    ]) {
      refused(await call(v.path, { order }), `order=${order}`);
    }
  });

  it('limit and offset: only plain whole numbers', async () => {
    for (const n of [
      '1; DROP TABLE customers',
      '1 OR 1=1',
      '-1',
      '1e3',
      '0x10',
      '1.5',
      '99999999999999999999',
      '1/**/',
      '１０',
      "1'",
      '{"$gt":0}',
    ]) {
      refused(await call(v.path, { limit: n }), `limit=${n}`);
      refused(await call(v.path, { offset: n }), `offset=${n}`);
    }
  });

  it('ids and /{id}: coerced to the key type, or matched as literal text', async () => {
    for (const s of NASTY_STRINGS.filter((x) => !x.includes(','))) {
      const r = await call(v.path, { ids: s });
      if (v.key === '_id') {
        // A text key: the value is data, it matches nothing.
        expect(r.status, s).toBe(200);
        expect(r.body.resource, s).toEqual([]);
      } else {
        refused(r, `ids=${s}`);
        expect(r.body.error.context.param, s).toBe('ids');
      }
      const one = await get(`${srv.url}/api/v2${v.path}/${encodeURIComponent(s)}`, internal);
      expect(one.status, s).toBe(v.key === '_id' ? 404 : 400);
    }
    const intKey = await call(v.path, { ids: '1 OR 1=1' });
    if (v.key !== '_id') refused(intKey, 'ids=1 OR 1=1');
  });
});

describe('the row filter holds against injection', () => {
  it('a partner cannot widen its tenant with any filter', async () => {
    for (const filter of [
      "tenant_id = 't1' or customer_id > 0",
      "tenant_id = 't2' or tenant_id != 't2'",
      "not (tenant_id = 't2')",
      "tenant_id in ('t1', 't3') or full_name like '%'",
      "full_name = '' or '1' = '1'",
      `tenant_id = ${lit("t2' OR '1'='1")}`,
    ]) {
      const r = await call('/crm/_table/customers', { filter, limit: '100' }, partner);
      if (r.status === 200) {
        expect(
          r.body.resource.every((row: any) => row.tenant_id === 't2'),
          filter,
        ).toBe(true);
      } else {
        refused(r, filter);
      }
    }
    const all = await call('/crm/_table/customers', { limit: '100', include_count: 'true' }, partner);
    expect(all.body.meta.count).toBe(6);
  });
});

describe('afterwards', () => {
  it('every store is exactly as before: same tables, same rows, same contents', async () => {
    const after = await fingerprint();
    expect(after).toEqual(before);
    expect(before.customers.startsWith('16:')).toBe(true);
    expect(before.orders.startsWith('18:')).toBe(true);
    expect(Number(before.events.split(':')[0])).toBeGreaterThan(0);
  });
});
