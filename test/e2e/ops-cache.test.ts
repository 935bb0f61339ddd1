// The response cache over real HTTP, in memory and in Redis: two tenants asking the same query never
// share an entry, a tenant's repeat is served from the cache (it does not see a change made in the
// store until the TTL passes), two instances share entries through Redis, and the HTTP side:
// Cache-Control consistent with the grant's cacheTtl, Vary on the credential headers, ETag and 304.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mysql from 'mysql2/promise';
import { createReferenceStores, get, KEYS, referenceConfig, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { externalGrant, startWith, tenantToken, withRedis, fetchMetrics } from './ops-helpers.js';

const QUERY = '/api/v2/crm/_table/customers?fields=customer_id,tenant_id,email,full_name&order=customer_id';

async function rename(stores: ReferenceStores, id: number, name: string): Promise<void> {
  const m = await mysql.createConnection(stores.env.CRM_MYSQL_URL!);
  await m.query('UPDATE customers SET full_name = ? WHERE customer_id = ?', [name, id]).finally(() => m.end());
}

describe.each(['memory', 'redis'] as const)('response cache (%s)', (backend) => {
  let stores: ReferenceStores;
  let a: RunningServer;
  let b: RunningServer | undefined;
  let t1: string;
  let t2other: string;

  beforeAll(async () => {
    stores = await createReferenceStores(`opscache_${backend}`);
    const config = referenceConfig(stores.env, (y) => {
      const edited = externalGrant(y, { cacheTtl: '30s' });
      return backend === 'redis' ? withRedis(edited) : edited;
    });
    a = await startWith(config);
    if (backend === 'redis') b = await startWith(config);
    t1 = await tenantToken(config, { roles: ['external'], tenant_id: 't1' }, 'tenant-one-app');
    t2other = await tenantToken(config, { roles: ['external'], tenant_id: 't2' }, 'another-t2-app');
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await stores?.drop();
  });

  it('never serves one tenant the rows of another, and serves a tenant its own cached rows', async () => {
    const partnerT2 = { 'X-API-Key': KEYS.partner };
    const first2 = await get(a.url + QUERY, partnerT2);
    const first1 = await get(a.url + QUERY, { Authorization: `Bearer ${t1}` });
    expect(first2.status).toBe(200);
    expect(first1.status).toBe(200);
    expect(first2.body.resource.length).toBeGreaterThan(0);
    expect(first2.body.resource.every((r: any) => r.tenant_id === 't2')).toBe(true);
    expect(first1.body.resource.every((r: any) => r.tenant_id === 't1')).toBe(true);
    expect(first2.body.resource[0]).toMatchObject({ customer_id: 1, full_name: 'Ada Lovelace', email: 'a***@example.org' });

    // Change the store: cached answers keep the old name until the TTL ends; uncached roles see the new one.
    await rename(stores, 1, 'Changed In The Store');
    await rename(stores, 3, 'Changed Too');
    const again2 = await get(a.url + QUERY, partnerT2);
    expect(again2.body).toEqual(first2.body);
    const again1 = await get(a.url + QUERY, { Authorization: `Bearer ${t1}` });
    expect(again1.body).toEqual(first1.body);
    expect(again1.body.resource.every((r: any) => r.tenant_id === 't1')).toBe(true);
    // The same tenant through another credential shares the entry (only claims the filter reads count).
    const sameTenant = await get(a.url + QUERY, { Authorization: `Bearer ${t2other}` });
    expect(sameTenant.body).toEqual(first2.body);
    const internal = await get(a.url + QUERY, { 'X-API-Key': KEYS.internal });
    expect(internal.body.resource.find((r: any) => r.customer_id === 1).full_name).toBe('Changed In The Store');

    const metrics = await (await fetchMetrics(a.url)).text();
    expect(metrics).toMatch(/viewgate_cache_hits_total\{view="crm.customers"\} 3\b/);
    expect(metrics).toMatch(/viewgate_cache_misses_total\{view="crm.customers"\} 2\b/);
  });

  it.runIf(backend === 'redis')('a second instance answers from the shared Redis entry', async () => {
    const r = await get(b!.url + QUERY, { 'X-API-Key': KEYS.partner });
    expect(r.body.resource[0].full_name).toBe('Ada Lovelace');
    expect(r.body.resource.every((x: any) => x.tenant_id === 't2')).toBe(true);
    const metrics = await (await fetchMetrics(b!.url)).text();
    expect(metrics).toMatch(/viewgate_cache_hits_total\{view="crm.customers"\} 1\b/);
  });

  it('a hit answers the same bytes and ETag as the miss that filled it, and 304 to that ETag', async () => {
    const url = `${a.url}${QUERY}&limit=2`;
    const headers = { 'X-API-Key': KEYS.partner };
    const miss = await fetch(url, { headers });
    const missText = await miss.text();
    const hits = await Promise.all([1, 2, 3].map(() => fetch(url, { headers })));
    for (const hit of hits) {
      expect(await hit.text()).toBe(missText);
      expect(hit.headers.get('etag')).toBe(miss.headers.get('etag'));
    }
    const current = await fetch(url, { headers: { ...headers, 'If-None-Match': miss.headers.get('etag')! } });
    expect(current.status).toBe(304);
    // Another tenant's hit on the same query has its own body.
    const other = await fetch(url, { headers: { Authorization: `Bearer ${t1}` } });
    expect(other.headers.get('etag')).not.toBe(miss.headers.get('etag'));
  });

  it('a different query is a different entry', async () => {
    const r = await get(a.url + QUERY + '&limit=2', { 'X-API-Key': KEYS.partner });
    expect(r.body.resource).toHaveLength(2);
    expect(r.body.resource[0].full_name).toBe('Changed In The Store');
  });

  it('Cache-Control follows the TTL; Vary names the credential headers and Accept (a list also answers CSV and NDJSON)', async () => {
    const cached = await get(a.url + QUERY, { 'X-API-Key': KEYS.partner });
    const cc = cached.headers.get('cache-control')!;
    const maxAge = Number(/^private, max-age=(\d+)$/.exec(cc)?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(30);
    expect(cached.headers.get('vary')).toBe('Authorization, X-API-Key, X-DreamFactory-API-Key, Accept');
    const uncached = await get(a.url + QUERY, { 'X-API-Key': KEYS.internal });
    expect(uncached.headers.get('cache-control')).toBe('private, no-cache');
    expect(uncached.headers.get('vary')).toBe('Authorization, X-API-Key, X-DreamFactory-API-Key, Accept');
    const denied = await get(a.url + '/api/v2/app/_table/orders', { 'X-API-Key': KEYS.partner });
    expect(denied.status).toBe(404);
    expect(denied.headers.get('cache-control')).toBe('no-store');
    expect(denied.headers.get('vary')).toContain('X-API-Key');
  });

  it('If-None-Match with the ETag gives 304 with the same validators; a stale ETag gives 200', async () => {
    const h = { 'X-API-Key': KEYS.partner };
    const first = await get(a.url + QUERY, h);
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const not = await get(a.url + QUERY, { ...h, 'If-None-Match': etag });
    expect(not.status).toBe(304);
    expect(not.text).toBe('');
    expect(not.headers.get('etag')).toBe(etag);
    expect(not.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect(not.headers.get('vary')).toContain('Authorization');
    expect((await get(a.url + QUERY, { ...h, 'If-None-Match': `W/${etag}` })).status).toBe(304);
    expect((await get(a.url + QUERY, { ...h, 'If-None-Match': '"old", ' + etag })).status).toBe(304);
    expect((await get(a.url + QUERY, { ...h, 'If-None-Match': '"old"' })).status).toBe(200);
    // Another tenant's ETag for the same URL never matches this tenant's body.
    const other = await get(a.url + QUERY, { Authorization: `Bearer ${t1}`, 'If-None-Match': etag });
    expect(other.status).toBe(200);
    // Uncached responses have ETags and 304s too.
    const row = await get(a.url + '/api/v2/crm/_table/customers/3', { 'X-API-Key': KEYS.internal });
    expect(
      (await get(a.url + '/api/v2/crm/_table/customers/3', { 'X-API-Key': KEYS.internal, 'If-None-Match': row.headers.get('etag')! }))
        .status,
    ).toBe(304);
  });
});
