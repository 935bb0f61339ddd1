// Bound checks (issue 3 item 6): a one-customer query on the reference view fetches O(matching
// rows) from each store, and at most one round trip per store per bind-join batch, asserted from
// the engine's own account (EngineResult.fetched and EngineResult.queries, which explain shows).
process.env.TZ = 'Europe/Berlin';

import { describe, expect, it } from 'vitest';
import { buildEmbeddedView } from '../../src/engine/embedded/index.js';
import type { EngineQuery, EngineResult, View } from '../../src/engine/view.js';
import { Sources } from '../../src/sources/index.js';
import type { ViewServiceConfig } from '../../src/config/schema.js';
import { useOracleEnv, oracleConfig, SERVICE, type OracleEnv } from './env.js';
import { FIXTURES } from './fixtures.js';
import { bindText, canonRow, compareRows } from './harness.js';
import { VIEWS, viewsFor } from './views.js';

/** Slack per store over the matching rows (a probe row, an over-fetch by one for hasMore). */
const SLACK = 2;

function queriesPer(r: EngineResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of r.queries) out[q.source] = (out[q.source] ?? 0) + 1;
  return out;
}

function explainText(r: EngineResult): string {
  return `fetched ${JSON.stringify(r.fetched)}\nqueries:\n${r.queries.map((q) => `  [${q.source}] ${q.text} ${JSON.stringify(q.params, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`).join('\n')}`;
}

async function count(env: OracleEnv, sql: string, params: unknown[] = []): Promise<number> {
  return Number((await env.oracle(sql, params)).rows[0]!.n);
}

function query(view: View, filter: string, limit = 50): EngineQuery {
  return {
    columns: view.columns.map((c) => c.name),
    where: bindText(view, filter),
    orderBy: view.key.map((k) => ({ column: k, desc: false })),
    limit,
    offset: 0,
    count: false,
  };
}

async function sameAsOracle(env: OracleEnv, view: View, filter: string, r: EngineResult, limit: number): Promise<void> {
  const def = VIEWS.find((v) => v.name === view.name)!;
  // The filters here are simple `col = literal` comparisons; printed directly.
  const m = /^(\w+) = (.+)$/.exec(filter)!;
  const lit = m[2]!.startsWith("'") ? m[2]!.slice(1, -1) : m[2]!;
  const o = await env.oracle(
    `SELECT * FROM (${def.sql}) v WHERE v.${m[1]}::text = $1 ORDER BY ${def.key.map((k) => `v.${k}`).join(', ')} LIMIT ${limit}`,
    [lit],
  );
  const cols = view.columns.map((c) => c.name);
  expect(compareRows(r.rows, o.rows, cols, true), `${filter}\n${r.rows.map((x) => canonRow(x, cols)).join('\n')}`).toBe('');
}

describe.each(FIXTURES)('bounded fetches, fixture %s', (name) => {
  let env: OracleEnv;
  useOracleEnv(name, (e) => (env = e));

  it('one customer: O(matching rows) per store, at most one query per store', async () => {
    const view = await env.view('activity');
    const ids = (await env.oracle('SELECT customer_id FROM crm.customers ORDER BY customer_id')).rows.map((r) => r.customer_id as bigint);
    expect(ids.length).toBeGreaterThan(10);
    for (const id of [...ids, 424242n]) {
      const filter = `customer_id = ${id}`;
      const r = await view.engine.execute(query(view, filter, 1000));
      const orders = await count(env, 'SELECT count(*) AS n FROM app.orders WHERE customer_id = $1', [id]);
      const events = await count(env, 'SELECT count(*) AS n FROM analytics.events WHERE user_id = $1', [String(id)]);
      const customers = ids.includes(id) ? 1 : 0;
      const why = `${filter}: ${customers} customer, ${orders} orders, ${events} events\n${explainText(r)}`;
      expect(r.fetched.crm ?? 0, why).toBeLessThanOrEqual(customers + SLACK);
      expect(r.fetched.app ?? 0, why).toBeLessThanOrEqual(orders + SLACK);
      expect(r.fetched.analytics ?? 0, why).toBeLessThanOrEqual(events + SLACK);
      for (const [src, n] of Object.entries(queriesPer(r))) expect(n, `${src}: ${why}`).toBeLessThanOrEqual(1);
      await sameAsOracle(env, view, filter, r, 1000);
      // explain shows the same native queries (one per store at most).
      const x = await view.engine.explain(query(view, filter, 1000));
      const per: Record<string, number> = {};
      for (const nq of x.queries) per[nq.source] = (per[nq.source] ?? 0) + 1;
      for (const [src, n] of Object.entries(per)) expect(n, `explain, ${src}: ${why}`).toBeLessThanOrEqual(1);
      expect(x.queries.map((nq) => nq.source).sort()).toEqual(r.queries.map((nq) => nq.source).sort());
    }
  });

  it("one tenant page (tenant filter, ORDER BY, LIMIT 50): fetches only that tenant's rows", async () => {
    const view = await env.view('activity');
    const tenants = (await env.oracle('SELECT DISTINCT tenant_id FROM crm.customers WHERE tenant_id IS NOT NULL ORDER BY 1')).rows.map(
      (r) => r.tenant_id as string,
    );
    for (const t of tenants) {
      const filter = `tenant_id = '${t.replace(/'/g, "''")}'`;
      const r = await view.engine.execute(query(view, filter, 50));
      const customers = await count(env, 'SELECT count(*) AS n FROM crm.customers WHERE tenant_id = $1', [t]);
      const orders = await count(
        env,
        'SELECT count(*) AS n FROM app.orders o JOIN crm.customers c ON c.customer_id = o.customer_id WHERE c.tenant_id = $1',
        [t],
      );
      const events = await count(
        env,
        'SELECT count(*) AS n FROM analytics.events e JOIN crm.customers c ON c.customer_id::text = e.user_id WHERE c.tenant_id = $1',
        [t],
      );
      const why = `${filter}: ${customers} customers, ${orders} orders, ${events} events\n${explainText(r)}`;
      expect(r.fetched.crm ?? 0, why).toBeLessThanOrEqual(customers + SLACK);
      expect(r.fetched.app ?? 0, why).toBeLessThanOrEqual(orders + SLACK);
      expect(r.fetched.analytics ?? 0, why).toBeLessThanOrEqual(events + SLACK);
      for (const [src, n] of Object.entries(queriesPer(r))) expect(n, `${src}: ${why}`).toBeLessThanOrEqual(1);
      await sameAsOracle(env, view, filter, r, 50);
    }
  });

  it('bind joins send one query per batch of keys (batchSize 3), never one per row', async () => {
    const config = oracleConfig(env.urls, viewsFor(name), { engine: { rowBudget: 100_000, batchSize: 3 } });
    const sources = new Sources(config);
    await sources.connect();
    try {
      const svc = config.services[SERVICE] as ViewServiceConfig;
      const view = await buildEmbeddedView({ service: SERVICE, name: 'activity', view: svc.views.activity!, config, sources });
      const r = await view.engine.execute({
        columns: view.columns.map((c) => c.name),
        orderBy: view.key.map((k) => ({ column: k, desc: false })),
        limit: 100_000,
        offset: 0,
        count: false,
      });
      const customers = await count(env, 'SELECT count(*) AS n FROM crm.customers');
      const batches = Math.ceil(customers / 3);
      const per = queriesPer(r);
      const why = `${customers} customers, batchSize 3: at most ${batches} queries per joined store\n${explainText(r)}`;
      expect(per.crm ?? 0, why).toBeLessThanOrEqual(1);
      expect(per.app ?? 0, why).toBeLessThanOrEqual(batches);
      expect(per.analytics ?? 0, why).toBeLessThanOrEqual(batches);
      const rows = await count(env, `SELECT count(*) AS n FROM (${VIEWS[0]!.sql}) v`);
      expect(r.rows.length).toBe(rows);
    } finally {
      await sources.close();
    }
  });
});
