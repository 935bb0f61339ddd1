// Runs an aggregate query on a view: in the store when the view's engine can say it exactly there
// (ViewEngine.aggregate), otherwise here over the governed rows, fetched through the view's own
// scan within the row budget.
import { ApiError } from '../../errors.js';
import type { EngineQuery, ExecuteOptions, View } from '../view.js';
import { aggregateInProcess } from './in-process.js';
import type { AggregateQuery, AggregateResult } from './types.js';

/** The view columns an aggregation reads: group columns, metric columns, minGroup's distinctOn. */
export function aggregateColumns(q: AggregateQuery): string[] {
  const cols = new Set<string>(q.group);
  for (const m of q.metrics) if (m.column !== undefined) cols.add(m.column);
  if (q.minGroup?.distinctOn !== undefined) cols.add(q.minGroup.distinctOn);
  return [...cols];
}

/** The columns the aggregation reads; at least one, so every store can be asked for a row. */
function neededColumns(view: View, q: AggregateQuery): string[] {
  const cols = aggregateColumns(q);
  return cols.length > 0 ? cols : [view.key[0] ?? view.columns[0]!.name];
}

/** The governed scan the in-process aggregation reads: every matching row, one past the budget. */
export function governedScan(view: View, base: EngineQuery, q: AggregateQuery, rowBudget: number): EngineQuery {
  return { ...base, columns: neededColumns(view, q), orderBy: [], offset: 0, limit: rowBudget + 1, count: false };
}

export async function runAggregate(
  view: View,
  base: EngineQuery,
  q: AggregateQuery,
  rowBudget: number,
  options: ExecuteOptions = {},
): Promise<AggregateResult> {
  const pushed = await view.engine.aggregate?.(base, q, options);
  if (pushed) return pushed;
  const scan = await view.engine.execute(governedScan(view, base, q, rowBudget), options);
  if (scan.rows.length > rowBudget) {
    throw new ApiError(
      'row_budget_exceeded',
      `more than ${rowBudget} rows of "${view.id}" match, and these aggregates run over every matching row (the row budget). ` +
        'Narrow the query with a filter.',
      { view: view.id, rowBudget },
    );
  }
  const columns = new Map(view.columns.map((c) => [c.name, c]));
  return { ...aggregateInProcess(scan.rows, columns, q), ranIn: 'process', queries: scan.queries };
}
