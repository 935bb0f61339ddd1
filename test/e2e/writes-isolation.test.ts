// Tenant isolation of writes as a property (docs/writes.md): whatever tenant t1 sends (inserts
// naming any tenant, updates and deletes of any key, bulk writes with any filter, batches in every
// mode), the rows tenant t2 can read stay exactly as they were: the fingerprint of t2's rows,
// read straight from the store, never changes. On PostgreSQL and MariaDB, over real HTTP.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../support/reference.js';
import { createWriteStore, writeConfig, type StoreKind, type WriteStore } from '../support/write-fixture.js';

const idArb = fc.integer({ min: 0, max: 14 });
const tenantArb = fc.constantFrom('t1', 't2', 'T2', 't2 ', undefined);
const nameArb = fc.constantFrom('a', 'evil', "x' OR tenant_id = 't2", 'Cid', 'Dee');
const scoreArb = fc.oneof(fc.integer({ min: -2, max: 9 }), fc.constant(null));
const valuesArb = fc.record({ name: nameArb, score: scoreArb, tenant_id: tenantArb.filter((t) => t !== undefined) }, { requiredKeys: [] });
const filterArb = fc.constantFrom(
  "tenant_id = 't2'",
  'customer_id > 0',
  'customer_id in (3, 4)',
  "name = 'Cid' or name = 'Dee'",
  'score is null',
  "not (tenant_id = 't1')",
  'customer_id between 1 and 4',
);
const modeArb = fc.constantFrom('', '?continue=true', '?rollback=false');

type Op = { method: string; path: string; body?: unknown };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc
    .tuple(fc.array(fc.record({ name: nameArb, score: scoreArb, tenant_id: tenantArb }), { minLength: 1, maxLength: 3 }), modeArb)
    .map(([recs, mode]) => ({
      method: 'POST',
      path: `/s/_table/w_customers${mode}`,
      body: { resource: recs.map((r) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined))) },
    })),
  fc
    .tuple(idArb, valuesArb, fc.constantFrom('PATCH', 'PUT'))
    .map(([id, v, method]) => ({ method, path: `/s/_table/w_customers/${id}`, body: v })),
  idArb.map((id) => ({ method: 'DELETE', path: `/s/_table/w_customers/${id}` })),
  fc.tuple(fc.array(idArb, { minLength: 1, maxLength: 3 }), valuesArb).map(([ids, v]) => ({
    method: 'PATCH',
    path: `/s/_table/w_customers?ids=${ids.join(',')}`,
    body: v,
  })),
  fc.tuple(fc.array(fc.tuple(idArb, valuesArb), { minLength: 1, maxLength: 3 }), modeArb).map(([recs, mode]) => ({
    method: 'PATCH',
    path: `/s/_table/w_customers${mode}`,
    body: { resource: recs.map(([id, v]) => ({ ...v, customer_id: id })) },
  })),
  fc
    .tuple(filterArb, valuesArb)
    .map(([f, v]) => ({ method: 'PATCH', path: `/s/_table/w_customers?filter=${encodeURIComponent(f)}`, body: v })),
  filterArb.map((f) => ({ method: 'DELETE', path: `/s/_table/w_customers?filter=${encodeURIComponent(f)}` })),
  fc.array(idArb, { minLength: 1, maxLength: 3 }).map((ids) => ({
    method: 'DELETE',
    path: '/s/_table/w_customers?continue=true',
    body: { resource: ids.map((id) => ({ customer_id: id })) },
  })),
  fc.tuple(idArb, idArb).map(([o, c]) => ({ method: 'PATCH', path: `/s/_table/w_orders/${o}`, body: { customer_id: c } })),
  idArb.map((c) => ({ method: 'POST', path: '/s/_table/w_orders', body: { resource: [{ customer_id: c, amount: 1, tenant_id: 't1' }] } })),
);

describe.each<StoreKind>(['postgres', 'mysql'])('tenant isolation of writes on %s', (kind) => {
  let store: WriteStore;
  let srv: RunningServer;

  beforeAll(async () => {
    store = await createWriteStore(kind, 'writes_iso');
    srv = await startServer(writeConfig(store));
  }, 60_000);

  afterAll(async () => {
    await srv?.close();
    await store?.drop();
  });

  /** Everything tenant t2 can read, as the store holds it. */
  async function fingerprint(): Promise<string> {
    const c = await store.rows(`SELECT * FROM w_customers WHERE tenant_id = 't2' ORDER BY customer_id`);
    const o = await store.rows(`SELECT * FROM w_orders WHERE tenant_id = 't2' ORDER BY order_id`);
    return JSON.stringify([c, o], (_k, v: unknown) => (typeof v === 'bigint' || v instanceof Date ? String(v) : v));
  }

  it('random writes by tenant t1 never change a row tenant t2 can read', async () => {
    const before = await fingerprint();
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 6 }), async (ops) => {
        for (const op of ops) {
          const res = await fetch(`${srv.url}/api/v2${op.path}`, {
            method: op.method,
            headers: { 'X-API-Key': 'key-t1', ...(op.body !== undefined ? { 'content-type': 'application/json' } : {}) },
            ...(op.body !== undefined ? { body: JSON.stringify(op.body) } : {}),
          });
          expect(res.status, `${op.method} ${op.path} ${JSON.stringify(op.body)}: ${await res.text()}`).toBeLessThan(500);
          expect(await fingerprint(), `${op.method} ${op.path} ${JSON.stringify(op.body)}`).toBe(before);
        }
      }),
      { numRuns: 25 },
    );
    // t1 did write something: the property is not vacuous.
    expect((await store.rows(`SELECT customer_id FROM w_customers WHERE tenant_id = 't1'`)).length).toBeGreaterThan(0);
  }, 120_000);
});
