// MySQL 8 / MariaDB 10.11+ source (mysql2). Server-side prepared statements only. Each new
// connection gets time_zone '+00:00' and the statement timeout in the server's own terms
// (MariaDB max_statement_time in seconds, MySQL MAX_EXECUTION_TIME in milliseconds). A statement
// whose reader went away is stopped with KILL QUERY from a connection of its own.
//
// Text semantics follow PostgreSQL "C": comparisons and sorting use the column's bytes
// (CAST(col AS BINARY), UTF-8 byte order is code-point order, trailing spaces count), never a
// _bin collation, which is PAD SPACE. LIKE is the exception: on bytes `_` would match one byte of
// a multi-byte character, so LIKE uses utf8mb4_bin, where LIKE matches per character, is
// case-sensitive and counts trailing spaces (LIKE ignores the PAD attribute).
import type { PoolConnection as CorePoolConnection, ExecuteValues } from 'mysql2';
import mysql from 'mysql2/promise';
import { requestCancelled } from '../../errors.js';
import type { CompareOp } from '../../query/predicate.js';
import { canonicalDate, canonicalTimestamp, type ColumnType, type Value } from '../../values.js';
import {
  splitTableName,
  type AggregateDialect,
  type Params,
  type Scalar,
  type SqlColumn,
  type SqlDialect,
  type SqlTable,
} from '../sql/common.js';
import { watchAbort } from '../abort-watch.js';
import { SqlSource } from '../sql/source.js';
import type { NativeQuery, PlanScans, StoreLimits } from '../source.js';
import { fullScanOf, tableRows, type TableFacts } from '../sql/full-scans.js';
import { wholeReads } from './full-scans.js';
import { mysqlDenied, mysqlReason } from './errors.js';
import { mysqlConnection } from './tls.js';
import type { Writer } from '../write.js';
import { groupKeys } from '../sql/write.js';
import { encodeMysql, MYSQL_UNIQUE_KEYS, mysqlConstraint, mysqlWriteConnection, STRICT_SQL_MODE } from './write.js';
import type { Cancel } from '../../cancellation.js';

const ident = (s: string): string => `\`${s.replace(/`/g, '``')}\``;
const bin = (sql: string): string => `CAST(${sql} AS BINARY)`;

/** Maps information_schema DATA_TYPE / COLUMN_TYPE to the value model. Unknown types are text. */
function mapType(dataType: string, columnType: string): ColumnType {
  switch (dataType) {
    case 'tinyint':
      return /^tinyint\(1\)/.test(columnType) ? 'bool' : 'int';
    case 'smallint':
    case 'mediumint':
    case 'int':
    case 'integer':
    case 'year':
      return 'int';
    case 'bigint':
      return columnType.includes('unsigned') ? 'numeric' : 'int';
    case 'decimal':
    case 'numeric':
      return 'numeric';
    case 'float':
    case 'double':
    case 'real':
      return 'float';
    case 'date':
      return 'date';
    case 'datetime':
    case 'timestamp':
      return 'timestamptz';
    case 'json':
      return 'jsonb';
    case 'binary':
    case 'varbinary':
    case 'tinyblob':
    case 'blob':
    case 'mediumblob':
    case 'longblob':
    case 'bit':
      return 'bytea';
    default:
      return 'text';
  }
}

/** DECIMAL(M,D) wide enough to hold `v` exactly (within MySQL's limits of 65 digits, 30 decimals). */
function decimalShape(v: string): string {
  const [intPart = '', frac = ''] = v.replace(/^[+-]/, '').split('.');
  const intDigits = Math.max(1, intPart.replace(/^0+/, '').length);
  const d = Math.min(30, frac.length, Math.max(0, 65 - intDigits));
  return `${Math.min(65, intDigits + d)},${d}`;
}

/** The pattern with `!` as the escape character instead of `\`, whose meaning depends on sql_mode. */
function bangEscape(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) out += '!' + pattern[++i];
    else if (ch === '!') out += '!!';
    else out += ch;
  }
  return out;
}

