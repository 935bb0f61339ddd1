// The end-to-end path: generated queries sent as REST requests (fields, filter, order, limit,
// offset, include_count) with the oracle's internal key must give PostgreSQL's rows, exactly
// (64-bit integers as exact JSON numbers, numerics as strings with their scale), with
// meta.count and meta.next as docs/rest.md says. Smaller than the engine-level corpus: this checks
// the surface's plumbing, not the engine again. Also: tenants' row filters (claims bound as text)
// select exactly PostgreSQL's rows.
process.env.TZ = 'Europe/Berlin';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/ops/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import type { FastifyInstance } from 'fastify';
import { createHash } from 'node:crypto';
import type { Config } from '../../src/config/schema.js';
import { createOracleEnv, ORACLE_KEY, oracleConfig, SERVICE, type OracleEnv } from './env.js';
import { fixture } from './fixtures.js';
import { genQuery, oracleCountSql, oracleQuerySql, Rng, seedFor, type GenQuery, type GFilter } from './generate.js';
import { compareRows, describeQuery, mapPool, report, SEED, show, viewContext, type ViewCtx } from './harness.js';
import { viewsFor } from './views.js';
import { parseLossless, toValueModel, type Num } from '../support/lossless-json.js';

const N = Number(process.env.VG_ORACLE_REST ?? 25);

// ---- tenancy: API keys with a tenant claim and a row filter on every view that outputs tenant_id ----

const TENANTS = [
  { key: 'vg_oracle_tenant_t1', claim: 't1' },
  { key: 'vg_oracle_tenant_T1', claim: 'T1' },
  { key: 'vg_oracle_tenant_t1sp', claim: 't1 ' },
  { key: 'vg_oracle_tenant_omega', claim: 'ω' },
];
/** The views that output tenant_id (a row filter may name only output columns). */
const TENANT_VIEWS = [
  'activity',
  'customer_orders',
  'tenant_revenue',
  'customer_events',
  'event_users',
  'tenant_customers',
  'no_orders',
  'tenant_status',
];
const N_TENANCY = Number(process.env.VG_ORACLE_TENANCY ?? 6);

function tenancyConfig(env: OracleEnv): Config {
  const sha = (k: string): string => createHash('sha256').update(k).digest('hex');
  const grants = Object.fromEntries(
    TENANT_VIEWS.map((v) => [`${SERVICE}.${v}`, { read: true, rowFilter: 'tenant_id = {claims.tenant_id}' }]),
  );
  return oracleConfig(env.urls, env.views, {
    auth: {
      apiKeys: [
        { name: 'oracle', sha256: sha(ORACLE_KEY), role: 'internal' },
        ...TENANTS.map((t, i) => ({ name: `tenant-${i}`, sha256: sha(t.key), role: 'tenant', claims: { tenant_id: t.claim } })),
      ],
    },
    roles: { internal: { grants: { '*': { read: true, explain: true } } }, tenant: { grants } },
  });
}

