// From an empty hub database: `hub apply`, then the serve process answers REST and MCP requests on
// hub views (MariaDB customers joined with PostgreSQL orders inside the hub), with tenancy enforced
// by PostgreSQL while viewgate reads as a non-superuser, internal roles exempt, the same query
// model and policy as every other view, and scheduled refreshes visible in describe.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pg from 'pg';
import { hubCommand } from '../../src/commands/hub.js';
import { closeHubSessions } from '../../src/hub/passthrough/session.js';
import { refreshStates } from '../../src/hub/refresh.js';
import { startHubRefresh, startHubScheduler, type HubScheduler } from '../../src/hub/scheduler.js';
import { createRuntime } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import { createLogger } from '../../src/ops/logger.js';
import type { Identity } from '../../src/policy/identity.js';
import { viewIdOf } from '../../src/config/view-id.js';
import { get, startServer, type RunningServer } from '../support/reference.js';
import { pgExec } from '../support/stores.js';
import { applyHub, createHubStores, HUB_CONFIG, HUB_KEYS, type HubStores } from '../fixtures/hub/stores.js';

let stores: HubStores;
let srv: RunningServer;
let scheduler: HubScheduler | undefined;

const api = (path: string, key: string) => get(`${srv.url}/api/v2/federation${path}`, { 'X-API-Key': key });
const ordersOf = (rows: { order_id: unknown }[]) => rows.map((r) => r.order_id);

beforeAll(async () => {
  stores = await createHubStores('hubrest');
  await applyHub(stores);
  srv = await startServer(stores.config());
});

afterAll(async () => {
  await scheduler?.stop();
  await srv?.close();
  if (srv) await closeHubSessions(srv.rt.sources);
  await stores?.drop();
});

