// Aggregates over real HTTP and the real MCP SDK client (docs/query.md "Aggregates",
// docs/security.md "Aggregate rights"): the aggregate right, aggregate-only grants, masked and
// hidden fields, row filters before aggregation, minGroupSize and maxLimit, on both surfaces.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { describe, expect, it } from 'vitest';
import { get } from '../support/reference.js';
import { apiKeysYaml, referenceServer, type ApiKeys } from '../support/reference-server.js';
import { pgExec } from '../support/stores.js';

const KEYS: ApiKeys = {
  analyst: { role: 'analyst' },
  reader: { role: 'reader' },
  counter: { role: 'counter', claims: '{ tenant_id: t2 }' },
  kanon: { role: 'kanon' },
  rows: { role: 'rows' },
};

const AUTH_AND_ROLES = `
auth:
  apiKeys:
${apiKeysYaml(KEYS)}
roles:
  analyst:
    grants: { "*": { read: true, aggregate: true, explain: true } }
  reader:
    grants: { "*": { read: true } }
  counter:
    grants:
      crm.customers:
        read: false
        aggregate: true
        fields: [customer_id, tenant_id, email, is_active]
        masks: { email: email, is_active: 'null' }
        rowFilter: "tenant_id = {claims.tenant_id}"
  kanon:
    grants:
      app.orders:
        read: false
        aggregate: true
        fields: [order_id, status, total_amount]
        minGroupSize: { k: 3, distinctOn: customer_id }
        maxLimit: 2
  rows:
    grants:
      app.orders: { read: true, minGroupSize: 2 }
`;

const ref = referenceServer('agg_policy', AUTH_AND_ROLES);

const as = (name: keyof typeof KEYS) => ({ 'X-API-Key': `key-${name}` });
const api = (path: string, params: Record<string, string>) => `${ref.srv.url}/api/v2${path}?${new URLSearchParams(params).toString()}`;
const orders = (params: Record<string, string>, who: keyof typeof KEYS) => get(api('/app/_table/orders', params), as(who));
const customers = (params: Record<string, string>, who: keyof typeof KEYS) => get(api('/crm/_table/customers', params), as(who));

describe('REST aggregates', () => {
  it('groups with PostgreSQL result types, default names, aliases, having and order', async () => {
    const r = await orders(
      {
        fields: 'status,count(*),sum(total_amount),avg(customer_id) as avg_c,min(order_id),max(created_at)',
        group: 'status',
        having: 'count > 3',
        order: 'sum_total_amount desc',
      },
      'analyst',
    );
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource.map((x: any) => x.status)).toEqual(['refunded', 'shipped', 'paid']);
    expect(r.text).toContain('"count":7,"sum_total_amount":"1797.23"');
    expect(r.body.resource[0]).toMatchObject({ status: 'refunded', count: 7, min_order_id: 1007 });
    expect(r.body.resource[2]).toMatchObject({ status: 'paid', count: 5, sum_total_amount: '1019.25' });
    expect(typeof r.body.resource[2].avg_c).toBe('string');
    expect(r.body.meta).toEqual({});
  });

  it('whole-result aggregates over an empty match give one row: count 0, others NULL', async () => {
    const r = await orders({ fields: 'count(*),sum(total_amount),count(distinct status)', filter: 'order_id < 0' }, 'analyst');
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([{ count: 0, sum_total_amount: null, count_distinct_status: 0 }]);
  });

  it('group alone gives the distinct groups; count_only a bare number', async () => {
    const g = await orders({ group: 'status' }, 'analyst');
    expect(g.body.resource).toEqual([{ status: 'paid' }, { status: 'refunded' }, { status: 'shipped' }]);
    const c = await orders({ count_only: 'true', filter: "status = 'paid'" }, 'reader');
    expect(c.status, c.text).toBe(200);
    expect(c.text).toBe('5');
  });

  it('malformed aggregates are 400s naming the parameter and position', async () => {
    const cases: [Record<string, string>, string, RegExp][] = [
      [{ fields: 'status,sum(*)', group: 'status' }, 'fields', /sum\(\*\) does not exist at position 7 in fields/],
      [{ fields: 'median(total_amount)' }, 'fields', /unknown aggregate function 'median'/],
      [{ fields: 'count(*) as Bad' }, 'fields', /alias 'Bad' must match/],
      [{ fields: 'status,count(*)' }, 'fields', /field "status" at position 0 in fields stands next to aggregates, so it must be in group/],
      [{ fields: 'sum(status)' }, 'fields', /sum\(status\) does not exist/],
      [{ fields: 'count(*),count(order_id) as count' }, 'fields', /output name "count" is used twice/],
      [{ group: 'status', having: 'order_id > 1' }, 'having', /"order_id" is not an output/],
      [{ group: 'status', order: 'total_amount' }, 'order', /"total_amount" is not an output/],
      [{ having: 'count > 1' }, 'having', /needs group or an aggregate/],
    ];
    for (const [params, param, message] of cases) {
      const r = await orders(params, 'analyst');
      expect(r.status, JSON.stringify(params)).toBe(400);
      expect(r.body.error.message, JSON.stringify(params)).toMatch(message);
      expect(r.body.error.context.param, JSON.stringify(params)).toBe(param);
    }
  });

  it('explain says where the aggregates ran: GROUP BY in PostgreSQL with bound parameters, and in MariaDB', async () => {
    const pgPlan = await orders(
      { fields: 'status,count(*),sum(total_amount) as revenue', group: 'status', filter: "status != 'x'", explain: 'true' },
      'analyst',
    );
    expect(pgPlan.status, pgPlan.text).toBe(200);
    expect(pgPlan.body.explain.plan.aggregates).toEqual({ count: 'store', revenue: 'store' });
    expect(pgPlan.body.explain.queries[0].text).toMatch(/GROUP BY 1/);
    expect(pgPlan.body.explain.queries[0].text).not.toContain("'x'");
    expect(pgPlan.body.explain.queries[0].params).toContain('x');
    const myPlan = await customers({ fields: 'count(*)', explain: 'true' }, 'analyst');
    expect(myPlan.body.explain.plan.aggregates).toEqual({ count: 'store' });
    expect(myPlan.body.explain.queries[0].text).toMatch(/^SELECT COUNT\(\*\) FROM/);
  });
});

