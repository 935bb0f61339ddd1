// Properties. (issue 4 item 8): for random filters from the grammar over the reference customers view
// (MariaDB), what a tenant gets over REST is exactly what the ungoverned (internal) caller gets for
// the same filter, restricted to that tenant's rows, projected to the tenant's fields and with the
// e-mail masked. Tenants come from signed JWTs, including one that owns no rows.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileMask } from '../../src/policy/mask.js';
import {
  createReferenceStores,
  get,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { signHs256 } from '../support/jwt.js';
import { rest, tenancyConfig, type TenancyKey } from '../support/tenancy.js';
import mysql from 'mysql2/promise';
import pg from 'pg';

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('policy_tenancy');
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

// The external grant of examples/reference/viewgate.yaml.
const TENANT_FIELDS = ['customer_id', 'tenant_id', 'email', 'full_name', 'created_at'];
const emailMask = compileMask('email', undefined);

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const idArb = fc.integer({ min: -1, max: 18 });
const tenantArb = fc.constantFrom('t1', 't2', 't3', 't4', 'T2', 't');
const nameArb = fc.constantFrom('Ada Lovelace', 'Grace Hopper', "Zoë O'Brien", 'Chloé Durand', 'M', 'a', 'Jürgen', '', 'Z');
const patternArb = fc.constantFrom('%a%', 'A%', '%n', '_d%', '%ö%', '%ë%', '%', "%O'B%", 'Ken Thompson', '%\\_%');
const timeArb = fc
  .date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2024-06-30T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString());
const cmpArb = fc.constantFrom('=', '!=', '<>', '<', '<=', '>', '>=');

const leafArb: fc.Arbitrary<string> = fc.oneof(
  fc.tuple(cmpArb, idArb).map(([op, n]) => `customer_id ${op} ${n}`),
  fc.tuple(idArb, idArb).map(([a, b]) => `customer_id between ${Math.min(a, b)} and ${Math.max(a, b)}`),
  fc.array(idArb, { minLength: 1, maxLength: 4 }).map((ns) => `customer_id in (${ns.join(', ')})`),
  fc.array(idArb, { minLength: 1, maxLength: 3 }).map((ns) => `customer_id not in (${ns.join(', ')})`),
  fc.tuple(cmpArb, tenantArb).map(([op, t]) => `tenant_id ${op} ${q(t)}`),
  fc.array(tenantArb, { minLength: 1, maxLength: 3 }).map((ts) => `tenant_id in (${ts.map(q).join(', ')})`),
  tenantArb.map((t) => `tenant_id starts with ${q(t)}`),
  fc.tuple(cmpArb, nameArb).map(([op, n]) => `full_name ${op} ${q(n)}`),
  patternArb.map((p) => `full_name like ${q(p)}`),
  patternArb.map((p) => `full_name not like ${q(p)}`),
  nameArb.map((n) => `full_name contains ${q(n)}`),
  nameArb.map((n) => `full_name ends with ${q(n)}`),
  fc.tuple(cmpArb, timeArb).map(([op, t]) => `created_at ${op} ${q(t)}`),
  fc.tuple(timeArb, timeArb).map(([a, b]) => `created_at between ${q(a < b ? a : b)} and ${q(a < b ? b : a)}`),
  fc.constantFrom('full_name is not null', 'created_at is null', 'tenant_id is not null'),
);

const filterArb: fc.Arbitrary<string> = fc.letrec<{ f: string }>((tie) => ({
  f: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    leafArb,
    fc.tuple(tie('f'), tie('f')).map(([a, b]) => `(${a}) and (${b})`),
    fc.tuple(tie('f'), tie('f')).map(([a, b]) => `(${a}) or (${b})`),
    tie('f').map((a) => `not (${a})`),
  ),
})).f;

async function rows(headers: Record<string, string>, filter: string): Promise<any[]> {
  const qs = new URLSearchParams({ filter, order: 'customer_id', limit: '100' });
  const r = await get(`${srv.url}/api/v2/crm/_table/customers?${qs}`, headers);
  expect(r.status, `${filter}: ${r.text}`).toBe(200);
  return r.body.resource;
}

