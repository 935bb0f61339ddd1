// govern() on a view without a store (pipeline step 2, docs/architecture.md): the caller's schema,
// unknown and masked fields, the row filter ANDed around the whole client filter, claims bound by
// type, limits, order.
import { describe, expect, it } from 'vitest';
import type { Config, GrantConfig } from '../../src/config/schema.js';
import { parseViewId, viewIdOf } from '../../src/config/view-id.js';
import type { View } from '../../src/engine/view.js';
import { ApiError } from '../../src/errors.js';
import { callerSchema } from '../../src/policy/caller-schema.js';
import { govern, GovernedQuery } from '../../src/policy/govern.js';
import { readGrant } from '../../src/policy/grants.js';
import type { Identity } from '../../src/policy/identity.js';
import { Policy } from '../../src/policy/policy.js';
import { claimValue } from '../../src/policy/row-filter.js';
import { parseRestQuery } from '../../src/query/client-query.js';

const view: View = {
  id: viewIdOf('crm', 'customers'),
  service: 'crm',
  name: 'customers',
  description: '',
  key: ['customer_id'],
  columns: [
    { name: 'customer_id', type: 'int', nullable: false },
    { name: 'tenant_id', type: 'text', nullable: false },
    { name: 'email', type: 'text', nullable: false },
    { name: 'full_name', type: 'text', nullable: true },
    { name: 'profile', type: 'jsonb', nullable: true },
    { name: 'created_at', type: 'timestamptz', nullable: false },
  ],
  engine: { execute: () => Promise.reject(new Error('not used')), explain: () => Promise.reject(new Error('not used')) },
};

const config = { masking: { hashSecret: 'k' } } as unknown as Config;

const grant = (g: Partial<GrantConfig>): GrantConfig => ({ read: true, explain: false, aggregate: false, sql: false, masks: {}, ...g });

const tenant: Identity = { subject: 'u', identityKey: 'jwt:|u', role: 'external', method: 'jwt', claims: { tenant_id: 't2' } };

const external = grant({
  fields: ['customer_id', 'tenant_id', 'email', 'full_name', 'profile'],
  masks: { email: 'email' },
  rowFilter: 'tenant_id = {claims.tenant_id}',
  maxLimit: 100,
});

/** The policy's record for the caller's role on the view, under a config whose only grant is `g`. */
function access(g: GrantConfig, role: string) {
  const cfg = {
    ...config,
    roles: { [role]: { grants: { [view.id]: g } } },
    sources: {},
    services: {},
    engine: { rowBudget: 10_000 },
  } as unknown as Config;
  return new Policy(cfg).access(role, view)!;
}

function run(qs: Record<string, string>, g: GrantConfig = external, who: Identity = tenant) {
  return govern(access(g, who.role), who, view, parseRestQuery(qs));
}

