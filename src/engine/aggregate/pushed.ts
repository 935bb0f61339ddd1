// Aggregation a table's store computes (Source.aggregate, GROUP BY): the groups come back in
// PostgreSQL's result types with each group's entity count for minGroup; minGroup, having, order
// and the page are applied here, exactly as in process.
import { ApiError } from '../../errors.js';
import type { AggregatePushdown, NativeQuery, Source, TableInfo } from '../../sources/source.js';
import type { Row } from '../../values.js';
import type { EngineQuery, ExecuteOptions, ViewColumn } from '../view.js';
import { finishGroups, outputTypes } from './in-process.js';
import { intWidthOf, type AggregateQuery, type AggregateResult } from './types.js';

function pushdownOf(q: EngineQuery, agg: AggregateQuery, rowBudget: number): AggregatePushdown {
  const size = agg.minGroup
    ? [
        agg.minGroup.distinctOn !== undefined
          ? { fn: 'count_distinct' as const, column: agg.minGroup.distinctOn }
          : { fn: 'count' as const },
      ]
    : [];
  return {
    ...(q.where ? { where: q.where } : {}),
    group: agg.group,
    metrics: [...agg.metrics.map((m) => ({ fn: m.fn, ...(m.column !== undefined ? { column: m.column } : {}) })), ...size],
    // One group past the budget tells that it would be exceeded.
    limit: rowBudget + 1,
  };
}

/** The groups from the store, or undefined when it cannot compute them exactly. */
export async function aggregateInStore(
  source: Source,
  table: TableInfo,
  rowBudget: number,
  q: EngineQuery,
  agg: AggregateQuery,
  options: ExecuteOptions,
): Promise<AggregateResult | undefined> {
  if (!source.aggregate) return undefined;
  const result = await source.aggregate(table.name, pushdownOf(q, agg, rowBudget), options);
  if (!result) return undefined;
  if (result.rows.length > rowBudget) {
    throw new ApiError(
      'row_budget_exceeded',
      `more than ${rowBudget} groups of table "${table.name}" match (the row budget). Narrow the query with a filter, or group by fewer columns.`,
      { rowBudget },
    );
  }
  let suppressed = 0;
  const kept: Row[] = [];
  for (const g of result.rows) {
    const size = g[`a${agg.metrics.length}`];
    if (agg.minGroup && (size as bigint) < BigInt(agg.minGroup.k)) {
      suppressed++;
      continue;
    }
    const out: Row = {};
    agg.group.forEach((name, i) => (out[name] = g[`g${i}`] ?? null));
    agg.metrics.forEach((m, i) => (out[m.name] = g[`a${i}`] ?? null));
    kept.push(out);
  }
  const groups = finishGroups(kept, suppressed, outputTypes(viewColumns(table), agg), agg);
  return { ...groups, ranIn: 'store', queries: [result.native] };
}

export async function explainInStore(
  source: Source,
  table: TableInfo,
  rowBudget: number,
  q: EngineQuery,
  agg: AggregateQuery,
): Promise<NativeQuery | undefined> {
  return source.explainAggregate?.(table.name, pushdownOf(q, agg, rowBudget));
}

function viewColumns(table: TableInfo): Map<string, ViewColumn> {
  return new Map(
    table.columns.map((c) => {
      const intWidth = intWidthOf(c);
      return [c.name, { name: c.name, type: c.type, nullable: c.nullable, ...(intWidth ? { intWidth } : {}) }];
    }),
  );
}
