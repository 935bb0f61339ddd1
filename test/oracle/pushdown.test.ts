// Pushdown since each source answers Source.offer: the same fixed cases (pushdown-cases.ts: generated
// queries, the directed ones, and IS NULL, LIKE on _id and text, ORDER BY on text aimed at MongoDB)
// planned before, when the engine kept IS NULL and LIKE on _id out of MongoDB scans, re-evaluated
// what it pushed on MongoDB rows, and never pushed ORDER BY on MongoDB text columns, and planned now.
// No case pushes less than before or loses its ORDER BY/LIMIT, the MongoDB views push more in
// total, and every case still returns PostgreSQL's rows. Views added to the corpus since (those
// over the SQLite store, which did not exist then) have no plans before; their cases are checked
// against PostgreSQL only.
//
// pushdown-baseline.json holds the plans of commit f3647f8 (before Source.offer), made with:
//   git worktree add /tmp/wt-baseline f3647f8 && cp -al node_modules /tmp/wt-baseline/node_modules
//   cp test/oracle/pushdown-cases.ts /tmp/wt-baseline/test/oracle/
//   (cd /tmp/wt-baseline && JITI_FS_CACHE=false node node_modules/.bin/jiti test/oracle/pushdown-cases.ts) > test/oracle/pushdown-baseline.json
//   git worktree remove --force /tmp/wt-baseline
// The same command in this tree prints the plans of now.
process.env.TZ = 'Europe/Berlin'; // DST-observing process zone: no value may depend on it

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { useOracleEnv, type OracleEnv } from './env.js';
import { FIXTURES } from './fixtures.js';
import { checkQuery, CONCURRENCY, mapPool, report, viewContext } from './harness.js';
import { planCounts, pushdownCases, type PlanCounts } from './pushdown-cases.js';
import { viewsFor } from './views.js';

const BASELINE = JSON.parse(readFileSync(new URL('./pushdown-baseline.json', import.meta.url), 'utf8')) as {
  commit: string;
  cases: Record<string, PlanCounts>;
};

interface Totals {
  cases: number;
  pushed: number;
  local: number;
  orderBy: number;
  limit: number;
}

const totalsOf = (counts: PlanCounts[]): Totals => ({
  cases: counts.length,
  pushed: counts.reduce((n, c) => n + c.pushed, 0),
  local: counts.reduce((n, c) => n + c.local, 0),
  orderBy: counts.filter((c) => c.orderBy).length,
  limit: counts.filter((c) => c.limit).length,
});

const showTotals = (t: Totals): string => `${t.pushed} pushed, ${t.local} local, ORDER BY in ${t.orderBy}, LIMIT in ${t.limit}`;

describe.each(FIXTURES)('pushdown since Source.offer, fixture %s', (name) => {
  let env: OracleEnv;
  useOracleEnv(name, (e) => (env = e));

  const views = viewsFor(name).map((v) => [v.name, v] as const);
  const hasBaseline = (view: string): boolean => Object.keys(BASELINE.cases).some((k) => k.startsWith(`${name}/${view}/`));
  const baselineViews = views.filter(([n]) => hasBaseline(n));

  it.each(baselineViews)('%s: no case pushes less than before or loses its ORDER BY/LIMIT', async (_n, def) => {
    const ctx = await viewContext(env, def);
    const cases = pushdownCases(ctx);
    const prefix = `${name}/${def.name}/`;
    // The case set is the baseline's: a changed generator or corpus means writing the baseline again.
    expect(cases.map((c) => c.key).sort()).toEqual(
      Object.keys(BASELINE.cases)
        .filter((k) => k.startsWith(prefix))
        .sort(),
    );
    const problems: string[] = [];
    for (const c of cases) {
      const before = BASELINE.cases[c.key]!;
      const now = planCounts(ctx.view, c.query);
      const lost = [
        now.pushed < before.pushed ? `pushed ${now.pushed} < ${before.pushed}` : '',
        now.local > before.local ? `local ${now.local} > ${before.local}` : '',
        before.orderBy && !now.orderBy ? 'ORDER BY no longer pushed' : '',
        before.limit && !now.limit ? 'LIMIT no longer pushed' : '',
      ].filter(Boolean);
      if (lost.length > 0) problems.push(`${c.key} (filter ${c.query.filterText ?? '(none)'}): ${lost.join(', ')}`);
    }
    expect(problems, problems.join('\n')).toEqual([]);
  });

  it.each(views)(
    '%s: every case returns what PostgreSQL returns',
    async (_n, def) => {
      const ctx = await viewContext(env, def);
      const cases = pushdownCases(ctx);
      const outcomes = await mapPool(cases, CONCURRENCY, async (c) => {
        const o = await checkQuery(ctx, c.query);
        return o.failure ? { ...o, failure: `[case ${c.key}] ${o.failure}` } : o;
      });
      const failures = outcomes.flatMap((o) => (o.failure ? [o.failure] : []));
      expect(failures.length, report(failures, cases.length)).toBe(0);
    },
    120_000,
  );

  it('the views over MongoDB push more in total than before', async () => {
    const before: Record<'mongodb' | 'other', PlanCounts[]> = { mongodb: [], other: [] };
    const now: Record<'mongodb' | 'other', PlanCounts[]> = { mongodb: [], other: [] };
    for (const [, def] of baselineViews) {
      const ctx = await viewContext(env, def);
      for (const c of pushdownCases(ctx)) {
        const counts = planCounts(ctx.view, c.query);
        const group = counts.mongodb ? 'mongodb' : 'other';
        before[group].push(BASELINE.cases[c.key]!);
        now[group].push(counts);
      }
    }
    for (const group of ['mongodb', 'other'] as const) {
      const b = totalsOf(before[group]);
      const n = totalsOf(now[group]);
      console.log(
        `pushdown ${name}, ${n.cases} cases on ${group} views: before (${BASELINE.commit}) ${showTotals(b)}; now ${showTotals(n)}`,
      );
    }
    const b = totalsOf(before.mongodb);
    const n = totalsOf(now.mongodb);
    expect(n.pushed).toBeGreaterThan(b.pushed);
    expect(n.orderBy).toBeGreaterThan(b.orderBy);
    expect(n.local).toBeLessThan(b.local);
  });
});
