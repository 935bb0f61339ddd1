// ORDER BY + LIMIT pushed into the bound second table of a two-store page
// (src/engine/embedded/child-limit.ts), against PostgreSQL on the same rows: customers in MariaDB
// LEFT JOIN orders in PostgreSQL, ordered by the customer key and then order columns, at every
// small limit and offset, both directions, with customers that have no orders, many orders, orders
// whose sort column is NULL, and orders that match no customer. Each page must be PostgreSQL's,
// with the same "more rows" answer, and the plan must really have cut the orders' fetch.
process.env.TZ = 'Europe/Berlin';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EmbeddedEngine } from '../../src/engine/embedded/index.js';
import type { EngineQuery, View } from '../../src/engine/view.js';
import { createOracleEnv, type OracleEnv } from './env.js';
import type { Fixture } from './fixtures.js';
import { bindText, compareRows, show } from './harness.js';
import type { OracleView } from './views.js';

// Customers 1-9 in tenants a and b; 4 and 8 have no orders, 2 has six, 6 has orders whose status
// is NULL; order 99 belongs to no customer, order 98 to none at all (customer_id NULL).
const FIXTURE: Fixture = {
  name: 'child-limit',
  mysql: {
    ddl: 'CREATE TABLE customers (customer_id BIGINT NOT NULL PRIMARY KEY, tenant_id VARCHAR(8) NOT NULL) DEFAULT CHARSET=utf8mb4;',
    rows: {
      customers: {
        columns: ['customer_id', 'tenant_id'],
        values: [1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => [id, id % 3 === 0 ? 'b' : 'a']),
      },
    },
  },
  postgres: `CREATE TABLE orders (order_id BIGINT PRIMARY KEY, customer_id BIGINT, status TEXT, total_amount NUMERIC);
             INSERT INTO orders VALUES
               (10, 1, 'paid', 5), (11, 1, 'open', 7),
               (20, 2, 'paid', 1), (21, 2, 'open', 2), (22, 2, 'paid', 3), (23, 2, 'void', 4), (24, 2, 'open', 5), (25, 2, 'paid', 6),
               (30, 3, 'open', 1),
               (50, 5, 'paid', 9), (51, 5, 'paid', 8),
               (60, 6, NULL, 1), (61, 6, 'open', 2), (62, 6, NULL, 3),
               (70, 7, 'void', 1),
               (90, 9, 'open', 1), (91, 9, 'paid', 2), (92, 9, 'void', 3),
               (98, NULL, 'open', 1), (99, 100, 'paid', 1);`,
  mongo: {},
};

const VIEW: OracleView = {
  name: 'customer_orders',
  description: 'customers LEFT JOIN orders across two stores',
  key: ['customer_id', 'order_id'],
  sql: `SELECT c.customer_id, c.tenant_id, o.order_id, o.status, o.total_amount
        FROM crm.customers c LEFT JOIN app.orders o ON o.customer_id = c.customer_id`,
};

let env: OracleEnv;
let view: View;
beforeAll(async () => {
  env = await createOracleEnv(FIXTURE, [VIEW]);
  view = await env.view(VIEW.name);
}, 120_000);
afterAll(async () => {
  await env?.close();
});

type Term = { column: string; desc: boolean };

const ORDERS: Term[][] = [
  [
    { column: 'customer_id', desc: false },
    { column: 'order_id', desc: false },
  ],
  [
    { column: 'customer_id', desc: true },
    { column: 'order_id', desc: false },
  ],
  [
    { column: 'customer_id', desc: false },
    { column: 'order_id', desc: true },
  ],
  [
    { column: 'customer_id', desc: false },
    { column: 'status', desc: false },
    { column: 'order_id', desc: false },
  ],
  [
    { column: 'customer_id', desc: true },
    { column: 'status', desc: true },
    { column: 'order_id', desc: true },
  ],
];
const FILTERS = ['', "tenant_id = 'a'", "tenant_id = 'b'"];
const SQL_FILTER: Record<string, string> = { "tenant_id = 'a'": "v.tenant_id = 'a'", "tenant_id = 'b'": "v.tenant_id = 'b'" };

const queryOf = (filter: string, order: Term[], limit: number, offset: number): EngineQuery => ({
  columns: view.columns.map((c) => c.name),
  ...(filter ? { where: bindText(view, filter) } : {}),
  orderBy: order,
  limit,
  offset,
  count: false,
});

describe('ORDER BY + LIMIT into the bound second table', () => {
  it('is planned for the page this file checks: the orders are fetched sorted and cut', () => {
    const plan = (view.engine as EmbeddedEngine).plan(queryOf("tenant_id = 'a'", ORDERS[0]!, 3, 2));
    const orders = plan.units[1]!;
    expect(orders.bind?.fromUnit).toBe(0);
    expect(orders.limit).toBe(6);
    expect(orders.orderBy?.map((o) => [o.column, o.desc])).toEqual([
      ['customer_id', false],
      ['order_id', false],
    ]);
  });

  it("is not planned when the order does not hold each customer's orders fully (no order key after the customer)", () => {
    const plan = (view.engine as EmbeddedEngine).plan(
      queryOf(
        '',
        [
          { column: 'customer_id', desc: false },
          { column: 'status', desc: false },
        ],
        3,
        0,
      ),
    );
    expect(plan.units[1]!.limit).toBeUndefined();
  });

  it.each(
    FILTERS.flatMap((f) =>
      ORDERS.map((o) => [f || '(none)', o.map((t) => `${t.column}${t.desc ? ' desc' : ''}`).join(', '), f, o] as const),
    ),
  )("every page of filter %s, order %s is PostgreSQL's", async (_f, _o, filter, order) => {
    const sqlOrder = order.map((t) => `v.${t.column}${t.desc ? ' DESC' : ''}`).join(', ');
    const where = filter ? `WHERE ${SQL_FILTER[filter]}` : '';
    const all = await env.oracle(`SELECT * FROM (${VIEW.sql}) v ${where} ORDER BY ${sqlOrder}`);
    const columns = view.columns.map((c) => c.name);
    const problems: string[] = [];
    let cut = 0;
    for (const limit of [1, 2, 3, 5, 7]) {
      for (const offset of [0, 1, 2, 4, 6, 11]) {
        const q = queryOf(filter, order, limit, offset);
        if ((view.engine as EmbeddedEngine).plan(q).units[1]!.limit !== undefined) cut++;
        const r = await view.engine.execute(q);
        const expected = all.rows.slice(offset, offset + limit);
        const diff = compareRows(r.rows, expected, columns, true);
        if (diff) problems.push(`limit ${limit} offset ${offset}: ${diff}\nengine ${show(r.rows)}`);
        if (r.hasMore !== all.rows.length > offset + limit) problems.push(`limit ${limit} offset ${offset}: hasMore ${r.hasMore}`);
      }
    }
    expect(problems, problems.join('\n')).toEqual([]);
    // Every page here is one the pushdown applies to: the cases above exercised it.
    expect(cut).toBe(30);
  });
});
