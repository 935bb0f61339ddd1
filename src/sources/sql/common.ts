// What the PostgreSQL and MySQL sources share: predicate, ORDER BY and LIMIT compilation over a
// small dialect interface, and the checks that every identifier is a known column.
// Values are only ever bound as parameters; identifiers come from introspection and are quoted.
import { StoreError } from '../../errors.js';
import type { MetricFn } from '../../query/aggregate-query.js';
import type { CompareOp, Predicate, Pushdown } from '../../query/predicate.js';
import { isComparableType, type Value } from '../../values.js';
import type { ColumnInfo, JoinPushdown, NativeQuery, TableInfo } from '../source.js';

export type Scalar = Exclude<Value, null>;

export interface SqlColumn extends ColumnInfo {
  /** Lower-case base type name in the store (domains resolved), e.g. int4, varchar, tinyint. */
  base: string;
}

export interface SqlTable {
  info: TableInfo;
  /** The quoted, qualified table name. */
  sql: string;
  columns: Map<string, SqlColumn>;
}

/** `$1, $2, ...` (PostgreSQL) or `?` (MySQL). */
export type PlaceholderStyle = 'dollar' | 'question';

/** Collects bound parameters in text order and hands out placeholders. */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly style: PlaceholderStyle) {}

  add(v: unknown): string {
    this.values.push(v);
    return this.style === 'dollar' ? `$${this.values.length}` : '?';
  }
}

/** The parts of SQL that differ between PostgreSQL and MySQL/MariaDB. */
export interface SqlDialect {
  quoteIdent(name: string): string;
  compare(col: SqlColumn, op: CompareOp, value: Scalar, params: Params): string;
  /** `values` is never empty. */
  inList(col: SqlColumn, values: Scalar[], params: Params): string;
  like(col: SqlColumn, pattern: string, params: Params): string;
  constant(v: boolean | null): string;
  /** One ORDER BY term with PostgreSQL's NULL placement (ascending NULLS LAST, descending NULLS FIRST). */
  order(col: SqlColumn, desc: boolean): string;
  limit(limit: number | undefined, offset: number | undefined, params: Params): string;
  /** A join condition `parent = child` with PostgreSQL's equality (text: exact, by bytes). */
  joinEquals(parent: SqlColumn, child: SqlColumn): string;
  /** Optional: GROUP BY in the store (src/sources/sql/aggregate.ts); absent: aggregates run in process. */
  aggregate?: AggregateDialect;
}

/** How a store says a group key and an aggregate exactly as PostgreSQL computes them. */
export interface AggregateDialect {
  /** The group key, or undefined when the store's equality differs from the value model's. */
  groupKey(col: SqlColumn): string | undefined;
  /** The aggregate, or undefined when the store would not compute it exactly. */
  metric(fn: MetricFn, col: SqlColumn | undefined): string | undefined;
  /** The column the result decodes as (PostgreSQL's result type of fn over col). */
  resultColumn(fn: MetricFn, col: SqlColumn | undefined): SqlColumn;
}

export function column(table: SqlTable, name: string, source: string): SqlColumn {
  const col = table.columns.get(name);
  if (!col) throw new StoreError(source, 'failed', `table "${table.info.name}" has no column "${name}"`);
  return col;
}

function comparable(table: SqlTable, name: string, source: string): SqlColumn {
  const col = column(table, name, source);
  if (!isComparableType(col.type)) {
    throw new StoreError(source, 'failed', `column "${name}" of type ${col.type} cannot be compared or sorted`);
  }
  return col;
}

export function compileWhere(p: Predicate, table: SqlTable, d: SqlDialect, params: Params, source: string): string {
  const rec = (q: Predicate): string => compileWhere(q, table, d, params, source);
  switch (p.op) {
    case 'and':
      return p.args.length === 0 ? d.constant(true) : `(${p.args.map(rec).join(' AND ')})`;
    case 'or':
      return p.args.length === 0 ? d.constant(false) : `(${p.args.map(rec).join(' OR ')})`;
    case 'not':
      return `(NOT ${rec(p.arg)})`;
    case 'const':
      return d.constant(p.value);
    case 'isnull':
      return `(${d.quoteIdent(column(table, p.column, source).name)} IS NULL)`;
    case 'cmp':
      return d.compare(comparable(table, p.column, source), p.cmp, p.value, params);
    case 'in':
      // An empty list is FALSE even for NULL (as PostgreSQL's `= ANY('{}')`).
      return p.values.length === 0 ? d.constant(false) : d.inList(comparable(table, p.column, source), p.values, params);
    case 'like': {
      const col = comparable(table, p.column, source);
      if (col.type !== 'text') throw new StoreError(source, 'failed', `like needs a text column; "${col.name}" is ${col.type}`);
      return d.like(col, p.pattern, params);
    }
  }
}

function checkCount(n: number | undefined, what: string, source: string): void {
  if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) {
    throw new StoreError(source, 'failed', `${what} must be a non-negative integer, got ${n}`);
  }
}

