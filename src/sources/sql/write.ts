// Writes on the SQL stores (docs/writes.md): INSERT, UPDATE and DELETE of one table inside one
// transaction, over the read path's dialect (identifiers from introspection, quoted; predicates
// compiled by compileWhere; every value a bound parameter). What differs per store sits behind
// SqlWriteStore: the connection and its transaction, how a value is bound, whether the store says
// RETURNING, and which of its errors are broken table rules.
import { and, type Predicate } from '../../query/predicate.js';
import type { Row, Value } from '../../values.js';
import type { ConstraintViolation, WriteOptions, Writer, WriteTx } from '../write.js';
import { column, compileWhere, Params, type PlaceholderStyle, type SqlColumn, type SqlDialect, type SqlTable } from './common.js';

/** One connection taken from the pool for a unit of work. */
export interface SqlWriteConnection {
  /** Runs one statement; rows as arrays in select-list order, and the generated key of an INSERT where the store reports one. */
  query(text: string, params: unknown[]): Promise<{ rows: unknown[][]; insertId?: unknown }>;
  /** Back to the pool; `broken`: the connection is closed instead. */
  release(broken: boolean): void;
}

/** What one SQL store adds to the shared write path. */
export interface SqlWriteStore {
  /** A connection with the store's session settings for writes (MySQL: a strict sql_mode). */
  connect(): Promise<SqlWriteConnection>;
  /** The statement that opens a transaction. */
  begin: string;
  /** INSERT/UPDATE/DELETE ... RETURNING (PostgreSQL, MariaDB 10.5+ for INSERT and DELETE only, so not used there). */
  returning: boolean;
  /** A value of the value model as the store binds it for this column. */
  encode(col: SqlColumn, v: Value): unknown;
  /** The broken table rule a driver error reports, if it is one. */
  constraint(err: unknown, table: SqlTable): ConstraintViolation | undefined;
  /** Any other driver error as the source reports it (a StoreError naming the source). */
  failure(err: unknown): Error;
  /** The table's unique keys from the catalog, the primary key first. */
  uniqueKeys(table: SqlTable): Promise<string[][]>;
}

interface SqlWriterParts {
  source: string;
  dialect: SqlDialect;
  placeholders: PlaceholderStyle;
  table(name: string): Promise<SqlTable>;
  decode(col: SqlColumn, raw: unknown): Value;
  store: SqlWriteStore;
}

export class SqlWriter implements Writer {
  readonly transactions = true;
  private readonly keys = new Map<string, Promise<string[][]>>();

  constructor(private readonly parts: SqlWriterParts) {}

  async uniqueKeys(name: string): Promise<string[][]> {
    let p = this.keys.get(name);
    if (!p) {
      p = this.parts.table(name).then((t) => this.parts.store.uniqueKeys(t));
      this.keys.set(name, p);
      p.catch(() => this.keys.delete(name));
    }
    return p;
  }

  async run<T>(work: (tx: WriteTx) => Promise<T>, _options: WriteOptions): Promise<T> {
    const { store } = this.parts;
    let conn: SqlWriteConnection;
    try {
      conn = await store.connect();
    } catch (err) {
      throw store.failure(err);
    }
    let broken = false;
    try {
      await this.exec(conn, store.begin, []);
      const result = await work(new SqlWriteTx(this, conn));
      await this.exec(conn, 'COMMIT', []);
      return result;
    } catch (err) {
      try {
        await conn.query('ROLLBACK', []);
      } catch {
        broken = true;
      }
      throw err;
    } finally {
      conn.release(broken);
    }
  }

  /** One statement; a broken table rule becomes a ConstraintViolation, anything else the source's error. */
  async exec(
    conn: SqlWriteConnection,
    text: string,
    params: unknown[],
    table?: SqlTable,
  ): Promise<{ rows: unknown[][]; insertId?: unknown }> {
    try {
      return await conn.query(text, params);
    } catch (err) {
      const violation = table ? this.parts.store.constraint(err, table) : undefined;
      throw violation ?? this.parts.store.failure(err);
    }
  }

  table(name: string): Promise<SqlTable> {
    return this.parts.table(name);
  }

  get dialect(): SqlDialect {
    return this.parts.dialect;
  }

  params(): Params {
    return new Params(this.parts.placeholders);
  }

  col(t: SqlTable, name: string): SqlColumn {
    return column(t, name, this.parts.source);
  }

  where(p: Predicate, t: SqlTable, params: Params): string {
    return compileWhere(p, t, this.parts.dialect, params, this.parts.source);
  }

  encode(col: SqlColumn, v: Value): unknown {
    return v === null ? null : this.parts.store.encode(col, v);
  }

  decodeRows(t: SqlTable, columns: readonly string[], rows: unknown[][]): Row[] {
    const cols = columns.map((c) => this.col(t, c));
    return rows.map((r) => Object.fromEntries(cols.map((c, i) => [c.name, this.parts.decode(c, r[i])])));
  }

  get returning(): boolean {
    return this.parts.store.returning;
  }
}

/** The statements of one transaction on one connection. */
class SqlWriteTx implements WriteTx {
  constructor(
    private readonly w: SqlWriter,
    private readonly conn: SqlWriteConnection,
  ) {}

  private list(t: SqlTable, columns: readonly string[]): string {
    return columns.length > 0 ? columns.map((c) => this.w.dialect.quoteIdent(this.w.col(t, c).name)).join(', ') : '1';
  }

