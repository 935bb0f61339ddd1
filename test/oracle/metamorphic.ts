// Metamorphic relations that need no oracle: the engine against itself.
//  - pushdown off gives the same rows (same order, hasMore, count) as pushdown on;
//  - for a filter p, the rows where p is TRUE, FALSE and UNKNOWN partition the view's rows
//    (three two-valued filters built from p in the grammar: generate.ts truthOf/unknownOf), and
//    `p` selects exactly the TRUE part, `not (p)` exactly the FALSE part;
//  - pages (limit/offset) concatenated equal the unpaged result, the last page says hasMore false.
import type { EngineResult, View } from '../../src/engine/view.js';
import { printFilter, Rng, truthOf, unknownOf, type GFilter, type GenQuery } from './generate.js';
import { compareRows, describeQuery, engineQuery, type ViewCtx } from './harness.js';

const ALL = 1_000_000;

async function run(view: View, q: GenQuery): Promise<EngineResult> {
  return view.engine.execute(engineQuery(view, q));
}

function withFilter(q: GenQuery, f: GFilter | undefined, id: number): GenQuery {
  const { filter: _f, filterText: _t, ...rest } = q;
  return f ? { ...rest, filter: f, filterText: printFilter(f, new Rng(id)) } : rest;
}

async function guarded(ctx: ViewCtx, q: GenQuery, what: string, fn: () => Promise<string[]>): Promise<string | undefined> {
  try {
    const problems = await fn();
    return problems.length === 0 ? undefined : `${describeQuery(ctx, q, ` [${what}]`)}\n  ${problems.join('\n  ')}`;
  } catch (err) {
    return `${describeQuery(ctx, q, ` [${what}]`)}\n  the engine threw: ${(err as Error).message}`;
  }
}

export function checkPushdownOff(ctx: ViewCtx, off: View, q: GenQuery): Promise<string | undefined> {
  return guarded(ctx, q, 'pushdown off', async () => {
    const [a, b] = await Promise.all([run(ctx.view, q), run(off, q)]);
    const problems: string[] = [];
    const d = compareRows(a.rows, b.rows, q.columns, true);
    if (d) problems.push(`pushdown on vs off: ${d.replace(/engine/g, 'pushdown-on').replace(/PostgreSQL|oracle/g, 'pushdown-off')}`);
    if (a.hasMore !== b.hasMore) problems.push(`hasMore: pushdown on ${a.hasMore}, off ${b.hasMore}`);
    if (q.count && a.count !== b.count) problems.push(`count: pushdown on ${a.count}, off ${b.count}`);
    return problems;
  });
}

export function checkPartition(ctx: ViewCtx, q: GenQuery, view: View = ctx.view): Promise<string | undefined> {
  return guarded(ctx, q, 'three-valued partition', async () => {
    if (!q.filter) return [];
    const cols = view.columns.map((c) => c.name);
    const base: GenQuery = { ...q, columns: cols, limit: ALL, offset: 0, count: false };
    const p = q.filter;
    const [all, pos, neg, t, f, u] = await Promise.all([
      run(view, withFilter(base, undefined, 0)),
      run(view, withFilter(base, p, 1)),
      run(view, withFilter(base, { k: 'not', arg: p }, 2)),
      run(view, withFilter(base, truthOf(p, true), 3)),
      run(view, withFilter(base, truthOf(p, false), 4)),
      run(view, withFilter(base, unknownOf(p), 5)),
    ]);
    const problems: string[] = [];
    const union = [...t.rows, ...f.rows, ...u.rows];
    const d = compareRows(union, all.rows, cols, false);
    if (d) {
      problems.push(
        `TRUE (${t.rows.length}) + FALSE (${f.rows.length}) + UNKNOWN (${u.rows.length}) rows are not the view's ${all.rows.length} rows: ` +
          d.replace(/the engine/g, 'the three parts').replace(/PostgreSQL/g, 'the unfiltered view'),
      );
    }
    const dp = compareRows(pos.rows, t.rows, cols, true);
    if (dp) problems.push(`'p' and 'p is TRUE' (${printFilter(truthOf(p, true), new Rng(3))}) differ: ${dp}`);
    const dn = compareRows(neg.rows, f.rows, cols, true);
    if (dn) problems.push(`'not (p)' and 'p is FALSE' (${printFilter(truthOf(p, false), new Rng(4))}) differ: ${dn}`);
    return problems;
  });
}

export function checkPages(ctx: ViewCtx, q: GenQuery, view: View = ctx.view): Promise<string | undefined> {
  return guarded(ctx, q, 'pages', async () => {
    const full = await run(view, { ...q, limit: ALL, offset: 0, count: true });
    const problems: string[] = [];
    if (full.count !== full.rows.length) problems.push(`unpaged: count ${full.count} but ${full.rows.length} rows`);
    if (full.hasMore) problems.push('unpaged: hasMore is true');
    const size = Math.max(1 + (q.id % 4), Math.ceil(full.rows.length / 8));
    const pages: Record<string, unknown>[] = [];
    for (let offset = 0, n = 0; n <= full.rows.length + 1; offset += size, n++) {
      const r = await run(view, { ...q, limit: size, offset, count: true });
      pages.push(...r.rows);
      if (r.count !== full.rows.length) problems.push(`page at offset ${offset}: count ${r.count}, unpaged ${full.rows.length}`);
      const more = full.rows.length > offset + size;
      if (r.hasMore !== more) problems.push(`page at offset ${offset} (size ${size}): hasMore ${r.hasMore}, expected ${more}`);
      if (!r.hasMore || r.rows.length === 0) break;
    }
    const d = compareRows(pages, full.rows, q.columns, true);
    if (d) {
      problems.push(
        `pages of ${size} concatenated differ from the unpaged result: ${d.replace(/the engine/g, 'the pages').replace(/PostgreSQL/g, 'the unpaged query')}`,
      );
    }
    return problems;
  });
}