function param(col: SqlColumn, v: Scalar, params: Params): string {
  switch (col.type) {
    case 'int':
      return `CAST(${params.add(String(v))} AS SIGNED)`;
    case 'numeric':
      return `CAST(${params.add(String(v))} AS DECIMAL(${decimalShape(String(v))}))`;
    case 'float':
      return col.base === 'float' ? `CAST(${params.add(v)} AS FLOAT)` : params.add(v);
    case 'bool':
      return params.add(v ? 1 : 0);
    case 'date':
      return `CAST(${params.add(v)} AS DATE)`;
    case 'timestamptz': {
      const s = String(v); // canonical YYYY-MM-DDTHH:MM:SS.ffffffZ
      return `CAST(${params.add(`${s.slice(0, 10)} ${s.slice(11, 26)}`)} AS DATETIME(6))`;
    }
    default:
      return bin(params.add(v));
  }
}

// For text `=` / IN, the plain comparison first lets MySQL use an index on the column (its
// collation's equality is wider than byte equality), the byte comparison then decides.
const mysqlDialect: SqlDialect = {
  quoteIdent: ident,
  compare(col, op: CompareOp, value, params) {
    const c = ident(col.name);
    if (col.type !== 'text') return `(${c} ${op} ${param(col, value, params)})`;
    if (op === '=') return `(${c} = ${params.add(value)} AND ${bin(c)} = ${bin(params.add(value))})`;
    return `(${bin(c)} ${op} ${bin(params.add(value))})`;
  },
  inList(col, values, params) {
    const c = ident(col.name);
    if (col.type !== 'text') return `(${c} IN (${values.map((v) => param(col, v, params)).join(', ')}))`;
    const plain = values.map((v) => params.add(v)).join(', ');
    const bytes = values.map((v) => bin(params.add(v))).join(', ');
    return `(${c} IN (${plain}) AND ${bin(c)} IN (${bytes}))`;
  },
  like(col, pattern, params) {
    return `(CONVERT(${ident(col.name)} USING utf8mb4) COLLATE utf8mb4_bin LIKE ${params.add(bangEscape(pattern))} ESCAPE '!')`;
  },
  constant: (v) => (v === null ? 'NULL' : v ? 'TRUE' : 'FALSE'),
  // MySQL sorts NULLs first ascending; `col IS NULL` in front puts them where PostgreSQL does.
  order(col, desc) {
    const c = ident(col.name);
    const dir = desc ? ' DESC' : '';
    const key = `${col.type === 'text' ? bin(c) : c}${dir}`;
    return col.nullable ? `${c} IS NULL${dir}, ${key}` : key;
  },
  joinEquals(parent, child) {
    const p = ident(parent.name);
    const c = ident(child.name);
    return parent.type === 'text' || child.type === 'text' ? `(${p} = ${c} AND ${bin(p)} = ${bin(c)})` : `${p} = ${c}`;
  },
  limit(limit, offset, params) {
    if (limit === undefined && !offset) return '';
    // MySQL has no OFFSET without LIMIT; this is its documented "all rows".
    const l = limit === undefined ? '18446744073709551615' : params.add(String(limit));
    return offset ? `LIMIT ${l} OFFSET ${params.add(String(offset))}` : `LIMIT ${l}`;
  },
  aggregate: mysqlAggregate(),
};

/**
 * GROUP BY with PostgreSQL's results. Text groups, distinct counts and min/max go by the bytes
 * (the default collations merge `North` and `north`, and _bin collations ignore trailing blanks);
 * SUM of integers and decimals is an exact DECIMAL, decoded as PostgreSQL's sum type; avg is never
 * asked (the engine divides sum by count). Declined, so computed in process: float and double
 * (their sums depend on the order of addition), bool (tinyint(1) may hold 2), date and datetime
 * (a zero date reads as NULL but groups and counts as a value), json, binary and any type read
 * as text that is not a character string (time, set, ...).
 */
