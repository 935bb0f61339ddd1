// MongoDB writes over real HTTP (docs/writes.md, "MongoDB"), against the test machine's FerretDB
// 1.x: declared columns only, `_id` generated as an ObjectId, a `path` column written to its nested
// field, a multi-record batch needing continue=true (no transactions), and the row filter checked
// before anything is written. Real MongoDB with a replica set would take the same requests.
import { createHash } from 'node:crypto';
import { ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { createMongoDatabase } from '../support/stores.js';

const sha = (k: string) => createHash('sha256').update(k).digest('hex');
let db: Awaited<ReturnType<typeof createMongoDatabase>>;
let srv: RunningServer;
const T1 = new ObjectId();
const T2 = new ObjectId();

beforeAll(async () => {
  db = await createMongoDatabase('writes_mongo');
  await db.client
    .db(db.name)
    .collection('w_events')
    .insertMany([
      { _id: T1, tenant_id: 't1', kind: 'view', payload: { sku: 'a-1' }, n: 1 },
      { _id: T2, tenant_id: 't2', kind: 'buy', payload: { sku: 'b-2' }, n: 2 },
    ]);
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    audit: { sink: 'off' },
    logging: { level: 'silent' },
    sources: {
      m: {
        kind: 'mongodb',
        url: db.url,
        database: db.name,
        collections: {
          w_events: {
            columns: {
              _id: { type: 'text' },
              tenant_id: { type: 'text' },
              kind: { type: 'text' },
              sku: { type: 'text', path: 'payload.sku' },
              n: { type: 'int' },
            },
          },
        },
      },
    },
    services: { mg: { source: 'm', tables: ['w_events'] } },
    auth: {
      apiKeys: [
        { name: 'admin', sha256: sha('key-admin'), role: 'admin' },
        { name: 't1', sha256: sha('key-t1'), role: 'tenant', claims: { tenant_id: 't1' } },
      ],
    },
    roles: {
      admin: { grants: { '*': { read: true, write: { insert: true, update: true, delete: true, bulk: true } } } },
      tenant: {
        grants: {
          'mg.w_events': { read: true, rowFilter: 'tenant_id = {claims.tenant_id}', write: { insert: true, update: true, delete: true } },
        },
      },
    },
  };
  srv = await startServer(parseConfig(JSON.stringify(config), 'mongo-writes.yaml', {}));
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await db?.drop();
});

async function call(who: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${srv.url}/api/v2/mg/_table/w_events${path}`, {
    method,
    headers: { 'X-API-Key': `key-${who}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

const coll = () => db.client.db(db.name).collection('w_events');

describe('MongoDB writes', () => {
  it('POST generates an ObjectId _id and writes a path column to its nested field', async () => {
    const r = await call('admin', 'POST', '?fields=_id,sku,n', { resource: [{ tenant_id: 't3', kind: 'view', sku: 'c-3', n: '7' }] });
    expect(r.status, r.text).toBe(201);
    const id = r.body.resource[0]._id;
    expect(id).toMatch(/^[0-9a-f]{24}$/);
    expect(r.body.resource[0]).toMatchObject({ sku: 'c-3', n: 7 });
    const doc = await coll().findOne({ _id: new ObjectId(id) });
    expect(doc).toMatchObject({ tenant_id: 't3', kind: 'view', payload: { sku: 'c-3' } });
    // A column that is not declared cannot be written.
    expect((await call('admin', 'POST', '', { resource: [{ tenant_id: 't3', secret: 1 }] })).status).toBe(400);
  });

  it('a batch of several records needs continue=true: there are no transactions', async () => {
    const two = {
      resource: [
        { tenant_id: 'b', n: 1 },
        { tenant_id: 'b', n: 2 },
      ],
    };
    const refused = await call('admin', 'POST', '', two);
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toContain('continue=true');
    expect(await coll().countDocuments({ tenant_id: 'b' })).toBe(0);
    const ok = await call('admin', 'POST', '?continue=true', two);
    expect(ok.status, ok.text).toBe(201);
    expect(await coll().countDocuments({ tenant_id: 'b' })).toBe(2);
  });

  it('PATCH, PUT, DELETE by _id, by ids and by filter', async () => {
    const patched = await call('admin', 'PATCH', `/${T1.toHexString()}?fields=_id,sku`, { sku: 'a-9' });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toEqual({ _id: T1.toHexString(), sku: 'a-9' });
    expect((await coll().findOne({ _id: T1 }))!.payload).toEqual({ sku: 'a-9' });
    const bulk = await call('admin', 'PATCH', `?filter=${encodeURIComponent("tenant_id = 'b'")}`, { kind: 'bulk' });
    expect(bulk.status, bulk.text).toBe(200);
    expect(await coll().countDocuments({ kind: 'bulk' })).toBe(2);
    const gone = await call('admin', 'DELETE', `?filter=${encodeURIComponent("kind = 'bulk'")}`);
    expect(gone.status).toBe(200);
    expect(gone.body.resource).toHaveLength(2);
    expect(await coll().countDocuments({ tenant_id: 'b' })).toBe(0);
    expect((await call('admin', 'DELETE', `/${new ObjectId().toHexString()}`)).status).toBe(404);
  });

  it('the row filter binds MongoDB writes, checked before anything is written', async () => {
    const own = await call('t1', 'POST', '?fields=_id,tenant_id', { resource: [{ kind: 'own' }] });
    expect(own.status, own.text).toBe(201);
    expect(own.body.resource[0].tenant_id).toBe('t1');
    expect((await call('t1', 'POST', '', { resource: [{ kind: 'spy', tenant_id: 't2' }] })).status).toBe(403);
    const moved = await call('t1', 'PATCH', `/${T1.toHexString()}`, { tenant_id: 't2' });
    expect(moved.status).toBe(403);
    expect((await coll().findOne({ _id: T1 }))!.tenant_id).toBe('t1');
    expect((await call('t1', 'PATCH', `/${T2.toHexString()}`, { n: 99 })).status).toBe(404);
    expect((await call('t1', 'DELETE', `/${T2.toHexString()}`)).status).toBe(404);
    expect(await coll().findOne({ _id: T2 })).toMatchObject({ tenant_id: 't2', n: 2 });
    expect(await coll().countDocuments({ kind: 'spy' })).toBe(0);
  });
});
