// SQLite source (better-sqlite3): one read-only connection to one database file, opened on first
// use with query_only on and 64-bit integers as BigInt. Tables and views are read from the file's
// catalog (pragma_table_list, pragma_table_xinfo); declared types map as in types.ts.
//
// better-sqlite3 is synchronous: a query runs on the event loop and blocks it until it is done
// (reference data is small). SQLite cannot interrupt a running statement here, so the source's
// `timeout` is the busy timeout: how long a query waits for a writer's lock on the file before it
// fails with a timeout. For the same reason a read whose client went away is not stopped mid-statement;
// it only starts no further statement (SqlSource.run).
import { createRequire } from 'node:module';
import type Database from 'better-sqlite3';
import type { SqlTable, SqlColumn } from '../sql/common.js';
import { SqlSource } from '../sql/source.js';
import type { NativeQuery, PlanScans, ScanAcceptance, ScanOffer, StoreLimits, TableInfo } from '../source.js';
import { fullScanOf } from '../sql/full-scans.js';
import { sqliteDialect, sqliteOffer } from './dialect.js';
import { sqliteReason } from './errors.js';
import { decodeValue, mapDeclaredType, misfit, renderedText, timestampValue } from './types.js';

/** Bind-join keys are one `?` each; SQLITE_MAX_VARIABLE_NUMBER is 32766, the rest is left for other values. */
const SQLITE_LIMITS: StoreLimits = { maxKeysPerStatement: 30_000 };

export interface SqliteSourceOptions {
  name: string;
  /** An absolute path (the descriptor resolves a relative one against the working directory). */
  path: string;
  /** Busy timeout in milliseconds. */
  timeoutMs?: number;
}

/** better-sqlite3 (a native addon, about 4.5 MiB resident) is loaded when a file is first opened. */
const load = createRequire(import.meta.url);

/** The database file, opened on first use: a missing file fails the first query, not connect(). */
class SqliteFile {
  private db?: Database.Database;
  /** Whether the database's text encoding is UTF-8 (BINARY is then code-point order); known once open. */
  utf8?: boolean;

  constructor(
    private readonly path: string,
    private readonly busyTimeoutMs: number,
    private readonly setup: (db: Database.Database) => void,
  ) {}

  open(): Database.Database {
    if (this.db) return this.db;
    let db: Database.Database;
    try {
      const Sqlite = load('better-sqlite3') as typeof Database;
      db = new Sqlite(this.path, { readonly: true, fileMustExist: true, timeout: this.busyTimeoutMs });
    } catch (err) {
      throw this.openError(err);
    }
    try {
      db.pragma('query_only = ON');
      db.defaultSafeIntegers(true);
      // Reads the file's header: a file that is not a database fails here.
      this.utf8 = db.pragma('encoding', { simple: true }) === 'UTF-8';
      this.setup(db);
    } catch (err) {
      db.close();
      throw this.openError(err);
    }
    this.db = db;
    return db;
  }

  async end(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    db?.close();
  }

  /** The driver's error with the file named; a missing directory (a TypeError) counts as SQLITE_CANTOPEN. */
  private openError(err: unknown): Error {
    const e = err as { message?: unknown; code?: unknown };
    const out = new Error(`cannot open the SQLite file "${this.path}": ${String(e.message ?? err)}`) as Error & { code: unknown };
    out.code = typeof e.code === 'string' ? e.code : 'SQLITE_CANTOPEN';
    return out;
  }
}

export class SqliteSource extends SqlSource<SqliteFile> {
  readonly kind = 'sqlite';
  readonly limits = SQLITE_LIMITS;
  protected readonly dialect = sqliteDialect(this.name);
  protected readonly placeholders = 'question';
  protected readonly decode = (col: SqlColumn, raw: unknown) => decodeValue(this.name, col, raw);
  protected readonly classify = sqliteReason;
  private file?: SqliteFile;

  constructor(opts: SqliteSourceOptions) {
    super({ name: opts.name, url: opts.path, timeoutMs: opts.timeoutMs ?? 5000, pool: 1 });
  }

  /** See dialect.ts: what SQLite evaluates exactly as the value model does. */
  override offer(table: TableInfo, work: ScanOffer): ScanAcceptance {
    return sqliteOffer(table, work, this.file?.utf8 === true);
  }

  /** Reads the catalog, so a file that is not a database fails too. */
  override async ping(): Promise<void> {
    await this.run('SELECT count(*) FROM main.sqlite_schema', []);
  }

  protected createPool(): SqliteFile {
    this.file = new SqliteFile(this.url, this.timeoutMs, (db) => this.registerFunctions(db));
    return this.file;
  }

