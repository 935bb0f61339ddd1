// Rate limits over real HTTP and MCP: token buckets per identity and grant from the grant's
// rateLimit; 429 with Retry-After and RateLimit-* (and those fields on allowed responses too); an MCP
// tool error with the retry hint; one bucket shared by two instances through Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createReferenceStores, get, referenceConfig, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { externalGrant, llmGrant, startWith, tenantToken, withApiKey, withRedis, fetchMetrics } from './ops-helpers.js';

const QUERY = '/api/v2/crm/_table/customers?fields=customer_id&order=customer_id&limit=2';
let stores: ReferenceStores;

beforeAll(async () => {
  stores = await createReferenceStores('opsrl');
});
afterAll(async () => {
  await stores?.drop();
});

function limitedConfig(redis: boolean) {
  const partner = { key: '' };
  const llm = { key: '' };
  const config = referenceConfig(stores.env, (y) => {
    let edited = llmGrant(externalGrant(y, { rateLimit: '3/minute' }), { rateLimit: '2/minute' });
    // Fresh keys: buckets in a shared Redis outlive a test run.
    const p = withApiKey(edited, 'external', { tenant_id: 't2' });
    partner.key = p.key;
    const l = withApiKey(p.yaml, 'llm', { tenant_id: 't1' });
    llm.key = l.key;
    edited = redis ? withRedis(l.yaml) : l.yaml;
    return edited;
  });
  return { config, partnerKey: partner.key, llmKey: llm.key };
}

describe('rate limits (memory)', () => {
  let srv: RunningServer;
  let setup: ReturnType<typeof limitedConfig>;

  beforeAll(async () => {
    setup = limitedConfig(false);
    srv = await startWith(setup.config);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('allows N per period with RateLimit headers, then 429 with Retry-After', async () => {
    const h = { 'X-API-Key': setup.partnerKey };
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await get(srv.url + QUERY, h);
      expect(r.status).toBe(200);
      expect(r.headers.get('ratelimit-limit')).toBe('3');
      remaining.push(r.headers.get('ratelimit-remaining')!);
    }
    expect(remaining).toEqual(['2', '1', '0']);
    const refused = await get(srv.url + QUERY, h);
    expect(refused.status).toBe(429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(19);
    expect(retryAfter).toBeLessThanOrEqual(20);
    expect(refused.headers.get('ratelimit-limit')).toBe('3');
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
    expect(Number(refused.headers.get('ratelimit-reset'))).toBeGreaterThanOrEqual(retryAfter);
    expect(refused.headers.get('cache-control')).toBe('no-store');
    expect(refused.body.error).toMatchObject({ code: 429, context: { view: 'crm.customers', limit: '3/minute' } });
    expect(refused.body.error.message).toContain('rate limit exceeded');
    // Every request is audited, the refused one too.
    const rec = srv.audit.records.filter((r) => r.keyName === setup.partnerKey);
    expect(rec.map((r) => r.status)).toEqual([200, 200, 200, 429]);
    // A cached or single-row read takes from the same bucket.
    expect((await get(srv.url + '/api/v2/crm/_table/customers/1', h)).status).toBe(429);
    const metrics = await (await fetchMetrics(srv.url)).text();
    expect(metrics).toMatch(/viewgate_rate_limit_rejections_total\{view="crm.customers",role="external"\} 2\b/);
  });

  it('keeps a separate bucket per identity', async () => {
    const t1 = await tenantToken(srv.rt.config, { roles: ['external'], tenant_id: 't1' }, `other-${Date.now()}`);
    const r = await get(srv.url + QUERY, { Authorization: `Bearer ${t1}` });
    expect(r.status).toBe(200);
    expect(r.headers.get('ratelimit-remaining')).toBe('2');
  });

  it('roles and views without a rateLimit have no RateLimit headers', async () => {
    const r = await get(srv.url + '/api/v2/crm/_schema/customers', { 'X-API-Key': setup.partnerKey });
    expect(r.status).toBe(200);
    expect(r.headers.get('ratelimit-limit')).toBeNull();
  });

  it('MCP query_view returns a tool error with the retry hint', async () => {
    const client = new Client({ name: 'ops-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': setup.llmKey } } }),
    );
    try {
      const call = () => client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 1 } });
      expect((await call()).isError).toBeFalsy();
      expect((await call()).isError).toBeFalsy();
      const third: any = await call();
      expect(third.isError).toBe(true);
      const text = third.content.map((c: any) => c.text).join('\n');
      expect(text).toMatch(/^Error 429: rate limit exceeded/);
      expect(text).toMatch(/Retry after (29|30) seconds\./);
    } finally {
      await client.close();
    }
  });
});

describe('rate limits shared through Redis by two instances', () => {
  let a: RunningServer;
  let b: RunningServer;
  let setup: ReturnType<typeof limitedConfig>;

  beforeAll(async () => {
    setup = limitedConfig(true);
    a = await startWith(setup.config);
    b = await startWith(setup.config);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('three requests spread over both instances use up one bucket', async () => {
    const h = { 'X-API-Key': setup.partnerKey };
    const statuses = [];
    for (const srv of [a, b, a, b, a]) statuses.push((await get(srv.url + QUERY, h)).status);
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    const refused = await get(b.url + QUERY, h);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(refused.headers.get('ratelimit-remaining')).toBe('0');
  });
});
