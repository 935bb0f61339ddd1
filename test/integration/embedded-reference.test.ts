// The embedded engine on the real stores (MariaDB, PostgreSQL, FerretDB) with the reference data,
// compared with PostgreSQL running the same view SQL over a copy of the data (C collation).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import pg from 'pg';
import { createReferenceStores, referenceConfig, type ReferenceStores } from '../support/reference.js';
import { createPgDatabase, pgExec } from '../support/stores.js';
import { Sources } from '../../src/sources/index.js';
import { buildEmbeddedView } from '../../src/engine/embedded/index.js';
import { isTableService, type Config } from '../../src/config/schema.js';
import type { EngineQuery, View } from '../../src/engine/view.js';
import type { Predicate } from '../../src/query/predicate.js';
import { canonicalTimestamp, type Row } from '../../src/values.js';
import { ApiError, StoreError } from '../../src/errors.js';

const REFERENCE_SQL = `SELECT c.customer_id, c.tenant_id, c.email, o.order_id, o.total_amount,
       e._id AS event_id, e.event_type, e.ts AS event_ts
FROM crm.customers c
LEFT JOIN app.orders o ON o.customer_id = c.customer_id
LEFT JOIN analytics.events e ON e.user_id = c.customer_id::text`;

const VIEWS: Record<string, { sql: string; key?: string[] }> = {
  unified_customer_activity: { sql: REFERENCE_SQL, key: ['customer_id', 'order_id', 'event_id'] },
  paid_orders: {
    sql: `SELECT o.order_id, c.customer_id, c.full_name || ' <' || c.email || '>' AS contact,
       o.total_amount * 2 AS doubled, o.total_amount / 3 AS third, o.customer_id::text AS cid_text,
       COALESCE(c.tenant_id, 'none') AS tenant, CASE WHEN o.total_amount > 300 THEN 'big' ELSE 'small' END AS size,
       c.is_active
FROM app.orders o
JOIN crm.customers c ON c.customer_id = o.customer_id
WHERE o.status IN ('paid', 'shipped')`,
    key: ['order_id'],
  },
  tenant_totals: {
    sql: `SELECT c.tenant_id, count(*) AS orders, count(DISTINCT c.customer_id) AS customers,
       sum(o.total_amount) AS total, avg(o.total_amount) AS avg_amount, sum(c.customer_id) AS id_sum,
       avg(c.customer_id) AS avg_id, min(o.created_at) AS first_order, max(o.total_amount) AS max_amount
FROM crm.customers c
JOIN app.orders o ON o.customer_id = c.customer_id
GROUP BY c.tenant_id`,
    key: ['tenant_id'],
  },
  orders_with_customer: {
    sql: `SELECT o.order_id, o.customer_id, c.full_name, c.tenant_id
FROM app.orders o
LEFT JOIN crm.customers c ON c.customer_id = o.customer_id`,
    key: ['order_id'],
  },
  order_lines: {
    sql: `SELECT c.customer_id, c.tenant_id, o.order_id, i.line_no, i.sku, i.qty
FROM crm.customers c
JOIN app.orders o ON o.customer_id = c.customer_id
LEFT JOIN app.order_items i ON i.order_id = o.order_id`,
    key: ['order_id', 'line_no'],
  },
  items_only: {
    sql: `SELECT o.order_id, o.status, i.line_no, i.sku FROM app.orders o LEFT JOIN app.order_items i ON i.order_id = o.order_id`,
    key: ['order_id', 'line_no'],
  },
};

function fedYaml(views: Record<string, { sql: string; key?: string[] }>, extra = ''): string {
  const body = Object.entries(views)
    .map(
      ([name, v]) =>
        `      ${name}:\n${v.key ? `        key: [${v.key.join(', ')}]\n` : ''}        sql: |\n${v.sql
          .split('\n')
          .map((l) => `          ${l}`)
          .join('\n')}\n`,
    )
    .join('');
  return `${extra}services:\n  federation:\n    engine: embedded\n    views:\n${body}`;
}

/** The example config's own federation service, removed so the tests can declare theirs. */
function withoutFederation(yaml: string): string {
  return yaml.replace(/\n  federation:[\s\S]*?\n  crm:/, '\n  crm:');
}

let stores: ReferenceStores;
let oracle: { url: string; drop: () => Promise<void> };
let config: Config;
let sources: Sources;
const built = new Map<string, View>();

