#!/usr/bin/env node
// Federation benchmark (issue 3 item 7): the embedded engine against a PostgreSQL FDW hub.
//
//   npm run build && node bench/federation/run.mjs [--iterations N] [--budget MS] [--keep] [--reuse] [--hub-only] [--two-stores]
//
// All in one run, on 127.0.0.1 only:
//  1. generates the data server-side in private databases:
//       MariaDB  vg_bench_fed_crm.customers        100,000 rows (Sequence engine, INSERT ... SELECT)
//       Postgres vg_bench_fed_app.orders          1,000,000 rows (generate_series); 90% of customers have orders
//       FerretDB vg_bench_fed_events.events         200,000 documents (batched insertMany)
//  2. sets up a PostgreSQL hub (vg_bench_fed_hub) itself: postgres_fdw for the orders, mysql_fdw for the
//     customers (through a MariaDB user with a password over 127.0.0.1, which mysql_fdw needs), and
//     the view `customers LEFT JOIN orders` in schema federation;
//  3. measures, for (1) a one-customer query and (2) a one-tenant page (tenant filter, ORDER BY,
//     LIMIT 50): the embedded engine (engine.execute directly, and through REST: `viewgate serve`
//     as its own process, as deployed, called by a keep-alive node:http client), the hub, and the
//     direct single-store queries (mysql2 / pg) as the floor: p50/p95/p99 and rows fetched per store;
//     every path is warmed up first (up to WARMUP calls or WARMUP_MS), as a running server is;
//  4. the three-store reference view (customers, orders, events) on the embedded engine alone;
//  5. writes bench/federation/last-run.json and last-run.md (machine, date, commit, tables).
// --keep leaves the vg_bench_fed_* databases (and the MariaDB user) in place; --reuse skips
// generation when they exist with the right row counts; --two-stores leaves out (4), whose time is
// FerretDB's scans (minutes on two cores); --hub-only measures the hub and the
// floors without the engine (a check of the setup).
// The stores: VG_BENCH_PG_URL, VG_BENCH_MYSQL_URL, VG_BENCH_MONGO_URL (127.0.0.1 only; default:
// the local stores of docs/testing.md). Iterations are bounded (count and a per-scenario time
// budget).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { MongoClient } from 'mongodb';
import { startViewgate } from '../lib/setup.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dist = (p) => import(new URL(`../../dist/${p}`, import.meta.url).href);
const { parseConfig } = await dist('config/load.js');
const { Sources } = await dist('sources/index.js');
const { buildEmbeddedView } = await dist('engine/embedded/index.js');
const { parseFilter } = await dist('query/filter-parser.js');
const { bindFilter } = await dist('query/bind.js');

// ---- options ------------------------------------------------------------------------------------

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ITER = opt('iterations', 200);
const BUDGET_MS = opt('budget', 20_000); // per scenario
// Calls before timing starts, as many as fit in WARMUP_MS: a running server's paths are compiled
// by V8 already. Ten calls (before 2026-12-01) left viewgate's longer paths cold: V8 was still
// compiling them on its worker threads while they were timed (about 450 us of CPU per REST request).
const WARMUP = 5000;
const WARMUP_MS = 8000;

const PG_URL = process.env.VG_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MYSQL_URL = process.env.VG_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/';
const MONGO_URL = process.env.VG_BENCH_MONGO_URL ?? 'mongodb://127.0.0.1:27017/';
for (const u of [PG_URL, MYSQL_URL, MONGO_URL]) {
  if (new URL(u).hostname !== '127.0.0.1') throw new Error(`bench: only 127.0.0.1 is allowed (${u})`);
}

// vg_bench_fed_*: the other bench scripts (bench/lib/setup.mjs) use vg_bench_crm/app/events for the demo data.
const DB = { crm: 'vg_bench_fed_crm', app: 'vg_bench_fed_app', analytics: 'vg_bench_fed_events', hub: 'vg_bench_fed_hub' };
const FDW_USER = 'vg_bench_fdw';
const FDW_PASSWORD = 'vg-bench-fdw-local-only';
const CUSTOMERS = 100_000;
const ORDERS = 1_000_000;
const EVENTS = 200_000;
const TENANTS = 100;

