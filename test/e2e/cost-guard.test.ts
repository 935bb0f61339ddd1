// Cost guards (docs/security.md, "Cost guards") on a running server over real stores. A private
// PostgreSQL started with log_statement=all shows what reached the store: a query refused by a
// grant's maxScanRows was only explained (its SELECT never ran). The decision is the same for a
// tenant with few rows as for one with many; MongoDB (FerretDB) is judged by listIndexes; a grant's
// timeout stops a slow statement and answers 504; explain shows each decision; no guard, no change.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.js';
import { createMongoDatabase, createMysqlDatabase, mysqlExec, pgExec } from '../support/stores.js';
import { waitFor } from '../support/wait.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const KEYS = {
  guarded: 'vg_test_cg_guarded',
  big: 'vg_test_cg_big',
  tiny: 'vg_test_cg_tiny',
  timed: 'vg_test_cg_timed',
  open: 'vg_test_cg_open',
  manyRegion: 'vg_test_cg_region_many',
  noRegion: 'vg_test_cg_region_none',
};
const MAX_SCAN_ROWS = 1000;
const ORDERS = 20_000;
const EVENTS = 3_000;

let priv: PrivatePostgres;
let mongoDb: Awaited<ReturnType<typeof createMongoDatabase>>;
let myDb: Awaited<ReturnType<typeof createMysqlDatabase>>;
let dir: string;
let srv: RunningServer;

function configYaml(): string {
  return `
audit: { sink: off }
logging: { level: silent }
sources:
  pg: { kind: postgres, url: "${priv.url}" }
  mgo:
    kind: mongodb
    url: "${mongoDb.url}"
    database: ${mongoDb.name}
    collections:
      events: { columns: { _id: { type: int }, account: { type: int }, kind: { type: text } } }
  my: { kind: mysql, url: "${myDb.url}" }
  lite: { kind: sqlite, path: ${JSON.stringify(join(dir, 'lite.db'))} }
services:
  myshop: { source: my, tables: [orders] }
  liteshop: { source: lite, tables: [orders] }
  shop: { source: pg, tables: [orders, small, { name: slow, key: [id] }] }
  docs: { source: mgo, tables: [events] }
  fed:
    engine: embedded
    views:
      small_events:
        key: [id, event_id]
        sql: SELECT s.id, s.region, e._id AS event_id, e.kind FROM pg.small s JOIN mgo.events e ON e.account = s.id
auth:
  apiKeys:
    - { name: guarded, sha256: ${sha256(KEYS.guarded)}, role: guarded }
    - { name: big, sha256: ${sha256(KEYS.big)}, role: tenant, claims: { tenant: big } }
    - { name: tiny, sha256: ${sha256(KEYS.tiny)}, role: tenant, claims: { tenant: tiny } }
    - { name: timed, sha256: ${sha256(KEYS.timed)}, role: timed }
    - { name: open, sha256: ${sha256(KEYS.open)}, role: open }
    - { name: many-region, sha256: ${sha256(KEYS.manyRegion)}, role: regional, claims: { region: r1 } }
    - { name: no-region, sha256: ${sha256(KEYS.noRegion)}, role: regional, claims: { region: nowhere } }
roles:
  guarded:
    grants:
      "shop.*": { read: true, explain: true, aggregate: true, sql: true, maxScanRows: ${MAX_SCAN_ROWS} }
      "docs.*": { read: true, explain: true, maxScanRows: ${MAX_SCAN_ROWS} }
      "fed.*": { read: true, explain: true, maxScanRows: ${MAX_SCAN_ROWS} }
      "myshop.*": { read: true, maxScanRows: ${MAX_SCAN_ROWS} }
      "liteshop.*": { read: true, maxScanRows: ${MAX_SCAN_ROWS} }
  tenant: { grants: { "shop.orders": { read: true, rowFilter: "tenant = {claims.tenant}", maxScanRows: ${MAX_SCAN_ROWS} } } }
  regional: { grants: { "shop.orders": { read: true, rowFilter: "region = {claims.region}", maxScanRows: ${MAX_SCAN_ROWS} } } }
  timed: { grants: { "shop.*": { read: true, timeout: 300ms } } }
  open: { grants: { "*": { read: true, sql: true } } }
`;
}