describe('REST aggregate rights', () => {
  it('aggregates and group need aggregate: true', async () => {
    for (const params of [{ fields: 'count(*)' }, { group: 'status' }] as Record<string, string>[]) {
      const r = await orders(params, 'reader');
      expect(r.status).toBe(403);
      expect(r.body.error.message).toMatch(/lacks aggregate/);
    }
  });

  it('an aggregate-only grant refuses rows and min/max but answers counts, within its row filter', async () => {
    expect((await customers({}, 'counter')).status).toBe(403);
    expect((await get(`${ref.srv.url}/api/v2/crm/_table/customers/1`, as('counter'))).status).toBe(403);
    const minmax = await customers({ fields: 'max(customer_id)' }, 'counter');
    expect(minmax.status).toBe(403);
    expect(minmax.body.error.message).toMatch(/aggregate-only/);
    const r = await customers({ fields: 'tenant_id,count(*),sum(customer_id),count(email)', group: 'tenant_id' }, 'counter');
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toHaveLength(1);
    expect(r.body.resource[0].tenant_id).toBe('t2');
    expect(r.body.resource[0].count).toBe(r.body.resource[0].count_email);
    expect((await customers({ count_only: 'true' }, 'counter')).text).toBe(String(r.body.resource[0].count));
  });

  it('a masked field is allowed only inside count(col); hidden fields look unknown', async () => {
    for (const [params, param] of [
      [{ fields: 'count(distinct email)' }, 'fields'],
      [{ fields: 'min(email)' }, 'fields'],
      [{ group: 'email' }, 'group'],
      [{ fields: 'count(email) as n', group: 'tenant_id', having: "email = 'x'" }, 'having'],
      [{ group: 'tenant_id', order: 'email' }, 'order'],
    ] as [Record<string, string>, string][]) {
      const r = await customers(params, 'counter');
      expect(r.status, JSON.stringify(params)).toBe(params.fields === 'min(email)' ? 403 : 400);
      if (r.status === 400) {
        expect(r.body.error.message, JSON.stringify(params)).toMatch(/"email" is masked/);
        expect(r.body.error.context.param).toBe(param);
      }
    }
    // Under a null mask even whether a value is NULL is hidden: not even count(col).
    const nullMasked = await customers({ fields: 'count(is_active)' }, 'counter');
    expect(nullMasked.status, nullMasked.text).toBe(400);
    expect(nullMasked.body.error.message).toMatch(/"is_active" is masked with null .*not even counted/);
    expect(nullMasked.body.error.context).toMatchObject({ param: 'fields', field: 'is_active' });
    const hidden = await customers({ fields: 'count(distinct full_name)' }, 'counter');
    const missing = await customers({ fields: 'count(distinct no_such)' }, 'counter');
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message.replace('full_name', 'X')).toBe(missing.body.error.message.replace('no_such', 'X'));
  });

  it('minGroupSize leaves out groups of fewer than k entities and counts them; maxLimit caps groups', async () => {
    const r = await orders({ fields: 'status,count(*),sum(total_amount)', group: 'status' }, 'kanon');
    expect(r.status, r.text).toBe(200);
    // paid: customers 1,2,3,6 (4); refunded: 8,12,15,16 (4); shipped: 4,11,12,15,16 (5): all kept.
    expect(r.body.resource.map((x: any) => x.status)).toEqual(['paid', 'refunded']);
    expect(r.body.meta).toEqual({ next: 2, next_cursor: expect.any(String), suppressed_groups: 0 });
    const small = await orders({ fields: 'status,count(*)', group: 'status', filter: 'order_id <= 1008' }, 'kanon');
    // paid: 1,2,3,6 kept; shipped: 4 and refunded: 8 suppressed.
    expect(small.body.resource).toEqual([{ status: 'paid', count: 5 }]);
    expect(small.body.meta.suppressed_groups).toBe(2);
    const whole = await orders({ fields: 'sum(total_amount)', filter: 'order_id <= 1002' }, 'kanon');
    expect(whole.body.resource).toEqual([]);
    expect(whole.body.meta.suppressed_groups).toBe(1);
    const count = await orders({ count_only: 'true', filter: 'order_id <= 1002' }, 'kanon');
    expect(count.status).toBe(403);
    expect((await orders({ count_only: 'true' }, 'kanon')).text).toBe('18');
  });

  it('include_count under minGroupSize is refused rather than a number below k', async () => {
    expect((await orders({ include_count: 'true', filter: 'order_id = 1001' }, 'rows')).status).toBe(403);
    const ok = await orders({ include_count: 'true', filter: 'order_id <= 1003' }, 'rows');
    expect(ok.body.meta.count).toBe(3);
  });
});