async function view(name: string, opts?: { pushdown?: boolean; config?: Config; sources?: Sources }): Promise<View> {
  const cfg = opts?.config ?? config;
  const key = `${name}:${opts?.pushdown ?? true}:${opts?.config ? 'custom' : ''}`;
  if (!opts?.config && built.has(key)) return built.get(key)!;
  const svc = cfg.services.federation!;
  if (isTableService(svc)) throw new Error('federation is a view service');
  const v = await buildEmbeddedView(
    { service: 'federation', name, view: svc.views[name]!, config: cfg, sources: opts?.sources ?? sources },
    { pushdown: opts?.pushdown ?? true },
  );
  if (!opts?.config) built.set(key, v);
  return v;
}

function query(v: View, over: Partial<EngineQuery> = {}): EngineQuery {
  const orderBy = [...(over.orderBy ?? [])];
  for (const k of v.key) if (!orderBy.some((o) => o.column === k)) orderBy.push({ column: k, desc: false });
  return { columns: v.columns.map((c) => c.name), limit: 1000, offset: 0, count: false, ...over, orderBy };
}

/** Values as text for comparing with PostgreSQL's output. */
function norm(type: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (type === 'timestamptz') return canonicalTimestamp(String(v));
  if (type === 'bool') return v === true || v === 't' ? 'true' : 'false';
  return String(v);
}

async function oracleRows(
  v: View,
  sql: string,
  where: string,
  params: unknown[],
  q: EngineQuery,
): Promise<Record<string, string | null>[]> {
  const order = q.orderBy.map((o) => `${o.column} ${o.desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`).join(', ');
  const text = `SELECT ${q.columns.join(', ')} FROM (${sql}) v ${where ? `WHERE ${where}` : ''} ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`;
  const c = new pg.Client({
    connectionString: oracle.url,
    types: { getTypeParser: () => (x: string) => x } as unknown as pg.CustomTypesConfig,
  });
  await c.connect();
  try {
    await c.query(`SET TimeZone = 'UTC'`);
    const res = await c.query(text, params);
    const types = new Map(v.columns.map((col) => [col.name, col.type]));
    return res.rows.map((r: Record<string, unknown>) => Object.fromEntries(q.columns.map((k) => [k, norm(types.get(k)!, r[k])])));
  } finally {
    await c.end();
  }
}

function engineRows(v: View, rows: Row[]): Record<string, string | null>[] {
  const types = new Map(v.columns.map((c) => [c.name, c.type]));
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, x]) => [k, norm(types.get(k)!, x)])));
}

/** Runs the query on the engine (pushdown on and off) and on PostgreSQL; they must agree exactly. */
async function agree(name: string, where: Predicate | undefined, sqlWhere: string, params: unknown[], over: Partial<EngineQuery> = {}) {
  const v = await view(name);
  const q = query(v, { ...over, ...(where ? { where } : {}) });
  const expected = await oracleRows(v, VIEWS[name]!.sql, sqlWhere, params, q);
  const got = await v.engine.execute(q);
  expect(engineRows(v, got.rows)).toEqual(expected);
  const off = await (await view(name, { pushdown: false })).engine.execute(q);
  expect(engineRows(v, off.rows)).toEqual(expected);
  return { result: got, expected };
}

beforeAll(async () => {
  stores = await createReferenceStores('embref');
  oracle = await createPgDatabase('embref_oracle');
  // Extra tables for the single-source join views, an orphan order for the LEFT JOIN checks.
  const items = `CREATE TABLE IF NOT EXISTS app.order_items (order_id BIGINT NOT NULL, line_no INT NOT NULL, sku TEXT, qty INT, PRIMARY KEY (order_id, line_no));
    INSERT INTO app.order_items VALUES (1001, 1, 'SKU-RED-1', 2), (1001, 2, 'SKU-BLU-2', 1), (1003, 1, NULL, 5), (1012, 1, 'SKU-GRN-3', 1), (4242, 1, 'SKU-ORPHAN', 9)`;
  await pgExec(
    stores.env.APP_PG_URL!,
    `CREATE SCHEMA IF NOT EXISTS app; ${items.replace(/app\./g, 'public.')};
    INSERT INTO orders VALUES (2001, 99, 10.10, 'paid', '2024-09-01 00:00:00+00')`,
  );
  config = referenceConfig(stores.env, (y) => withoutFederation(y).replace('services:\n', fedYaml(VIEWS)));
  sources = new Sources(config);
  await mirror();
}, 120_000);

afterAll(async () => {
  await sources?.close();
  await stores?.drop();
  await oracle?.drop();
});