beforeAll(async () => {
  [priv, mongoDb, myDb] = await Promise.all([
    startPrivatePostgres({ settings: { log_statement: 'all' } }),
    createMongoDatabase('costguard'),
    createMysqlDatabase('costguard'),
  ]);
  // The same 3000 orders in MariaDB and SQLite, indexed on customer_id.
  await mysqlExec(
    myDb.url,
    `CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, region varchar(10) NOT NULL, KEY (customer_id));
     INSERT INTO orders SELECT seq, seq % 100, concat('r', seq % 7) FROM seq_1_to_3000;
     ANALYZE TABLE orders;`,
  );
  dir = mkdtempSync(join(tmpdir(), 'vg-costguard-'));
  const lite = new Database(join(dir, 'lite.db'));
  lite.exec(`CREATE TABLE orders (id integer PRIMARY KEY, customer_id integer NOT NULL, region text NOT NULL);
     WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 3000)
     INSERT INTO orders SELECT n, n % 100, 'r' || (n % 7) FROM g;
     CREATE INDEX orders_customer ON orders (customer_id);`);
  lite.close();
  // 100 tenants of 200 rows each ("big" one of them) and "tiny" with 3: one table of 20003 rows.
  await pgExec(
    priv.url,
    `CREATE TABLE orders (id int PRIMARY KEY, tenant text NOT NULL, customer_id int NOT NULL, region text NOT NULL, amount int NOT NULL);
     INSERT INTO orders SELECT g, 'big' || (g % 100), g % 500, 'r' || (g % 7), g % 1000 FROM generate_series(1, ${ORDERS}) g;
     UPDATE orders SET tenant = 'big' WHERE tenant = 'big0';
     INSERT INTO orders VALUES (${ORDERS + 1}, 'tiny', 1, 'r1', 5), (${ORDERS + 2}, 'tiny', 2, 'r2', 6), (${ORDERS + 3}, 'tiny', 3, 'r1', 7);
     CREATE INDEX orders_customer ON orders (customer_id);
     CREATE INDEX orders_tenant ON orders (tenant);
     CREATE TABLE small (id int PRIMARY KEY, region text NOT NULL);
     INSERT INTO small SELECT g, 'r' || (g % 7) FROM generate_series(1, 50) g;
     CREATE VIEW slow AS SELECT id, region FROM small WHERE pg_sleep(30) IS NOT NULL;
     ANALYZE orders; ANALYZE small;`,
  );
  const events = mongoDb.client.db(mongoDb.name).collection<{ _id: number; account: number; kind: string }>('events');
  await events.insertMany(Array.from({ length: EVENTS }, (_, i) => ({ _id: i, account: i % 50, kind: `k${i % 5}` })));
  await events.createIndex({ account: 1 });
  srv = await startServer(parseConfig(configYaml(), '/nonexistent/viewgate.yaml', {}));
}, 180_000);