  async insert(table: string, values: Row, returning: readonly string[]): Promise<Row> {
    const t = await this.w.table(table);
    const params = this.w.params();
    const names = Object.keys(values);
    const cols = names.map((n) => this.w.col(t, n));
    const q = (s: string) => this.w.dialect.quoteIdent(s);
    const body =
      names.length > 0
        ? `(${cols.map((c) => q(c.name)).join(', ')}) VALUES (${cols.map((c) => params.add(this.w.encode(c, values[c.name]!))).join(', ')})`
        : this.w.returning
          ? 'DEFAULT VALUES'
          : '() VALUES ()';
    let text = `INSERT INTO ${t.sql} ${body}`;
    if (this.w.returning) {
      text += ` RETURNING ${this.list(t, returning)}`;
      const { rows } = await this.w.exec(this.conn, text, params.values, t);
      return this.w.decodeRows(t, returning, rows)[0]!;
    }
    const { insertId } = await this.w.exec(this.conn, text, params.values, t);
    // Found again by its primary key: as given, or the one the store generated.
    const pk = t.info.primaryKey;
    const missing = pk.filter((k) => !(k in values));
    const key: Row = Object.fromEntries(pk.filter((k) => k in values).map((k) => [k, values[k]!]));
    if (missing.length === 1 && insertId !== undefined && insertId !== null && Number(insertId) > 0)
      key[missing[0]!] = BigInt(String(insertId));
    else if (missing.length > 0 || pk.length === 0)
      throw new Error(`cannot find the inserted row of "${table}" again: its primary key is not known`);
    const found = await this.select(table, returning, keyPredicate(key));
    return found[0]!;
  }

  async update(table: string, values: Row, where: Predicate, returning: readonly string[]): Promise<Row[]> {
    const t = await this.w.table(table);
    const params = this.w.params();
    const set = Object.entries(values).map(([n, v]) => {
      const c = this.w.col(t, n);
      return `${this.w.dialect.quoteIdent(c.name)} = ${params.add(this.w.encode(c, v))}`;
    });
    if (this.w.returning) {
      const text = `UPDATE ${t.sql} SET ${set.join(', ')} WHERE ${this.w.where(where, t, params)} RETURNING ${this.list(t, returning)}`;
      const { rows } = await this.w.exec(this.conn, text, params.values, t);
      return this.w.decodeRows(t, returning, rows);
    }
    // The rows are locked first, so the UPDATE changes exactly them; they are read back by primary key.
    const pk = t.info.primaryKey;
    const before = await this.select(table, pk, where);
    if (before.length === 0) return [];
    if (set.length > 0)
      await this.w.exec(this.conn, `UPDATE ${t.sql} SET ${set.join(', ')} WHERE ${this.w.where(where, t, params)}`, params.values, t);
    return this.select(table, returning, anyOf(t, before));
  }

  async delete(table: string, where: Predicate, returning: readonly string[]): Promise<Row[]> {
    const t = await this.w.table(table);
    const params = this.w.params();
    if (this.w.returning) {
      const text = `DELETE FROM ${t.sql} WHERE ${this.w.where(where, t, params)} RETURNING ${this.list(t, returning)}`;
      const { rows } = await this.w.exec(this.conn, text, params.values, t);
      return this.w.decodeRows(t, returning, rows);
    }
    const rows = await this.select(table, returning, where);
    if (rows.length === 0) return rows;
    await this.w.exec(this.conn, `DELETE FROM ${t.sql} WHERE ${this.w.where(where, t, params)}`, params.values, t);
    return rows;
  }

  async select(table: string, columns: readonly string[], where: Predicate, limit?: number): Promise<Row[]> {
    const t = await this.w.table(table);
    const params = this.w.params();
    let text = `SELECT ${this.list(t, columns)} FROM ${t.sql} WHERE ${this.w.where(where, t, params)}`;
    if (limit !== undefined) text += ` ${this.w.dialect.limit(limit, undefined, params)}`;
    text += ' FOR UPDATE';
    const { rows } = await this.w.exec(this.conn, text, params.values, t);
    return this.w.decodeRows(t, columns, rows);
  }
}

/** The row whose key columns hold these values. */
function keyPredicate(key: Row): Predicate {
  return and(
    ...Object.entries(key).map(([c, v]): Predicate =>
      v === null ? { op: 'isnull', column: c } : { op: 'cmp', column: c, cmp: '=', value: v },
    ),
  )!;
}

/** Any of these rows, by the table's primary key. */
function anyOf(t: SqlTable, rows: Row[]): Predicate {
  const pk = t.info.primaryKey;
  if (pk.length === 1) return { op: 'in', column: pk[0]!, values: rows.map((r) => r[pk[0]!]!).filter((v) => v !== null) };
  return { op: 'or', args: rows.map((r) => keyPredicate(Object.fromEntries(pk.map((k) => [k, r[k] ?? null])))) };
}

/** Rows of (index, column) grouped into keys, in order. */
export function groupKeys(rows: unknown[][]): string[][] {
  const keys = new Map<string, string[]>();
  for (const [index, col] of rows) {
    const k = String(index);
    if (!keys.has(k)) keys.set(k, []);
    keys.get(k)!.push(String(col));
  }
  return [...keys.values()];
}