/** Copies what the stores hold into the oracle database, schemas named like the sources. */
async function mirror(): Promise<void> {
  const ddl = `CREATE SCHEMA crm; CREATE SCHEMA app; CREATE SCHEMA analytics;
    CREATE TABLE crm.customers (customer_id INT PRIMARY KEY, tenant_id TEXT NOT NULL, email TEXT NOT NULL, full_name TEXT NOT NULL, is_active BOOL NOT NULL, created_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE app.orders (order_id BIGINT PRIMARY KEY, customer_id INT NOT NULL, total_amount NUMERIC(12,2) NOT NULL, status TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL);
    CREATE TABLE app.order_items (order_id BIGINT NOT NULL, line_no INT NOT NULL, sku TEXT, qty INT, PRIMARY KEY (order_id, line_no));
    CREATE TABLE analytics.events (_id TEXT PRIMARY KEY, user_id TEXT, event_type TEXT, ts TIMESTAMPTZ, sku TEXT, payload JSONB);`;
  await pgExec(oracle.url, ddl);
  const copy = async (source: string, table: string, target: string, columns: string[]) => {
    const { rows } = await sources.get(source).scan(table, { columns });
    const c = new pg.Client({ connectionString: oracle.url });
    await c.connect();
    try {
      for (const r of rows) {
        const vals = columns.map((k) => {
          const x = r[k];
          return typeof x === 'bigint' ? x.toString() : x !== null && typeof x === 'object' ? JSON.stringify(x) : x;
        });
        await c.query(`INSERT INTO ${target} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`, vals);
      }
    } finally {
      await c.end();
    }
  };
  await copy('crm', 'customers', 'crm.customers', ['customer_id', 'tenant_id', 'email', 'full_name', 'is_active', 'created_at']);
  await copy('app', 'orders', 'app.orders', ['order_id', 'customer_id', 'total_amount', 'status', 'created_at']);
  await copy('app', 'order_items', 'app.order_items', ['order_id', 'line_no', 'sku', 'qty']);
  await copy('analytics', 'events', 'analytics.events', ['_id', 'user_id', 'event_type', 'ts', 'sku', 'payload']);
}