afterAll(async () => {
  await srv?.close();
  await Promise.allSettled([priv?.stop(), mongoDb?.drop(), myDb?.drop()]);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function get(path: string, key: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${srv.url}${path}`, { headers: { 'X-API-Key': key } });
  return { status: res.status, body: await res.json() };
}

/** What the private server logged while `work` ran. */
async function logged(work: () => Promise<void>): Promise<string> {
  const before = readFileSync(priv.logFile, 'utf8').length;
  await work();
  return readFileSync(priv.logFile, 'utf8').slice(before);
}

/** Statements that read the orders table for real (extended protocol: `execute <name>: SELECT ...`). */
const selectsOfOrders = (log: string): string[] => log.split('\n').filter((l) => /execute [^:]*: SELECT .*"orders"/.test(l));

const filter = (f: string): string => `filter=${encodeURIComponent(f)}`;

describe('maxScanRows', () => {
  it('refuses a full scan of a large table before it runs, naming the filter and index that would help', async () => {
    let res!: { status: number; body: any };
    const log = await logged(async () => {
      res = await get(`/api/v2/shop/_table/orders?${filter("region = 'r3'")}`, KEYS.guarded);
    });
    expect(res.status).toBe(422);
    const message: string = res.body.error.message;
    expect(message).toContain('"public.orders"');
    expect(message).toContain('add an index on region');
    expect(message).toMatch(/filter on [a-z_ ]*customer_id[a-z_ ]* \(indexed\)/);
    expect(message).not.toMatch(/20\s?00\d/); // the table's size is not told
    expect(res.body.error.context).toMatchObject({ table: 'public.orders', maxScanRows: MAX_SCAN_ROWS });
    // The store was asked for the plan only.
    expect(log).toMatch(/statement: EXPLAIN \(FORMAT JSON, VERBOSE\) EXECUTE viewgate_cost_guard/);
    expect(log).toMatch(/PREPARE viewgate_cost_guard AS SELECT .*"orders".*"region"/);
    expect(selectsOfOrders(log)).toEqual([]);
  });

  it('runs the same query with a filter on an indexed column', async () => {
    let res!: { status: number; body: any };
    const log = await logged(async () => {
      res = await get(`/api/v2/shop/_table/orders?${filter("customer_id = 7 and region = 'r0'")}`, KEYS.guarded);
    });
    expect(res.status).toBe(200);
    expect(res.body.resource.length).toBeGreaterThan(0);
    expect(res.body.resource.every((r: any) => r.customer_id === 7 && r.region === 'r0')).toBe(true);
    expect(selectsOfOrders(log)).toHaveLength(1);
  });

  it('scans a table smaller than maxScanRows', async () => {
    const res = await get(`/api/v2/shop/_table/small?${filter("region = 'r3'")}`, KEYS.guarded);
    expect(res.status).toBe(200);
    expect(res.body.resource).toHaveLength(7);
  });

  it('lets a page of a large table be read in key order: the scan stops after the page', async () => {
    const res = await get('/api/v2/shop/_table/orders?limit=5', KEYS.guarded);
    expect(res.status).toBe(200);
    expect(res.body.resource).toHaveLength(5);
  });

  it('judges the table, not the tenant: a tenant with 3 rows gets the answer one with 200 gets', async () => {
    const both = (path: string, keys: [string, string]) => Promise.all(keys.map((k) => get(path, k)));
    // The row filter is on an indexed column: every tenant's rows are found through the index.
    for (const f of ["region = 'r1'", 'amount > 3']) {
      const answers = await both(`/api/v2/shop/_table/orders?${filter(f)}&limit=500`, [KEYS.big, KEYS.tiny]);
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
    }
    const [big, tiny] = await both('/api/v2/shop/_table/orders?limit=500', [KEYS.big, KEYS.tiny]);
    expect(big!.body.resource).toHaveLength(200);
    expect(tiny!.body.resource).toHaveLength(3);
    // On a column without an index: refused for a claim matching ~2900 rows and for one matching none.
    const refused = await both(`/api/v2/shop/_table/orders?${filter('amount > 3')}`, [KEYS.manyRegion, KEYS.noRegion]);
    expect(refused.map((a) => a.status)).toEqual([422, 422]);
    expect(refused[0]!.body.error.message).toBe(refused[1]!.body.error.message);
  });

  it('guards aggregates and governed SQL too', async () => {
    const agg = await get(`/api/v2/shop/_table/orders?fields=${encodeURIComponent('count(*)')}&group=region`, KEYS.guarded);
    expect(agg.status).toBe(422);
    expect(agg.body.error.message).toContain('"public.orders"');
    const sql = async (key: string, statement: string) => {
      const res = await fetch(`${srv.url}/api/v2/_sql`, {
        method: 'POST',
        headers: { 'X-API-Key': key, 'content-type': 'application/json' },
        body: JSON.stringify({ sql: statement }),
      });
      return { status: res.status, body: (await res.json()) as any };
    };
    const refused = await sql(KEYS.guarded, "SELECT id FROM shop.orders WHERE region = 'r2'");
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('add an index on region');
    const indexed = await sql(KEYS.guarded, 'SELECT id FROM shop.orders WHERE customer_id = 9');
    expect(indexed.status).toBe(200);
    expect(indexed.body.resource.length).toBe(40);
    expect((await sql(KEYS.open, "SELECT id FROM shop.orders WHERE region = 'r2'")).status).toBe(200);
  });

  it('explain shows the decision on each native query', async () => {
    const refused = await get(`/api/v2/shop/_table/orders?explain=true&${filter("region = 'r3'")}`, KEYS.guarded);
    expect(refused.status).toBe(200);
    expect(refused.body.explain.costGuard).toEqual([
      expect.objectContaining({
        source: 'pg',
        decision: 'refused',
        fullScans: [{ table: 'public.orders', rows: ORDERS + 3 }],
        help: expect.stringContaining('add an index on region'),
      }),
    ]);
    const runs = await get(`/api/v2/shop/_table/orders?explain=true&${filter('customer_id = 7')}`, KEYS.guarded);
    expect(runs.body.explain.costGuard).toEqual([expect.objectContaining({ source: 'pg', decision: 'runs', fullScans: [] })]);
    expect(runs.body.explain.queries.length).toBeGreaterThan(0);
  });

  it('MongoDB: a filter no index leads with is refused; one on an indexed field runs', async () => {
    const refused = await get(`/api/v2/docs/_table/events?${filter("kind = 'k1'")}`, KEYS.guarded);
    expect(refused.status).toBe(422);
    expect(refused.body.error.message).toContain('add an index on kind');
    expect(refused.body.error.message).toMatch(/filter on .*account.* \(indexed\)/);
    const indexed = await get(`/api/v2/docs/_table/events?${filter("account = 3 and kind = 'k3'")}`, KEYS.guarded);
    expect(indexed.status).toBe(200);
    expect(indexed.body.resource.length).toBe(60);
  });

  it('a bind join is judged by the reads it sends up front; its batches read by key', async () => {
    const res = await get(`/api/v2/fed/_table/small_events?${filter("region = 'r3'")}&limit=1000`, KEYS.guarded);
    expect(res.status).toBe(200);
    expect(res.body.resource).toHaveLength(7 * 60);
    const plan = await get(`/api/v2/fed/_table/small_events?explain=true&${filter("region = 'r3'")}`, KEYS.guarded);
    // Only the read of small is judged up front; events is read by the keys it returns.
    expect(plan.body.explain.costGuard).toEqual([
      expect.objectContaining({ source: 'pg', decision: 'runs', fullScans: [{ table: 'public.small', rows: 50 }] }),
    ]);
    expect(plan.body.explain.queries.some((q: { source: string }) => q.source === 'mgo')).toBe(true);
  });

  for (const service of ['myshop', 'liteshop']) {
    it(`${service === 'myshop' ? 'MariaDB' : 'SQLite'}: a filter on a column without an index is refused; one on customer_id runs`, async () => {
      const refused = await get(`/api/v2/${service}/_table/orders?${filter("region = 'r3'")}`, KEYS.guarded);
      expect(refused.status).toBe(422);
      expect(refused.body.error.message).toContain('add an index on region');
      expect(refused.body.error.message).toMatch(/filter on .*customer_id.* \(indexed\)/);
      const indexed = await get(`/api/v2/${service}/_table/orders?${filter("customer_id = 3 and region = 'r3'")}`, KEYS.guarded);
      expect(indexed.status).toBe(200);
      expect(indexed.body.resource.length).toBeGreaterThan(0);
    });
  }

  it('without a guard nothing changes', async () => {
    const res = await get(`/api/v2/shop/_table/orders?${filter("region = 'r3'")}&limit=10`, KEYS.open);
    expect(res.status).toBe(200);
    expect(res.body.resource).toHaveLength(10);
  });
});

describe('timeout', () => {
  it("stops a statement that runs past the grant's timeout and answers the store timeout", async () => {
    const started = performance.now();
    const res = await get('/api/v2/shop/_table/slow', KEYS.timed);
    expect(res.status).toBe(504);
    expect(res.body.error.message).toContain('timeout (300 ms)');
    expect(performance.now() - started).toBeLessThan(10_000);
    // The store no longer runs it.
    await waitFor(
      async () => {
        const r = await pgExec(
          priv.url,
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%"slow"%' AND pid <> pg_backend_pid()`,
        );
        return (r.rows[0] as { n: number }).n === 0;
      },
      { what: 'the slow statement to be stopped', timeout: 5_000 },
    );
    // Another role without a timeout is not touched by it: a quick read still runs.
    expect((await get('/api/v2/shop/_table/small?limit=1', KEYS.timed)).status).toBe(200);
  });
});
