// What the PostgreSQL and MySQL sources share: predicate, ORDER BY and LIMIT compilation over a
// small dialect interface, and the checks that every identifier is a known column.
// Values are only ever bound as parameters; identifiers come from introspection and are quoted.
import { StoreError } from '../errors.js';
import type { CompareOp, Predicate, Pushdown } from '../query/predicate.js';
import { isComparableType, type Value } from '../values.js';
import type { ColumnInfo, NativeQuery, TableInfo } from './source.js';

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

/** Collects bound parameters in text order and hands out placeholders. */
export class Params {
  readonly values: unknown[] = [];
  constructor(private readonly style: 'dollar' | 'question') {}

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

export function buildSelect(table: SqlTable, pd: Pushdown, d: SqlDialect, style: 'dollar' | 'question', source: string): NativeQuery {
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

export function buildCount(table: SqlTable, where: Predicate | undefined, d: SqlDialect, style: 'dollar' | 'question', source: string): NativeQuery {
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