describe('the reference view', () => {
  test('types and key', async () => {
    const v = await view('unified_customer_activity');
    expect(v.columns.map((c) => [c.name, c.type, c.nullable])).toEqual([
      ['customer_id', 'int', false],
      ['tenant_id', 'text', false],
      ['email', 'text', false],
      ['order_id', 'int', true],
      ['total_amount', 'numeric', true],
      ['event_id', 'text', true],
      ['event_type', 'text', true],
      ['event_ts', 'timestamptz', true],
    ]);
    expect(v.key).toEqual(['customer_id', 'order_id', 'event_id']);
  });

  test('every row, in key order, as PostgreSQL gives them', async () => {
    const { result } = await agree('unified_customer_activity', undefined, '', []);
    expect(result.rows.length).toBeGreaterThan(16);
  });

  test('one customer: O(matching rows) from each store, one round trip per store', async () => {
    const where: Predicate = { op: 'cmp', column: 'customer_id', cmp: '=', value: 7n };
    const { result, expected } = await agree('unified_customer_activity', where, 'customer_id = 7', []);
    expect(result.queries).toHaveLength(3);
    for (const s of ['crm', 'app', 'analytics']) expect(result.queries.filter((q) => q.source === s)).toHaveLength(1);
    expect(result.fetched.crm).toBe(1);
    const orders = new Set(expected.map((r) => r.order_id).filter((x) => x !== null)).size;
    const events = new Set(expected.map((r) => r.event_id).filter((x) => x !== null)).size;
    expect(result.fetched.app).toBe(orders);
    expect(result.fetched.analytics).toBe(events);
    // The key reached every store, through the int -> text cast for MongoDB.
    expect(result.queries.find((q) => q.source === 'app')!.text).toMatch(/"customer_id" = \$1/);
    expect(result.queries.find((q) => q.source === 'analytics')!.text).toContain('"user_id": {"$eq": "7"}');
  });

  test('a tenant page: ORDER BY + LIMIT pushed into the customers, orders and events bound to their keys', async () => {
    const where: Predicate = { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't2' };
    const { result } = await agree('unified_customer_activity', where, "tenant_id = 't2'", [], { limit: 4, offset: 3 });
    expect(result.fetched.crm).toBeLessThanOrEqual(3 + 4 + 1);
    expect(result.queries.find((q) => q.source === 'crm')!.text).toMatch(/ORDER BY `customer_id` LIMIT \?/);
    expect(result.queries.find((q) => q.source === 'app')!.text).toContain('= ANY($1::int8[])');
    expect(result.queries.find((q) => q.source === 'analytics')!.text).toContain('$in');
    expect(result.queries).toHaveLength(3);
    // Pages concatenate to the whole.
    const v = await view('unified_customer_activity');
    const all = (await v.engine.execute(query(v, { where }))).rows;
    const pages: Row[] = [];
    for (let off = 0; off < all.length; off += 5) pages.push(...(await v.engine.execute(query(v, { where, limit: 5, offset: off }))).rows);
    expect(pages).toEqual(all);
  });

  test('a filter on the NULL-padded side that rejects NULLs plans the LEFT JOIN as INNER', async () => {
    const where: Predicate = { op: 'cmp', column: 'event_type', cmp: '=', value: 'view' };
    await agree('unified_customer_activity', where, "event_type = 'view'", []);
    const v = await view('unified_customer_activity');
    const ex = await v.engine.explain(query(v, { where }));
    expect((ex.plan as { text: string }).text).toContain('planned as INNER');
  });

  test('filters that keep NULL-padded rows stay after the join', async () => {
    await agree('unified_customer_activity', { op: 'isnull', column: 'order_id' }, 'order_id IS NULL', []);
    const or: Predicate = {
      op: 'or',
      args: [
        { op: 'isnull', column: 'event_type' },
        { op: 'cmp', column: 'event_type', cmp: '<>', value: 'view' },
      ],
    };
    await agree('unified_customer_activity', or, "(event_type IS NULL OR event_type <> 'view')", []);
    const not: Predicate = { op: 'not', arg: { op: 'in', column: 'total_amount', values: ['425.00', '24.00'] } };
    await agree('unified_customer_activity', not, 'NOT (total_amount IN (425.00, 24.00))', []);
  });

  test('ranges, LIKE, descending order with NULLs first', async () => {
    const where: Predicate = {
      op: 'and',
      args: [
        { op: 'cmp', column: 'customer_id', cmp: '>=', value: 3n },
        { op: 'like', column: 'email', pattern: '%example.%' },
        { op: 'cmp', column: 'event_ts', cmp: '<', value: '2024-06-20T00:00:00.000000Z' },
      ],
    };
    await agree(
      'unified_customer_activity',
      where,
      "customer_id >= 3 AND email LIKE '%example.%' AND event_ts < '2024-06-20T00:00:00Z'",
      [],
      {
        orderBy: [{ column: 'total_amount', desc: true }],
        limit: 7,
        offset: 2,
      },
    );
  });

  test('include_count counts the matching rows, whatever the page', async () => {
    const v = await view('unified_customer_activity');
    const where: Predicate = { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't1' };
    const expected = await oracleRows(v, REFERENCE_SQL, "tenant_id = 't1'", [], query(v, { limit: 100000 }));
    const r = await v.engine.execute(query(v, { where, count: true, limit: 2 }));
    expect(r.count).toBe(expected.length);
    expect(r.hasMore).toBe(true);
  });

  test('explain shows the plan, pushed and inferred predicates, every native query and rows per store', async () => {
    const v = await view('unified_customer_activity');
    const ex = await v.engine.explain(query(v, { where: { op: 'cmp', column: 'customer_id', cmp: '=', value: 7n }, limit: 10 }));
    const plan = ex.plan as { text: string; fetched: Record<string, number> };
    expect(plan.text).toContain('HashJoin LEFT JOIN e ON e.user_id = c.customer_id::text');
    expect(plan.text).toContain('pushed: customer_id = 7  (filter)');
    expect(plan.text).toContain("pushed: user_id = '7'  (inferred from c.customer_id)");
    expect(ex.queries).toHaveLength(3);
    expect(Object.keys(plan.fetched).sort()).toEqual(['analytics', 'app', 'crm']);
  });
});