describe('REST on hub views', () => {
  it('gives each tenant only its rows, with the masks of its grant (PostgreSQL does the filtering)', async () => {
    const t1 = await api('/_table/customer_orders?order=order_id', HUB_KEYS.t1);
    expect(t1.status).toBe(200);
    expect(t1.body.resource.every((r: any) => r.tenant_id === 't1')).toBe(true);
    expect(ordersOf(t1.body.resource)).toEqual([101, 102, 104]);
    expect(t1.body.resource[0]).toEqual({
      customer_id: 1,
      tenant_id: 't1',
      email: 'a***@one.example',
      order_id: 101,
      total_amount: '10.00',
    });
    const t2 = await api('/_table/customer_orders_live?order=order_id', HUB_KEYS.t2);
    expect(ordersOf(t2.body.resource)).toEqual([103, 105]);
    expect(t2.body.resource.every((r: any) => r.tenant_id === 't2')).toBe(true);
  });

  it('lets the exempt internal role read every tenant, unmasked', async () => {
    const all = await api('/_table/customer_orders?order=customer_id', HUB_KEYS.internal);
    expect(all.status).toBe(200);
    expect(new Set(all.body.resource.map((r: any) => r.tenant_id))).toEqual(new Set(['t1', 't2', 't3']));
    expect(all.body.resource.find((r: any) => r.customer_id === 5)).toEqual({
      customer_id: 5,
      tenant_id: 't3',
      email: 'eve@three.example',
      order_id: null,
      total_amount: null,
    });
  });

  it('answers 403 when the credential lacks the claim rowSecurity needs (and the view has no exemption for the role)', async () => {
    const r = await api('/_table/customer_orders', HUB_KEYS.noClaim);
    expect(r.status).toBe(403);
    expect(r.body.error.message).toContain('tenant_id');
    expect((await api('/_table/customer_orders_live', HUB_KEYS.internal)).status).toBe(403);
  });

  it('runs the client query model on the hub: filter, order, limit, offset, count, next', async () => {
    const r = await api(
      '/_table/customer_orders?filter=total_amount%20%3E%3D%2010&order=total_amount%20desc&limit=1&include_count=true',
      HUB_KEYS.t1,
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      resource: [{ customer_id: 1, tenant_id: 't1', email: 'a***@one.example', order_id: 102, total_amount: '20.50' }],
      meta: { count: 2, next: 1, next_cursor: expect.any(String) },
    });
    const page2 = await api(
      '/_table/customer_orders?filter=total_amount%20%3E%3D%2010&order=total_amount%20desc&limit=1&offset=1',
      HUB_KEYS.t1,
    );
    expect(ordersOf(page2.body.resource)).toEqual([101]);
    expect(page2.body.meta).toEqual({});
  });

  it('binds client values as parameters: SQL in a filter value is just text', async () => {
    const r = await api(`/_table/customer_orders?filter=${encodeURIComponent("tenant_id = 't2'' OR ''a''=''a'")}`, HUB_KEYS.internal);
    expect(r.status).toBe(200);
    expect(r.body.resource).toEqual([]);
    // A tenant cannot filter its way into another tenant's rows either.
    const other = await api(`/_table/customer_orders?filter=${encodeURIComponent("tenant_id = 't2'")}`, HUB_KEYS.t1);
    expect(other.body.resource).toEqual([]);
  });

  it('keeps the policy: unknown fields and masked fields in filters are 400s', async () => {
    expect((await api('/_table/customer_orders?fields=nope', HUB_KEYS.t1)).status).toBe(400);
    const masked = await api(`/_table/customer_orders?filter=${encodeURIComponent("email = 'x'")}`, HUB_KEYS.t1);
    expect(masked.status).toBe(400);
    expect(masked.body.error.message).toContain('masked');
  });

  it('explain shows the one statement sent and the hub plan with what the wrappers pushed down', async () => {
    const r = await api('/_table/customer_orders_live?filter=customer_id%20%3D%201&explain=true', HUB_KEYS.internalT1);
    expect(r.status).toBe(200);
    const { plan, queries } = r.body.explain;
    expect(queries).toHaveLength(1);
    expect(queries[0].text).toMatch(/^SELECT .* FROM "federation"\."customer_orders_live" WHERE \("customer_id" = \$1::int8\) ORDER BY/);
    expect(queries[0].params).toEqual(['1', 1001]);
    expect(plan.engine).toBe('hub');
    const hubPlan = (plan.hubPlan as string[]).join('\n');
    expect(hubPlan).toMatch(/Remote query: SELECT .* FROM `vg_test_hubrest_crm_[0-9a-f]+`\.`customers` WHERE/); // mysql_fdw
    expect(hubPlan).toContain('Remote SQL: SELECT'); // postgres_fdw
  });

  it('describes a materialized hub view with its refresh schedule and last refresh', async () => {
    const internal: Identity = {
      subject: 'key:internal-tools',
      identityKey: 'key:internal-tools',
      role: 'internal',
      method: 'api-key',
      claims: {},
    };
    const d = await srv.rt.gateway.describeView(internal, viewIdOf('federation', 'customer_orders'));
    expect(d.key).toEqual(['customer_id', 'order_id']);
    expect(d.columns.map((c) => c.name)).toEqual(['customer_id', 'tenant_id', 'email', 'order_id', 'total_amount']);
    expect(d.status).toMatchObject({ engine: 'hub', materialized: true, refresh: '* * * * *' });
    // `hub apply` populated it, and the hub records when.
    expect(d.status!.lastRefresh).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const live = await srv.rt.gateway.describeView(internal, viewIdOf('federation', 'customer_orders_live'));
    expect(live.status).toEqual({ engine: 'hub', materialized: false });
  });
});

describe('MCP on hub views', () => {
  it('query_view gives the tenant of the API key only its rows', async () => {
    const client = new Client({ name: 'viewgate-hub-test', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: { 'X-API-Key': HUB_KEYS.t2 } } }),
    );
    try {
      const views = await client.callTool({ name: 'list_views', arguments: {} });
      expect((views.structuredContent as any).views.map((v: any) => v.name)).toEqual([
        'federation.customer_orders',
        'federation.customer_orders_live',
      ]);
      const r = await client.callTool({ name: 'query_view', arguments: { view: 'federation.customer_orders', order: 'order_id' } });
      expect(r.isError).toBeFalsy();
      const rows = (r.structuredContent as any).rows as any[];
      expect(rows.map((x) => x.order_id)).toEqual([103, 105]);
      expect(rows.every((x) => x.tenant_id === 't2' && x.email.includes('***'))).toBe(true);
    } finally {
      await client.close();
    }
  });
});