function mysqlAggregate(): AggregateDialect {
  const TEXT = new Set(['char', 'varchar', 'tinytext', 'text', 'mediumtext', 'longtext', 'enum']);
  const KEYED = new Set(['int', 'numeric']);
  const exact = (col: SqlColumn): boolean => (col.type === 'text' ? TEXT.has(col.base) : KEYED.has(col.type));
  const operand = (col: SqlColumn): string => (col.type === 'text' ? bin(ident(col.name)) : ident(col.name));
  const int8: SqlColumn = { name: '', type: 'int', nullable: true, nativeType: 'bigint', base: 'bigint' };
  const numeric: SqlColumn = { name: '', type: 'numeric', nullable: true, nativeType: 'decimal', base: 'decimal' };
  return {
    groupKey: (col) => (exact(col) ? operand(col) : undefined),
    metric(fn, col) {
      if (!col) return fn === 'count' ? 'COUNT(*)' : undefined;
      if (!exact(col)) return undefined;
      switch (fn) {
        case 'count':
          return `COUNT(${ident(col.name)})`;
        case 'count_distinct':
          return `COUNT(DISTINCT ${operand(col)})`;
        case 'sum':
          return col.type === 'int' || col.type === 'numeric' ? `SUM(${ident(col.name)})` : undefined;
        case 'avg':
          return undefined;
        case 'min':
        case 'max':
          return `${fn.toUpperCase()}(${operand(col)})`;
      }
    },
    resultColumn(fn, col) {
      if (fn === 'count' || fn === 'count_distinct') return int8;
      if (fn === 'min' || fn === 'max') return col!;
      // sum: PostgreSQL's int8 for the narrower integers (sqlTypeOfColumn), numeric otherwise.
      return col!.type === 'int' && !/^bigint|unsigned/.test(col!.nativeType) ? int8 : numeric;
    },
  };
}

/** The shortest decimal that reads back as the same single-precision float (as MySQL prints FLOAT). */
function float32(x: number): number {
  for (let p = 1; p <= 9; p++) {
    const y = Number(x.toPrecision(p));
    if (Math.fround(y) === x) return y;
  }
  return x;
}

function textOf(raw: unknown): string {
  return typeof raw === 'string' ? raw : Buffer.isBuffer(raw) ? raw.toString('utf8') : String(raw);
}

function decode(col: SqlColumn, raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  switch (col.type) {
    case 'bool':
      return typeof raw === 'boolean' ? raw : Number(raw) !== 0;
    case 'int':
      return BigInt(textOf(raw));
    case 'numeric':
      return textOf(raw);
    case 'float':
      return col.base === 'float' && typeof raw === 'number' ? float32(raw) : Number(raw);
    case 'timestamptz':
      return canonicalTimestamp(textOf(raw)); // dateStrings: "YYYY-MM-DD HH:MM:SS[.ffffff]" in UTC; zero dates become NULL
    case 'date':
      return canonicalDate(textOf(raw));
    case 'jsonb':
      return JSON.parse(textOf(raw)) as Value;
    case 'bytea':
      return (Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw))).toString('base64');
    default:
      return textOf(raw);
  }
}

type Flavor = 'mariadb' | 'mysql';

/** A text key is bound twice (see the dialect), and a prepared statement takes at most 65,535 placeholders. */
const MYSQL_LIMITS: StoreLimits = { maxKeysPerStatement: 30_000 };

export class MysqlSource extends SqlSource<mysql.Pool> {
  readonly kind = 'mysql';
  readonly limits = MYSQL_LIMITS;
  protected readonly dialect = mysqlDialect;
  protected readonly placeholders = 'question';
  protected readonly decode = decode;
  protected readonly classify = mysqlReason;
  protected override readonly denied = mysqlDenied;
  private flavor?: Flavor;
  /** Physical connections that already have the session settings. */
  private readonly ready = new WeakSet<object>();
  /** Physical connections that already run with a strict sql_mode (writes). */
  private readonly strict = new WeakSet<object>();
  /** The first column of each unique index, by table and index name (a duplicate entry names the index). */
  private readonly indexColumns = new Map<string, Map<string, string>>();
  private writeSide?: Writer;

  /** Writes in one transaction per unit of work, in a strict sql_mode (docs/writes.md). */
  get writer(): Writer {
    return (this.writeSide ??= this.sqlWriter({
      connect: async () => {
        const conn = await this.sessionConnection();
        try {
          if (!this.strict.has(conn)) {
            await conn.promise().query(STRICT_SQL_MODE);
            this.strict.add(conn);
          }
        } catch (err) {
          conn.release();
          throw err;
        }
        return mysqlWriteConnection(conn);
      },
      begin: 'START TRANSACTION',
      returning: false,
      encode: encodeMysql,
      constraint: (err, table) => mysqlConstraint(this.name, err, table, this.indexColumns.get(table.sql) ?? new Map()),
      failure: (err) => this.storeError(err),
      uniqueKeys: async (table) => {
        const { schema, table: name } = splitTableName(table.info.name);
        const rows = await this.run(MYSQL_UNIQUE_KEYS, [schema ?? null, name]);
        const keys = groupKeys(rows);
        const names = [...new Set(rows.map((r) => String(r[0])))];
        this.indexColumns.set(table.sql, new Map(names.map((n, i) => [n, keys[i]![0]!])));
        return keys;
      },
    }));
  }

