// The fixed query set of the pushdown comparison (pushdown.test.ts) and what each plan pushes.
// Run as a script, it plans every case of both fixtures and prints the counts as the JSON of
// pushdown-baseline.json; it uses only what the engine had before Source.offer too (the oracle
// environment, the harness, EmbeddedEngine.plan and the Plan's units and scans), so it runs on
// that commit unchanged and names the cases the same way.
import { pathToFileURL } from 'node:url';
import type { EmbeddedEngine } from '../../src/engine/embedded/index.js';
import type { View } from '../../src/engine/view.js';
import { createOracleEnv } from './env.js';
import { fixture, FIXTURES, type FixtureName } from './fixtures.js';
import { directedFor } from './directed.js';
import { genQuery, Rng, seedFor, type GenQuery } from './generate.js';
import { canon, engineQuery, viewContext, type ViewCtx } from './harness.js';
import { viewsFor } from './views.js';

/** Generated queries per view, from a seed of their own (VG_ORACLE_SEED does not change the set). */
const GENERATED = 50;
const PUSHDOWN_SEED = 4_011_101;

interface Targeted {
  /** Output columns the case needs: it applies to the views that have all of them. */
  fields: string[];
  filter: string;
  /** The same condition as PostgreSQL over the view's columns ('' when there is no filter). */
  sql: string;
  order?: string;
}

// What the engine used to keep out of MongoDB scans: IS NULL (also on a field declared
// onTypeMismatch: null), LIKE on _id, and ORDER BY on text columns (strings beside ObjectIds).
// prettier-ignore
const TARGETED: Targeted[] = [
  { fields: ['event_type'], filter: 'event_type is null', sql: 'event_type IS NULL' },
  { fields: ['event_type'], filter: 'event_type is not null', sql: 'event_type IS NOT NULL', order: 'event_type' },
  { fields: ['sku', 'event_id'], filter: 'sku is null', sql: 'sku IS NULL', order: 'event_id' },
  { fields: ['qty', 'event_id'], filter: 'qty is null', sql: 'qty IS NULL', order: 'event_id desc' },
  { fields: ['qty'], filter: 'qty is not null', sql: 'qty IS NOT NULL', order: 'qty' },
  { fields: ['ts'], filter: 'ts is null', sql: 'ts IS NULL', order: 'ts' },
  { fields: ['user_id'], filter: 'user_id is null', sql: 'user_id IS NULL', order: 'user_id' },
  { fields: ['event_ts'], filter: 'event_ts is null', sql: 'event_ts IS NULL', order: 'event_ts desc' },
  { fields: ['event_id'], filter: "event_id like '65%'", sql: "starts_with(event_id, '65')", order: 'event_id' },
  { fields: ['event_id'], filter: "event_id like '%1'", sql: "right(event_id, 1) = '1'", order: 'event_id desc' },
  { fields: ['event_id'], filter: "event_id not like '65%'", sql: "NOT starts_with(event_id, '65')", order: 'event_id' },
  { fields: ['event_id'], filter: "event_id like 'custom%'", sql: "starts_with(event_id, 'custom')" },
  { fields: ['event_id'], filter: "event_id like '65a1b2c3d4e5f6a7b8c9000_'", sql: "length(event_id) = 24 AND starts_with(event_id, '65a1b2c3d4e5f6a7b8c9000')" },
  { fields: ['event_id'], filter: "event_id contains 'A'", sql: "strpos(event_id, 'A') > 0", order: 'event_id desc' },
  { fields: ['event_type'], filter: "event_type like 'v%'", sql: "starts_with(event_type, 'v')", order: 'event_type' },
  { fields: ['event_type'], filter: "event_type like '%e%'", sql: "strpos(event_type, 'e') > 0", order: 'event_type desc' },
  { fields: ['event_type'], filter: "event_type not like 'v%'", sql: "NOT starts_with(event_type, 'v')", order: 'event_type' },
  { fields: ['sku'], filter: "sku like 'SKU-%'", sql: "starts_with(sku, 'SKU-')", order: 'sku' },
  { fields: ['user_id'], filter: "user_id like '1%'", sql: "starts_with(user_id, '1')", order: 'user_id desc' },
  { fields: ['event_id'], filter: '', sql: '', order: 'event_id' },
  { fields: ['event_id'], filter: '', sql: '', order: 'event_id desc' },
  { fields: ['event_type'], filter: '', sql: '', order: 'event_type' },
  { fields: ['event_type', 'event_id'], filter: '', sql: '', order: 'event_type desc, event_id' },
  { fields: ['user_id'], filter: '', sql: '', order: 'user_id' },
  { fields: ['event_type'], filter: "event_type is null or event_type = 'view'", sql: "event_type IS NULL OR event_type = 'view'", order: 'event_type' },
  { fields: ['event_type', 'event_id'], filter: "not (event_type is null) and event_id like '65%'", sql: "event_type IS NOT NULL AND starts_with(event_id, '65')", order: 'event_id' },
  { fields: ['qty', 'event_type'], filter: "qty is null and event_type like 'v%'", sql: "qty IS NULL AND starts_with(event_type, 'v')", order: 'event_type desc' },
  { fields: ['event_type', 'event_id'], filter: "event_type in ('view', 'buy')", sql: "event_type IN ('view', 'buy')", order: 'event_id' },
  { fields: ['event_ts', 'event_type'], filter: 'event_ts is not null', sql: 'event_ts IS NOT NULL', order: 'event_type' },
];