function error(f: () => unknown): ApiError {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

describe('caller schema', () => {
  it('is the granted fields in view order, masked ones marked, masked values typed as text', () => {
    const s = callerSchema(
      view,
      grant({ fields: ['full_name', 'customer_id', 'email', 'created_at'], masks: { email: 'hash', created_at: 'null' } }),
      'k',
    );
    expect(s.columns.map((c) => [c.name, c.type, c.masked, c.filterable])).toEqual([
      ['customer_id', 'int', false, true],
      ['email', 'text', true, false],
      ['full_name', 'text', false, true],
      ['created_at', 'timestamptz', true, false],
    ]);
    expect(s.maxLimit).toBe(1000);
  });

  it('a column named like an Object.prototype member is not masked by accident', () => {
    const v: View = { ...view, columns: [...view.columns, { name: 'constructor', type: 'text', nullable: true }] };
    const s = callerSchema(v, grant({}), 'k');
    expect(s.byName.get('constructor')).toMatchObject({ masked: false });
  });
});

describe('govern', () => {
  it('ANDs the row filter around the whole client filter, so "or" cannot widen it', () => {
    const q = run({ filter: "tenant_id = 't1' or customer_id > 0" });
    expect(q.engine.where).toEqual({
      op: 'and',
      args: [
        { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't2' },
        {
          op: 'or',
          args: [
            { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't1' },
            { op: 'cmp', column: 'customer_id', cmp: '>', value: 0n },
          ],
        },
      ],
    });
  });

  it('ANDs ids as well, coerced to the key type', () => {
    const q = run({ ids: '3,4', filter: "full_name = 'x'" });
    expect(q.engine.where).toEqual({
      op: 'and',
      args: [
        { op: 'cmp', column: 'tenant_id', cmp: '=', value: 't2' },
        { op: 'cmp', column: 'full_name', cmp: '=', value: 'x' },
        { op: 'in', column: 'customer_id', values: [3n, 4n] },
      ],
    });
    expect(error(() => run({ ids: '3 OR 1=1' })).status).toBe(400);
  });

  it('clamps limit to maxLimit, defaults to it, keeps a smaller one', () => {
    expect(run({}).engine.limit).toBe(100);
    expect(run({ limit: '5000' }).engine.limit).toBe(100);
    expect(run({ limit: '7' }).engine.limit).toBe(7);
    expect(run({}, grant({})).engine.limit).toBe(1000);
  });

  it('appends the key to the order once, keeping the caller terms first', () => {
    expect(run({ order: 'full_name desc' }).engine.orderBy).toEqual([
      { column: 'full_name', desc: true },
      { column: 'customer_id', desc: false },
    ]);
    expect(run({ order: 'customer_id desc' }).engine.orderBy).toEqual([{ column: 'customer_id', desc: true }]);
  });

  it('unknown field: hidden and non-existent fields give the same answer everywhere', () => {
    for (const param of ['fields', 'filter', 'order'] as const) {
      const qs = (n: string) => (param === 'filter' ? { filter: `${n} = 'x'` } : { [param]: n });
      const hidden = error(() => run(qs('created_at')));
      const missing = error(() => run(qs('created_an')));
      expect(hidden.status).toBe(400);
      expect(hidden.message.replace('created_at', 'X')).toBe(missing.message.replace('created_an', 'X'));
      expect(hidden.context).toEqual({ ...missing.context, field: 'created_at' });
      expect(hidden.message).toMatch(/^unknown field "created_at"/);
    }
  });

  it('masked field in filter, order or ids: 400 naming it', () => {
    for (const qs of [{ filter: "email like 'a%'" }, { filter: 'email is null' }, { order: 'email' }] as Record<string, string>[]) {
      const e = error(() => run(qs));
      expect(e.status).toBe(400);
      expect(e.message).toMatch(/field "email" is masked for your role/);
      expect(e.context.field).toBe('email');
    }
    const keyMasked = grant({ masks: { customer_id: 'hash' } });
    expect(error(() => run({ ids: '1' }, keyMasked)).message).toMatch(/"customer_id" is masked/);
  });

  it('a jsonb column cannot be filtered or sorted', () => {
    expect(error(() => run({ order: 'profile' })).status).toBe(400);
    expect(error(() => run({ filter: "profile = 'x'" })).status).toBe(400);
  });

  it('missing, null or prototype-named claims are a 403, never "all rows"', () => {
    for (const claims of [{}, { tenant_id: null }, { other: 't2' }]) {
      const e = error(() => run({}, external, { ...tenant, claims }));
      expect(e.status).toBe(403);
      expect(e.context).toEqual({ claim: 'tenant_id' });
    }
    const proto = grant({ rowFilter: 'tenant_id = {claims.constructor} or tenant_id = {claims.toString}' });
    expect(error(() => run({}, proto)).status).toBe(403);
    expect(claimValue({}, ['constructor'])).toBeUndefined();
    expect(claimValue({ a: { b: 'x' } }, ['a', 'b'])).toBe('x');
    expect(claimValue({ a: ['x'] }, ['a', '0'])).toBeUndefined();
  });

  it('array claims with in; a list used with = is a 403', () => {
    const multi = grant({ rowFilter: 'tenant_id in {claims.tenants}' });
    expect(run({}, multi, { ...tenant, claims: { tenants: ['t1', 't3'] } }).engine.where).toEqual({
      op: 'in',
      column: 'tenant_id',
      values: ['t1', 't3'],
    });
    expect(run({}, multi, { ...tenant, claims: { tenants: [] } }).engine.where).toEqual({ op: 'const', value: false });
    expect(error(() => run({}, external, { ...tenant, claims: { tenant_id: ['t1'] } })).status).toBe(403);
  });

  it('a governed query comes only from govern()', () => {
    expect(run({})).toBeInstanceOf(GovernedQuery);
    const forged = GovernedQuery as unknown as new (token: symbol, parts: object) => GovernedQuery;
    expect(() => new forged(Symbol('governed query'), { engine: {}, fields: [], masks: new Map() })).toThrow(TypeError);
  });

  it('a NUL character in a value is a 400 (client) or 403 (claim), never sent to a store', () => {
    expect(error(() => run({ filter: "full_name = 'a\u0000b'" })).status).toBe(400);
    expect(error(() => run({ filter: "full_name in ('a', 'a\u0000b')" })).status).toBe(400);
    expect(error(() => run({}, external, { ...tenant, claims: { tenant_id: 't2\u0000' } })).status).toBe(403);
  });
});

describe('readGrant', () => {
  const id = (text: string) => parseViewId(text)!;
  const cfg = {
    roles: {
      r: {
        grants: {
          '*': grant({}),
          'crm.*': grant({ maxLimit: 5 }),
          'crm.customers': grant({ maxLimit: 1 }),
          'app.orders': grant({ read: false }),
        },
      },
    },
  } as unknown as Config;

  it('the most specific grant wins, and a specific read:false denies', () => {
    expect(readGrant(cfg, 'r', id('crm.customers'))?.grant?.maxLimit).toBe(1);
    expect(readGrant(cfg, 'r', id('crm.other'))?.grant?.maxLimit).toBe(5);
    expect(readGrant(cfg, 'r', id('analytics.events'))?.grant?.maxLimit).toBeUndefined();
    expect(readGrant(cfg, 'r', id('analytics.events'))?.grant).toBeDefined();
    expect(readGrant(cfg, 'r', id('app.orders'))?.grant).toBeUndefined();
  });

  it('names the key of the grant that decides (the rate-limit bucket is per grant key)', () => {
    expect(readGrant(cfg, 'r', id('crm.customers'))?.key).toBe('crm.customers');
    expect(readGrant(cfg, 'r', id('crm.other'))?.key).toBe('crm.*');
    expect(readGrant(cfg, 'r', id('analytics.events'))?.key).toBe('*');
  });

  it('unknown roles and prototype names grant nothing', () => {
    expect(readGrant(cfg, 'nobody', id('crm.customers'))?.grant).toBeUndefined();
    expect(readGrant(cfg, 'constructor', id('crm.customers'))?.grant).toBeUndefined();
    expect(readGrant(cfg, '__proto__', id('crm.customers'))?.grant).toBeUndefined();
  });
});

describe('aggregates (docs/security.md, "Aggregate rights")', () => {
  const analyst = grant({ ...external, aggregate: true });
  const aggOnly = grant({ ...external, read: false, aggregate: true, minGroupSize: { k: 5, distinctOn: 'created_at' } });

  it('needs aggregate: true for aggregates and group, not for count_only', () => {
    for (const qs of [{ fields: 'count(*)' }, { group: 'tenant_id' }] as Record<string, string>[]) {
      const e = error(() => run(qs));
      expect(e.status).toBe(403);
      expect(e.message).toMatch(/lacks aggregate/);
    }
    expect(run({ count_only: 'true' }).countOnly).toBe(true);
  });

  it('builds the aggregate query: metrics by output name, row filter in where, limit clamped, minGroupSize from the grant', () => {
    const g = run(
      { fields: 'tenant_id,count(*),count(email),count(distinct full_name) as names', group: 'tenant_id', limit: '500' },
      aggOnly,
    );
    expect(g.fields).toEqual(['tenant_id', 'count', 'count_email', 'names']);
    expect(g.aggregate).toMatchObject({
      group: ['tenant_id'],
      metrics: [
        { name: 'count', fn: 'count' },
        { name: 'count_email', fn: 'count', column: 'email' },
        { name: 'names', fn: 'count_distinct', column: 'full_name' },
      ],
      minGroup: { k: 5, distinctOn: 'created_at' },
      limit: 100,
    });
    expect(g.engine.where).toEqual({ op: 'cmp', column: 'tenant_id', cmp: '=', value: 't2' });
  });

  it('an aggregate-only grant refuses rows, ids and min/max', () => {
    expect(error(() => run({}, aggOnly)).status).toBe(403);
    expect(error(() => run({ ids: '1' }, aggOnly)).status).toBe(403);
    expect(error(() => run({ fields: 'min(customer_id)' }, aggOnly)).message).toMatch(/aggregate-only/);
    expect(run({ fields: 'min(customer_id)' }, analyst).aggregate!.metrics).toEqual([
      { name: 'min_customer_id', fn: 'min', column: 'customer_id' },
    ]);
  });

  it('a masked field only inside count(col); hidden and unknown fields alike; types checked', () => {
    for (const [qs, param] of [
      [{ fields: 'count(distinct email)' }, 'fields'],
      [{ fields: 'max(email)' }, 'fields'],
      [{ group: 'email' }, 'group'],
      [{ group: 'tenant_id', order: 'email' }, 'order'],
      [{ group: 'tenant_id', having: "email = 'x'" }, 'having'],
    ] as [Record<string, string>, string][]) {
      const e = error(() => run(qs, analyst));
      expect(e.status, JSON.stringify(qs)).toBe(400);
      expect(e.message, JSON.stringify(qs)).toMatch(/"email" is masked/);
      expect(e.context.param, JSON.stringify(qs)).toBe(param);
    }
    const hidden = error(() => run({ fields: 'sum(created_at)' }, analyst));
    const unknown = error(() => run({ fields: 'sum(nope)' }, analyst));
    expect(hidden.message.replace('created_at', 'X')).toBe(unknown.message.replace('nope', 'X'));
    expect(error(() => run({ fields: 'sum(tenant_id)' }, analyst)).message).toMatch(/sum\(tenant_id\) does not exist/);
    expect(error(() => run({ group: 'profile' }, analyst)).message).toMatch(/cannot be used in group/);
  });

  it('count_only stands alone', () => {
    expect(error(() => run({ count_only: 'true', fields: 'count(*)' }, analyst)).context.param).toBe('count_only');
    expect(error(() => run({ count_only: 'true', include_count: 'true' }, analyst)).context.param).toBe('count_only');
  });
});
