// Metamorphic checks (issue 3 item 6): the engine against itself, on every view of both fixtures.
// Pushdown switched off gives the same answers; p / not p / p unknown partition the rows; pages
// concatenated equal the unpaged result. VG_ORACLE_SEED reproduces, VG_ORACLE_METAMORPHIC sets
// the number of queries per view and relation.
process.env.TZ = 'Europe/Berlin';

import { describe, expect, it } from 'vitest';
import { bindFilter } from '../../src/query/bind.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import { useOracleEnv, type OracleEnv } from './env.js';
import { FIXTURES } from './fixtures.js';
import { genQuery, Rng, seedFor } from './generate.js';
import { columnTypes, mapPool, report, SEED, viewContext } from './harness.js';
import { checkPages, checkPartition, checkPushdownOff } from './metamorphic.js';
import { viewsFor } from './views.js';

const N = Number(process.env.VG_ORACLE_METAMORPHIC ?? 15);

describe.each(FIXTURES)('metamorphic, fixture %s', (name) => {
  let env: OracleEnv;
  useOracleEnv(name, (e) => (env = e));

  const views = viewsFor(name).map((v) => [v.name, v] as const);

  it('pushdown: false really fetches whole tables', async () => {
    const off = await env.view('activity', { pushdown: false });
    const on = await env.view('activity');
    const q = {
      columns: ['customer_id', 'order_id'],
      where: bindFilter(parseFilter('customer_id = 1'), { columnType: (f) => columnTypes(on).get(f)! }),
      orderBy: on.key.map((k) => ({ column: k, desc: false })),
      limit: 100,
      offset: 0,
      count: false,
    };
    const a = await on.engine.execute(q);
    const b = await off.engine.execute(q);
    const customers = Number((await env.oracle('SELECT count(*) AS n FROM crm.customers')).rows[0]!.n);
    expect(b.fetched.crm).toBe(customers);
    expect(a.fetched.crm).toBeLessThan(customers);
  });

  it.each(views)(
    `%s: pushdown off gives the same answers (${N} queries)`,
    async (_n, def) => {
      const ctx = await viewContext(env, def);
      const off = await env.view(def.name, { pushdown: false });
      const rng = new Rng(seedFor(SEED, 'pushdown', name, def.name));
      const qs = Array.from({ length: N }, (_, i) => genQuery(rng, i, ctx.cols, def.key));
      const failures = (await mapPool(qs, 4, (q) => checkPushdownOff(ctx, off, q))).filter((f): f is string => !!f);
      expect(failures.length, report(failures, qs.length)).toBe(0);
    },
    60_000,
  );

  it.each(views)(
    `%s: p, not p and p-unknown partition the rows (${N} filters)`,
    async (_n, def) => {
      const ctx = await viewContext(env, def);
      const rng = new Rng(seedFor(SEED, 'partition', name, def.name));
      const qs = Array.from({ length: N }, (_, i) => genQuery(rng, i, ctx.cols, def.key, { filter: true }));
      const failures = (await mapPool(qs, 2, (q) => checkPartition(ctx, q))).filter((f): f is string => !!f);
      expect(failures.length, report(failures, qs.length)).toBe(0);
    },
    60_000,
  );

  it.each(views)(
    `%s: pages concatenated equal the unpaged result (${N} queries)`,
    async (_n, def) => {
      const ctx = await viewContext(env, def);
      const rng = new Rng(seedFor(SEED, 'pages', name, def.name));
      const qs = Array.from({ length: N }, (_, i) => genQuery(rng, i, ctx.cols, def.key));
      const failures = (await mapPool(qs, 4, (q) => checkPages(ctx, q))).filter((f): f is string => !!f);
      expect(failures.length, report(failures, qs.length)).toBe(0);
    },
    60_000,
  );
});