describe('more views', () => {
  test('INNER join with casts, arithmetic, ||, COALESCE, CASE and an IN in the view', async () => {
    const v = await view('paid_orders');
    expect(Object.fromEntries(v.columns.map((c) => [c.name, c.type]))).toMatchObject({
      doubled: 'numeric',
      third: 'numeric',
      cid_text: 'text',
      is_active: 'bool',
    });
    await agree('paid_orders', undefined, '', []);
    await agree('paid_orders', { op: 'cmp', column: 'cid_text', cmp: '=', value: '12' }, "cid_text = '12'", []);
    await agree('paid_orders', { op: 'cmp', column: 'size', cmp: '=', value: 'big' }, "size = 'big'", [], {
      orderBy: [{ column: 'third', desc: true }],
    });
  });

  test('GROUP BY with numeric sum and avg exactly as PostgreSQL prints them', async () => {
    const v = await view('tenant_totals');
    expect(Object.fromEntries(v.columns.map((c) => [c.name, c.type]))).toEqual({
      tenant_id: 'text',
      orders: 'int',
      customers: 'int',
      total: 'numeric',
      avg_amount: 'numeric',
      id_sum: 'int',
      avg_id: 'numeric',
      first_order: 'timestamptz',
      max_amount: 'numeric',
    });
    const { result } = await agree('tenant_totals', undefined, '', []);
    expect(String(result.rows[0]!.avg_amount)).toMatch(/^\d+\.\d{16}$/);
    await agree('tenant_totals', { op: 'cmp', column: 'tenant_id', cmp: '<>', value: 't1' }, "tenant_id <> 't1'", []);
    await agree('tenant_totals', { op: 'cmp', column: 'orders', cmp: '>', value: 5n }, 'orders > 5', [], {
      orderBy: [{ column: 'total', desc: true }],
    });
  });

  test('a filter on a group key is pushed below the aggregation; one on an aggregate is not', async () => {
    const v = await view('tenant_totals');
    const byKey = await v.engine.execute(query(v, { where: { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't2' } }));
    expect(byKey.queries.find((q) => q.source === 'crm')!.text).toContain('`tenant_id` = ?');
    const ex = await v.engine.explain(query(v, { where: { op: 'cmp', column: 'orders', cmp: '>', value: 5n } }));
    expect((ex.plan as { text: string }).text).toContain('Filter on output rows: orders > 5');
  });

  test('LEFT JOIN with orphans keeps the unmatched rows NULL-padded', async () => {
    const { result } = await agree('orders_with_customer', undefined, '', []);
    expect(result.rows.find((r) => r.order_id === 2001n)).toMatchObject({ customer_id: 99n, full_name: null, tenant_id: null });
    await agree('orders_with_customer', { op: 'isnull', column: 'tenant_id' }, 'tenant_id IS NULL', []);
  });

  test('tables of one SQL source are joined by that source in one query', async () => {
    const { result } = await agree('items_only', undefined, '', []);
    expect(result.queries).toHaveLength(1);
    expect(result.queries[0]!.text).toContain('LEFT JOIN');
    await agree('items_only', { op: 'cmp', column: 'order_id', cmp: '=', value: 1001n }, 'order_id = 1001', [], { limit: 1 });
    const three = await agree('order_lines', { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't1' }, "tenant_id = 't1'", []);
    expect(three.result.queries.filter((q) => q.source === 'app')).toHaveLength(1);
    expect(three.result.queries.find((q) => q.source === 'app')!.text).toMatch(/LEFT JOIN .*order_items/);
  });
});

describe('budgets and faults', () => {
  test('exceeding the row budget is a 422 that says how to narrow the query or materialize the view', async () => {
    const cfg = referenceConfig(stores.env, (y) =>
      withoutFederation(y).replace(
        'services:\n',
        fedYaml({ unified_customer_activity: VIEWS.unified_customer_activity! }, 'engine:\n  rowBudget: 20\n'),
      ),
    );
    const v = await view('unified_customer_activity', { config: cfg });
    const err = await v.engine.execute(query(v)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).status).toBe(422);
    expect((err as ApiError).message).toMatch(/row budget/);
    expect((err as ApiError).message).toMatch(/customer_id/);
    expect((err as ApiError).message).toMatch(/materialize/);
    // A selective query fits the same budget.
    const ok = await v.engine.execute(query(v, { where: { op: 'cmp', column: 'customer_id', cmp: '=', value: 12n } }));
    expect(ok.rows.length).toBeGreaterThan(0);
  });

  test('a store that is down is a 503 naming it; the other scans are settled first', async () => {
    const cfg = referenceConfig({ ...stores.env, EVENTS_MONGO_URL: 'mongodb://127.0.0.1:1/' }, (y) =>
      withoutFederation(y)
        .replace('services:\n', fedYaml({ unified_customer_activity: VIEWS.unified_customer_activity! }))
        .replace(/timeout: 5s/g, 'timeout: 1s'),
    );
    const broken = new Sources(cfg);
    try {
      const v = await view('unified_customer_activity', { config: cfg, sources: broken });
      const err = await v.engine
        .execute(query(v, { where: { op: 'cmp', column: 'customer_id', cmp: '=', value: 7n } }))
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect((err as StoreError).status).toBe(503);
      expect((err as StoreError).message).toContain('"analytics"');
    } finally {
      await broken.close();
    }
  });
});
