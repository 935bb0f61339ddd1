// Grants, masks and row filters over real HTTP on the reference stores (issue 4 items 2-5, 8):
// masked-field inference is refused, hidden fields look exactly like missing ones, every mask
// gives its documented output (docs/security.md, "Masks"), the most specific grant wins, and row
// filters bind claims (missing, array, quoted, typed, hostile) without ever widening.
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { get } from '../support/reference.js';
import { signHs256 } from '../support/jwt.js';
import { authYaml, referenceServer, type ApiKeys } from '../support/reference-server.js';

const SECRET = 'policy-grants-secret-0123456789abcdef';

/** API keys by name; each key's secret is `key-<name>`. */
const KEYS: ApiKeys = {
  internal: { role: 'internal' },
  partner: { role: 'external', claims: '{ tenant_id: t2 }' },
  noclaim: { role: 'external' },
  hostile: { role: 'external', claims: `{ tenant_id: "t2' OR '1'='1' --" }` },
  masker: { role: 'maskers' },
  narrow: { role: 'narrow', claims: '{ tenant_id: t1 }' },
  keyless: { role: 'keyless' },
  multi: { role: 'multi', claims: '{ tenants: [t1, t3] }' },
  multiEmpty: { role: 'multi', claims: '{ tenants: [] }' },
  multiScalar: { role: 'multi', claims: '{ tenants: t3 }' },
  quoted: { role: 'quoted', claims: '{ "https://ns/tenant": t3 }' },
  buyer: { role: 'buyer', claims: '{ customer: "12" }' },
  buyerBad: { role: 'buyer', claims: '{ customer: "twelve" }' },
};

const AUTH_AND_ROLES = `
${authYaml(KEYS, SECRET)}
roles:
  internal:
    grants: { "*": { read: true } }
  external:
    grants:
      crm.customers:
        read: true
        fields: [customer_id, tenant_id, email, full_name, created_at]
        masks: { email: email }
        rowFilter: "tenant_id = {claims.tenant_id}"
        maxLimit: 100
  maskers:
    grants:
      "*": { read: true }
      crm.customers:
        read: true
        masks: { email: "partial(2,4)", full_name: hash, tenant_id: redact, created_at: "null" }
      app.*:
        read: true
        fields: [order_id, customer_id, total_amount]
        masks: { total_amount: redact }
        maxLimit: 5
      analytics.events: { read: false }
  narrow:
    grants:
      crm.customers:
        read: true
        fields: [customer_id, full_name, is_active]
        rowFilter: "tenant_id = {claims.tenant_id}"
  keyless:
    grants:
      crm.customers:
        read: true
        fields: [full_name, tenant_id]
        masks: { tenant_id: hash }
  multi:
    grants:
      crm.customers: { read: true, rowFilter: "tenant_id in {claims.tenants}" }
  quoted:
    grants:
      crm.customers: { read: true, rowFilter: 'tenant_id = {claims["https://ns/tenant"]}' }
  buyer:
    grants:
      app.orders: { read: true, rowFilter: "customer_id = {claims.customer}" }
`;

const ref = referenceServer('policy_grants', AUTH_AND_ROLES);
let hashSecret: string;

beforeAll(() => {
  hashSecret = ref.srv.rt.config.masking.hashSecret!;
});

const as = (name: keyof typeof KEYS) => ({ 'X-API-Key': `key-${name}` });
const api = (path: string, params: Record<string, string> = {}) => {
  const qs = new URLSearchParams(params).toString();
  return `${ref.srv.url}/api/v2${path}${qs ? `?${qs}` : ''}`;
};
const customers = (params: Record<string, string>, who: keyof typeof KEYS) => get(api('/crm/_table/customers', params), as(who));