describe('REST end to end, fixture adversarial', () => {
  let env: OracleEnv;
  let rt: Runtime;
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    env = await createOracleEnv(fixture('adversarial'), viewsFor('adversarial'));
    rt = await createRuntime(tenancyConfig(env), { logger: createLogger('silent'), processMetrics: false });
    app = await buildServer(rt);
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await rt?.close();
    await env?.close();
  });

  async function check(ctx: ViewCtx, q: GenQuery, key: string = ORACLE_KEY, tenant?: string): Promise<string | undefined> {
    const params = new URLSearchParams();
    params.set('fields', q.columns.join(','));
    if (q.filterText) params.set('filter', q.filterText);
    params.set('order', q.order.map((o) => `${o.column} ${o.desc ? 'desc' : 'asc'}`).join(','));
    params.set('limit', String(q.limit));
    params.set('offset', String(q.offset));
    if (q.count) params.set('include_count', 'true');
    const url = `${base}/api/v2/${SERVICE}/_table/${ctx.def.name}?${params}`;
    const res = await fetch(url, { headers: { 'X-API-Key': key } });
    const text = await res.text();
    if (res.status !== 200) return `${describeQuery(ctx, q, ' [REST]')}\n  HTTP ${res.status}: ${text.slice(0, 500)}`;
    const body = parseLossless(text) as { resource: Record<string, unknown>[]; meta: { count?: Num; next?: Num } };
    const types = new Map(ctx.view.columns.map((c) => [c.name, c.type]));
    const rows = body.resource.map((r) => toValueModel(r, types));
    // The row filter `tenant_id = {claims.tenant_id}` is ANDed on, exactly as PostgreSQL compares text.
    const rowFilter: GFilter | undefined =
      tenant === undefined ? undefined : { k: 'cmp', col: 'tenant_id', op: '=', lit: { kind: 'string', value: tenant } };
    const filter = rowFilter && q.filter ? { k: 'and' as const, args: [q.filter, rowFilter] } : (rowFilter ?? q.filter);
    const oq = { ...q, ...(filter ? { filter } : {}) };
    const o = oracleQuerySql(ctx.def.sql, oq, ctx.types);
    const c = oracleCountSql(ctx.def.sql, oq.filter, ctx.types);
    const oracle = (await env.oracle(o.sql, o.params)).rows;
    const total = Number((await env.oracle(c.sql, c.params)).rows[0]!.n);
    const problems: string[] = [];
    const d = compareRows(rows, oracle, q.columns, true);
    if (d) problems.push(d);
    const extra = rows.flatMap((r) => Object.keys(r).filter((k) => !q.columns.includes(k)));
    if (extra.length) problems.push(`columns not asked for: ${[...new Set(extra)].join(', ')}`);
    const next = total > q.offset + q.limit ? q.offset + q.limit : undefined;
    const gotNext = body.meta.next ? Number(body.meta.next.num) : undefined;
    if (gotNext !== next) problems.push(`meta.next is ${gotNext}; expected ${next} (${total} rows match)`);
    const gotCount = body.meta.count ? Number(body.meta.count.num) : undefined;
    if (gotCount !== (q.count ? total : undefined)) problems.push(`meta.count is ${gotCount}; PostgreSQL counts ${total}`);
    return problems.length
      ? `${describeQuery(ctx, q, ` [REST${tenant === undefined ? '' : `, row filter tenant_id = ${JSON.stringify(tenant)}`}]`)}\n  ${url}\n  ${problems.join('\n  ')}\n  params ${show(o.params)}`
      : undefined;
  }

  it.each(viewsFor('adversarial').map((v) => [v.name, v] as const))(
    `%s: ${N} generated queries over REST agree with PostgreSQL`,
    async (_n, def) => {
      const ctx = await viewContext(env, def);
      const rng = new Rng(seedFor(SEED, 'rest', def.name));
      const qs = Array.from({ length: N }, (_, i) => genQuery(rng, i, ctx.cols, def.key));
      const failures = (await mapPool(qs, 4, (q) => check(ctx, q))).filter((f): f is string => !!f);
      expect(failures.length, report(failures, qs.length)).toBe(0);
    },
    60_000,
  );

  // Tenancy: each key's row filter must select exactly PostgreSQL's `tenant_id = <claim>` rows, by
  // code point: 't1' never sees 'T1' or 't1 ' rows, 'ω' never sees 'Ω' (MariaDB's collation would).
  it.each(TENANT_VIEWS)(
    `%s: generated queries under a row filter, for tenants ${TENANTS.map((t) => JSON.stringify(t.claim)).join(', ')}`,
    async (view) => {
      const def = viewsFor('adversarial').find((v) => v.name === view)!;
      const ctx = await viewContext(env, def);
      const failures: string[] = [];
      for (const t of TENANTS) {
        const rng = new Rng(seedFor(SEED, 'tenancy', view, t.claim));
        const qs = Array.from({ length: N_TENANCY }, (_, i) => genQuery(rng, i, ctx.cols, def.key));
        failures.push(...(await mapPool(qs, 4, (q) => check(ctx, q, t.key, t.claim))).filter((f): f is string => !!f));
      }
      expect(failures.length, report(failures, N_TENANCY * TENANTS.length)).toBe(0);
    },
    60_000,
  );

  it('the lossless reader keeps 64-bit integers', () => {
    expect(
      toValueModel(
        parseLossless('{"a":9223372036854775807,"b":1.5,"c":"12.50","d":{"x":[1,2.5]}}') as Record<string, unknown>,
        new Map([
          ['a', 'int'],
          ['b', 'float'],
          ['c', 'numeric'],
          ['d', 'jsonb'],
        ]),
      ),
    ).toEqual({
      a: 9223372036854775807n,
      b: 1.5,
      c: '12.50',
      d: { x: [1, 2.5] },
    });
  });
});
