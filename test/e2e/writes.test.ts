// Writes over real HTTP on PostgreSQL and MariaDB (docs/writes.md): every endpoint and shape,
// rollback against continue with a failing record in the middle (store contents checked after),
// the refusals (405, 403, 404), row filters binding inserts, updates and deletes (a claim-bound
// column filled or refused, a row moved out of the filter, a trigger moving it as stored),
// references, bulk rights and caps, store errors without values, and injection through every
// body field and parameter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../support/reference.js';
import { createWriteStore, writeConfig, type StoreKind, type WriteStore, type Writer } from '../support/write-fixture.js';

interface Answer {
  status: number;
  body: any;
  headers: Headers;
  text: string;
}

describe.each<StoreKind>(['postgres', 'mysql'])('writes on %s', (kind) => {
  let store: WriteStore;
  let srv: RunningServer;

  beforeAll(async () => {
    store = await createWriteStore(kind, 'writes');
    srv = await startServer(writeConfig(store));
  }, 60_000);

  afterAll(async () => {
    await srv?.close();
    await store?.drop();
  });

  async function call(
    who: Writer | undefined,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Answer> {
    const res = await fetch(`${srv.url}/api/v2${path}`, {
      method,
      headers: {
        ...(who ? { 'X-API-Key': `key-${who}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers, text };
  }

  interface Customer {
    customer_id: number;
    tenant_id: string;
    name: string;
    email: string | null;
    score: number | null;
  }
  const customers = async (where = '1=1'): Promise<Customer[]> =>
    (await store.rows(`SELECT customer_id, tenant_id, name, email, score FROM w_customers WHERE ${where} ORDER BY customer_id`)).map(
      (r) => ({
        customer_id: Number(r.customer_id),
        tenant_id: String(r.tenant_id),
        name: String(r.name),
        email: r.email === null ? null : String(r.email),
        score: r.score === null ? null : Number(r.score),
      }),
    );

  describe('shapes', () => {
    it('POST inserts a batch and answers 201 with the keys; fields= says what comes back', async () => {
      const r = await call('admin', 'POST', '/s/_table/w_customers', {
        resource: [
          { tenant_id: 't3', name: 'Hal', email: 'hal@z.io', score: 2 },
          { tenant_id: 't3', name: 'Ivy', score: '4' },
        ],
      });
      expect(r.status, r.text).toBe(201);
      expect(r.body.resource).toHaveLength(2);
      const [a, b] = r.body.resource;
      expect(Object.keys(a)).toEqual(['customer_id']);
      expect(b.customer_id).toBe(a.customer_id + 1);
      expect(await customers(`tenant_id = 't3'`)).toEqual([
        { customer_id: a.customer_id, tenant_id: 't3', name: 'Hal', email: 'hal@z.io', score: 2 },
        { customer_id: b.customer_id, tenant_id: 't3', name: 'Ivy', email: null, score: 4 },
      ]);
      const f = await call('admin', 'POST', '/s/_table/w_customers?fields=customer_id,name,score', { tenant_id: 't3', name: 'Jo' });
      expect(f.status, f.text).toBe(201);
      expect(f.body.resource[0]).toEqual({ customer_id: b.customer_id + 1, name: 'Jo', score: null });
      const all = await call('admin', 'POST', '/s/_table/w_customers?fields=*', { resource: [{ tenant_id: 't3', name: 'Kit' }] });
      expect(all.status, all.text).toBe(201);
      expect(Object.keys(all.body.resource[0])).toEqual(['customer_id', 'tenant_id', 'name', 'email', 'score', 'created_at']);
      // The default was applied by the store and comes back in the value model.
      expect(all.body.resource[0].created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    });

    it('PATCH /{id} answers the bare record; PATCH with resource, ids= and filter=', async () => {
      const one = await call('admin', 'PATCH', '/s/_table/w_customers/2?fields=customer_id,score', { score: 7 });
      expect(one.status, one.text).toBe(200);
      expect(one.body).toEqual({ customer_id: 2, score: 7 });
      const batch = await call('admin', 'PATCH', '/s/_table/w_customers', {
        resource: [
          { customer_id: 1, score: 6 },
          { customer_id: 2, name: 'Bobby' },
        ],
      });
      expect(batch.status, batch.text).toBe(200);
      expect(batch.body).toEqual({ resource: [{ customer_id: 1 }, { customer_id: 2 }] });
      const ids = await call('admin', 'PATCH', '/s/_table/w_customers?ids=1,2&fields=customer_id,score', { score: 8 });
      expect(ids.status, ids.text).toBe(200);
      expect(ids.body.resource).toEqual([
        { customer_id: 1, score: 8 },
        { customer_id: 2, score: 8 },
      ]);
      const bulk = await call(
        'admin',
        'PATCH',
        `/s/_table/w_customers?filter=${encodeURIComponent("tenant_id = 't3' and name like 'H%'")}`,
        {
          score: 9,
        },
      );
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.body.resource).toHaveLength(1);
      expect((await customers(`name = 'Hal'`))[0]!.score).toBe(9);
      expect((await customers('customer_id IN (1, 2)')).map((c) => [c.name, c.score])).toEqual([
        ['Ann', 8],
        ['Bobby', 8],
      ]);
    });

    it('PUT needs every writable column; a missing row is a 404', async () => {
      const short = await call('admin', 'PUT', '/s/_table/w_customers/2', { name: 'Bob' });
      expect(short.status).toBe(400);
      expect(short.body.error.message).toContain('PUT replaces every writable column');
      const full = await call('admin', 'PUT', '/s/_table/w_customers/2', {
        tenant_id: 't1',
        name: 'Bob',
        email: 'bob@x.io',
        score: 3,
        created_at: '2024-01-02T03:04:05Z',
      });
      expect(full.status, full.text).toBe(200);
      expect(await customers('customer_id = 2')).toEqual([{ customer_id: 2, tenant_id: 't1', name: 'Bob', email: 'bob@x.io', score: 3 }]);
      const missing = await call('admin', 'PATCH', '/s/_table/w_customers/999', { score: 1 });
      expect(missing.status).toBe(404);
    });

    it('DELETE by /{id}, ids=, filter= and a resource body of keys', async () => {
      const made = await call('admin', 'POST', '/s/_table/w_customers', {
        resource: ['d1', 'd2', 'd3', 'd4', 'd5'].map((name) => ({ tenant_id: 'del', name })),
      });
      expect(made.status, made.text).toBe(201);
      const [a, b, c, d] = made.body.resource.map((x: any) => x.customer_id);
      expect((await call('admin', 'DELETE', `/s/_table/w_customers/${a}?fields=name`)).body).toEqual({ name: 'd1' });
      expect((await call('admin', 'DELETE', `/s/_table/w_customers?ids=${b},${c}`)).body.resource).toEqual([
        { customer_id: b },
        { customer_id: c },
      ]);
      expect((await call('admin', 'DELETE', '/s/_table/w_customers', { resource: [{ customer_id: d }] })).status).toBe(200);
      const bulk = await call('admin', 'DELETE', `/s/_table/w_customers?filter=${encodeURIComponent("tenant_id = 'del'")}`);
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.body.resource).toHaveLength(1);
      expect(await customers(`tenant_id = 'del'`)).toEqual([]);
      expect((await call('admin', 'DELETE', `/s/_table/w_customers/${a}`)).status).toBe(404);
    });

    it('a composite key is written through resource records carrying every key column', async () => {
      const r = await call('admin', 'PATCH', '/s/_table/w_items?fields=sku,region,qty', {
        resource: [{ sku: 'a', region: 'us', qty: 20 }],
      });
      expect(r.status, r.text).toBe(200);
      expect(r.body.resource).toEqual([{ sku: 'a', region: 'us', qty: 20 }]);
      const other = await store.rows(`SELECT qty FROM w_items WHERE sku = 'a' AND region = 'eu'`);
      expect(Number(other[0]!.qty)).toBe(1);
      const byId = await call('admin', 'PATCH', '/s/_table/w_items/a', { qty: 1 });
      expect(byId.status).toBe(400);
      expect(byId.body.error.message).toContain('composite');
      const lacking = await call('admin', 'DELETE', '/s/_table/w_items', { resource: [{ sku: 'a' }] });
      expect(lacking.status).toBe(400);
      expect(lacking.body.error.context).toMatchObject({ field: 'region', record: 0 });
      const ins = await call('admin', 'POST', '/s/_table/w_items?fields=sku,region', { resource: [{ sku: 'c', region: 'eu', qty: 1 }] });
      expect(ins.status, ins.text).toBe(201);
      expect(ins.body.resource).toEqual([{ sku: 'c', region: 'eu' }]);
    });
  });

  describe('batches', () => {
    const batch = (tag: string) => [
      { tenant_id: tag, name: 'first', email: `${tag}-1@b.io` },
      { tenant_id: tag, name: 'dup', email: 'ann@x.io' },
      { tenant_id: tag, name: 'third', email: `${tag}-3@b.io` },
    ];

    it('rollback (the default): a failing record in the middle leaves nothing written', async () => {
      const r = await call('admin', 'POST', '/s/_table/w_customers', { resource: batch('rb') });
      expect(r.status, r.text).toBe(409);
      expect(r.body.error.context).toMatchObject({ record: 1, field: 'email' });
      expect(r.text).not.toContain('ann@x.io');
      expect(await customers(`tenant_id = 'rb'`)).toEqual([]);
    });

    it('continue=true: each record on its own; a 400 lists every record in order, key or error', async () => {
      const r = await call('admin', 'POST', '/s/_table/w_customers?continue=true', { resource: batch('ct') });
      expect(r.status, r.text).toBe(400);
      const list = r.body.error.context.resource;
      expect(list).toHaveLength(3);
      expect(list[0]).toEqual({ customer_id: expect.any(Number) });
      expect(list[1].error).toMatchObject({ code: 409, context: { record: 1, field: 'email' } });
      expect(list[2]).toEqual({ customer_id: expect.any(Number) });
      expect((await customers(`tenant_id = 'ct'`)).map((c) => c.name)).toEqual(['first', 'third']);
    });

    it('rollback=false stops at the first failure and keeps what came before', async () => {
      const r = await call('admin', 'POST', '/s/_table/w_customers?rollback=false', { resource: batch('ht') });
      expect(r.status, r.text).toBe(400);
      expect(r.body.error.context.resource).toHaveLength(2);
      expect((await customers(`tenant_id = 'ht'`)).map((c) => c.name)).toEqual(['first']);
    });

    it('an update batch rolls back as a whole too', async () => {
      const r = await call('admin', 'PATCH', '/s/_table/w_customers', {
        resource: [
          { customer_id: 1, score: 50 },
          { customer_id: 2, score: -1 },
        ],
      });
      expect(r.status, r.text).toBe(422);
      expect(r.body.error.context).toMatchObject({ record: 1 });
      expect((await customers('customer_id = 1'))[0]!.score).not.toBe(50);
      expect((await call('admin', 'POST', '/s/_table/w_customers?continue=true&rollback=true', { name: 'x' })).status).toBe(400);
    });
  });

  describe('who may write', () => {
    it('federated views answer 405 with Allow to readers; a table without a unique key too', async () => {
      const fed = await call('t1', 'PATCH', '/fed/_table/v/1', { name: 'x' });
      expect(fed.status).toBe(405);
      expect(fed.headers.get('allow')).toBe('GET, HEAD');
      expect(fed.body.error.message).toContain('read-only');
      const nokey = await call('admin', 'POST', '/s/_table/w_nokey', { resource: [{ a: 1 }] });
      expect(nokey.status).toBe(405);
      expect(nokey.headers.get('allow')).toBe('GET, HEAD');
      expect(await store.rows('SELECT * FROM w_nokey')).toEqual([]);
    });

    it('a reader gets 403, an outsider the 404 of a read, no credential 401; nothing changes', async () => {
      const before = await customers();
      for (const [method, path, body] of [
        ['POST', '/s/_table/w_customers', { resource: [{ tenant_id: 't1', name: 'r' }] }],
        ['PATCH', '/s/_table/w_customers/1', { name: 'r' }],
        ['PUT', '/s/_table/w_customers/1', { name: 'r' }],
        ['DELETE', '/s/_table/w_customers/1', undefined],
      ] as const) {
        const reader = await call('reader', method, path, body);
        expect(reader.status, `${method} ${reader.text}`).toBe(403);
        const outsider = await call('outsider', method, path, body);
        expect(outsider.status).toBe(404);
        expect(outsider.body.error.message).toBe((await call('outsider', 'GET', '/s/_table/w_customers')).body.error.message);
        expect((await call(undefined, method, path, body)).status).toBe(401);
      }
      // The partial role may update, never insert or delete.
      expect((await call('partial', 'DELETE', '/s/_table/w_customers/1')).status).toBe(403);
      expect(await customers()).toEqual(before);
    });

    it('hidden, masked and key columns are never written', async () => {
      const before = await customers();
      const hidden = await call('partial', 'PATCH', '/s/_table/w_customers/1', { tenant_id: 't2' });
      expect(hidden.status).toBe(400);
      expect(hidden.body.error.message).toContain('unknown field "tenant_id"');
      const masked = await call('t1', 'PATCH', '/s/_table/w_customers/1', { email: 'new@x.io' });
      expect(masked.status).toBe(400);
      expect(masked.body.error.message).toContain('masked');
      const key = await call('admin', 'PATCH', '/s/_table/w_customers/1', { customer_id: 77 });
      expect(key.status).toBe(400);
      expect(key.body.error.context).toMatchObject({ field: 'customer_id' });
      const keyInBatch = await call('t1', 'POST', '/s/_table/w_customers', { resource: [{ name: 'k', email: 'k@x.io' }] });
      expect(keyInBatch.status).toBe(400);
      expect(keyInBatch.body.error.context).toMatchObject({ field: 'email', record: 0 });
      const notWritable = await call('t1', 'PATCH', '/s/_table/w_orders/1', { order_id: 5 });
      expect(notWritable.status).toBe(400);
      expect(await customers()).toEqual(before);
    });
  });

  describe('row filters bind writes', () => {
    it('an insert gets the claim-bound column from the claim; another tenant is a 403', async () => {
      const r = await call('t1', 'POST', '/s/_table/w_customers?fields=customer_id,tenant_id,email', { resource: [{ name: 'Own' }] });
      expect(r.status, r.text).toBe(201);
      expect(r.body.resource[0].tenant_id).toBe('t1');
      const foreign = await call('t1', 'POST', '/s/_table/w_customers', { resource: [{ name: 'Spy', tenant_id: 't2' }] });
      expect(foreign.status).toBe(403);
      expect(foreign.body.error.context).toMatchObject({ field: 'tenant_id', record: 0 });
      expect(await customers(`name = 'Spy'`)).toEqual([]);
    });

    it('a row as stored outside the filter (a trigger) undoes the insert with a 403', async () => {
      const r = await call('t1', 'POST', '/s/_table/w_customers', { resource: [{ name: 'fine' }, { name: 'evil' }] });
      expect(r.status, r.text).toBe(403);
      expect(await customers(`name IN ('fine', 'evil')`)).toEqual([]);
    });

    it("updates and deletes reach only the caller's rows; another tenant's row is a 404", async () => {
      const before = await customers(`tenant_id = 't2'`);
      expect((await call('t1', 'PATCH', '/s/_table/w_customers/3', { name: 'x' })).status).toBe(404);
      expect((await call('t1', 'DELETE', '/s/_table/w_customers/3')).status).toBe(404);
      expect((await call('t1', 'PATCH', '/s/_table/w_customers', { resource: [{ customer_id: 4, score: 1 }] })).status).toBe(404);
      const bulk = await call(
        't1',
        'PATCH',
        `/s/_table/w_customers?filter=${encodeURIComponent('customer_id >= 3 and customer_id <= 4')}`,
        {
          score: 99,
        },
      );
      expect(bulk.status, bulk.text).toBe(200);
      expect(bulk.body.resource).toEqual([]);
      expect(await customers(`tenant_id = 't2'`)).toEqual(before);
    });

    it('an update may not move a row out of the filter: 403, nothing changed', async () => {
      const before = await customers(`tenant_id = 't1'`);
      const moved = await call('t1', 'PATCH', '/s/_table/w_customers/1', { tenant_id: 't2' });
      expect(moved.status, moved.text).toBe(403);
      const trigger = await call('t1', 'PATCH', '/s/_table/w_customers', {
        resource: [
          { customer_id: 2, score: 11 },
          { customer_id: 1, name: 'evil' },
        ],
      });
      expect(trigger.status).toBe(403);
      expect(trigger.body.error.context).toMatchObject({ record: 1 });
      expect(await customers(`tenant_id = 't1'`)).toEqual(before);
    });

    it('bulk writes are capped before anything changes, and need the bulk right', async () => {
      await call('t1', 'POST', '/s/_table/w_customers', { resource: [{ name: 'c1' }, { name: 'c2' }, { name: 'c3' }] });
      const before = await customers(`tenant_id = 't1'`);
      expect(before.length).toBeGreaterThan(3);
      const over = await call('t1', 'PATCH', `/s/_table/w_customers?filter=${encodeURIComponent('score is null or score >= 0')}`, {
        score: 1,
      });
      expect(over.status, over.text).toBe(422);
      expect(over.body.error.context).toMatchObject({ maxBulkRows: 3 });
      expect((await call('t1', 'DELETE', `/s/_table/w_customers?ids=${before.map((c) => c.customer_id).join(',')}`)).status).toBe(422);
      expect(await customers(`tenant_id = 't1'`)).toEqual(before);
      const noBulk = await call('t1', 'DELETE', `/s/_table/w_orders?filter=${encodeURIComponent('order_id > 0')}`);
      expect(noBulk.status).toBe(403);
      expect(noBulk.body.error.message).toContain('bulk');
    });

    it('references: an order may only name a customer the caller can read', async () => {
      const theirs = await call('t1', 'POST', '/s/_table/w_orders', { resource: [{ customer_id: 3, amount: '5.00' }] });
      expect(theirs.status, theirs.text).toBe(403);
      expect(theirs.body.error.context).toMatchObject({ field: 'customer_id', record: 0 });
      const moved = await call('t1', 'PATCH', '/s/_table/w_orders/1', { customer_id: 4 });
      expect(moved.status).toBe(403);
      const own = await call('t1', 'POST', '/s/_table/w_orders?fields=order_id,tenant_id,customer_id,amount', {
        resource: [{ customer_id: 1, amount: 5 }],
      });
      expect(own.status, own.text).toBe(201);
      expect(own.body.resource[0]).toMatchObject({ tenant_id: 't1', customer_id: 1, amount: '5.00' });
      expect((await store.rows(`SELECT order_id FROM w_orders WHERE customer_id IN (3, 4) AND tenant_id = 't1'`)).length).toBe(0);
    });
  });

  describe('values and store errors', () => {
    it('a value of the wrong type is a 400 naming the column and the record', async () => {
      const r = await call('admin', 'POST', '/s/_table/w_customers', {
        resource: [
          { tenant_id: 'v', name: 'ok' },
          { tenant_id: 'v', name: 'n', score: 'many' },
        ],
      });
      expect(r.status).toBe(400);
      expect(r.body.error.context).toMatchObject({ field: 'score', record: 1 });
      expect((await call('admin', 'POST', '/s/_table/w_customers', { tenant_id: 'v', name: { a: 1 } })).status).toBe(400);
      expect((await call('admin', 'POST', '/s/_table/w_customers', { tenant_id: 'v', name: 'big', score: 2 ** 60 })).status).toBe(400);
      expect(await customers(`tenant_id = 'v'`)).toEqual([]);
    });

    it('not null, check and foreign key are 422s naming the column; no value is echoed', async () => {
      const nul = await call('admin', 'POST', '/s/_table/w_customers', { tenant_id: 'v', name: null });
      expect(nul.status, nul.text).toBe(422);
      expect(nul.body.error.context).toMatchObject({ field: 'name', record: 0 });
      const check = await call('admin', 'POST', '/s/_table/w_customers', { tenant_id: 'v', name: 'neg', score: -12345 });
      expect(check.status, check.text).toBe(422);
      expect(check.text).not.toContain('12345');
      const fk = await call('admin', 'POST', '/s/_table/w_orders', { tenant_id: 'v', customer_id: 98765, amount: 1 });
      expect(fk.status, fk.text).toBe(422);
      expect(fk.body.error.context).toMatchObject({ field: 'customer_id' });
      expect(fk.text).not.toContain('98765');
      const dup = await call('admin', 'PATCH', '/s/_table/w_customers/2', { email: 'ann@x.io' });
      expect(dup.status).toBe(409);
      expect(dup.text).not.toContain('ann@x.io');
      expect(dup.text).not.toMatch(/insert|update|select/i);
    });
  });

  describe('injection', () => {
    const hostile = [`'); DROP TABLE w_customers; --`, `" OR 1=1 --`, '`; DELETE FROM w_customers; #', "\\'", '%_\\', '$1', '?'];

    it('values are stored as given, through every body field', async () => {
      for (const v of hostile) {
        const r = await call('admin', 'POST', '/s/_table/w_customers?fields=name,tenant_id', { tenant_id: 'inj', name: v });
        expect(r.status, r.text).toBe(201);
        expect(r.body.resource[0]).toEqual({ name: v, tenant_id: 'inj' });
      }
      expect((await customers(`tenant_id = 'inj'`)).map((c) => c.name)).toEqual(hostile);
      const upd = await call('admin', 'PATCH', `/s/_table/w_customers?filter=${encodeURIComponent("tenant_id = 'inj'")}`, {
        name: hostile[0],
      });
      expect(upd.status).toBe(200);
      expect((await customers()).length).toBeGreaterThan(4);
    });

    it('names, ids, filters and flags from the client never reach the store as SQL', async () => {
      const before = await customers();
      for (const name of ['name; DROP TABLE w_customers', 'name"', '`name`', 'name = 1 --']) {
        const r = await call('admin', 'PATCH', '/s/_table/w_customers/1', { [name]: 'x' });
        expect(r.status).toBe(400);
        expect(r.body.error.message).toContain('unknown field');
      }
      for (const id of ["1'", '1 OR 1=1', '1;DELETE FROM w_customers']) {
        expect((await call('admin', 'PATCH', `/s/_table/w_customers/${encodeURIComponent(id)}`, { score: 1 })).status).toBe(400);
        expect((await call('admin', 'DELETE', `/s/_table/w_customers?ids=${encodeURIComponent(id)}`)).status).toBe(400);
      }
      expect(
        (await call('admin', 'DELETE', `/s/_table/w_customers?filter=${encodeURIComponent('1=1; DROP TABLE w_customers')}`)).status,
      ).toBe(400);
      expect((await call('admin', 'DELETE', `/s/_table/w_customers?filter=${encodeURIComponent("name = 'x' or 1=1")}`)).status).toBe(400);
      expect((await call('admin', 'POST', '/s/_table/w_customers?fields=name;DROP', { tenant_id: 'x', name: 'y' })).status).toBe(400);
      expect((await call('admin', 'POST', '/s/_table/w_customers?rollback=maybe', { tenant_id: 'x', name: 'y' })).status).toBe(400);
      expect((await call('admin', 'POST', '/s/_table/w_customers?related=x', { tenant_id: 'x', name: 'y' })).status).toBe(400);
      expect((await call('admin', 'POST', '/s/_table/w_customers', '{"resource": [')).status).toBe(400);
      expect(
        (await call('admin', 'POST', '/s/_table/w_customers', 'a=1', { 'content-type': 'application/x-www-form-urlencoded' })).status,
      ).toBe(415);
      expect(await customers()).toEqual(before);
    });
  });

  describe('If-Match and Idempotency-Key', () => {
    it('If-Match takes the ETag of GET /{id}: a stale one is a 412 and changes nothing', async () => {
      const got = await call('t1', 'GET', '/s/_table/w_customers/1');
      const etag = got.headers.get('etag')!;
      expect(etag).toMatch(/^"/);
      const ok = await call('t1', 'PATCH', '/s/_table/w_customers/1', { score: 12 }, { 'If-Match': etag });
      expect(ok.status, ok.text).toBe(200);
      const stale = await call('t1', 'PATCH', '/s/_table/w_customers/1', { score: 13 }, { 'If-Match': etag });
      expect(stale.status).toBe(412);
      expect((await call('t1', 'DELETE', '/s/_table/w_customers/1', undefined, { 'If-Match': etag })).status).toBe(412);
      expect((await customers('customer_id = 1'))[0]!.score).toBe(12);
      expect((await call('t1', 'PATCH', '/s/_table/w_customers/1', { score: 12 }, { 'If-Match': '*' })).status).toBe(200);
      expect(
        (await call('t1', 'PATCH', '/s/_table/w_customers', { resource: [{ customer_id: 1, score: 1 }] }, { 'If-Match': '*' })).status,
      ).toBe(400);
    });

    it('two writers with the same ETag at once: exactly one wins', async () => {
      const etag = (await call('t1', 'GET', '/s/_table/w_customers/2')).headers.get('etag')!;
      const answers = await Promise.all(
        [31, 32, 33, 34].map((score) => call('t1', 'PATCH', '/s/_table/w_customers/2', { score }, { 'If-Match': etag })),
      );
      const statuses = answers.map((a) => a.status).sort();
      expect(statuses, answers.map((a) => a.text).join('\n')).toEqual([200, 412, 412, 412]);
      const winner = answers.findIndex((a) => a.status === 200);
      expect((await customers('customer_id = 2'))[0]!.score).toBe(31 + winner);
    });

    it('Idempotency-Key: the same body replays the first answer and writes once; another body is a 422', async () => {
      const body = { resource: [{ tenant_id: 'idem', name: 'once' }] };
      const key = { 'Idempotency-Key': `k-${kind}-1` };
      const first = await call('admin', 'POST', '/s/_table/w_customers', body, key);
      expect(first.status, first.text).toBe(201);
      const again = await call('admin', 'POST', '/s/_table/w_customers', { resource: [{ name: 'once', tenant_id: 'idem' }] }, key);
      expect(again.status).toBe(201);
      expect(again.body).toEqual(first.body);
      expect(await customers(`tenant_id = 'idem'`)).toHaveLength(1);
      const other = await call('admin', 'POST', '/s/_table/w_customers', { resource: [{ tenant_id: 'idem', name: 'twice' }] }, key);
      expect(other.status).toBe(422);
      // The key belongs to its identity: another caller's same key is its own.
      const t1 = await call('t1', 'POST', '/s/_table/w_customers', { resource: [{ name: 'idem-t1' }] }, key);
      expect(t1.status, t1.text).toBe(201);
      expect((await call('admin', 'PATCH', '/s/_table/w_customers/1', { score: 1 }, key)).status).toBe(400);
    });

    it('concurrent requests with one Idempotency-Key write once; the others wait their turn (409) or replay', async () => {
      const body = { resource: [{ tenant_id: 'race', name: 'r' }] };
      const key = { 'Idempotency-Key': `k-${kind}-race` };
      const answers = await Promise.all(Array.from({ length: 6 }, () => call('admin', 'POST', '/s/_table/w_customers', body, key)));
      for (const a of answers) expect([201, 409], a.text).toContain(a.status);
      expect(answers.some((a) => a.status === 201)).toBe(true);
      expect(await customers(`tenant_id = 'race'`)).toHaveLength(1);
      const later = await call('admin', 'POST', '/s/_table/w_customers', body, key);
      expect(later.status).toBe(201);
      expect(await customers(`tenant_id = 'race'`)).toHaveLength(1);
    });
  });

  it('_schema shows write rights only to callers who may write; OpenAPI types their bodies', async () => {
    const t1 = await call('t1', 'GET', '/s/_schema/w_customers');
    expect(t1.body.write).toMatchObject({ insert: true, update: true, delete: true, bulk: true, maxBulkRows: 3 });
    expect(t1.body.write.fields).not.toContain('email');
    expect(t1.body.write.fields).not.toContain('customer_id');
    expect((await call('reader', 'GET', '/s/_schema/w_customers')).body.write).toBeUndefined();
    const doc = await call('t1', 'GET', '/openapi.json');
    const path = doc.body.paths['/api/v2/s/_table/w_customers'];
    expect(path.post.requestBody.content['application/json'].schema.properties.resource.items.properties).toHaveProperty('name');
    expect(path.post.requestBody.content['application/json'].schema.properties.resource.items.properties).not.toHaveProperty('email');
    const reader = await call('reader', 'GET', '/openapi.json');
    expect(reader.body.paths['/api/v2/s/_table/w_customers'].post.requestBody).toBeUndefined();
    expect(reader.body.paths['/api/v2/s/_table/w_customers'].post.responses).toHaveProperty('403');
  });

  it('the audit record names the action, the fields set and the rows written', async () => {
    const r = await call('admin', 'PATCH', '/s/_table/w_customers/1', { score: 4 });
    expect(r.status).toBe(200);
    await srv.rt.audit.flush();
    const rec = srv.audit.records.findLast((a) => a.requestId === r.headers.get('x-request-id'));
    expect(rec).toMatchObject({ action: 'update', view: 's.w_customers', fields: ['score'], rowCount: 1, status: 200 });
    expect((rec!.args as { keys: { customer_id: unknown }[] }).keys.map((k) => String(k.customer_id))).toEqual(['1']);
  });
});
