// GROUP BY in a SQL store (Source.aggregate): one statement, every value a bound parameter, or
// undefined when the dialect cannot say a group key or an aggregate exactly as PostgreSQL does.
import type { AggregatePushdown, NativeQuery } from '../source.js';
import { column, compileWhere, Params, type PlaceholderStyle, type SqlColumn, type SqlDialect, type SqlTable } from './common.js';

export interface AggregateSelect {
  native: NativeQuery;
  /** The output columns in select-list order, keyed g0.., a0.., with the column each decodes as. */
  columns: { key: string; column: SqlColumn }[];
}

export function buildAggregate(
  table: SqlTable,
  pd: AggregatePushdown,
  d: SqlDialect,
  style: PlaceholderStyle,
  source: string,
): AggregateSelect | undefined {
  const agg = d.aggregate;
  if (!agg) return undefined;
  const select: string[] = [];
  const columns: AggregateSelect['columns'] = [];
  for (const [i, name] of pd.group.entries()) {
    const col = column(table, name, source);
    const key = agg.groupKey(col);
    if (key === undefined) return undefined;
    select.push(key);
    columns.push({ key: `g${i}`, column: col });
  }
  for (const [i, m] of pd.metrics.entries()) {
    const col = m.column === undefined ? undefined : column(table, m.column, source);
    const sql = agg.metric(m.fn, col);
    if (sql === undefined) return undefined;
    select.push(sql);
    columns.push({ key: `a${i}`, column: agg.resultColumn(m.fn, col) });
  }
  const params = new Params(style);
  let text = `SELECT ${select.join(', ')} FROM ${table.sql}`;
  if (pd.where) text += ` WHERE ${compileWhere(pd.where, table, d, params, source)}`;
  if (pd.group.length > 0) text += ` GROUP BY ${pd.group.map((_, i) => String(i + 1)).join(', ')}`;
  text += ` ${d.limit(pd.limit, undefined, params)}`;
  return { native: { source, text, params: params.values }, columns };
}