describe('masked fields cannot be used to infer their values', () => {
  const masked = (r: { status: number; body: any }, param: string, what: string) => {
    expect(r.status, what).toBe(400);
    expect(r.body.error.message, what).toMatch(/field "email" is masked for your role/);
    expect(r.body.error.context, what).toMatchObject({ param, field: 'email' });
  };

  it('filter: =, like, between, in, is null, contains, starts with, nested in or/not', async () => {
    for (const filter of [
      "email = 'ada.lovelace@example.org'",
      "email != 'x'",
      "email like 'a%'",
      "email not like '%.org'",
      "email between 'a' and 'b'",
      "email in ('ada.lovelace@example.org')",
      "email not in ('x')",
      'email is null',
      'email is not null',
      "email contains 'ada'",
      "email starts with 'a'",
      "email ends with '.org'",
      "email > 'm'",
      "customer_id = 1 or email = 'x'",
      "not (email = 'x')",
      '"email" = \'x\'',
    ]) {
      masked(await customers({ filter }, 'partner'), 'filter', filter);
    }
  });

  it('order and ids: sorting by or looking up a masked column is refused', async () => {
    masked(await customers({ order: 'email' }, 'partner'), 'order', 'order=email');
    masked(await customers({ order: 'customer_id, email desc' }, 'partner'), 'order', 'order=customer_id,email desc');
    // A role whose masked column is the key: ids and /{id} are refused, not answered.
    const ids = await customers({ ids: '1' }, 'keyless');
    expect(ids.status).toBe(400);
    const hiddenKey = await get(api('/crm/_table/customers/1'), as('keyless'));
    expect(hiddenKey.status).toBe(400);
    expect(hiddenKey.body.error.message).toMatch(/unknown field "customer_id"/);
    const maskedOrder = await customers({ order: 'tenant_id' }, 'keyless');
    expect(maskedOrder.body.error.message).toMatch(/field "tenant_id" is masked for your role/);
  });

  it('a masked field may be read (masked) and is marked in the schema', async () => {
    const r = await customers({ fields: 'customer_id,email', order: 'customer_id' }, 'partner');
    expect(r.status).toBe(200);
    expect(r.body.resource[0]).toEqual({ customer_id: 1, email: 'a***@example.org' });
    const schema = await get(api('/crm/_schema/customers'), as('partner'));
    expect(schema.body.fields.find((f: any) => f.name === 'email')).toMatchObject({ type: 'text', masked: true, filterable: false });
    expect(schema.body.fields.find((f: any) => f.name === 'full_name')).toMatchObject({ masked: false, filterable: true });
  });
});

describe('hidden fields are "unknown field", exactly like fields that do not exist', () => {
  // `email` exists but `narrow` may not see it; `emajl` exists nowhere. Same length, same answer.
  const same = async (params: (name: string) => Record<string, string>) => {
    const hidden = await customers(params('email'), 'narrow');
    const missing = await customers(params('emajl'), 'narrow');
    expect(hidden.status).toBe(400);
    expect(hidden.body.error.message).toMatch(/unknown field "email"/);
    expect(hidden.body.error.message).not.toMatch(/masked|not granted|permission/);
    expect(JSON.stringify(hidden.body).replaceAll('email', 'NAME')).toBe(JSON.stringify(missing.body).replaceAll('emajl', 'NAME'));
    expect(hidden.body.error.message).toContain('fields are: customer_id, full_name, is_active');
  };

  it('in fields, filter, order', async () => {
    await same((n) => ({ fields: `customer_id,${n}` }));
    await same((n) => ({ filter: `${n} = 'x'` }));
    await same((n) => ({ filter: `customer_id = 1 or ${n} is null` }));
    await same((n) => ({ order: n }));
  });

  it('a hidden column still drives the row filter without being visible', async () => {
    const r = await customers({ order: 'customer_id' }, 'narrow');
    expect(r.status).toBe(200);
    expect(r.body.resource.map((x: any) => x.customer_id)).toEqual([3, 6, 9, 12, 15]);
    expect(Object.keys(r.body.resource[0]).sort()).toEqual(['customer_id', 'full_name', 'is_active']);
  });
});

