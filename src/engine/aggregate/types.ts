// What an aggregate query asks of a view, after policy (docs/query.md, "Aggregates"), and the
// PostgreSQL result type of each aggregate.
import type { MetricFn } from '../../query/aggregate-query.js';
import type { OrderTerm, Predicate } from '../../query/predicate.js';
import type { ColumnInfo, NativeQuery } from '../../sources/source.js';
import type { ColumnType, Row } from '../../values.js';
import { aggregateType } from '../embedded/aggregate-calls.js';
import { columnTypeOf, sqlTypeOfColumn, type SqlType } from '../embedded/sql-types.js';

export type IntWidth = 'int2' | 'int4' | 'int8';

/** What the result types need of a view column. */
interface TypedColumn {
  type: ColumnType;
  intWidth?: IntWidth;
}

export interface AggregateMetric {
  /** The output name. */
  name: string;
  fn: MetricFn;
  /** Absent only for count(*). */
  column?: string;
}

interface MinGroup {
  k: number;
  /** Distinct values of this column are counted; absent: rows. */
  distinctOn?: string;
}

/** Groups of the governed rows (EngineQuery.where), each one output row. */
export interface AggregateQuery {
  group: string[];
  metrics: AggregateMetric[];
  /** Groups built from fewer than k entities are left out and counted (never returned). */
  minGroup?: MinGroup;
  /** Over output names, after minGroup. */
  having?: Predicate;
  /** Over output names; the group columns follow, so the order is total. */
  orderBy: OrderTerm[];
  /** Over output names: a cursor's keyset, keeping the groups after its position (applied after having). */
  after?: Predicate;
  limit: number;
  offset: number;
  /** Also count the groups that pass (include_count). */
  count: boolean;
}

export interface AggregateResult {
  rows: Row[];
  /** Groups left out because they were built from fewer than minGroup.k entities. */
  suppressed: number;
  count?: number;
  hasMore: boolean;
  /** Where the aggregates ran: in the store (one GROUP BY) or here over the governed rows. */
  ranIn: 'store' | 'process';
  queries: NativeQuery[];
}

/** A source column's integer width, as its store names it. */
export function intWidthOf(col: ColumnInfo): IntWidth | undefined {
  if (col.type !== 'int') return undefined;
  return sqlTypeOfColumn(col) as IntWidth;
}

/** The view column as the aggregation types it: int of its width (unknown: int8). */
export function sqlTypeOf(col: TypedColumn): SqlType {
  if (col.type === 'int') return col.intWidth ?? 'int8';
  if (col.type === 'float') return 'float8';
  return col.type;
}

/** PostgreSQL's result type of fn over the column; undefined when the function does not take it. */
export function metricSqlType(fn: MetricFn, col: TypedColumn | undefined): SqlType | undefined {
  if (fn === 'count' || fn === 'count_distinct') return col && fn === 'count_distinct' && !distinctable(col.type) ? undefined : 'int8';
  return col ? aggregateType(fn, sqlTypeOf(col)) : undefined;
}

export function metricType(fn: MetricFn, col: TypedColumn | undefined): ColumnType | undefined {
  const t = metricSqlType(fn, col);
  return t === undefined ? undefined : columnTypeOf(t);
}

/** count(distinct) compares values: jsonb and bytea cannot be. */
function distinctable(t: ColumnType): boolean {
  return t !== 'jsonb' && t !== 'bytea';
}

/** The total order of groups: the requested terms, then every group column not among them. */
export function groupOrder(q: Pick<AggregateQuery, 'group' | 'orderBy'>): OrderTerm[] {
  const order = [...q.orderBy];
  for (const g of q.group) if (!order.some((o) => o.column === g)) order.push({ column: g, desc: false });
  return order;
}