describe('tenancy property', () => {
  it('tenant rows = internal rows for the same filter, restricted to the tenant, projected and masked', async () => {
    const secret = srv.rt.config.auth.jwt!.secret!;
    const tokens = new Map<string, string>();
    for (const t of ['t1', 't2', 't3', 't9']) {
      tokens.set(t, await signHs256(secret, { roles: ['external'], tenant_id: t }, { iss: 'viewgate-demo', aud: 'viewgate' }));
    }
    let nonEmpty = 0;
    await fc.assert(
      fc.asyncProperty(filterArb, fc.constantFrom('t1', 't2', 't3', 't9'), async (filter, tenant) => {
        const all = await rows({ 'X-API-Key': KEYS.internal }, filter);
        const mine = await rows({ Authorization: `Bearer ${tokens.get(tenant)}` }, filter);
        const expected = all
          .filter((r) => r.tenant_id === tenant)
          .map((r) => Object.fromEntries(TENANT_FIELDS.map((f) => [f, f === 'email' ? emailMask(r[f]) : r[f]])));
        expect(mine).toEqual(expected);
        if (mine.length > 0) nonEmpty++;
      }),
      { numRuns: 120 },
    );
    // The generator must exercise real data, not only empty results.
    expect(nonEmpty).toBeGreaterThan(20);
  });
});