export interface PushdownCase {
  /** `<fixture>/<view>/<g|d|t><query id>`: generated, directed (directed.ts) or targeted (above). */
  key: string;
  query: GenQuery;
}

/** What one plan sends to the stores. */
export interface PlanCounts {
  /** Predicates pushed into store scans (given and inferred). */
  pushed: number;
  /** Conjuncts evaluated in process right after a fetch. */
  local: number;
  orderBy: boolean;
  limit: boolean;
  /** The view reads a MongoDB collection. */
  mongodb: boolean;
}

/** The cases of one view: generated queries, the directed ones that apply, the targeted ones that apply. */
export function pushdownCases(ctx: ViewCtx): PushdownCase[] {
  const prefix = `${ctx.env.fixture.name}/${ctx.def.name}`;
  const columns = ctx.cols.map((c) => c.name);
  // The generator picks from the values in the order it gets them: sorted, so the set does not
  // depend on the order PostgreSQL happens to return the view's rows in.
  const cols = ctx.cols.map((c) => ({
    ...c,
    values: [...c.values].sort((a, b) => (canon(a) < canon(b) ? -1 : canon(a) > canon(b) ? 1 : 0)),
  }));
  const rng = new Rng(seedFor(PUSHDOWN_SEED, ctx.env.fixture.name, ctx.def.name));
  const generated = Array.from({ length: GENERATED }, (_, i) => genQuery(rng, i, cols, ctx.def.key));
  return [
    ...generated.map((query) => ({ key: `${prefix}/g${query.id}`, query })),
    ...directedFor(ctx.def, columns).map((query) => ({ key: `${prefix}/d${query.id}`, query })),
    ...targetedFor(ctx.def.key, columns).map((query) => ({ key: `${prefix}/t${query.id}`, query })),
  ];
}

/** As directedFor: each case unpaged with a count (even id) and as a small page (odd id), the view key appended to the order. */
function targetedFor(key: string[], columns: string[]): GenQuery[] {
  const out: GenQuery[] = [];
  TARGETED.forEach((t, i) => {
    if (!t.fields.every((f) => columns.includes(f))) return;
    const order = (t.order ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const [column, dir] = s.split(/\s+/);
        return { column: column!, desc: dir === 'desc' };
      });
    for (const k of key) if (!order.some((o) => o.column === k)) order.push({ column: k, desc: false });
    const base = { columns, order, ...(t.filter ? { filterText: t.filter, sql: t.sql } : {}) };
    out.push({ id: 20_000 + i * 2, ...base, limit: 1000, offset: 0, count: true });
    out.push({ id: 20_001 + i * 2, ...base, limit: 2, offset: 1, count: false });
  });
  return out;
}

export function planCounts(view: View, q: GenQuery): PlanCounts {
  const plan = (view.engine as EmbeddedEngine).plan(engineQuery(view, q));
  const scans = plan.units.flatMap((u) => u.scans);
  return {
    pushed: scans.reduce((n, s) => n + s.pushed.length, 0),
    local: scans.reduce((n, s) => n + s.local.length, 0),
    orderBy: plan.units.some((u) => u.orderBy !== undefined),
    limit: plan.units.some((u) => u.limit !== undefined),
    mongodb: plan.view.relations.some((r) => r.sourceKind === 'mongodb'),
  };
}

/** The counts of every case of a fixture. */
async function countFixture(name: FixtureName): Promise<[string, PlanCounts][]> {
  const env = await createOracleEnv(fixture(name), viewsFor(name));
  try {
    const out: [string, PlanCounts][] = [];
    for (const def of env.views) {
      const ctx = await viewContext(env, def);
      for (const c of pushdownCases(ctx)) out.push([c.key, planCounts(ctx.view, c.query)]);
    }
    return out;
  } finally {
    await env.close();
  }
}

/** pushdown-baseline.json's layout: one case a line. */
function baselineJson(commit: string, counts: [string, PlanCounts][]): string {
  const fields = (c: PlanCounts): string =>
    Object.entries(c)
      .map(([k, v]) => `${JSON.stringify(k)}: ${String(v)}`)
      .join(', ');
  const lines = counts.map(([key, c]) => `    ${JSON.stringify(key)}: { ${fields(c)} }`);
  return `{\n  "commit": ${JSON.stringify(commit)},\n  "cases": {\n${lines.join(',\n')}\n  }\n}\n`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.env.TZ = 'Europe/Berlin';
  const { execFileSync } = await import('node:child_process');
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  const counts: [string, PlanCounts][] = [];
  for (const name of FIXTURES) counts.push(...(await countFixture(name)));
  process.stdout.write(baselineJson(commit, counts));
}