const withDb = (url, db) => {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
};

const say = (msg) => process.stderr.write(`${msg}\n`);

// ---- seeded PRNG (same inputs every run) ---------------------------------------------------------

function rng(seed) {
  let s = seed >>> 0;
  return () => {
    let t = (s = (s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const r = rng(20240331);
const customerIds = Array.from({ length: 2000 }, () => 1 + Math.floor(r() * CUSTOMERS));
/** A customer that has orders (ids above 90% of CUSTOMERS have none), for EXPLAIN. */
const WITH_ORDERS = customerIds.find((id) => id <= CUSTOMERS * 0.9);
const tenantIds = Array.from({ length: 2000 }, () => `t${String(Math.floor(r() * TENANTS)).padStart(2, '0')}`);

// ---- data ---------------------------------------------------------------------------------------

async function pgExec(db, sql, params = []) {
  const c = new pg.Client({ connectionString: withDb(PG_URL, db) });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

async function exists() {
  try {
    const p = await pgExec(DB.app, 'SELECT count(*)::int AS n FROM orders');
    const m = await mysql.createConnection(MYSQL_URL);
    const [rows] = await m.query(`SELECT COUNT(*) AS n FROM ${DB.crm}.customers`).finally(() => m.end());
    const c = new MongoClient(MONGO_URL);
    await c.connect();
    const n = await c
      .db(DB.analytics)
      .collection('events')
      .estimatedDocumentCount()
      .finally(() => c.close());
    return p.rows[0].n === ORDERS && Number(rows[0].n) === CUSTOMERS && n === EVENTS;
  } catch {
    return false;
  }
}

async function generate() {
  let t = Date.now();
  const m = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  try {
    await m.query(`DROP DATABASE IF EXISTS ${DB.crm}; CREATE DATABASE ${DB.crm} CHARACTER SET utf8mb4; USE ${DB.crm};
      CREATE TABLE customers (
        customer_id INT NOT NULL PRIMARY KEY,
        tenant_id VARCHAR(16) NOT NULL,
        email VARCHAR(255) NOT NULL,
        full_name VARCHAR(255) NOT NULL,
        is_active TINYINT(1) NOT NULL,
        created_at DATETIME(6) NOT NULL,
        KEY customers_tenant (tenant_id, customer_id)
      ) DEFAULT CHARSET=utf8mb4;
      INSERT INTO customers
        SELECT seq, CONCAT('t', LPAD(seq % ${TENANTS}, 2, '0')), CONCAT('user', seq, '@example.org'), CONCAT('Customer ', seq),
               seq % 10 <> 0, TIMESTAMP('2024-01-01 00:00:00') + INTERVAL seq MINUTE
          FROM seq_1_to_${CUSTOMERS};
      ANALYZE TABLE customers;`);
    // mysql_fdw logs in with a password over TCP.
    for (const host of ['127.0.0.1', 'localhost']) {
      await m.query(`CREATE USER IF NOT EXISTS '${FDW_USER}'@'${host}' IDENTIFIED BY '${FDW_PASSWORD}'`);
      await m.query(`GRANT SELECT ON ${DB.crm}.* TO '${FDW_USER}'@'${host}'`);
    }
  } finally {
    await m.end();
  }
  say(`  MariaDB: ${CUSTOMERS} customers in ${Date.now() - t} ms`);

  t = Date.now();
  for (const db of [DB.hub, DB.app]) await pgExec('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await pgExec('postgres', `CREATE DATABASE ${DB.app}`);
  await pgExec(
    DB.app,
    `CREATE TABLE orders (
       order_id BIGINT PRIMARY KEY,
       customer_id INT NOT NULL,
       total_amount NUMERIC(12,2) NOT NULL,
       status TEXT NOT NULL,
       created_at TIMESTAMPTZ NOT NULL);
     INSERT INTO orders
       SELECT g, 1 + (g * 7) % ${Math.floor(CUSTOMERS * 0.9)}, ((g::bigint * 7919) % 100000) / 100.0,
              (ARRAY['paid', 'shipped', 'refunded'])[1 + g % 3], '2024-01-01'::timestamptz + g * interval '1 minute'
         FROM generate_series(1, ${ORDERS}) g;
     CREATE INDEX orders_customer ON orders (customer_id);
     ANALYZE orders;`,
  );
  say(`  PostgreSQL: ${ORDERS} orders in ${Date.now() - t} ms`);

  t = Date.now();
  const c = new MongoClient(MONGO_URL);
  await c.connect();
  try {
    const db = c.db(DB.analytics);
    await db.dropDatabase();
    const events = db.collection('events');
    const types = ['view', 'add_to_cart', 'buy', 'search'];
    const base = Date.parse('2024-06-01T00:00:00Z');
    for (let i = 0; i < EVENTS; i += 5000) {
      const docs = [];
      for (let k = i; k < Math.min(EVENTS, i + 5000); k++) {
        docs.push({
          user_id: String(1 + ((k * 13) % CUSTOMERS)),
          event_type: types[k % 4],
          ts: new Date(base + k * 60_000),
          payload: { sku: `SKU-${k % 50}`, qty: 1 + (k % 5) },
        });
      }
      await events.insertMany(docs, { ordered: false });
    }
    await events.createIndex({ user_id: 1 });
  } finally {
    await c.close();
  }
  say(`  FerretDB: ${EVENTS} events in ${Date.now() - t} ms`);
}

async function setupHub() {
  const t = Date.now();
  await pgExec('postgres', `DROP DATABASE IF EXISTS ${DB.hub} WITH (FORCE)`);
  await pgExec('postgres', `CREATE DATABASE ${DB.hub}`);
  const app = new URL(withDb(PG_URL, DB.app));
  const crm = new URL(MYSQL_URL);
  await pgExec(
    DB.hub,
    `CREATE EXTENSION postgres_fdw;
     CREATE EXTENSION mysql_fdw;
     CREATE SERVER app_srv FOREIGN DATA WRAPPER postgres_fdw
       OPTIONS (host '127.0.0.1', port '${app.port || 5432}', dbname '${DB.app}', use_remote_estimate 'true', fetch_size '10000');
     CREATE USER MAPPING FOR CURRENT_USER SERVER app_srv OPTIONS (user '${decodeURIComponent(app.username || 'postgres')}');
     CREATE SCHEMA app_map;
     IMPORT FOREIGN SCHEMA public LIMIT TO (orders) FROM SERVER app_srv INTO app_map;
     CREATE SERVER crm_srv FOREIGN DATA WRAPPER mysql_fdw OPTIONS (host '127.0.0.1', port '${crm.port || 3306}');
     CREATE USER MAPPING FOR CURRENT_USER SERVER crm_srv OPTIONS (username '${FDW_USER}', password '${FDW_PASSWORD}');
     CREATE SCHEMA mysql_map;
     IMPORT FOREIGN SCHEMA ${DB.crm} LIMIT TO (customers) FROM SERVER crm_srv INTO mysql_map;
     CREATE SCHEMA federation;
     CREATE VIEW federation.customer_orders AS
       SELECT c.customer_id, c.tenant_id, c.email, o.order_id, o.total_amount
         FROM mysql_map.customers c LEFT JOIN app_map.orders o ON o.customer_id = c.customer_id;`,
  );
  for (const t of ['app_map.orders', 'mysql_map.customers']) {
    await pgExec(DB.hub, `ANALYZE ${t}`).catch((e) => say(`  (ANALYZE ${t}: ${e.message})`));
  }
  say(`  hub (postgres_fdw + mysql_fdw) in ${Date.now() - t} ms`);
}

async function dropAll() {
  for (const db of [DB.hub, DB.app]) await pgExec('postgres', `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  const m = await mysql.createConnection(MYSQL_URL);
  await m.query(`DROP DATABASE IF EXISTS ${DB.crm}`);
  for (const host of ['127.0.0.1', 'localhost']) await m.query(`DROP USER IF EXISTS '${FDW_USER}'@'${host}'`);
  await m.end();
  const c = new MongoClient(MONGO_URL);
  await c.connect();
  await c.db(DB.analytics).dropDatabase();
  await c.close();
}

// ---- viewgate config -------------------------------------------------------------------------------

const BENCH_KEY = 'vg_bench_internal_key';

/** The bench's viewgate config, as the JSON text a viewgate.yaml may hold. */
function configText() {
  const sha = createHash('sha256').update(BENCH_KEY).digest('hex');
  const cfg = {
    server: { host: '127.0.0.1', port: 0 },
    engine: { rowBudget: 100_000, batchSize: 500 },
    audit: { sink: 'off' },
    logging: { level: 'silent' },
    sources: {
      crm: { kind: 'mysql', url: withDb(MYSQL_URL, DB.crm), timeout: '30s', pool: 8 },
      app: { kind: 'postgres', url: withDb(PG_URL, DB.app), timeout: '30s', pool: 8 },
      analytics: {
        kind: 'mongodb',
        url: MONGO_URL,
        database: DB.analytics,
        timeout: '60s',
        pool: 8,
        collections: {
          events: {
            columns: {
              _id: { type: 'text' },
              user_id: { type: 'text' },
              event_type: { type: 'text' },
              ts: { type: 'timestamptz' },
              sku: { type: 'text', path: 'payload.sku' },
              payload: { type: 'jsonb' },
            },
          },
        },
      },
    },
    services: {
      bench: {
        engine: 'embedded',
        views: {
          customer_orders: {
            key: ['customer_id', 'order_id'],
            sql: `SELECT c.customer_id, c.tenant_id, c.email, o.order_id, o.total_amount
                  FROM crm.customers c LEFT JOIN app.orders o ON o.customer_id = c.customer_id`,
          },
          activity: {
            key: ['customer_id', 'order_id', 'event_id'],
            rowBudget: 200_000,
            sql: `SELECT c.customer_id, c.tenant_id, c.email, o.order_id, o.total_amount,
                         e._id AS event_id, e.event_type, e.ts AS event_ts
                  FROM crm.customers c
                  LEFT JOIN app.orders o ON o.customer_id = c.customer_id
                  LEFT JOIN analytics.events e ON e.user_id = c.customer_id::text`,
          },
        },
      },
    },
    auth: { apiKeys: [{ name: 'bench', sha256: sha, role: 'internal' }] },
    roles: { internal: { grants: { '*': { read: true } } } },
  };
  return JSON.stringify(cfg);
}

function config() {
  return parseConfig(configText(), 'bench.yaml', {});
}

// ---- measuring ----------------------------------------------------------------------------------

function pct(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/** Runs fn(i) up to WARMUP times within WARMUP_MS, then up to ITER times within BUDGET_MS; latencies in ms. */
async function measure(name, fn, iterations = ITER) {
  const warm = Date.now();
  for (let i = 0; i < WARMUP && (i < 1 || Date.now() - warm < WARMUP_MS); i++) await fn(i + 1000);
  const lat = [];
  const extra = [];
  const start = Date.now();
  for (let i = 0; i < iterations && (Date.now() - start < BUDGET_MS || lat.length < 5); i++) {
    const t0 = process.hrtime.bigint();
    const x = await fn(i);
    lat.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (x !== undefined) extra.push(x);
  }
  const s = [...lat].sort((a, b) => a - b);
  const res = { name, n: s.length, p50: pct(s, 0.5), p95: pct(s, 0.95), p99: pct(s, 0.99), mean: s.reduce((a, b) => a + b, 0) / s.length };
  if (extra.length > 0 && typeof extra[0] === 'object') {
    const keys = [...new Set(extra.flatMap((e) => Object.keys(e)))];
    res.fetched = Object.fromEntries(keys.map((k) => [k, extra.reduce((a, e) => a + (e[k] ?? 0), 0) / extra.length]));
  }
  say(
    `  ${name.padEnd(44)} n=${String(res.n).padStart(4)}  p50 ${res.p50.toFixed(2)}  p95 ${res.p95.toFixed(2)}  p99 ${res.p99.toFixed(2)} ms${res.fetched ? `  fetched ${JSON.stringify(roundAll(res.fetched))}` : ''}`,
  );
  return res;
}

/** Rows fetched and native queries sent per store, from an EngineResult. */
const account = (r) => {
  const out = { ...r.fetched };
  for (const q of r.queries) out[`${q.source} queries`] = (out[`${q.source} queries`] ?? 0) + 1;
  return out;
};

const roundAll = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, Math.round(v * 10) / 10]));

function engineQuery(view, filter, order, limit) {
  const types = new Map(view.columns.map((c) => [c.name, c.type]));
  const orderBy = order.map((c) => ({ column: c, desc: false }));
  for (const k of view.key) if (!order.includes(k)) orderBy.push({ column: k, desc: false });
  return {
    columns: view.columns.map((c) => c.name),
    where: bindFilter(parseFilter(filter), { columnType: (f) => types.get(f) }),
    orderBy,
    limit,
    offset: 0,
    count: false,
  };
}

/** Rows each foreign table returned (actual rows x loops) and its loops, from EXPLAIN ANALYZE. */
async function hubFetched(client, sql, params) {
  const res = await client.query(`EXPLAIN (ANALYZE, VERBOSE, FORMAT JSON) ${sql}`, params);
  const plan = res.rows[0]['QUERY PLAN'][0];
  const out = {};
  const walk = (n) => {
    if (n['Node Type'] === 'Foreign Scan') {
      const rel = n['Relation Name'] ?? n['Relations'] ?? 'join';
      const store = rel === 'customers' ? 'crm' : rel === 'orders' ? 'app' : rel;
      out[store] = (out[store] ?? 0) + n['Actual Rows'] * n['Actual Loops'];
      out[`${store} round trips (loops)`] = (out[`${store} round trips (loops)`] ?? 0) + n['Actual Loops'];
    }
    for (const c of n.Plans ?? []) walk(c);
  };
  walk(plan.Plan);
  const text = await client.query(`EXPLAIN (VERBOSE, COSTS OFF) ${sql}`, params);
  return { fetched: out, plan: text.rows.map((r) => r['QUERY PLAN']).join('\n') };
}

function machine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT }).toString().trim();
    if (dirty) commit += ' (+ uncommitted changes in src/)';
  } catch {
    /* not a checkout */
  }
  return {
    date: new Date().toISOString(),
    nproc: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    cpu: model,
    commit,
    node: process.version,
  };
}

// ---- main ---------------------------------------------------------------------------------------

async function main() {
  const info = machine();
  say(`federation bench: ${info.cpu}, ${info.nproc} cpus, ${info.memoryGiB} GiB, commit ${info.commit}`);
  if (flag('reuse') && (await exists())) say('reusing the vg_bench_* databases');
  else {
    say('generating data...');
    await generate();
  }
  await setupHub();

  const cfg = config();
  const sources = new Sources(cfg);
  await sources.connect();
  const svc = cfg.services.bench;
  // --hub-only: the hub and the floors alone (to check the setup while the engine is not there).
  const hubOnly = flag('hub-only');
  const twoStore = hubOnly
    ? undefined
    : await buildEmbeddedView({ service: 'bench', name: 'customer_orders', view: svc.views.customer_orders, config: cfg, sources });
  const threeStore =
    hubOnly || flag('two-stores')
      ? undefined
      : await buildEmbeddedView({ service: 'bench', name: 'activity', view: svc.views.activity, config: cfg, sources });

  const hub = new pg.Client({ connectionString: withDb(PG_URL, DB.hub) });
  await hub.connect();
  const crm = await mysql.createConnection({
    uri: withDb(MYSQL_URL, DB.crm),
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
  });
  const app = new pg.Client({ connectionString: withDb(PG_URL, DB.app) });
  await app.connect();

  // REST: a `viewgate serve` process of its own, as deployed (the client's work is not on its thread).
  const configDir = mkdtempSync(join(os.tmpdir(), 'vg-bench-fed-'));
  writeFileSync(join(configDir, 'viewgate.yaml'), configText());
  const server = await startViewgate(join(configDir, 'viewgate.yaml'), {});
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const rest = (path) =>
    new Promise((resolve, reject) => {
      const req = request(`${server.url}${path}`, { agent, headers: { 'X-API-Key': BENCH_KEY } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`REST ${res.statusCode}: ${body.slice(0, 300)}`))));
      });
      req.on('error', reject);
      req.end();
    });

  const results = { machine: info, sizes: { customers: CUSTOMERS, orders: ORDERS, events: EVENTS, tenants: TENANTS }, scenarios: {} };
  const HUB_ONE =
    'SELECT customer_id, tenant_id, email, order_id, total_amount FROM federation.customer_orders WHERE customer_id = $1 ORDER BY customer_id, order_id LIMIT 50';
  const HUB_PAGE =
    'SELECT customer_id, tenant_id, email, order_id, total_amount FROM federation.customer_orders WHERE tenant_id = $1 ORDER BY customer_id, order_id LIMIT 50';

  try {
    // Sanity: the engine and the hub give the same rows.
    if (hubOnly) return await hubOnlyRun(hub, crm, app, HUB_ONE, HUB_PAGE);
    for (const [q, hubSql, p] of [
      [engineQuery(twoStore, `customer_id = ${customerIds[0]}`, [], 50), HUB_ONE, customerIds[0]],
      [engineQuery(twoStore, `tenant_id = '${tenantIds[0]}'`, ['customer_id'], 50), HUB_PAGE, tenantIds[0]],
    ]) {
      const e = await twoStore.engine.execute(q);
      const h = await hub.query(hubSql, [p]);
      const key = (x) => `${x.customer_id}/${x.order_id}/${x.total_amount}`;
      if (e.rows.map(key).join() !== h.rows.map(key).join()) throw new Error(`engine and hub disagree for ${p}`);
    }

    say('\n(1) one customer: customer_id = N (customers LEFT JOIN orders)');
    const one = {};
    one.engine = await measure('embedded engine.execute', async (i) =>
      account(await twoStore.engine.execute(engineQuery(twoStore, `customer_id = ${customerIds[i % 2000]}`, [], 50))),
    );
    one.rest = await measure(
      'embedded via REST',
      async (i) =>
        void (await rest(
          `/api/v2/bench/_table/customer_orders?filter=${encodeURIComponent(`customer_id = ${customerIds[i % 2000]}`)}&limit=50`,
        )),
    );
    one.hub = await measure('hub (mysql_fdw + postgres_fdw)', async (i) => void (await hub.query(HUB_ONE, [customerIds[i % 2000]])));
    one.hubPrepared = await measure(
      'hub, named prepared statement',
      async (i) => void (await hub.query({ name: 'hub_one', text: HUB_ONE, values: [customerIds[i % 2000]] })),
    );
    one.hubFetched = await hubFetched(hub, HUB_ONE, [WITH_ORDERS]);
    one.floorCrm = await measure(
      'floor: MariaDB customer by id',
      async (i) =>
        void (await crm.execute('SELECT customer_id, tenant_id, email FROM customers WHERE customer_id = ?', [customerIds[i % 2000]])),
    );
    one.floorApp = await measure(
      'floor: PostgreSQL orders of a customer',
      async (i) =>
        void (await app.query('SELECT order_id, customer_id, total_amount FROM orders WHERE customer_id = $1', [customerIds[i % 2000]])),
    );
    one.floor = await measure('floor: both, one after the other', async (i) => {
      const id = customerIds[i % 2000];
      await crm.execute('SELECT customer_id, tenant_id, email FROM customers WHERE customer_id = ?', [id]);
      await app.query('SELECT order_id, customer_id, total_amount FROM orders WHERE customer_id = $1', [id]);
    });
    results.scenarios.oneCustomer = one;

    say('\n(2) one tenant page: tenant_id = T ORDER BY customer_id LIMIT 50');
    const page = {};
    page.engine = await measure('embedded engine.execute', async (i) =>
      account(await twoStore.engine.execute(engineQuery(twoStore, `tenant_id = '${tenantIds[i % 2000]}'`, ['customer_id'], 50))),
    );
    page.rest = await measure(
      'embedded via REST',
      async (i) =>
        void (await rest(
          `/api/v2/bench/_table/customer_orders?filter=${encodeURIComponent(`tenant_id = '${tenantIds[i % 2000]}'`)}&order=customer_id&limit=50`,
        )),
    );
    page.hubFetched = await hubFetched(hub, HUB_PAGE, [tenantIds[0]]);
    page.hub = await measure('hub (mysql_fdw + postgres_fdw)', async (i) => void (await hub.query(HUB_PAGE, [tenantIds[i % 2000]])), 50);
    page.hubPrepared = await measure(
      'hub, named prepared statement',
      async (i) => void (await hub.query({ name: 'hub_page', text: HUB_PAGE, values: [tenantIds[i % 2000]] })),
      50,
    );
    page.floorCrm = await measure(
      'floor: MariaDB tenant page of customers',
      async (i) =>
        void (await crm.execute('SELECT customer_id, tenant_id, email FROM customers WHERE tenant_id = ? ORDER BY customer_id LIMIT 50', [
          tenantIds[i % 2000],
        ])),
    );
    page.floor = await measure('floor: customers page, then their orders', async (i) => {
      const [rows] = await crm.execute(
        'SELECT customer_id, tenant_id, email FROM customers WHERE tenant_id = ? ORDER BY customer_id LIMIT 50',
        [tenantIds[i % 2000]],
      );
      await app.query('SELECT order_id, customer_id, total_amount FROM orders WHERE customer_id = ANY($1)', [
        rows.map((r) => r.customer_id),
      ]);
    });
    // What the engine fetches since it pushes ORDER BY + LIMIT into the orders too (docs/engine.md, step 9).
    page.floorFirst = await measure('floor: customers page, then their first 51 orders', async (i) => {
      const [rows] = await crm.execute(
        'SELECT customer_id, tenant_id, email FROM customers WHERE tenant_id = ? ORDER BY customer_id LIMIT 50',
        [tenantIds[i % 2000]],
      );
      await app.query(
        'SELECT order_id, customer_id, total_amount FROM orders WHERE customer_id = ANY($1) ORDER BY customer_id, order_id LIMIT 51',
        [rows.map((r) => r.customer_id)],
      );
    });
    results.scenarios.tenantPage = page;

    if (threeStore) results.scenarios.threeStore = await threeStores(threeStore, customerIds, tenantIds);
  } finally {
    agent.destroy();
    await server.stop();
    rmSync(configDir, { recursive: true, force: true });
    await sources.close();
    await hub.end();
    await app.end();
    await crm.end();
    if (!flag('keep')) await dropAll();
  }

  writeFileSync(new URL('./last-run.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(new URL('./last-run.md', import.meta.url), markdown(results));
  process.stdout.write(markdown(results));
}

/** (3): the reference view over three stores, on the embedded engine, and FerretDB's own floor. */
async function threeStores(threeStore, customerIds, tenantIds) {
  say('\n(3) three stores (reference view, + 200k events in FerretDB): embedded engine only');
  const three = {};
  three.oneCustomer = await measure(
    'embedded: one customer',
    async (i) => account(await threeStore.engine.execute(engineQuery(threeStore, `customer_id = ${customerIds[i % 2000]}`, [], 50))),
    100,
  );
  three.tenantPage = await measure(
    'embedded: one tenant page',
    async (i) =>
      account(await threeStore.engine.execute(engineQuery(threeStore, `tenant_id = '${tenantIds[i % 2000]}'`, ['customer_id'], 50))),
    50,
  );
  const mongo = new MongoClient(MONGO_URL);
  await mongo.connect();
  const events = mongo.db(DB.analytics).collection('events');
  three.floorMongo = await measure(
    'floor: FerretDB events of one user (driver)',
    async (i) => {
      void (await events.find({ user_id: String(customerIds[i % 2000]) }).toArray());
    },
    100,
  );
  await mongo.close();
  return three;
}

async function hubOnlyRun(hub, crm, app, HUB_ONE, HUB_PAGE) {
  await measure('hub one customer', async (i) => void (await hub.query(HUB_ONE, [customerIds[i % 2000]])));
  say((await hubFetched(hub, HUB_ONE, [customerIds[0]])).plan);
  say(JSON.stringify((await hubFetched(hub, HUB_PAGE, [tenantIds[0]])).fetched));
  say((await hubFetched(hub, HUB_PAGE, [tenantIds[0]])).plan);
  await measure('hub tenant page', async (i) => void (await hub.query(HUB_PAGE, [tenantIds[i % 2000]])), 20);
  await measure(
    'floor: MariaDB customer by id',
    async (i) =>
      void (await crm.execute('SELECT customer_id, tenant_id, email FROM customers WHERE customer_id = ?', [customerIds[i % 2000]])),
  );
  await measure(
    'floor: PostgreSQL orders of a customer',
    async (i) =>
      void (await app.query('SELECT order_id, customer_id, total_amount FROM orders WHERE customer_id = $1', [customerIds[i % 2000]])),
  );
}

function markdown(res) {
  const f = (x) => (x === undefined ? '' : x.toFixed(x < 10 ? 2 : 1));
  const fetched = (o) =>
    o
      ? Object.entries(o)
          .map(([k, v]) => `${k} ${Math.round(v * 10) / 10}`)
          .join(', ')
      : '';
  const row = (label, m, extra = '') => `| ${label} | ${m.n} | ${f(m.p50)} | ${f(m.p95)} | ${f(m.p99)} | ${extra || fetched(m.fetched)} |`;
  const head = '| path | n | p50 ms | p95 ms | p99 ms | rows fetched per store (mean) |\n|---|---|---|---|---|---|';
  const m = res.machine;
  const one = res.scenarios.oneCustomer;
  const page = res.scenarios.tenantPage;
  const three = res.scenarios.threeStore;
  return `Run ${m.date} on ${m.cpu}, ${m.nproc} CPUs, ${m.memoryGiB} GiB, Node ${m.node}, commit ${m.commit}.
Data: ${res.sizes.customers} customers (MariaDB), ${res.sizes.orders} orders (PostgreSQL), ${res.sizes.events} events (FerretDB), ${res.sizes.tenants} tenants.

**(1) One customer** (\`customer_id = N\`, customers LEFT JOIN orders)

${head}
${row('embedded, engine.execute', one.engine)}
${row('embedded, REST', one.rest, 'as above')}
${row('hub (mysql_fdw + postgres_fdw)', one.hub, fetched(one.hubFetched.fetched))}
${row('hub, named prepared statement', one.hubPrepared, 'as above')}
${row('floor: MariaDB by id', one.floorCrm, 'crm 1')}
${row('floor: PostgreSQL orders by customer', one.floorApp)}
${row('floor: both in sequence', one.floor)}

Ratios (p50): engine / floor ${(one.engine.p50 / one.floor.p50).toFixed(2)}, REST / engine ${(one.rest.p50 / one.engine.p50).toFixed(2)}, hub / engine ${(one.hub.p50 / one.engine.p50).toFixed(2)}.

**(2) One tenant page** (\`tenant_id = T\`, ORDER BY customer_id, LIMIT 50)

${head}
${row('embedded, engine.execute', page.engine)}
${row('embedded, REST', page.rest, 'as above')}
${row('hub (mysql_fdw + postgres_fdw)', page.hub, fetched(page.hubFetched.fetched))}
${row('hub, named prepared statement', page.hubPrepared, 'as above')}
${row('floor: MariaDB tenant page', page.floorCrm)}
${row('floor: page, then its orders', page.floor)}
${row('floor: page, then its first 51 orders', page.floorFirst)}

Ratios (p50): engine / floor ${(page.engine.p50 / page.floor.p50).toFixed(2)} (page, then its orders), ${(page.engine.p50 / page.floorFirst.p50).toFixed(2)} (page, then its first 51 orders), REST / engine ${(page.rest.p50 / page.engine.p50).toFixed(2)}, hub / engine ${(page.hub.p50 / page.engine.p50).toFixed(2)}.

${
  three
    ? `**(3) Three stores** (reference view; embedded only)

${head}
${row('one customer', three.oneCustomer)}
${row('one tenant page', three.tenantPage)}
${row('floor: FerretDB events of one user (driver)', three.floorMongo)}
`
    : '(3) Three stores: not run (--two-stores).\n'
}
Hub plans (EXPLAIN VERBOSE):

\`\`\`
-- one customer
${one.hubFetched.plan}
-- one tenant page
${page.hubFetched.plan}
\`\`\`
`;
}

await main();
