// Aggregation a table's store computes (Source.aggregate, GROUP BY): the groups come back in
// PostgreSQL's result types with each group's entity count for minGroup; minGroup, having, order
// and the page are applied here, exactly as in process. avg is asked of the store as sum and count
// and divided here, as PostgreSQL's avg does (stores differ in avg's scale; numeric division is exact).
// The same layout serves partial aggregation below a federated join (src/engine/partial-aggregate.ts).
import { ApiError } from '../../errors.js';
import type { AggregatePushdown, NativeQuery, Source, TableInfo } from '../../sources/source.js';
import type { ColumnTypes } from '../../query/predicate.js';
import type { Row } from '../../values.js';
import type { EngineQuery, ExecuteOptions, ViewColumn } from '../view.js';
import { divDec, formatDec, fromBigInt, parseDec } from '../embedded/numeric.js';
import { finishGroups, outputTypes, type Groups } from './in-process.js';
import { intWidthOf, type AggregateQuery, type AggregateResult } from './types.js';

type PushedMetric = AggregatePushdown['metrics'][number];

/** The store's metrics for one requested metric: avg becomes sum and count of the same column. */
function storeMetrics(m: AggregateQuery['metrics'][number]): PushedMetric[] {
  const col = m.column !== undefined ? { column: m.column } : {};
  return m.fn === 'avg'
    ? [
        { fn: 'sum', ...col },
        { fn: 'count', ...col },
      ]
    : [{ fn: m.fn, ...col }];
}

/** avg from the store's sum (int or numeric) and count: numeric division, as PostgreSQL's avg. */
function average(sum: unknown, count: unknown): string | null {
  if (sum === null || sum === undefined || count === 0n) return null;
  const s = typeof sum === 'bigint' ? fromBigInt(sum) : parseDec(sum as string);
  return formatDec(divDec(s, fromBigInt(count as bigint)));
}

/**
 * What the store is asked per group, in the order of its result slots a0, a1, ...: each metric's
 * (avg as sum and count), then the group's size for minGroup.
 */
export function storeLayout(agg: AggregateQuery): PushedMetric[] {
  const size = agg.minGroup
    ? [
        agg.minGroup.distinctOn !== undefined
          ? { fn: 'count_distinct' as const, column: agg.minGroup.distinctOn }
          : { fn: 'count' as const },
      ]
    : [];
  return [...agg.metrics.flatMap(storeMetrics), ...size];
}

function pushdownOf(q: EngineQuery, agg: AggregateQuery, rowBudget: number): AggregatePushdown {
  return {
    ...(q.where ? { where: q.where } : {}),
    group: agg.group,
    metrics: storeLayout(agg),
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
  const groups = groupsOfStoreRows(result.rows, agg, outputTypes(viewColumns(table), agg));
  return { ...groups, ranIn: 'store', queries: [result.native] };
}

/**
 * Groups in the store's layout (group values g0, g1, ..., then storeLayout's slots a0, a1, ...) ->
 * the answer: groups below minGroup left out and counted, avg as sum / count, then having, order
 * and the page (finishGroups, as in process).
 */
export function groupsOfStoreRows(rows: Row[], agg: AggregateQuery, types: ColumnTypes): Groups {
  let suppressed = 0;
  const kept: Row[] = [];
  const slots = agg.metrics.map((m) => storeMetrics(m).length);
  const sizeSlot = slots.reduce((a, b) => a + b, 0);
  for (const g of rows) {
    const size = g[`a${sizeSlot}`];
    if (agg.minGroup && (size as bigint) < BigInt(agg.minGroup.k)) {
      suppressed++;
      continue;
    }
    const out: Row = {};
    agg.group.forEach((name, i) => (out[name] = g[`g${i}`] ?? null));
    let slot = 0;
    agg.metrics.forEach((m, i) => {
      out[m.name] = m.fn === 'avg' ? average(g[`a${slot}`], g[`a${slot + 1}`]) : (g[`a${slot}`] ?? null);
      slot += slots[i]!;
    });
    kept.push(out);
  }
  return finishGroups(kept, suppressed, types, agg);
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
