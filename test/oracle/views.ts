// The views the oracle runs, in the supported SQL only (docs/engine.md). Every view runs unchanged
// on the embedded engine (over the four stores) and on the oracle database (schemas crm, app,
// analytics, lite). Each `key` is unique over the view's rows on both fixtures (checked by
// harness.test.ts), so ORDER BY <anything>, <key> is total and results compare as sequences;
// `dup_rows` is a multiset whose key is all its columns (ties are identical rows).
import type { FixtureName } from './fixtures.js';

export interface OracleView {
  name: string;
  description: string;
  key: string[];
  sql: string;
  /** Fixtures whose tables have every column the view reads (default: both). */
  fixtures?: FixtureName[];
  /**
   * The view returns identical rows (a multiset); its `key` is then every output column, so rows
   * that tie on ORDER BY are identical and results still compare as sequences (only with column
   * types whose equal values print alike: not numeric, where 100 = 100.0).
   */
  duplicates?: boolean;
}

export const VIEWS: OracleView[] = [
  {
    name: 'activity',
    description: 'The reference view: LEFT JOIN x2, the second on an int -> text cast (N:M per customer).',
    key: ['customer_id', 'order_id', 'event_id'],
    sql: `SELECT c.customer_id, c.tenant_id, c.email, o.order_id, o.total_amount,
                 e._id AS event_id, e.event_type, e.ts AS event_ts
          FROM crm.customers c
          LEFT JOIN app.orders o ON o.customer_id = c.customer_id
          LEFT JOIN analytics.events e ON e.user_id = c.customer_id::text`,
  },
  {
    name: 'customer_orders',
    description: 'INNER JOIN across MariaDB and PostgreSQL.',
    key: ['order_id'],
    sql: `SELECT c.customer_id, c.tenant_id, c.full_name, c.is_active, o.order_id, o.status,
                 o.total_amount, o.created_at AS ordered_at
          FROM crm.customers c
          JOIN app.orders o ON o.customer_id = c.customer_id`,
  },
  {
    name: 'order_exprs',
    description: 'Casts, arithmetic, ||, COALESCE and CASE over a LEFT JOIN.',
    key: ['customer_id', 'order_id'],
    sql: `SELECT c.customer_id, o.order_id,
                 c.customer_id::text || '/' || COALESCE(o.status, 'none') AS label,
                 c.full_name || ' <' || COALESCE(c.email, '?') || '>' AS contact,
                 COALESCE(o.total_amount, 0) * 2 AS doubled,
                 o.total_amount - 1.5 AS minus,
                 o.total_amount / 3 AS third,
                 o.order_id::text AS order_ref,
                 c.customer_id::numeric + 0.5 AS half_id,
                 CASE WHEN o.total_amount >= 100 THEN 'big' WHEN o.total_amount IS NULL THEN 'none' ELSE 'small' END AS size,
                 CASE c.tenant_id WHEN 't1' THEN 1 WHEN 't2' THEN 2 ELSE 0 END AS tenant_rank,
                 o.created_at::date AS order_day
          FROM crm.customers c
          LEFT JOIN app.orders o ON o.customer_id = c.customer_id`,
  },
  {
    name: 'tenant_revenue',
    description: 'GROUP BY with count/sum/avg/min/max over a LEFT JOIN.',
    key: ['tenant_id'],
    sql: `SELECT c.tenant_id, count(*) AS n_rows, count(o.order_id) AS n_orders,
                 sum(o.total_amount) AS revenue, avg(o.total_amount) AS avg_amount,
                 min(o.total_amount) AS min_amount, max(o.created_at) AS last_order,
                 min(c.full_name) AS first_name, max(o.status) AS max_status,
                 sum(c.customer_id) AS id_sum, avg(c.customer_id) AS id_avg
          FROM crm.customers c
          LEFT JOIN app.orders o ON o.customer_id = c.customer_id
          GROUP BY c.tenant_id`,
  },
  {
    name: 'customer_events',
    description: 'GROUP BY over a cross-store LEFT JOIN on the int -> text cast, aggregating MongoDB fields.',
    key: ['customer_id'],
    sql: `SELECT c.customer_id, c.tenant_id, count(e._id) AS n_events, count(e.ts) AS n_timed,
                 max(e.ts) AS last_event, min(e.event_type) AS first_type,
                 sum(e.qty) AS qty_sum, avg(e.qty) AS qty_avg, max(e.qty) AS qty_max
          FROM crm.customers c
          LEFT JOIN analytics.events e ON e.user_id = c.customer_id::text
          GROUP BY c.customer_id, c.tenant_id`,
  },
  {
    name: 'active_events',
    description: 'A view with a WHERE clause: AND/OR/NOT, IN, BETWEEN, LIKE, ILIKE, IS NULL.',
    key: ['event_id'],
    sql: `SELECT c.customer_id, c.full_name, e._id AS event_id, e.event_type, e.ts AS event_ts, e.sku
          FROM crm.customers c
          JOIN analytics.events e ON e.user_id = c.customer_id::text
          WHERE c.is_active = true
            AND (e.event_type IN ('view', 'View', 'buy') OR e.sku LIKE 'SKU-%' OR e.event_type IS NULL)
            AND NOT (c.full_name ILIKE '%turing%')
            AND c.customer_id BETWEEN -10 AND 9007199254740993`,
  },
  {
    name: 'event_users',
    description: 'MongoDB as the preserved side: events LEFT JOIN customers on customer_id::text = user_id.',
    key: ['event_id'],
    sql: `SELECT e._id AS event_id, e.user_id, e.event_type, e.ts, e.qty, e.seq, e.payload,
                 c.customer_id, c.full_name, c.tenant_id
          FROM analytics.events e
          LEFT JOIN crm.customers c ON c.customer_id::text = e.user_id`,
  },
  {
    name: 'tenant_customers',
    description:
      'Both tables in MariaDB (one subplan, one query): a text join that must not use its case-insensitive, PAD SPACE collation.',
    key: ['tenant_no', 'customer_id'],
    sql: `SELECT t.tenant_no, t.tenant_id, t.tenant_name, t.plan, c.customer_id, c.full_name
          FROM crm.tenants t
          LEFT JOIN crm.customers c ON c.tenant_id = t.tenant_id`,
  },
  {
    name: 'no_orders',
    description: 'Anti-join: LEFT JOIN ... WHERE <nullable side> IS NULL (the filter must not go into the orders scan).',
    key: ['customer_id'],
    sql: `SELECT c.customer_id, c.full_name, c.tenant_id
          FROM crm.customers c
          LEFT JOIN app.orders o ON o.customer_id = c.customer_id
          WHERE o.order_id IS NULL`,
  },
  {
    name: 'order_events',
    description: 'PostgreSQL joined straight to MongoDB on a cast (N:M per customer), without the customers table.',
    key: ['order_id', 'event_id'],
    sql: `SELECT o.order_id, o.customer_id, o.status, o.total_amount, e._id AS event_id, e.event_type, e.ts AS event_ts,
                 COALESCE(e.event_type, o.status) AS what
          FROM app.orders o
          JOIN analytics.events e ON e.user_id = o.customer_id::text`,
  },
  {
    name: 'top_orders',
    description: 'A view with its own ORDER BY + LIMIT/OFFSET: client filters apply after them, never below.',
    key: ['order_id'],
    sql: `SELECT c.customer_id, c.full_name, o.order_id, o.status, o.total_amount
          FROM crm.customers c
          JOIN app.orders o ON o.customer_id = c.customer_id
          ORDER BY o.total_amount DESC, o.order_id
          LIMIT 8 OFFSET 2`,
  },
  {
    name: 'tenant_status',
    description: 'GROUP BY two keys (NULLs included) over three stores, with a WHERE clause.',
    key: ['tenant_id', 'status'],
    sql: `SELECT c.tenant_id, o.status, count(*) AS n, count(e._id) AS n_events, sum(o.total_amount) AS total,
                 max(e.ts) AS last_event, min(o.order_id) AS first_order
          FROM crm.customers c
          JOIN app.orders o ON o.customer_id = c.customer_id
          LEFT JOIN analytics.events e ON e.user_id = c.customer_id::text
          WHERE o.total_amount IS NULL OR o.total_amount < 1000
          GROUP BY c.tenant_id, o.status`,
  },
  {
    name: 'order_tenants',
    description: 'Adversarial only: a text join across PostgreSQL and MariaDB (whose collation says t1 = T1 = "t1 " and Ω = ω).',
    key: ['order_id', 'tenant_no'],
    fixtures: ['adversarial'],
    sql: `SELECT o.order_id, o.tenant_ref, o.status, t.tenant_no, t.tenant_name, t.plan
          FROM app.orders o
          LEFT JOIN crm.tenants t ON t.tenant_id = o.tenant_ref`,
  },
  {
    name: 'credit_matches',
    description: 'Adversarial only: a numeric join key with different scales on each side (DECIMAL(20,4) 7.0000 = NUMERIC 7 = 7.00).',
    key: ['customer_id', 'order_id'],
    fixtures: ['adversarial'],
    sql: `SELECT c.customer_id, c.credit, o.order_id, o.total_amount
          FROM crm.customers c
          JOIN app.orders o ON o.total_amount = c.credit`,
  },
  {
    name: 'same_instant',
    description: 'Adversarial only: timestamp join keys (MariaDB DATETIME(6) as UTC = timestamptz = MongoDB Date, N:M).',
    key: ['customer_id', 'order_id', 'event_id'],
    fixtures: ['adversarial'],
    sql: `SELECT c.customer_id, c.created_at, o.order_id, e._id AS event_id, e.event_type
          FROM crm.customers c
          JOIN app.orders o ON o.created_at = c.created_at
          LEFT JOIN analytics.events e ON e.ts = o.created_at`,
  },
  {
    name: 'dup_rows',
    description: 'Identical rows (a multiset): a three-store fan-out projected onto a few columns; nothing may deduplicate.',
    // No numeric column: 100 and 100.0 tie in ORDER BY yet print differently, so ties would not be identical rows.
    key: ['tenant_id', 'order_id', 'status'],
    duplicates: true,
    sql: `SELECT c.tenant_id, o.order_id, o.status
          FROM crm.customers c
          JOIN app.orders o ON o.customer_id = c.customer_id
          JOIN analytics.events e ON e.user_id = c.customer_id::text`,
  },
  {
    name: 'customer_numbers',
    description: 'Adversarial only: DECIMAL and DOUBLE arithmetic, numeric + float, across stores.',
    key: ['customer_id', 'order_id'],
    fixtures: ['adversarial'],
    sql: `SELECT c.customer_id, c.credit, c.score, o.order_id, o.note,
                 c.credit * 2 AS credit2, c.score * 2 AS score2,
                 c.credit + o.total_amount AS exposure,
                 c.score + c.credit AS mixed,
                 -c.credit AS neg_credit
          FROM crm.customers c
          LEFT JOIN app.orders o ON o.customer_id = c.customer_id`,
  },
  {
    name: 'lite_countries',
    description: 'SQLite alone, one table: every declared type (INTEGER, REAL, NUMERIC, TEXT, BOOLEAN, DATE, DATETIME) and NULLs.',
    key: ['code'],
    sql: `SELECT k.code, k.name, k.capital, k.population, k.area_km2, k.eu, k.eu_since, k.updated_at, k.vat_rate
          FROM lite.countries k`,
  },
  {
    name: 'lite_tenant_countries',
    description: 'SQLite alone, two of its tables LEFT JOINed on text, with arithmetic and COALESCE over them.',
    key: ['tenant_id'],
    sql: `SELECT t.tenant_id, t.country_code, t.since, t.seats, k.name AS country_name, k.eu, k.population, k.vat_rate,
                 t.seats * 2 AS seats2, k.area_km2 / 2 AS half_area, COALESCE(k.name, t.country_code, '?') AS display_name
          FROM lite.tenant_countries t
          LEFT JOIN lite.countries k ON k.code = t.country_code`,
  },
  {
    name: 'order_statuses',
    description: 'PostgreSQL, MariaDB and SQLite: orders and customers LEFT JOIN the status and country reference data on text.',
    key: ['order_id'],
    sql: `SELECT o.order_id, o.status, o.total_amount, c.customer_id, c.tenant_id, c.full_name,
                 s.label AS status_label, s.rank AS status_rank, s.is_final,
                 tc.country_code, k.name AS country_name, k.eu, k.updated_at AS country_updated
          FROM app.orders o
          JOIN crm.customers c ON c.customer_id = o.customer_id
          LEFT JOIN lite.statuses s ON s.status = o.status
          LEFT JOIN lite.tenant_countries tc ON tc.tenant_id = c.tenant_id
          LEFT JOIN lite.countries k ON k.code = tc.country_code`,
  },
  {
    name: 'country_customers',
    description: "SQLite as the preserved side: countries LEFT JOIN their tenants (SQLite) LEFT JOIN those tenants' customers (MariaDB).",
    key: ['code', 'tenant_id', 'customer_id'],
    sql: `SELECT k.code, k.name AS country_name, k.population, k.updated_at, tc.tenant_id, tc.seats, c.customer_id, c.full_name, c.is_active
          FROM lite.countries k
          LEFT JOIN lite.tenant_countries tc ON tc.country_code = k.code
          LEFT JOIN crm.customers c ON c.tenant_id = tc.tenant_id`,
  },
  {
    name: 'status_revenue',
    description: 'GROUP BY over SQLite LEFT JOIN PostgreSQL: every status with its orders counted and summed.',
    key: ['status'],
    sql: `SELECT s.status, s.label AS status_label, s.rank AS status_rank, s.is_final,
                 count(o.order_id) AS n_orders, sum(o.total_amount) AS revenue, max(o.created_at) AS last_order,
                 min(s.refund_days) AS refund_days
          FROM lite.statuses s
          LEFT JOIN app.orders o ON o.status = s.status
          GROUP BY s.status, s.label, s.rank, s.is_final`,
  },
];

export function viewsFor(fixture: FixtureName): OracleView[] {
  return VIEWS.filter((v) => !v.fixtures || v.fixtures.includes(fixture));
}
