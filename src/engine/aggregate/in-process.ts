// Aggregation over the governed rows, here: the embedded engine's accumulators (PostgreSQL's
// result types, exact numeric scale, NULL semantics), then minGroup, having, order and the page.
import { evaluate } from '../../query/evaluate.js';
import type { ColumnTypes } from '../../query/predicate.js';
import { compareForSort, type ColumnType, type Row } from '../../values.js';
import { aggregate } from '../embedded/aggregate.js';
import type { AggregateSpec, Expr } from '../embedded/ast.js';
import type { ViewColumn } from '../view.js';
import { groupOrder, metricSqlType, metricType, sqlTypeOf, type AggregateQuery } from './types.js';

/** The slot that counts a group's entities for minGroup; never an output. */
const SIZE = '\u0000size';

export interface Groups {
  rows: Row[];
  suppressed: number;
  count?: number;
  hasMore: boolean;
}

/** Output names and their types: group columns, then metrics. */
export function outputTypes(columns: ReadonlyMap<string, ViewColumn>, q: AggregateQuery): Map<string, ColumnType> {
  const out = new Map<string, ColumnType>();
  for (const g of q.group) out.set(g, columns.get(g)!.type);
  for (const m of q.metrics) out.set(m.name, metricType(m.fn, m.column === undefined ? undefined : columns.get(m.column))!);
  return out;
}

export function aggregateInProcess(rows: Row[], columns: ReadonlyMap<string, ViewColumn>, q: AggregateQuery): Groups {
  const ref = (name: string): Expr => ({ kind: 'slot', slot: name, type: sqlTypeOf(columns.get(name)!) });
  const specs: AggregateSpec[] = q.metrics.map((m, i) => ({
    slot: `a${i}`,
    fn: m.fn === 'count_distinct' ? 'count' : m.fn,
    ...(m.column !== undefined ? { arg: ref(m.column) } : {}),
    distinct: m.fn === 'count_distinct',
    type: metricSqlType(m.fn, m.column === undefined ? undefined : columns.get(m.column))!,
  }));
  if (q.minGroup) {
    const on = q.minGroup.distinctOn;
    specs.push({ slot: SIZE, fn: 'count', ...(on !== undefined ? { arg: ref(on) } : {}), distinct: on !== undefined, type: 'int8' });
  }
  const grouped = aggregate(rows, q.group.map(ref), specs);
  let suppressed = 0;
  const kept: Row[] = [];
  for (const g of grouped) {
    if (q.minGroup && (g[SIZE] as bigint) < BigInt(q.minGroup.k)) {
      suppressed++;
      continue;
    }
    const out: Row = {};
    q.group.forEach((name, i) => (out[name] = g[`g${i}`] ?? null));
    q.metrics.forEach((m, i) => (out[m.name] = g[`a${i}`] ?? null));
    kept.push(out);
  }
  return finishGroups(kept, suppressed, outputTypes(columns, q), q);
}

/** having, order (group columns appended), offset and limit over output rows; shared with store-side aggregation. */
export function finishGroups(rows: Row[], suppressed: number, types: ColumnTypes, q: AggregateQuery): Groups {
  const having = q.having ? rows.filter((r) => evaluate(q.having!, r, types) === true) : rows;
  const passing = q.after ? having.filter((r) => evaluate(q.after!, r, types) === true) : having;
  const order = groupOrder(q);
  passing.sort((x, y) => {
    for (const o of order) {
      const c = compareForSort(types.get(o.column)!, x[o.column] ?? null, y[o.column] ?? null, o.desc);
      if (c !== 0) return c;
    }
    return 0;
  });
  const page = passing.slice(q.offset, q.offset + q.limit);
  return {
    rows: page,
    suppressed,
    hasMore: passing.length > q.offset + q.limit,
    ...(q.count ? { count: passing.length } : {}),
  };
}
