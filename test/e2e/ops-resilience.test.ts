// The circuit breaker over real HTTP: MariaDB (crm) sits behind a TCP proxy this test stops and
// starts. Store down: 503 naming it; after N failures the circuit opens and requests fail fast
// (other stores unaffected); after the cooldown one probe goes through: a failed probe reopens it,
// a good one closes it and traffic recovers without a restart.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createReferenceStores, get, KEYS, referenceConfig, type ReferenceStores, type RunningServer } from '../support/reference.js';
import { TcpProxy } from '../integration/ops-tcp-proxy.js';
import { startWith, fetchMetrics } from './ops-helpers.js';
import { waitFor } from '../support/wait.js';

// Long enough that two requests in a row fall inside one cooldown even on a loaded machine; the
// test polls for its end rather than sleeping through it.
const COOLDOWN = 3_000;
let stores: ReferenceStores;
let proxy: TcpProxy;
let srv: RunningServer;
const internal = { 'X-API-Key': KEYS.internal };
const customers = () => get(`${srv.url}/api/v2/crm/_table/customers?limit=2`, internal);
const circuitOpen = (r: { body: any }) => String(r.body?.error?.message).includes('circuit open');
/** The first response that is not the fail-fast "circuit open": the probe once the cooldown is over. */
const probeAfterCooldown = () =>
  waitFor(
    async () => {
      const r = await customers();
      return circuitOpen(r) ? undefined : r;
    },
    { interval: 100, what: 'the cooldown to end and a probe to go through' },
  );

beforeAll(async () => {
  stores = await createReferenceStores('opsbreaker');
  proxy = TcpProxy.forUrl(stores.env.CRM_MYSQL_URL!);
  await proxy.start();
  const config = referenceConfig({ ...stores.env, CRM_MYSQL_URL: proxy.urlFor(stores.env.CRM_MYSQL_URL!) });
  srv = await startWith(config, { breaker: { failures: 2, cooldownMs: COOLDOWN } });
});

afterAll(async () => {
  await srv?.close();
  await proxy?.stop();
  await stores?.drop();
});

async function circuitState(): Promise<string | undefined> {
  const text = await (await fetchMetrics(srv.url)).text();
  return /^viewgate_circuit_state\{store="crm"\} (\d)$/m.exec(text)?.[1];
}

describe('circuit breaker per store', () => {
  it('opens after consecutive failures, fails fast naming the store, probes half-open and closes', async () => {
    expect((await customers()).status).toBe(200);
    expect(await circuitState()).toBe('0');

    await proxy.stop();
    for (let i = 0; i < 2; i++) {
      const r = await customers();
      expect(r.status).toBe(503);
      expect(r.body.error.message).toMatch(/^store "crm" is unavailable: /);
      expect(r.body.error.message).not.toContain('circuit open');
      expect(r.body.error.context).toEqual({ source: 'crm' });
    }
    expect(await circuitState()).toBe('2');

    // Open: refused without trying the store (the message says so; the rejection metric below counts it).
    const fast = await customers();
    expect(fast.status).toBe(503);
    expect(fast.body.error.message).toMatch(/^store "crm" is unavailable: circuit open after 2 consecutive failures/);
    expect(Number(fast.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // The other stores do not care.
    expect((await get(`${srv.url}/api/v2/app/_table/orders?limit=1`, internal)).status).toBe(200);
    const ready = await get(`${srv.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(ready.body).toEqual({ status: 'not ready', down: ['crm'] });

    // Cooldown over, store still down: the probe fails and the circuit opens again.
    const probe = await probeAfterCooldown();
    expect(probe.status).toBe(503);
    expect(probe.body.error.message).not.toContain('circuit open');
    expect((await customers()).body.error.message).toContain('circuit open');

    // The store returns: after the cooldown the next request is the probe, and it closes the circuit.
    await proxy.start();
    const back = await probeAfterCooldown();
    expect(back.status).toBe(200);
    expect(back.body.resource).toHaveLength(2);
    expect(await circuitState()).toBe('0');
    expect((await customers()).status).toBe(200);

    const metrics = await (await fetchMetrics(srv.url)).text();
    expect(metrics).toMatch(/viewgate_circuit_rejections_total\{store="crm"\} [1-9]/);
    expect(metrics).toMatch(/viewgate_store_query_duration_seconds_count\{store="crm",op="scan",outcome="unavailable"\} [1-9]/);
    expect(metrics).toMatch(/viewgate_store_query_duration_seconds_count\{store="crm",op="scan",outcome="circuit_open"\} [1-9]/);
  });
});
