// Governed SQL over hub views (docs/sql.md, "Relations"): a hub-engine view in a statement is read
// through its own engine (one statement to the hub, inside the transaction that carries the
// caller's identity, so PostgreSQL's rowSecurity separates tenants), and joins, IN (SELECT ...)
// and aggregates combine it with an embedded view in process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeHubSessions } from '../../src/hub/passthrough/session.js';
import { startServer, type RunningServer } from '../support/reference.js';
import { applyHub, createHubStores, HUB_KEYS, type HubStores } from '../fixtures/hub/stores.js';

let stores: HubStores;
let srv: RunningServer;

// The hub test config, plus an embedded service over the same orders table and `sql: true` grants.
const withSql = (yaml: string): string =>
  yaml
    .replace(
      '\nauth:',
      `
  shop:
    engine: embedded
    views:
      orders:
        key: [order_id]
        sql: SELECT o.order_id, o.customer_id, o.total_amount FROM app.orders o
auth:`,
    )
    .replace('grants: { "*": { read: true, explain: true } }', 'grants: { "*": { read: true, explain: true, sql: true } }')
    .replace(
      'federation.*: { read: true, masks: { email: email }, maxLimit: 100 }',
      'federation.*: { read: true, masks: { email: email }, maxLimit: 100, sql: true, aggregate: true }\n      shop.*: { read: true, sql: true, aggregate: true }',
    );

beforeAll(async () => {
  stores = await createHubStores('hubsql');
  await applyHub(stores);
  srv = await startServer(stores.config(withSql));
});

afterAll(async () => {
  await srv?.close();
  if (srv) await closeHubSessions(srv.rt.sources);
  await stores?.drop();
});

async function sql(key: string, body: Record<string, unknown>): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(`${srv.url}/api/v2/_sql`, {
    method: 'POST',
    headers: { 'X-API-Key': key, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text), text };
}

describe('governed SQL over hub views', () => {
  it('reads a hub view as the caller: the hub separates tenants, the grant masks', async () => {
    const r = await sql(HUB_KEYS.t1, {
      sql: 'SELECT h.order_id, h.tenant_id, h.email FROM federation.customer_orders_live h ORDER BY h.order_id',
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { order_id: 101, tenant_id: 't1', email: 'a***@one.example' },
      { order_id: 102, tenant_id: 't1', email: 'a***@one.example' },
      { order_id: 104, tenant_id: 't1', email: 'c***@one.example' },
    ]);
  });

  it('joins a hub view with an embedded view, both ways, through their engines', async () => {
    const inner = await sql(HUB_KEYS.t2, {
      sql: `SELECT h.customer_id, s.order_id, s.total_amount FROM federation.customer_orders h
            JOIN shop.orders s ON s.order_id = h.order_id ORDER BY s.order_id`,
    });
    expect(inner.status, inner.text).toBe(200);
    expect(inner.body.resource).toEqual([
      { customer_id: 2, order_id: 103, total_amount: '5.00' },
      { customer_id: 4, order_id: 105, total_amount: '100.00' },
    ]);
    // The embedded view preserved: the other tenant's orders have no hub partner for t1.
    const left = await sql(HUB_KEYS.t1, {
      sql: 'SELECT s.order_id, h.tenant_id FROM shop.orders s LEFT JOIN federation.customer_orders h ON h.order_id = s.order_id ORDER BY s.order_id',
    });
    expect(left.status, left.text).toBe(200);
    expect(left.body.resource).toEqual([
      { order_id: 101, tenant_id: 't1' },
      { order_id: 102, tenant_id: 't1' },
      { order_id: 103, tenant_id: null },
      { order_id: 104, tenant_id: 't1' },
      { order_id: 105, tenant_id: null },
    ]);
  });

  it('uses a hub view in IN (SELECT ...) and a WITH query, aggregating over the embedded view', async () => {
    const r = await sql(HUB_KEYS.t1, {
      sql: `WITH mine AS (SELECT DISTINCT h.customer_id FROM federation.customer_orders_live h)
            SELECT s.customer_id, sum(s.total_amount) AS total, count(*) AS n FROM shop.orders s
            WHERE s.customer_id IN (SELECT m.customer_id FROM mine m) GROUP BY s.customer_id ORDER BY s.customer_id`,
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.resource).toEqual([
      { customer_id: 1, total: '30.50', n: 2 },
      { customer_id: 3, total: '7.25', n: 1 },
    ]);
  });

  it('the exempt internal role reads every tenant; a caller without the claim is refused', async () => {
    const all = await sql(HUB_KEYS.internal, {
      sql: 'SELECT count(*) AS n, count(DISTINCT h.tenant_id) AS tenants FROM federation.customer_orders h',
    });
    expect(all.status, all.text).toBe(200);
    expect(all.body.resource).toEqual([{ n: 6, tenants: 3 }]);
    const denied = await sql(HUB_KEYS.noClaim, { sql: 'SELECT h.order_id FROM federation.customer_orders h' });
    expect(denied.status, denied.text).toBe(403);
  });

  it('explain shows the statement the hub view sent to the hub', async () => {
    const r = await sql(HUB_KEYS.internal, {
      sql: 'SELECT h.order_id FROM federation.customer_orders h JOIN shop.orders s ON s.order_id = h.order_id WHERE h.tenant_id = $$t2$$'.replaceAll(
        '$$',
        "'",
      ),
      explain: true,
    });
    expect(r.status, r.text).toBe(200);
    const texts = (r.body.explain.queries as { source: string; text: string }[]).map((q) => `${q.source}: ${q.text}`);
    expect(texts.join('\n')).toMatch(/federation: governed scan of federation\.customer_orders: SELECT .*"tenant_id" = /);
  });
});