/** A copy of the materialized view's refresh state (what describe and the metrics report from). */
const refreshOf = () => ({ ...refreshStates(srv.rt.sources).get('federation.customer_orders')! });

describe('scheduled refresh inside serve', () => {
  it('refreshes on the cron schedule, picks up new source rows, and reports it in describe', async () => {
    scheduler = startHubScheduler(srv.rt);
    const before = refreshOf();
    expect(before).toMatchObject({ schedule: '* * * * *', refreshes: 0, failures: 0, running: false });

    await pgExec(stores.appUrl, 'INSERT INTO orders VALUES (108, 1, 3.00)');
    expect(ordersOf((await api('/_table/customer_orders?order=order_id', HUB_KEYS.t1)).body.resource)).not.toContain(108);
    await scheduler.scheduler.tick(new Date());
    expect(ordersOf((await api('/_table/customer_orders?order=order_id', HUB_KEYS.t1)).body.resource)).toContain(108);

    expect((await get(`${srv.url}/readyz`)).status).toBe(200);
    const after = refreshOf();
    expect(after).toMatchObject({ refreshes: 1, failures: 0 });
    expect(after.lastRefresh! > before.lastRefresh!).toBe(true);
    const internal: Identity = { subject: 'x', identityKey: 'key:x', role: 'internal', method: 'api-key', claims: {} };
    expect((await srv.rt.gateway.describeView(internal, viewIdOf('federation', 'customer_orders'))).status!.lastRefresh).toBe(
      after.lastRefresh,
    );
  });

  it('counts and logs a failed refresh, keeps serving the last data, and recovers', async () => {
    await pgExec(stores.adminUrl, `REVOKE EXECUTE ON FUNCTION federation_internal.refresh_customer_orders() FROM "${stores.reader}"`);
    await scheduler!.scheduler.tick(new Date());
    const failed = refreshOf();
    expect(failed).toMatchObject({ failures: 1, refreshes: 1 });
    // Callers (describe) get the store's name only; the database's words go to the log.
    expect(failed.lastError).toMatch(/^store "[^"]+" failed: /);
    expect(failed.lastError).not.toContain('permission denied');
    expect((await api('/_table/customer_orders', HUB_KEYS.t1)).status).toBe(200);

    // apply restores the grant it manages.
    let out = '';
    await hubCommand(['apply', '--config', HUB_CONFIG, '--admin-url', stores.adminUrl], {
      out: (t) => (out += t),
      err: (t) => (out += t),
      env: { ...process.env, ...stores.env },
    });
    expect(out).toContain(`+ grant EXECUTE on function federation_internal.refresh_customer_orders() to ${stores.reader}`);
    await scheduler!.scheduler.tick(new Date());
    expect(refreshOf()).toMatchObject({ failures: 1, refreshes: 2 });
  });

  it('never runs two refreshes of one view at once: a tick while one runs is skipped', async () => {
    const holder = new pg.Client({ connectionString: stores.adminUrl });
    await holder.connect();
    try {
      // Another process holds the view's refresh lock: this tick's refresh is skipped, not queued.
      await holder.query("SELECT pg_advisory_lock(hashtext('viewgate refresh federation.customer_orders'))");
      await scheduler!.scheduler.tick(new Date());
      expect(refreshOf()).toMatchObject({ skipped: 1, refreshes: 2 });
    } finally {
      await holder.end();
    }
  });
});

describe('serve wiring', () => {
  it('starts the refresh scheduler with the server and stops it (and the hub pools) when the server closes', async () => {
    const rt = await createRuntime(stores.config(), { logger: createLogger('silent') });
    const app = await buildServer(rt);
    const hub = startHubRefresh(app, rt); // what `viewgate serve` does
    await app.listen({ host: '127.0.0.1', port: 0 });
    let stopped = false;
    const stop = hub.scheduler.stop.bind(hub.scheduler);
    hub.scheduler.stop = async () => {
      stopped = true;
      return stop();
    };
    await app.close();
    await rt.close();
    expect(stopped).toBe(true);
  });
});
