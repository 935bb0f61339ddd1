// Cost guards on hub views (docs/security.md, "Cost guards"), on a private PostgreSQL started with
// log_statement=all that holds both the hub database and the "app" source database the hub reads
// through postgres_fdw, so the log shows what reached either: a refused read was only explained.
// Materialized views are judged by the hub's plan and their total size; a live view's postgres_fdw
// scan by the app source's own plan of the Remote SQL; a mysql_fdw scan cannot be judged and is
// refused. The answer is the same for a tenant with 3 rows as for one with 200; explain shows each
// decision; governed SQL over a hub view is guarded too.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { hubCommand } from '../../src/commands/hub.js';
import { runCheck } from '../../src/commands/check.js';
import { closeHubSessions } from '../../src/hub/passthrough/session.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { createMysqlDatabase, MYSQL_URL, mysqlExec, pgExec } from '../support/stores.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const KEYS = {
  guarded: 'vg_test_hubcg_guarded',
  big: 'vg_test_hubcg_big',
  tiny: 'vg_test_hubcg_tiny',
  open: 'vg_test_hubcg_open',
};
const MAX_SCAN_ROWS = 1000;
const ORDERS = 20_000;
const READER = 'vg_hub_reader';
const MYSQL_HOSTS = ['%', 'localhost', '127.0.0.1'];

let priv: PrivatePostgres;
let crm: Awaited<ReturnType<typeof createMysqlDatabase>>;
let mysqlUser: string;
let dir: string;
let srv: RunningServer;
let configFile: string;

const at = (db: string, user = 'postgres') => `postgres://${user}@127.0.0.1:${priv.port}/${db}`;

function configYaml(crmUrl: string): string {
  return `
audit: { sink: off }
logging: { level: silent }
sources:
  hub: { kind: postgres, url: "${at('hub', READER)}" }
  app: { kind: postgres, url: "${at('app')}" }
  crm: { kind: mysql, url: "${crmUrl}" }
services:
  shophub:
    engine: hub
    source: hub
    foreign:
      app: { schema: app_map, tables: [orders, small] }
      crm: { schema: crm_map, tables: [customers] }
    views:
      orders:
        key: [id]
        sql: SELECT id, tenant, customer_id, region, amount FROM app_map.orders
        materialize: { refresh: "0 0 1 1 *", indexes: [[customer_id]] }
      tenant_orders:
        key: [id]
        sql: SELECT id, tenant, customer_id, region, amount FROM app_map.orders
        rowSecurity: "tenant = {claims.tenant}"
        materialize: { refresh: "0 0 1 1 *", indexes: [[tenant]] }
      small:
        key: [id]
        sql: SELECT id, region FROM app_map.small
        materialize: { refresh: "0 0 1 1 *" }
      empty:
        key: [id]
        sql: SELECT id, region FROM app_map.small WHERE id < 0
        materialize: { refresh: "0 0 1 1 *" }
      live_orders:
        key: [id]
        sql: SELECT id, tenant, customer_id, region, amount FROM app_map.orders
      customers:
        key: [customer_id]
        sql: SELECT customer_id, tenant FROM crm_map.customers
auth:
  apiKeys:
    - { name: guarded, sha256: ${sha256(KEYS.guarded)}, role: guarded }
    - { name: big, sha256: ${sha256(KEYS.big)}, role: tenant, claims: { tenant: big } }
    - { name: tiny, sha256: ${sha256(KEYS.tiny)}, role: tenant, claims: { tenant: tiny } }
    - { name: open, sha256: ${sha256(KEYS.open)}, role: open }
roles:
  guarded:
    grants:
      "shophub.*": { read: true, explain: true, aggregate: true, sql: true, maxScanRows: ${MAX_SCAN_ROWS} }
  tenant:
    grants:
      "shophub.orders": { read: true, rowFilter: "tenant = {claims.tenant}", maxScanRows: ${MAX_SCAN_ROWS} }
      "shophub.tenant_orders": { read: true, maxScanRows: ${MAX_SCAN_ROWS} }
  open: { grants: { "*": { read: true, sql: true } } }
`;
}

