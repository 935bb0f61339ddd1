// A write invalidates cached responses of the views over its table (docs/writes.md, "Cache"): in one
// process, and across two instances sharing Redis (the new generation is published, and the
// other instance stops serving what it cached before the write).
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../support/reference.js';
import { REDIS_URL } from '../support/stores.js';
import { createWriteStore, writeConfig, type WriteStore } from '../support/write-fixture.js';

let store: WriteStore;
const servers: RunningServer[] = [];

beforeAll(async () => {
  store = await createWriteStore('postgres', 'writes_cache');
}, 60_000);

afterAll(async () => {
  for (const s of servers) await s.close();
  await store?.drop();
});

/** A query no earlier run has cached (the shared Redis outlives test runs). */
function freshQuery(): string {
  return `fields=customer_id,name&filter=${encodeURIComponent(`name != '${randomBytes(6).toString('hex')}'`)}&order=customer_id`;
}

async function names(srv: RunningServer, query: string): Promise<{ names: string[]; cache: string | null }> {
  const r = await fetch(`${srv.url}/api/v2/s/_table/w_customers?${query}`, { headers: { 'X-API-Key': 'key-cached' } });
  const body = (await r.json()) as { resource: { name: string }[] };
  return { names: body.resource.map((c) => c.name), cache: r.headers.get('cache-control') };
}

async function rename(srv: RunningServer, id: number, name: string): Promise<void> {
  const r = await fetch(`${srv.url}/api/v2/s/_table/w_customers/${id}`, {
    method: 'PATCH',
    headers: { 'X-API-Key': 'key-cached', 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  expect(r.status, await r.text()).toBe(200);
}

describe('cache invalidation by writes', () => {
  it('in one process: the next read after a write sees it', async () => {
    const srv = await startServer(writeConfig(store));
    servers.push(srv);
    const q = freshQuery();
    expect((await names(srv, q)).names[0]).toBe('Ann');
    expect((await names(srv, q)).cache).toMatch(/max-age=/);
    await rename(srv, 1, 'Ann-2');
    expect((await names(srv, q)).names[0]).toBe('Ann-2');
  });

  it('across two instances sharing Redis', async () => {
    const a = await startServer(writeConfig(store, { redis: { url: REDIS_URL } }));
    const b = await startServer(writeConfig(store, { redis: { url: REDIS_URL } }));
    servers.push(a, b);
    const q = freshQuery();
    expect((await names(b, q)).names[1]).toBe('Bob');
    // Served from the shared cache now, whatever the store holds.
    await store.exec(`UPDATE w_customers SET name = 'Bob-direct' WHERE customer_id = 2`);
    expect((await names(a, q)).names[1]).toBe('Bob');
    await rename(a, 2, 'Bob-2');
    let seen = '';
    for (let i = 0; i < 50 && seen !== 'Bob-2'; i++) {
      seen = (await names(b, q)).names[1]!;
      if (seen !== 'Bob-2') await new Promise((r) => setTimeout(r, 20));
    }
    expect(seen).toBe('Bob-2');
  });
});