describe('masks give their documented outputs, after the engine', () => {
  it('partial(2,4), hash, redact, null on crm.customers', async () => {
    const r = await customers({ order: 'customer_id', filter: 'customer_id in (1, 14, 16)' }, 'masker');
    expect(r.status).toBe(200);
    const hmac = (s: string) => createHmac('sha256', hashSecret).update(s, 'utf8').digest('hex');
    expect(r.body.resource).toEqual([
      { customer_id: 1, tenant_id: '[redacted]', email: 'ad***.org', full_name: hmac('Ada Lovelace'), is_active: true, created_at: null },
      { customer_id: 14, tenant_id: '[redacted]', email: 'ch***.net', full_name: hmac('Chloé Durand'), is_active: false, created_at: null },
      { customer_id: 16, tenant_id: '[redacted]', email: 'zo***.org', full_name: hmac("Zoë O'Brien"), is_active: true, created_at: null },
    ]);
    expect(r.body.resource[0].full_name).toMatch(/^[0-9a-f]{64}$/);
    const schema = await get(api('/crm/_schema/customers'), as('masker'));
    const byName = Object.fromEntries(schema.body.fields.map((f: any) => [f.name, f]));
    expect(byName.full_name).toMatchObject({ type: 'text', masked: true, filterable: false });
    expect(byName.created_at).toMatchObject({ type: 'timestamptz', masked: true, filterable: false });
    expect(byName.customer_id).toMatchObject({ type: 'int', masked: false, filterable: true });
  });

  it('email mask keeps the first code point and the domain', async () => {
    const r = await customers({ filter: 'customer_id in (15, 16)', order: 'customer_id', fields: 'email' }, 'partner');
    // 15 is tenant t1, so the partner (t2) sees only 16.
    expect(r.body.resource).toEqual([{ email: 'z***@example.org' }]);
  });

  it('redact on a numeric column, fields allow-list and maxLimit from a service.* grant', async () => {
    const r = await get(api('/app/_table/orders', { limit: '1000', order: 'order_id' }), as('masker'));
    expect(r.status).toBe(200);
    expect(r.body.resource).toHaveLength(5);
    expect(r.body.meta.next).toBe(5);
    expect(r.body.resource[0]).toEqual({ order_id: 1001, customer_id: 1, total_amount: '[redacted]' });
  });
});

describe('grant resolution: the most specific grant wins', () => {
  it('service.view read:false denies despite "*": 404, and the service is not listed', async () => {
    expect((await get(api('/analytics/_table/events'), as('masker'))).status).toBe(404);
    expect((await get(api('/analytics/_schema/events'), as('masker'))).status).toBe(404);
    expect((await get(api('/analytics/_table'), as('masker'))).status).toBe(404);
  });

  it('an ungranted view answers like a view that does not exist', async () => {
    const ungranted = await get(api('/app/_table/orders'), as('partner'));
    const missing = await get(api('/app/_table/ordres'), as('partner'));
    expect(ungranted.status).toBe(404);
    expect(JSON.stringify(ungranted.body).replaceAll('orders', 'X')).toBe(JSON.stringify(missing.body).replaceAll('ordres', 'X'));
  });
});