beforeAll(async () => {
  priv = await startPrivatePostgres({ settings: { log_statement: 'all' } });
  await pgExec(priv.url, `CREATE DATABASE app`);
  await pgExec(priv.url, `CREATE DATABASE hub`);
  await pgExec(priv.url, `CREATE ROLE ${READER} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE`);
  // 100 tenants of 200 rows each ("big" one of them) and "tiny" with 3; customer_id indexed, region not.
  await pgExec(
    at('app'),
    `CREATE TABLE orders (id int PRIMARY KEY, tenant text NOT NULL, customer_id int NOT NULL, region text NOT NULL, amount int NOT NULL);
     INSERT INTO orders SELECT g, 'big' || (g % 100), g % 500, 'r' || (g % 7), g % 1000 FROM generate_series(1, ${ORDERS}) g;
     UPDATE orders SET tenant = 'big' WHERE tenant = 'big0';
     INSERT INTO orders VALUES (${ORDERS + 1}, 'tiny', 1, 'r1', 5), (${ORDERS + 2}, 'tiny', 2, 'r2', 6), (${ORDERS + 3}, 'tiny', 3, 'r1', 7);
     CREATE INDEX orders_customer ON orders (customer_id);
     CREATE TABLE small (id int PRIMARY KEY, region text NOT NULL);
     INSERT INTO small SELECT g, 'r' || (g % 7) FROM generate_series(1, 50) g;
     ANALYZE orders; ANALYZE small;`,
  );
  // mysql_fdw connects over TCP as a password user.
  crm = await createMysqlDatabase('hubcg_crm');
  mysqlUser = `vg_test_hubcg_${randomBytes(4).toString('hex')}`;
  const password = randomBytes(8).toString('hex');
  await mysqlExec(
    crm.url,
    `CREATE TABLE customers (customer_id INT PRIMARY KEY, tenant VARCHAR(10) NOT NULL); INSERT INTO customers VALUES (1, 'big'), (2, 'tiny')`,
  );
  for (const host of MYSQL_HOSTS) {
    await mysqlExec(MYSQL_URL, `CREATE USER IF NOT EXISTS ?@? IDENTIFIED BY ?`, [mysqlUser, host, password]);
    await mysqlExec(MYSQL_URL, `GRANT SELECT ON \`${crm.name}\`.* TO ?@?`, [mysqlUser, host]);
  }
  const crmUrl = new URL(crm.url);
  crmUrl.username = mysqlUser;
  crmUrl.password = password;
  dir = mkdtempSync(join(tmpdir(), 'vg-hubcg-'));
  const file = (configFile = join(dir, 'viewgate.yaml'));
  writeFileSync(file, configYaml(crmUrl.toString()));
  let out = '';
  const code = await hubCommand(['apply', '--config', file, '--admin-url', at('hub')], {
    out: (t) => (out += t),
    err: (t) => (out += t),
    env: process.env,
  });
  if (code !== 0) throw new Error(`hub apply failed: ${out}`);
  // The hub plans with its statistics, which autovacuum gathers in time; here at once.
  await pgExec(at('hub'), 'ANALYZE shophub_internal.orders; ANALYZE shophub_internal.tenant_orders; ANALYZE shophub_internal.small');
  srv = await startServer(parseConfig(readFileSync(file, 'utf8'), file, {}));
}, 180_000);

afterAll(async () => {
  await srv?.close();
  if (srv) await closeHubSessions(srv.rt.sources);
  await priv?.stop();
  for (const host of MYSQL_HOSTS) if (mysqlUser) await mysqlExec(MYSQL_URL, 'DROP USER IF EXISTS ?@?', [mysqlUser, host]);
  await crm?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v2/shophub/_table/${path}`, { headers: { 'X-API-Key': key } });
  return { status: res.status, body: await res.json() };
}

async function sql(key: string, statement: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}/api/v2/_sql`, {
    method: 'POST',
    headers: { 'X-API-Key': key, 'content-type': 'application/json' },
    body: JSON.stringify({ sql: statement }),
  });
  return { status: res.status, body: await res.json() };
}

/** What the private server logged while `work` ran. */
async function logged(work: () => Promise<void>): Promise<string> {
  const before = readFileSync(priv.logFile, 'utf8').length;
  await work();
  return readFileSync(priv.logFile, 'utf8').slice(before);
}

/** Statements that read a hub view for real (extended protocol: `execute <name>: SELECT ...`). */
const readsOf = (log: string, view: string): string[] =>
  log.split('\n').filter((l) => new RegExp(`execute [^:]*: SELECT .*"shophub"\\."${view}"`).test(l));

const filter = (f: string): string => `filter=${encodeURIComponent(f)}`;

