// The HTTP edges: /metrics exposes every series the operators need (after REST and MCP traffic),
// CORS follows server.cors.origins for the REST surface (MCP keeps its own Origin check), and
// oversized requests are refused before any work.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { createReferenceStores, get, KEYS, referenceConfig, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { externalGrant, startWith, withCors, fetchMetrics } from './ops-helpers.js';

let stores: ReferenceStores;
let srv: RunningServer;
const APP_ORIGIN = 'https://app.example.com';

beforeAll(async () => {
  stores = await createReferenceStores('opshttp');
  const config = referenceConfig(stores.env, (y) => withCors(externalGrant(y, { cacheTtl: '10s', rateLimit: '1/hour' }), [APP_ORIGIN]));
  srv = await startWith(config);
});
afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

describe('/metrics', () => {
  it('exposes request, store, cache, rate-limit, audit, breaker and refresh series', async () => {
    await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, { 'X-API-Key': KEYS.partner });
    await get(`${srv.url}/api/v2/crm/_table/customers?limit=1`, { 'X-API-Key': KEYS.partner });
    await get(`${srv.url}/api/v2/nope/_table/x`, { 'X-API-Key': KEYS.partner });
    const client = new Client({ name: 'ops-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': KEYS.llm } } }),
    );
    await client.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 1 } });
    await client.close();
    srv.rt.metrics.refreshed('federation.customer_orders', true, new Date(1_700_000_000_000));

    const r = await fetchMetrics(srv.url);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await r.text();
    for (const series of [
      /^viewgate_request_duration_seconds_bucket\{le="[\d.]+",surface="rest",action="query",view="crm.customers",status="200"\} \d+$/m,
      /^viewgate_request_duration_seconds_count\{surface="rest",action="query",view="crm.customers",status="429"\} 1$/m,
      /^viewgate_request_duration_seconds_count\{surface="rest",action="query",view="-",status="404"\} 1$/m,
      /^viewgate_request_duration_seconds_count\{surface="mcp",action="query_view",view="crm.customers",status="200"\} 1$/m,
      /^viewgate_store_query_duration_seconds_count\{store="crm",op="scan",outcome="ok"\} \d+$/m,
      /^viewgate_store_rows_sum\{store="crm"\} \d+$/m,
      /^viewgate_cache_misses_total\{view="crm.customers"\} 1$/m,
      /^viewgate_rate_limit_rejections_total\{view="crm.customers",role="external"\} 1$/m,
      /^viewgate_audit_failures_total 0$/m,
      /^viewgate_circuit_state\{store="crm"\} 0$/m,
      /^viewgate_refresh_status\{view="federation.customer_orders"\} 1$/m,
      /^viewgate_refresh_last_success_timestamp_seconds\{view="federation.customer_orders"\} 1700000000$/m,
      /^process_resident_memory_bytes \d+/m,
    ]) {
      expect(text).toMatch(series);
    }
  });

  it('counts audit failures', async () => {
    srv.audit.fail = true;
    await get(`${srv.url}/api/v2/crm/_table`, { 'X-API-Key': KEYS.internal });
    srv.audit.fail = false;
    expect(await (await fetchMetrics(srv.url)).text()).toMatch(/^viewgate_audit_failures_total 1$/m);
  });
});

describe('CORS', () => {
  it('answers a preflight from a configured origin', async () => {
    const r = await fetch(`${srv.url}/api/v2/crm/_table/customers`, {
      method: 'OPTIONS',
      headers: { Origin: APP_ORIGIN, 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'x-api-key' },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(r.headers.get('access-control-allow-methods')).toBe('GET, HEAD');
    expect(r.headers.get('access-control-allow-headers')).toContain('X-API-Key');
  });

  it('lets the configured origin read responses and their rate-limit and cache headers', async () => {
    const r = await get(`${srv.url}/api/v2/crm/_table`, { Origin: APP_ORIGIN, 'X-API-Key': KEYS.internal });
    expect(r.status).toBe(200);
    expect(r.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(r.headers.get('access-control-expose-headers')).toContain('ETag');
    expect(r.headers.get('access-control-expose-headers')).toContain('Retry-After');
    expect(r.headers.get('vary')).toBe('Origin, Authorization, X-API-Key, X-DreamFactory-API-Key');
  });

  it('gives other origins nothing', async () => {
    const r = await get(`${srv.url}/api/v2/crm/_table`, { Origin: 'https://evil.example', 'X-API-Key': KEYS.internal });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(`${srv.url}/api/v2/crm/_table`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'GET' },
    });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('leaves /mcp to its own Origin check', async () => {
    const r = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: { Origin: APP_ORIGIN, 'X-API-Key': KEYS.llm, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(403);
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request size limits', () => {
  it('refuses a URL over 8 KiB with 414', async () => {
    const r = await get(`${srv.url}/api/v2/crm/_table/customers?filter=${'a'.repeat(9000)}`, { 'X-API-Key': KEYS.internal });
    expect(r.status).toBe(414);
    expect(r.body.error.code).toBe(414);
  });

  it('refuses a body over server.bodyLimit with 413', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping', params: { pad: 'x'.repeat(1_100_000) } });
    const r = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: { 'X-API-Key': KEYS.llm, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: big,
    });
    expect(r.status).toBe(413);
  });
});