describe('row filters and claims', () => {
  it('a missing claim is a 403, never all rows (API key and JWT)', async () => {
    const r = await customers({}, 'noclaim');
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/lacks claim "tenant_id"/);
    expect(r.text).not.toMatch(/example\.(org|net|com)/);
    const t = await get(api('/crm/_table/customers'), {
      Authorization: `Bearer ${await signHs256(SECRET, { roles: ['external'] }, { iss: 'https://idp.test/' })}`,
    });
    expect(t.status).toBe(403);
    expect(ref.srv.audit.records.at(-1)).toMatchObject({ status: 403, decision: 'deny', role: 'external', view: 'crm.customers' });
    // /{id} too: the row exists, the claim does not.
    expect((await get(api('/crm/_table/customers/1'), as('noclaim'))).status).toBe(403);
  });

  it('the tenant sees only its rows; count is after the row filter; other rows are 404 at /{id}', async () => {
    const r = await customers({ include_count: 'true', order: 'customer_id' }, 'partner');
    expect(r.body.resource.map((x: any) => x.customer_id)).toEqual([1, 4, 7, 10, 13, 16]);
    expect(r.body.meta.count).toBe(6);
    const ids = await customers({ ids: '1,2,3,4', order: 'customer_id', fields: 'customer_id' }, 'partner');
    expect(ids.body.resource).toEqual([{ customer_id: 1 }, { customer_id: 4 }]);
    const other = await get(api('/crm/_table/customers/2'), as('partner'));
    const none = await get(api('/crm/_table/customers/999'), as('partner'));
    expect(other.status).toBe(404);
    expect(JSON.stringify(other.body).replaceAll('2', 'X')).toBe(JSON.stringify(none.body).replaceAll('999', 'X'));
  });

  it('an array claim works with in; an empty array matches nothing; a scalar is a one-element list', async () => {
    const r = await customers({ include_count: 'true' }, 'multi');
    expect(r.status).toBe(200);
    expect([...new Set(r.body.resource.map((x: any) => x.tenant_id))].sort()).toEqual(['t1', 't3']);
    expect(r.body.meta.count).toBe(10);
    const empty = await customers({ include_count: 'true' }, 'multiEmpty');
    expect(empty.status).toBe(200);
    expect(empty.body).toEqual({ resource: [], meta: { count: 0 } });
    const scalar = await customers({}, 'multiScalar');
    expect(new Set(scalar.body.resource.map((x: any) => x.tenant_id))).toEqual(new Set(['t3']));
    // From a token as well.
    const t = await get(api('/crm/_table/customers'), {
      Authorization: `Bearer ${await signHs256(SECRET, { roles: ['multi'], tenants: ['t2'] })}`,
    });
    expect(new Set(t.body.resource.map((x: any) => x.tenant_id))).toEqual(new Set(['t2']));
  });

  it('a quoted claim name (a namespaced URL claim) from an API key and from a token', async () => {
    const r = await customers({}, 'quoted');
    expect(r.status).toBe(200);
    expect(new Set(r.body.resource.map((x: any) => x.tenant_id))).toEqual(new Set(['t3']));
    const t = await get(api('/crm/_table/customers'), {
      Authorization: `Bearer ${await signHs256(SECRET, { roles: ['quoted'], 'https://ns/tenant': 't1' })}`,
    });
    expect(new Set(t.body.resource.map((x: any) => x.tenant_id))).toEqual(new Set(['t1']));
    // The dotted spelling is a different (nested) claim: missing, so 403.
    const dotted = await get(api('/crm/_table/customers'), {
      Authorization: `Bearer ${await signHs256(SECRET, { roles: ['quoted'], https: { 'ns/tenant': 't1' } })}`,
    });
    expect(dotted.status).toBe(403);
  });

  it('a claim is bound with the column type: "12" is the integer 12, "twelve" is a 403', async () => {
    const r = await get(api('/app/_table/orders', { order: 'order_id', fields: 'order_id,customer_id' }), as('buyer'));
    expect(r.status).toBe(200);
    expect(r.body.resource).toEqual([
      { order_id: 1010, customer_id: 12 },
      { order_id: 1011, customer_id: 12 },
      { order_id: 1012, customer_id: 12 },
    ]);
    const bad = await get(api('/app/_table/orders'), as('buyerBad'));
    expect(bad.status).toBe(403);
    expect(bad.body.error.message).toMatch(/does not fit column customer_id \(int\)/);
  });

  it('a claim with SQL in it is only a value', async () => {
    const r = await customers({ include_count: 'true' }, 'hostile');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ resource: [], meta: { count: 0 } });
    const t = await get(api('/app/_table/orders'), {
      Authorization: `Bearer ${await signHs256(SECRET, { roles: ['buyer'], customer: '12 OR 1=1' })}`,
    });
    expect(t.status).toBe(403);
  });
});