  /** A pooled connection with the session settings. */
  private async sessionConnection(): Promise<CorePoolConnection> {
    const conn = await new Promise<CorePoolConnection>((resolve, reject) => {
      this.getPool().pool.getConnection((err, c) => (err ? reject(err) : resolve(c)));
    });
    try {
      if (!this.ready.has(conn)) {
        await this.initSession(conn.promise());
        this.ready.add(conn);
      }
    } catch (err) {
      conn.release();
      throw err;
    }
    return conn;
  }

  protected createPool(): mysql.Pool {
    return mysql.createPool({
      ...mysqlConnection(this.url, this.tls),
      connectionLimit: this.poolSize,
      connectTimeout: this.connectTimeoutMs,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
      decimalNumbers: false,
      jsonStrings: true,
      // Every statement here reads rows as arrays. Set once for the pool, so a statement is sent as
      // execute(sql, values, cb): the options-object form costs mysql2 about 9 us more per call
      // (it copies and extends the object, and the copy's shape is never the same twice).
      rowsAsArray: true,
      // Each cached statement holds a server-side handle; the server's total is limited.
      maxPreparedStatements: 64,
    });
  }

  /**
   * Server-side prepared statements, on a connection that has the session settings. The hot path
   * uses mysql2's callback API (its promise wrapper captures a stack trace for every call), with
   * one promise for the whole statement: the pool slot, the session settings and the execution.
   */
  protected execute(_pool: mysql.Pool, sql: string, params: unknown[], signal?: Cancel): Promise<unknown[][]> {
    return new Promise<unknown[][]>((resolve, reject) => {
      this.getPool().pool.getConnection((err, conn) => {
        if (err) return reject(err);
        if (this.ready.has(conn)) return this.executeOn(conn, sql, params, signal, resolve, reject);
        this.initSession(conn.promise()).then(
          () => {
            this.ready.add(conn);
            this.executeOn(conn, sql, params, signal, resolve, reject);
          },
          (e: unknown) => {
            conn.release();
            reject(e);
          },
        );
      });
    });
  }

  /** Runs the statement on a pooled connection that has the session settings, and gives it back. */
  private executeOn(
    conn: CorePoolConnection,
    sql: string,
    params: unknown[],
    signal: Cancel | undefined,
    resolve: (rows: unknown[][]) => void,
    reject: (err: unknown) => void,
  ): void {
    // Waiting for a pool slot (or the session settings) may have outlasted the reader.
    if (signal?.aborted) {
      conn.release();
      return reject(requestCancelled());
    }
    let killed = false;
    const unwatch = watchAbort(signal, () => {
      killed = true;
      void this.killQuery(conn.threadId);
    });
    const done = (err: unknown, rows?: unknown): void => {
      unwatch();
      // The KILL may arrive after the statement ended and stop the connection's next one: not reused.
      if (killed) conn.destroy();
      else conn.release();
      if (err) reject(err);
      else resolve(rows as unknown[][]);
    };
    try {
      conn.execute(sql, params as ExecuteValues[], done);
    } catch (err) {
      done(err);
    }
  }

  /**
   * Stops the statement running on connection `threadId`, from a new connection (the pool's may all
   * be busy). Best effort: if it fails, the statement timeout still ends the statement.
   */
  private async killQuery(threadId: number): Promise<void> {
    let conn: mysql.Connection | undefined;
    try {
      conn = await mysql.createConnection({ ...mysqlConnection(this.url, this.tls), connectTimeout: this.connectTimeoutMs });
      await conn.query(`KILL QUERY ${Number(threadId)}`);
    } catch {
      // Nothing more to do here: the statement runs on until it ends or times out.
    } finally {
      await conn?.end().catch(() => {});
    }
  }