export function buildSelect(table: SqlTable, pd: Pushdown, d: SqlDialect, style: PlaceholderStyle, source: string): NativeQuery {
  checkCount(pd.limit, 'limit', source);
  checkCount(pd.offset, 'offset', source);
  const params = new Params(style);
  const cols = pd.columns.map((c) => d.quoteIdent(column(table, c, source).name));
  let text = `SELECT ${cols.length > 0 ? cols.join(', ') : '1'} FROM ${table.sql}`;
  if (pd.where) text += ` WHERE ${compileWhere(pd.where, table, d, params, source)}`;
  if (pd.orderBy && pd.orderBy.length > 0) {
    text += ` ORDER BY ${pd.orderBy.map((o) => d.order(comparable(table, o.column, source), o.desc)).join(', ')}`;
  }
  const lim = d.limit(pd.limit, pd.offset, params);
  if (lim) text += ` ${lim}`;
  return { source, text, params: params.values };
}

export function buildCount(
  table: SqlTable,
  where: Predicate | undefined,
  d: SqlDialect,
  style: PlaceholderStyle,
  source: string,
): NativeQuery {
  const params = new Params(style);
  let text = `SELECT count(*) FROM ${table.sql}`;
  if (where) text += ` WHERE ${compileWhere(where, table, d, params, source)}`;
  return { source, text, params: params.values };
}

/** Splits `schema.table` (the schema part optional). */
export function splitTableName(name: string): { schema?: string; table: string } {
  const i = name.indexOf('.');
  return i < 0 ? { table: name } : { schema: name.slice(0, i), table: name.slice(i + 1) };
}

/** Introspection results per table, cached once successful (failures are retried). */
export class TableCache<T> {
  private readonly entries = new Map<string, Promise<T>>();

  get(name: string, load: () => Promise<T>): Promise<T> {
    let p = this.entries.get(name);
    if (!p) {
      p = load();
      this.entries.set(name, p);
      p.catch(() => this.entries.delete(name));
    }
    return p;
  }

  clear(): void {
    this.entries.clear();
  }
}

/**
 * A join of several tables of this source as one SELECT. Each table is a derived table with its
 * own WHERE (for a LEFT-joined table that is exactly a condition in ON) whose columns are renamed
 * `alias.column`, so every name in the outer query is unique and the dialect's column SQL works
 * unqualified. Rows come back in `columns` order.
 */
export function buildJoinSelect(
  pd: JoinPushdown,
  tables: SqlTable[],
  d: SqlDialect,
  style: PlaceholderStyle,
  source: string,
): { native: NativeQuery; columns: { key: string; column: SqlColumn }[] } {
  checkCount(pd.limit, 'limit', source);
  checkCount(pd.offset, 'offset', source);
  const params = new Params(style);
  const byAlias = new Map(pd.tables.map((t, i) => [t.alias, { spec: t, table: tables[i]! }]));
  const inner = new Map(pd.tables.map((t) => [t.alias, new Set(t.columns)]));
  for (const j of pd.joins) {
    for (const c of j.on) {
      inner.get(j.parentAlias)!.add(c.parentColumn);
      inner.get(j.alias)!.add(c.column);
    }
  }
  for (const o of pd.orderBy ?? []) inner.get(o.alias)!.add(o.column);
  const renamed = (alias: string, name: string): SqlColumn => {
    const t = byAlias.get(alias);
    if (!t) throw new StoreError(source, 'failed', `join has no table "${alias}"`);
    return { ...column(t.table, name, source), name: `${alias}.${name}`, nullable: true };
  };
  const derived = (alias: string): string => {
    const { spec, table } = byAlias.get(alias)!;
    const cols = [...inner.get(alias)!].map((c) => `${d.quoteIdent(column(table, c, source).name)} AS ${d.quoteIdent(`${alias}.${c}`)}`);
    let sql = `(SELECT ${cols.length > 0 ? cols.join(', ') : `1 AS ${d.quoteIdent(`${alias}.`)}`} FROM ${table.sql}`;
    if (spec.where) sql += ` WHERE ${compileWhere(spec.where, table, d, params, source)}`;
    return `${sql}) AS ${d.quoteIdent(alias)}`;
  };
  const out = pd.tables.flatMap((t) =>
    t.columns.map((c) => ({ key: `${t.alias}.${c}`, column: column(byAlias.get(t.alias)!.table, c, source) })),
  );
  let text = `SELECT ${out.length > 0 ? out.map((o) => d.quoteIdent(o.key)).join(', ') : '1'} FROM ${derived(pd.tables[0]!.alias)}`;
  for (const j of pd.joins) {
    const on = j.on.map((c) => d.joinEquals(renamed(j.parentAlias, c.parentColumn), renamed(j.alias, c.column)));
    text += ` ${j.kind === 'left' ? 'LEFT JOIN' : 'JOIN'} ${derived(j.alias)} ON ${on.join(' AND ')}`;
  }
  if (pd.orderBy && pd.orderBy.length > 0) {
    text += ` ORDER BY ${pd.orderBy
      .map((o) => {
        const col = renamed(o.alias, o.column);
        if (!isComparableType(col.type))
          throw new StoreError(source, 'failed', `column "${o.column}" of type ${col.type} cannot be sorted`);
        return d.order(col, o.desc);
      })
      .join(', ')}`;
  }
  const lim = d.limit(pd.limit, pd.offset, params);
  if (lim) text += ` ${lim}`;
  return { native: { source, text, params: params.values }, columns: out };
}