  protected async execute(file: SqliteFile, text: string, params: unknown[]): Promise<unknown[][]> {
    return file
      .open()
      .prepare(text)
      .raw(true)
      .all(...params) as unknown[][];
  }

  /** The functions dialect.ts compares through; each returns what decoding returns, or fails on a misfit. */
  private registerFunctions(db: Database.Database): void {
    const fn = (name: string, type: 'timestamptz' | 'text', read: (raw: unknown) => string | undefined): void => {
      db.function(name, { deterministic: true }, (raw: unknown, column: unknown) => {
        if (raw === null) return null;
        const v = read(raw);
        if (v === undefined) throw misfit(this.name, String(column), type, raw);
        return v;
      });
    };
    fn('viewgate_timestamp', 'timestamptz', timestampValue);
    fn('viewgate_text', 'text', renderedText);
  }

  /**
   * EXPLAIN QUERY PLAN's SCAN steps. SQLite's plan says neither the condition a scan tests nor
   * whether a LIMIT stops it, so every SCAN counts and the statement's WHERE names the columns.
   */
  protected async fullScans(native: NativeQuery): Promise<PlanScans> {
    const steps = await this.run(`EXPLAIN QUERY PLAN ${native.text}`, native.params);
    const tables = steps.flatMap((r) => /^SCAN (?:TABLE )?(?:main\.)?([^\s.]+)(?: |$)/.exec(String(r[3]))?.[1] ?? []);
    const where = /\sWHERE\s(.*?)(?:\sGROUP BY\s|\sORDER BY\s|\sLIMIT\s|$)/s.exec(native.text)?.[1] ?? '';
    const fullScans = await Promise.all(
      [...new Set(tables)].map(async (table) => {
        const [count, columns, indexed] = await Promise.all([
          this.run(`SELECT count(*) FROM ${this.dialect.quoteIdent(table)}`, []),
          this.run('SELECT name FROM pragma_table_info(?)', [table]),
          // The first primary key column leads the table's own order (a rowid) or its key's index.
          this.run(
            `SELECT DISTINCT ii.name FROM pragma_index_list(?) il, pragma_index_info(il.name) ii WHERE ii.seqno = 0
              UNION SELECT name FROM pragma_table_info(?) WHERE pk = 1`,
            [table, table],
          ),
        ]);
        const facts = {
          rows: Number(count[0]![0]),
          columns: columns.map((r) => String(r[0])),
          indexed: indexed.map((r) => String(r[0])),
        };
        return fullScanOf(table, facts, where);
      }),
    );
    return { fullScans };
  }

  protected async loadTable(name: string): Promise<SqlTable> {
    // SQLite matches table names case-insensitively; prefer the exact spelling.
    const found = (await this.run(
      `SELECT name, wr FROM pragma_table_list
        WHERE schema = 'main' AND name = ? COLLATE NOCASE AND type IN ('table', 'view', 'virtual')`,
      [name],
    )) as [string, bigint][];
    const [table, withoutRowid] = found.find((r) => r[0] === name) ?? found[0] ?? [];
    if (table === undefined) throw this.noSuchTable(name);
    const rows = (await this.run(`SELECT name, type, "notnull", pk FROM pragma_table_xinfo(?, 'main') WHERE hidden <> 1 ORDER BY cid`, [
      table,
    ])) as [string, string, bigint, bigint][];
    const keyColumns = rows.filter((r) => r[3] > 0n).sort((a, b) => Number(a[3] - b[3]));
    // INTEGER PRIMARY KEY of a rowid table is the rowid, never NULL; other key columns of a rowid
    // table may be NULL (an old SQLite quirk), so only NOT NULL says they are not.
    const rowidAlias =
      withoutRowid === 0n && keyColumns.length === 1 && keyColumns[0]![1].toUpperCase() === 'INTEGER' ? keyColumns[0]![0] : '';
    const columns: SqlColumn[] = rows.map(([col, declared, notNull, pk]) => {
      const type = mapDeclaredType(declared);
      return {
        name: col,
        type,
        nullable: notNull === 0n && !(col === rowidAlias || (withoutRowid === 1n && pk > 0n)),
        // Every SQLite integer is 64-bit whatever the declared name (INT, SMALLINT); the embedded
        // engine reads an integer's width from this name.
        nativeType: type === 'int' ? `${declared} (int8)` : declared,
        base: declared.toLowerCase(),
      };
    });
    return this.sqlTable(
      name,
      'main',
      table,
      columns,
      keyColumns.map((r) => r[0]),
    );
  }
}