describe('MCP aggregate_view', () => {
  const connect = async (who: keyof typeof KEYS) => {
    const client = new Client({ name: 'agg-test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${ref.srv.url}/mcp`), { requestInit: { headers: as(who) } }));
    return client;
  };

  it('is listed only for callers with an aggregate grant, and answers groups', async () => {
    const reader = await connect('reader');
    expect((await reader.listTools()).tools.map((t) => t.name)).not.toContain('aggregate_view');
    await reader.close();
    const client = await connect('kanon');
    const tool = (await client.listTools()).tools.find((t) => t.name === 'aggregate_view');
    expect(tool?.outputSchema).toBeDefined();
    const r = await client.callTool({
      name: 'aggregate_view',
      arguments: {
        view: 'app.orders',
        group_by: ['status'],
        metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total_amount', as: 'revenue' }],
        filter: 'order_id <= 1008',
      },
    });
    expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    expect(r.structuredContent).toEqual({
      rows: [{ status: 'paid', count: 5, revenue: '1019.25' }],
      returned: 1,
      truncated: false,
      suppressed_groups: 2,
    });
    const refused = await client.callTool({
      name: 'aggregate_view',
      arguments: { view: 'app.orders', metrics: [{ fn: 'max', field: 'total_amount' }] },
    });
    expect(refused.isError).toBe(true);
    const rows = await client.callTool({ name: 'query_view', arguments: { view: 'app.orders' } });
    expect(rows.isError).toBe(true);
    await client.close();
  });

  it('maxLimit caps the groups per call: a larger limit is clamped, and next_cursor leads to the rest', async () => {
    const all = await orders({ group: 'status', limit: '100' }, 'analyst');
    expect(all.body.resource).toHaveLength(3);
    const client = await connect('kanon');
    try {
      const args = { view: 'app.orders', group_by: ['status'], metrics: [{ fn: 'count' }] };
      const groups: unknown[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 5; page++) {
        const r = (await client.callTool({
          name: 'aggregate_view',
          arguments: { ...args, limit: 100, ...(cursor ? { cursor } : {}) },
        })) as any;
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        expect(r.structuredContent.rows.length).toBeLessThanOrEqual(2);
        expect(r.structuredContent.returned).toBe(r.structuredContent.rows.length);
        groups.push(...r.structuredContent.rows);
        cursor = r.structuredContent.next_cursor;
        expect(r.structuredContent.truncated).toBe(cursor !== undefined);
        if (!cursor) break;
      }
      // paid, refunded, shipped: each from at least 3 customers, so none is suppressed; two per call.
      expect(groups).toEqual([
        { status: 'paid', count: 5 },
        { status: 'refunded', count: 7 },
        { status: 'shipped', count: 6 },
      ]);
      const first = (await client.callTool({ name: 'aggregate_view', arguments: args })) as any;
      expect(first.structuredContent).toMatchObject({ returned: 2, truncated: true, suppressed_groups: 0 });
    } finally {
      await client.close();
    }
  });

  it('a whole-result aggregate from fewer than k distinct customers is withheld, one from k or more answered, as over REST', async () => {
    // [filter, distinct customers]: rows are not entities (1013-1018 are six orders of two customers).
    const cases: [string, number][] = [
      ['order_id <= 1002', 1],
      ['order_id <= 1003', 2],
      ['order_id >= 1013', 2],
      ['order_id <= 1004', 3],
      ['order_id >= 1012', 3],
      ['order_id > 0', 10],
    ];
    const client = await connect('kanon');
    try {
      for (const [filter, customers] of cases) {
        const oracle = await pgExec(
          ref.stores.env.APP_PG_URL!,
          `SELECT count(DISTINCT customer_id)::text AS k, count(*)::text AS count, sum(total_amount)::text AS revenue,
             avg(total_amount)::text AS avg_total_amount, count(DISTINCT status)::text AS count_distinct_status
           FROM orders WHERE ${filter}`,
        );
        const { k, ...want } = oracle.rows[0] as Record<string, string>;
        expect(Number(k), filter).toBe(customers);
        const r = (await client.callTool({
          name: 'aggregate_view',
          arguments: {
            view: 'app.orders',
            metrics: [
              { fn: 'count' },
              { fn: 'sum', field: 'total_amount', as: 'revenue' },
              { fn: 'avg', field: 'total_amount' },
              { fn: 'count_distinct', field: 'status' },
            ],
            filter,
          },
        })) as any;
        expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
        const rest = await orders(
          { fields: 'count(*),sum(total_amount) as revenue,avg(total_amount),count(distinct status)', filter },
          'kanon',
        );
        expect(rest.status, rest.text).toBe(200);
        if (customers < 3) {
          expect(r.structuredContent, filter).toEqual({ rows: [], returned: 0, truncated: false, suppressed_groups: 1 });
          expect(rest.body, filter).toEqual({ resource: [], meta: { suppressed_groups: 1 } });
        } else {
          const got = r.structuredContent.rows.map((row: Record<string, unknown>) =>
            Object.fromEntries(Object.entries(row).map(([n, v]) => [n, String(v)])),
          );
          expect(got, filter).toEqual([want]);
          expect(r.structuredContent).toMatchObject({ returned: 1, truncated: false, suppressed_groups: 0 });
          expect(rest.body.resource, filter).toEqual(r.structuredContent.rows);
        }
      }
    } finally {
      await client.close();
    }
  });

  it('applies the same rules as REST: masked only in count, hidden like unknown, row filter first, describe_view says the rights', async () => {
    const client = await connect('counter');
    const call = (args: Record<string, unknown>) =>
      client.callTool({ name: 'aggregate_view', arguments: { view: 'crm.customers', ...args } });
    const text = (r: Awaited<ReturnType<typeof call>>) => (r.content as { text: string }[])[0]!.text;
    const masked = await call({ group_by: 'email', metrics: [{ fn: 'count' }] });
    expect(masked.isError).toBe(true);
    expect(text(masked)).toMatch(/field "email" is masked for your role/);
    const distinct = await call({ metrics: [{ fn: 'count_distinct', field: 'email' }] });
    expect(text(distinct)).toMatch(/"email" is masked/);
    const hidden = await call({ metrics: [{ fn: 'sum', field: 'full_name' }] });
    const missing = await call({ metrics: [{ fn: 'sum', field: 'no_such' }] });
    expect(text(hidden).split('\n')[0]!.replace('full_name', 'X')).toBe(text(missing).split('\n')[0]!.replace('no_such', 'X'));
    const ok = await call({ group_by: ['tenant_id'], metrics: [{ fn: 'count', field: 'email', as: 'with_email' }] });
    expect(ok.isError, text(ok)).toBeFalsy();
    expect((ok.structuredContent as { rows: { tenant_id: string }[] }).rows.map((r) => r.tenant_id)).toEqual(['t2']);
    const described = await client.callTool({ name: 'describe_view', arguments: { view: 'crm.customers' } });
    expect((described.structuredContent as { aggregates: unknown }).aggregates).toEqual({
      rows: false,
      functions: ['count', 'count_distinct', 'sum', 'avg'],
    });
    await client.close();
  });
});