  private async initSession(conn: mysql.PoolConnection): Promise<void> {
    if (!this.flavor) {
      const [rows] = await conn.query({ sql: 'SELECT VERSION()', rowsAsArray: true });
      this.flavor = /mariadb/i.test(String((rows as unknown as unknown[][])[0]![0])) ? 'mariadb' : 'mysql';
    }
    const t = Math.max(0, this.timeoutMs);
    const timeout = this.flavor === 'mariadb' ? `max_statement_time = ${t / 1000}` : `max_execution_time = ${Math.round(t)}`;
    await conn.query(`SET SESSION time_zone = '+00:00', ${timeout}`);
  }

  protected async fullScans(native: NativeQuery): Promise<PlanScans> {
    const explained = await this.run(`EXPLAIN FORMAT=JSON ${native.text}`, native.params);
    const reads = wholeReads(JSON.parse(String(explained[0]![0])));
    return { fullScans: await Promise.all(reads.map(async (r) => fullScanOf(r.table, await this.tableFacts(r.table), r.condition))) };
  }

  private async tableFacts(table: string): Promise<TableFacts> {
    const where = 'TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?';
    const [stat, columns, indexed] = await Promise.all([
      this.run(`SELECT TABLE_ROWS FROM information_schema.TABLES WHERE ${where}`, [table]),
      this.run(`SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE ${where} ORDER BY ORDINAL_POSITION`, [table]),
      this.run(`SELECT DISTINCT COLUMN_NAME FROM information_schema.STATISTICS WHERE ${where} AND SEQ_IN_INDEX = 1`, [table]),
    ]);
    const count = async (): Promise<number> =>
      Number((await this.run(`SELECT count(*) FROM ${this.dialect.quoteIdent(table)}`, []))[0]![0]);
    const statistic = stat[0]?.[0];
    return {
      rows: await tableRows(statistic === null || statistic === undefined ? undefined : Number(statistic), count),
      columns: columns.map((r) => String(r[0])),
      indexed: indexed.map((r) => String(r[0])),
    };
  }

  protected async loadTable(name: string): Promise<SqlTable> {
    const { schema, table } = splitTableName(name);
    const found = await this.run(
      `SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, COLUMN_COMMENT
         FROM information_schema.COLUMNS
        WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?
        ORDER BY ORDINAL_POSITION`,
      [schema ?? null, table],
    );
    // information_schema matches names case-insensitively; prefer the exact spelling.
    const exact = found.filter((r) => r[1] === table);
    const rows = (exact.length > 0 ? exact : found) as string[][];
    if (rows.length === 0) throw this.noSuchTable(name);
    const [db, tbl] = [rows[0]![0]!, rows[0]![1]!];
    const pk = await this.run(
      `SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE
        WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'
        ORDER BY ORDINAL_POSITION`,
      [db, tbl],
    );
    // A view's TABLE_COMMENT is the word VIEW, not a comment.
    const tableComment = await this.run(
      `SELECT TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE <> 'VIEW'`,
      [db, tbl],
    );
    const json = this.flavor === 'mariadb' ? await this.mariadbJsonColumns(db, tbl) : new Set<string>();
    const columns: SqlColumn[] = rows.map(([, , colName, dataType, columnType, nullable, comment]) => {
      const isJson = json.has(colName!);
      return {
        name: colName!,
        type: isJson ? 'jsonb' : mapType(dataType!.toLowerCase(), columnType!.toLowerCase()),
        nullable: nullable === 'YES',
        nativeType: isJson ? 'json' : columnType!,
        base: dataType!.toLowerCase(),
        ...this.comment(comment),
      };
    });
    return this.sqlTable(
      name,
      db,
      tbl,
      columns,
      pk.map((r) => String(r[0])),
      this.comment(tableComment[0]?.[0]).description,
    );
  }

  /** MariaDB's JSON is LONGTEXT with a json_valid(`col`) check constraint. */
  private async mariadbJsonColumns(db: string, table: string): Promise<Set<string>> {
    const rows = await this.run(
      `SELECT CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ?`,
      [db, table],
    );
    const out = new Set<string>();
    for (const [clause] of rows) {
      const m = /^json_valid\(`((?:[^`]|``)+)`\)$/i.exec(String(clause).trim());
      if (m) out.add(m[1]!.replace(/``/g, '`'));
    }
    return out;
  }
}