// Property (issue 11 item 4): what tenant t1 gets for any query (filter, ids, order, limit, offset,
// include_count; on embedded views with rowSecurity under row budgets that do and do not fit) never
// depends on tenant t2's data: the same request before and after t2's rows change in the real stores
// gives the same status and the same body, byte for byte.
describe("tenancy property: another tenant's data never changes an answer", () => {
  let storesB: ReferenceStores;
  let srvB: RunningServer;

  beforeAll(async () => {
    storesB = await createReferenceStores('policy_tenancy_b');
    srvB = await startServer(tenancyConfig(storesB.env));
  });

  afterAll(async () => {
    await srvB?.close();
    await storesB?.drop();
  });

  // Ids near the ones t2's new rows take, so queries can name them.
  const orderIdArb = fc.oneof(fc.integer({ min: 1000, max: 1020 }), fc.integer({ min: 2000, max: 2008 }));
  const customerIdArb = fc.oneof(fc.integer({ min: 0, max: 17 }), fc.integer({ min: 100, max: 104 }));
  const amountArb = fc.constantFrom('0', '25', '100.5', '300', '409.99', '1000');
  const tenantLit = fc.constantFrom('t1', 't2', 't3');

  const common: fc.Arbitrary<string>[] = [
    fc.tuple(cmpArb, customerIdArb).map(([op, n]) => `customer_id ${op} ${n}`),
    fc.array(customerIdArb, { minLength: 1, maxLength: 4 }).map((ns) => `customer_id in (${ns.join(', ')})`),
    fc.tuple(cmpArb, tenantLit).map(([op, t]) => `tenant_id ${op} ${q(t)}`),
    fc.constant('tenant_id is not null'),
  ];
  const orderLeaf = fc.oneof(
    ...common,
    fc.tuple(cmpArb, orderIdArb).map(([op, n]) => `order_id ${op} ${n}`),
    fc.array(orderIdArb, { minLength: 1, maxLength: 4 }).map((ns) => `order_id in (${ns.join(', ')})`),
    fc.tuple(cmpArb, amountArb).map(([op, a]) => `total_amount ${op} ${a}`),
  );
  const customerLeaf = fc.oneof(
    ...common,
    nameArb.map((n) => `full_name contains ${q(n)}`),
    patternArb.map((p) => `full_name like ${q(p)}`),
  );
  const treeOf = (leaf: fc.Arbitrary<string>) =>
    fc.letrec<{ f: string }>((tie) => ({
      f: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        leaf,
        fc.tuple(tie('f'), tie('f')).map(([a, b]) => `(${a}) and (${b})`),
        fc.tuple(tie('f'), tie('f')).map(([a, b]) => `(${a}) or (${b})`),
        tie('f').map((a) => `not (${a})`),
      ),
    })).f;

  const pageArb = fc.record(
    {
      limit: fc.integer({ min: 1, max: 20 }).map(String),
      offset: fc.integer({ min: 0, max: 6 }).map(String),
      include_count: fc.constantFrom('true', 'false'),
    },
    { requiredKeys: [] },
  );
  const ordersQuery = fc.record(
    {
      filter: treeOf(orderLeaf),
      ids: fc
        .oneof(
          fc.array(orderIdArb, { minLength: 1, maxLength: 4 }),
          fc.array(fc.integer({ min: 2000, max: 2008 }), { minLength: 2, maxLength: 5 }),
        )
        .map((ns) => ns.join(',')),
      order: fc.constantFrom('order_id', 'total_amount desc', 'customer_id,total_amount', 'tenant_id desc'),
    },
    { requiredKeys: [] },
  );
  const customersQuery = fc.record(
    {
      filter: treeOf(customerLeaf),
      ids: fc.array(customerIdArb, { minLength: 1, maxLength: 4 }).map((ns) => ns.join(',')),
      order: fc.constantFrom('customer_id desc', 'full_name', 'email'),
    },
    { requiredKeys: [] },
  );
  const requestArb = fc.oneof(
    fc.tuple(fc.constantFrom('tenant_orders', 'tenant_orders_small', 'tenant_orders_tight'), ordersQuery, pageArb),
    fc.tuple(fc.constant('tenant_customers'), customersQuery, pageArb),
  );
  // t2's rows: new customers with orders, and new orders of t2's existing customers.
  const changeArb = fc.record({
    customers: fc.uniqueArray(fc.integer({ min: 100, max: 104 }), { maxLength: 3 }),
    orders: fc.uniqueArray(fc.integer({ min: 2000, max: 2008 }), { minLength: 4, maxLength: 8 }),
    owners: fc.array(fc.constantFrom(1, 4, 7, 10, 13, 16), { minLength: 5, maxLength: 5 }),
  });

  async function answer(who: TenancyKey, view: string, params: Record<string, string>): Promise<string> {
    const r = await rest(srvB.url, `/tenancy/_table/${view}`, params, who);
    return `${r.status} ${r.text.replaceAll(/"requestId":"[^"]*"/g, '')}`;
  }

  it('the same query by t1 answers the same before and after t2 rows are added and removed', async () => {
    const m = await mysql.createConnection(storesB.env.CRM_MYSQL_URL!);
    const p = new pg.Client({ connectionString: storesB.env.APP_PG_URL });
    await p.connect();
    const statuses = new Set<number>();
    try {
      await fc.assert(
        fc.asyncProperty(requestArb, changeArb, fc.constantFrom<TenancyKey>('t1', 't1masked'), async ([view, query, page], change, who) => {
          const params = { ...query, ...page } as Record<string, string>;
          const before = await answer(who, view, params);
          statuses.add(Number(before.slice(0, 3)));
          for (const c of change.customers) {
            await m.query(
              "INSERT INTO customers (customer_id, tenant_id, email, full_name, is_active, created_at) VALUES (?, 't2', ?, 'Tenant Two', 1, '2024-06-01')",
              [c, `c${c}@t2.example`],
            );
          }
          const owners = [...change.customers, ...change.owners];
          for (const [i, o] of change.orders.entries()) {
            await p.query("INSERT INTO orders VALUES ($1, $2, 250.00, 'paid', '2024-07-01T00:00:00Z')", [o, owners[i % owners.length]]);
          }
          const during = await answer(who, view, params);
          await p.query('DELETE FROM orders WHERE order_id >= 2000');
          await m.query('DELETE FROM customers WHERE customer_id >= 100');
          expect(during, `${view} ${JSON.stringify(params)} as ${who}`).toBe(before);
        }),
        { numRuns: 100 },
      );
    } finally {
      await p.query('DELETE FROM orders WHERE order_id >= 2000').catch(() => {});
      await m.query('DELETE FROM customers WHERE customer_id >= 100').catch(() => {});
      await p.end();
      await m.end();
    }
    // Successes, row-budget 422s and bad requests all occur.
    expect([...statuses].sort()).toEqual(expect.arrayContaining([200, 422]));
  });
});
