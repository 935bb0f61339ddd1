// The engine step of aggregate and count_only queries (docs/query.md, "Aggregates"): groups of the
// governed rows, minGroupSize applied server-side (its counts are never returned), count_only as
// one number.
import { governedScan, runAggregate } from '../engine/aggregate/run.js';
import type { AggregateQuery } from '../engine/aggregate/types.js';
import type { EngineQuery, ExplainResult, View } from '../engine/view.js';
import { ApiError } from '../errors.js';
import type { ViewAccess } from '../policy/access.js';
import type { GovernedQuery } from '../policy/govern.js';
import type { QueryResult } from './results.js';
import type { Cancel } from '../cancellation.js';

type Groups = Pick<QueryResult, 'rows' | 'fields' | 'count' | 'next' | 'suppressedGroups' | 'countOnly'>;

const COUNT_ROWS: AggregateQuery = { group: [], metrics: [{ name: 'count', fn: 'count' }], orderBy: [], limit: 1, offset: 0, count: false };

export async function runGroups(view: View, governed: GovernedQuery, access: ViewAccess, signal?: Cancel): Promise<Groups> {
  const agg = governed.aggregate;
  if (!agg) {
    const count = access.minGroupSize
      ? await countAtLeastK(view, governed.engine, access, 'count_only', signal)
      : await countRows(view, governed.engine, signal);
    return { rows: [], fields: [], count, countOnly: true };
  }
  const result = await runAggregate(view, governed.engine, agg, access.rowBudget, { signal });
  return {
    rows: result.rows,
    fields: governed.fields,
    ...(result.count !== undefined ? { count: result.count } : {}),
    ...(result.hasMore ? { next: agg.offset + agg.limit } : {}),
    ...(agg.minGroup ? { suppressedGroups: result.suppressed } : {}),
  };
}

async function countRows(view: View, q: EngineQuery, signal?: Cancel): Promise<number> {
  const column = view.key[0] ?? view.columns[0]!.name;
  const result = await view.engine.execute({ ...q, columns: [column], orderBy: [], limit: 1, offset: 0, count: true }, { signal });
  return result.count!;
}

/**
 * The number of rows matching `q`, when they come from at least minGroupSize.k entities; a 403
 * otherwise, never a number below k (SPEC: count_only and include_count under minGroupSize).
 */
export async function countAtLeastK(view: View, q: EngineQuery, access: ViewAccess, param: string, signal?: Cancel): Promise<number> {
  const min = access.minGroupSize!;
  const result = await runAggregate(view, q, { ...COUNT_ROWS, minGroup: { ...min } }, access.rowBudget, { signal });
  if (result.suppressed > 0) {
    throw new ApiError(
      'forbidden',
      `${param} is refused: the matching rows come from fewer than ${min.k} distinct ${min.distinctOn ?? 'rows'}, the least your grant on "${view.id}" may count (minGroupSize)`,
      { view: view.id, param },
    );
  }
  return Number(result.rows[0]!.count as bigint);
}

/** explain=true for an aggregate or count_only query: the governed scan, and where the aggregates run. */
export async function explainGroups(view: View, governed: GovernedQuery, rowBudget: number, signal?: Cancel): Promise<ExplainResult> {
  const agg = governed.aggregate ?? COUNT_ROWS;
  const pushed = view.engine.explainAggregate ? await view.engine.explainAggregate(governed.engine, agg, { signal }) : undefined;
  const where = (ranIn: string) => ({ aggregates: Object.fromEntries(agg.metrics.map((m) => [m.name, ranIn])) });
  if (pushed) return { plan: { ...(pushed.plan as object), ...where('store') }, queries: pushed.queries };
  const scan = await view.engine.explain(governedScan(view, governed.engine, agg, rowBudget), { signal });
  return { plan: { ...(scan.plan as object), ...where('process') }, queries: scan.queries };
}