describe('maxScanRows on hub views', () => {
  it('refuses a full scan of a large materialized view before it runs, naming the index that would help', async () => {
    let res!: { status: number; body: any };
    const log = await logged(async () => {
      res = await get(`orders?${filter("region = 'r3'")}`, KEYS.guarded);
    });
    expect(res.status).toBe(422);
    const message: string = res.body.error.message;
    expect(message).toContain('"shophub_internal.orders" (source "hub")');
    expect(message).toContain('add an index on region');
    expect(message).toMatch(/filter on [a-z_ ]*customer_id[a-z_ ]* \(indexed\)/);
    expect(message).not.toMatch(/20\s?00\d/);
    expect(res.body.error.context).toMatchObject({ view: 'shophub.orders', table: 'shophub_internal.orders', maxScanRows: MAX_SCAN_ROWS });
    // The hub was asked for the plan only.
    expect(log).toMatch(/statement: PREPARE viewgate_cost_guard AS SELECT .*"shophub"\."orders".*"region"/);
    expect(log).toMatch(/statement: EXPLAIN \(FORMAT JSON, VERBOSE\) EXECUTE viewgate_cost_guard/);
    expect(readsOf(log, 'orders')).toEqual([]);
    // The judgement is kept per statement shape: the same query with another value asks the hub nothing.
    let again!: { status: number; body: any };
    const second = await logged(async () => {
      again = await get(`orders?${filter("region = 'r4'")}`, KEYS.guarded);
    });
    expect(again.status).toBe(422);
    expect(second).not.toMatch(/viewgate_cost_guard|"shophub"\."orders"/);
  });

  it('runs a read whose filter an index of the materialized view serves', async () => {
    let res!: { status: number; body: any };
    const log = await logged(async () => {
      res = await get(`orders?${filter("customer_id = 7 and region = 'r0'")}`, KEYS.guarded);
    });
    expect(res.status).toBe(200);
    expect(res.body.resource.length).toBeGreaterThan(0);
    expect(res.body.resource.every((r: any) => r.customer_id === 7 && r.region === 'r0')).toBe(true);
    expect(readsOf(log, 'orders')).toHaveLength(1);
    // The security-barrier view hides the key's index from the page's order: an unfiltered page sorts the view whole.
    const page = await get('orders?limit=5', KEYS.guarded);
    expect(page.status).toBe(422);
    expect(page.body.error.message).toMatch(/filter on customer_id or id \(indexed\)/);
  });

  it('scans a materialized view smaller than maxScanRows', async () => {
    const res = await get(`small?${filter("region = 'r3'")}`, KEYS.guarded);
    expect(res.status).toBe(200);
    expect(res.body.resource).toHaveLength(7);
    // An empty one's size is the hub's statistic: viewgate's login may not count the hub's internal relations.
    const empty = await get(`empty?${filter("region = 'r3'")}`, KEYS.guarded);
    expect(empty.status, JSON.stringify(empty.body)).toBe(200);
    expect(empty.body.resource).toEqual([]);
  });

  it('judges the relation, not the tenant: a tenant with 3 rows gets the answer one with 200 gets', async () => {
    const both = (path: string) => Promise.all([KEYS.big, KEYS.tiny].map((k) => get(path, k)));
    // rowSecurity on an indexed column: every tenant's rows are found through the index.
    const [big, tiny] = await both('tenant_orders?limit=500');
    expect([big!.status, tiny!.status]).toEqual([200, 200]);
    expect(big!.body.resource).toHaveLength(200);
    expect(tiny!.body.resource).toHaveLength(3);
    // The grant's row filter on a column without an index: refused alike, with the same words.
    const refused = await both('orders?limit=500');
    expect(refused.map((a) => a.status)).toEqual([422, 422]);
    expect(refused[0]!.body.error.message).toBe(refused[1]!.body.error.message);
    const indexed = await both(`orders?${filter('customer_id = 1')}`);
    expect(indexed.map((a) => a.status)).toEqual([200, 200]);
    expect(indexed[1]!.body.resource.map((r: any) => r.id)).toEqual([ORDERS + 1]);
  });

  it("judges a live view's postgres_fdw scan by the app source's plan of what the wrapper sends", async () => {
    let refused!: { status: number; body: any };
    const log = await logged(async () => {
      refused = await get(`live_orders?${filter("region = 'r3'")}`, KEYS.guarded);
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('"public.orders" (source "app")');
    expect(refused.body.error.message).toContain('add an index on region');
    // The app database was asked for the plan of the Remote SQL; the wrapper never opened its cursor.
    expect(log).toMatch(/statement: PREPARE viewgate_cost_guard AS SELECT .*FROM public\.orders WHERE \(\(region = \$1::text\)\)/);
    expect(log).not.toMatch(/DECLARE c\d+ CURSOR/);
    expect(readsOf(log, 'live_orders')).toEqual([]);
    const indexed = await get(`live_orders?${filter('customer_id = 7')}`, KEYS.guarded);
    expect(indexed.status).toBe(200);
    expect(indexed.body.resource).toHaveLength(40);
  });

  it('refuses a view whose foreign scan cannot be judged (mysql_fdw), saying what to do', async () => {
    let res!: { status: number; body: any };
    const log = await logged(async () => {
      res = await get(`customers?${filter('customer_id = 1')}`, KEYS.guarded);
    });
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe(
      '"shophub.customers" would read foreign table crm_map.customers (mysql_fdw, source "crm"), which cannot be judged before it runs, ' +
        'and your grant sets maxScanRows; nothing was run. To read it: ask for the view to be materialized (`materialize:` in its config), or for a grant without maxScanRows',
    );
    expect(readsOf(log, 'customers')).toEqual([]);
    // Without a guard it runs.
    expect((await get('customers', KEYS.open)).body.resource).toHaveLength(2);
  });

  it('explain shows the decision on the hub statement', async () => {
    const refused = await get(`orders?explain=true&${filter("region = 'r3'")}`, KEYS.guarded);
    expect(refused.status).toBe(200);
    expect(refused.body.explain.costGuard).toEqual([
      expect.objectContaining({
        source: 'hub',
        query: expect.stringContaining('FROM "shophub"."orders"'),
        decision: 'refused',
        fullScans: [{ table: 'shophub_internal.orders', rows: ORDERS + 3 }],
        help: expect.stringContaining('add an index on region'),
      }),
    ]);
    const runs = await get(`orders?explain=true&${filter('customer_id = 7')}`, KEYS.guarded);
    expect(runs.body.explain.costGuard).toEqual([expect.objectContaining({ source: 'hub', decision: 'runs', fullScans: [] })]);
    expect(runs.body.explain.plan.engine).toBe('hub');
    const live = await get(`live_orders?explain=true&${filter("region = 'r3'")}`, KEYS.guarded);
    expect(live.body.explain.costGuard).toEqual([
      expect.objectContaining({ decision: 'refused', fullScans: [{ table: 'public.orders', rows: ORDERS + 3, source: 'app' }] }),
    ]);
    const mysql = await get('customers?explain=true', KEYS.guarded);
    expect(mysql.body.explain.costGuard).toEqual([
      expect.objectContaining({ decision: 'refused', unjudgeable: ['foreign table crm_map.customers (mysql_fdw, source "crm")'] }),
    ]);
  });

  it('guards aggregates, counts and governed SQL over hub views', async () => {
    const agg = await get(`orders?fields=${encodeURIComponent('count(*)')}&group=region`, KEYS.guarded);
    expect(agg.status).toBe(422);
    expect(agg.body.error.message).toContain('"shophub_internal.orders"');
    const counted = await get(`orders?${filter('customer_id = 7')}&include_count=true`, KEYS.guarded);
    expect(counted.status).toBe(200);
    expect(counted.body.meta.count).toBe(40);
    let refused!: { status: number; body: any };
    const log = await logged(async () => {
      refused = await sql(KEYS.guarded, "SELECT id FROM shophub.orders WHERE region = 'r2'");
    });
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('add an index on region');
    expect(readsOf(log, 'orders')).toEqual([]);
    const indexed = await sql(KEYS.guarded, 'SELECT id FROM shophub.orders WHERE customer_id = 9');
    expect(indexed.status).toBe(200);
    expect(indexed.body.resource).toHaveLength(40);
    expect((await sql(KEYS.open, "SELECT id FROM shophub.orders WHERE region = 'r2'")).status).toBe(200);
  });

  it('`viewgate check` warns about a grant whose maxScanRows refuses every read of a view', async () => {
    const { lines } = await runCheck(parseConfig(readFileSync(configFile, 'utf8'), configFile, {}));
    expect(lines.filter((l) => l.includes('maxScanRows'))).toEqual([
      'policy  WARN  roles.guarded.grants."shophub.*" sets maxScanRows, and hub view "shophub.customers" reads foreign table ' +
        'crm_map.customers through mysql_fdw, whose reads cannot be judged: every read of it by this role is refused (422). ' +
        'Materialize the view, or drop maxScanRows for it',
    ]);
  });
});
