// What PostgresSource and MysqlSource share: the pool's life cycle, the table cache, error
// mapping, and scan/count/join over sql-common's builders. A subclass supplies the store: its
// dialect and placeholders, the pool (with its session settings), running one statement (and
// stopping it when its reader goes away), catalog introspection, value decoding and error
// classification.
import { LRUCache } from 'lru-cache';
import { buildAggregate } from './aggregate.js';
import { requestCancelled, StoreError } from '../../errors.js';
import type { Predicate, Pushdown } from '../../query/predicate.js';
import type { Row, Value } from '../../values.js';
import {
  takeEverything,
  type AccessPlan,
  type PlanScans,
  type PlannedRead,
  type AggregatePushdown,
  type JoinPushdown,
  type NativeQuery,
  type ReadOptions,
  type ScanAcceptance,
  type ScanOffer,
  type ScanResult,
  type Source,
  type TableInfo,
} from '../source.js';
import type { StoreLimits } from '../source.js';
import {
  buildCount,
  buildJoinSelect,
  buildSelect,
  TableCache,
  type PlaceholderStyle,
  type SqlColumn,
  type SqlDialect,
  type SqlTable,
} from './common.js';
import { privilegeRefusal, toStoreError, urlSecrets, type DriverError, type ErrorClassifier } from '../store-errors.js';
import type { Writer } from '../write.js';
import type { StoreTls } from '../../config/tls.js';
import { SqlWriter, type SqlWriteStore } from './write.js';
import type { Cancel } from '../../cancellation.js';

export interface SqlSourceOptions {
  name: string;
  url: string;
  timeoutMs?: number;
  pool?: number;
  /** The source's tls block (src/sources/tls.ts). */
  tls?: StoreTls;
}

/** A scan's statement and how its rows decode, for one table as loaded. */
interface CompiledScan {
  table: SqlTable;
  native: NativeQuery;
  columns: { key: string; column: SqlColumn }[];
}

/** Runs one statement on the pool; rows as arrays in select-list order. */
type Execute<Pool> = (pool: Pool, text: string, params: unknown[], signal?: Cancel) => Promise<unknown[][]>;

export abstract class SqlSource<Pool extends { end(): Promise<void> }> implements Source {
  readonly name: string;
  abstract readonly kind: string;
  abstract readonly limits: StoreLimits;
  protected readonly url: string;
  protected readonly timeoutMs: number;
  protected readonly poolSize: number;
  protected readonly tls?: StoreTls;
  private readonly secrets: string[];
  private pool?: Pool;
  private readonly tables = new TableCache<SqlTable>();
  /** The statement of each frozen pushdown (a kept plan's), while its table is the same one. */
  private readonly statements = new WeakMap<Pushdown, CompiledScan>();
  /** The full scans of each native query text (a query shape), for the cost guard. */
  private readonly scansByShape = new LRUCache<string, Promise<PlanScans>>({ max: 1000, ttl: 5 * 60_000 });

  protected abstract readonly dialect: SqlDialect;
  protected abstract readonly placeholders: PlaceholderStyle;
  protected abstract readonly decode: (col: SqlColumn, raw: unknown) => Value;
  protected abstract readonly classify: ErrorClassifier;
  /** Optional: whether a driver error is the store's grants refusing the query (a 403, src/sources/store-errors.ts). */
  protected readonly denied?: (e: DriverError) => boolean;
  /** A new pool whose connections get the source's session settings (time zone, statement timeout). */
  protected abstract createPool(): Pool;
  /**
   * Runs one statement on the pool; rows as arrays in select-list order. When `signal` aborts while
   * the statement runs, the store is told to stop it (a store that cannot interrupt a statement
   * lets it finish); the error or rows that follow are discarded by run().
   */
  protected abstract execute(pool: Pool, text: string, params: unknown[], signal?: Cancel): Promise<unknown[][]>;
  /**
   * The tables `native` would read whole, from the store's plan (EXPLAIN without ANALYZE, never
   * running it), each with its total size and the columns that would help (sql/full-scans.ts).
   */
  protected abstract fullScans(native: NativeQuery): Promise<PlanScans>;
  /** Reads the catalog for `name` (`table` or `schema.table`); see sqlTable and noSuchTable. */
  protected abstract loadTable(name: string): Promise<SqlTable>;

  constructor(opts: SqlSourceOptions) {
    this.name = opts.name;
    this.url = opts.url;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.poolSize = opts.pool ?? 10;
    this.tls = opts.tls;
    this.secrets = urlSecrets(opts.url);
  }

  /** The dialect compiles the whole predicate language and PostgreSQL's order exactly. */
  offer(_table: TableInfo, work: ScanOffer): ScanAcceptance {
    return takeEverything(work);
  }

  async connect(): Promise<void> {
    this.getPool();
  }

  async close(): Promise<void> {
    const p = this.pool;
    this.pool = undefined;
    this.tables.clear();
    if (p) await p.end();
  }

  async ping(): Promise<void> {
    await this.run('SELECT 1', []);
  }

  async introspect(table: string): Promise<TableInfo> {
    return (await this.table(table)).info;
  }

  refreshCatalog(): void {
    this.tables.clear();
    this.scansByShape.clear();
  }

  async accessPlan(read: PlannedRead): Promise<AccessPlan> {
    const native = await this.nativeOf(read);
    let scans = this.scansByShape.get(native.text);
    if (!scans) {
      scans = this.fullScans(native);
      this.scansByShape.set(native.text, scans);
      scans.catch(() => this.scansByShape.delete(native.text));
    }
    return { native, ...(await scans) };
  }

  /** The statement a planned read would send, built as scan, scanJoin, count and aggregate build it. */
  private async nativeOf(read: PlannedRead): Promise<NativeQuery> {
    switch (read.op) {
      case 'statement':
        return read.native;
      case 'scan':
        return this.explainScan(read.table, read.pushdown);
      case 'join': {
        const tables = await Promise.all(read.pushdown.tables.map((t) => this.table(t.table)));
        return buildJoinSelect(read.pushdown, tables, this.dialect, this.placeholders, this.name).native;
      }
      case 'count':
        return buildCount(await this.table(read.table), read.where, this.dialect, this.placeholders, this.name);
      case 'aggregate': {
        const native = await this.explainAggregate(read.table, read.pushdown);
        if (!native) throw new Error(`source "${this.name}" declines this aggregate of "${read.table}"`);
        return native;
      }
    }
  }

  async scan(table: string, pushdown: Pushdown, options: ReadOptions = {}): Promise<ScanResult> {
    const t = await this.table(table);
    let compiled = this.statements.get(pushdown);
    if (compiled?.table !== t) {
      compiled = this.compileScan(t, pushdown);
      if (Object.isFrozen(pushdown)) this.statements.set(pushdown, compiled);
    }
    const { native, columns } = compiled;
    return { rows: this.decodeRows(await this.read(native.text, native.params, options.signal), columns), native };
  }

  private compileScan(t: SqlTable, pushdown: Pushdown): CompiledScan {
    const native = buildSelect(t, pushdown, this.dialect, this.placeholders, this.name);
    Object.freeze(native.params);
    const columns = pushdown.columns.map((c) => {
      const column = t.columns.get(c)!;
      return { key: column.name, column };
    });
    return { table: t, native: Object.freeze(native), columns };
  }

  async scanJoin(pushdown: JoinPushdown, options: ReadOptions = {}): Promise<ScanResult> {
    const tables = await Promise.all(pushdown.tables.map((t) => this.table(t.table)));
    const { native, columns } = buildJoinSelect(pushdown, tables, this.dialect, this.placeholders, this.name);
    return { rows: this.decodeRows(await this.read(native.text, native.params, options.signal), columns), native };
  }

  async aggregate(table: string, pushdown: AggregatePushdown, options: ReadOptions = {}): Promise<ScanResult | undefined> {
    const built = buildAggregate(await this.table(table), pushdown, this.dialect, this.placeholders, this.name);
    if (!built) return undefined;
    const { native, columns } = built;
    return { rows: this.decodeRows(await this.read(native.text, native.params, options.signal), columns), native };
  }

  async explainAggregate(table: string, pushdown: AggregatePushdown): Promise<NativeQuery | undefined> {
    return buildAggregate(await this.table(table), pushdown, this.dialect, this.placeholders, this.name)?.native;
  }

  async count(table: string, where?: Predicate, options: ReadOptions = {}): Promise<number> {
    const native = buildCount(await this.table(table), where, this.dialect, this.placeholders, this.name);
    const rows = await this.read(native.text, native.params, options.signal);
    return Number(rows[0]![0]);
  }

  async explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery> {
    return buildSelect(await this.table(table), pushdown, this.dialect, this.placeholders, this.name);
  }

  /** Connecting may take the query timeout, within 1-10 s (so a tiny query timeout still connects). */
  protected get connectTimeoutMs(): number {
    return this.timeoutMs > 0 ? Math.min(Math.max(this.timeoutMs, 1000), 10_000) : 10_000;
  }

  /**
   * Runs one statement; any failure, creating the pool included, becomes a StoreError. Once
   * `signal` has aborted, no statement starts and whatever the stopped one ends with is
   * requestCancelled() (PostgreSQL and MySQL report a cancelled statement like a timed-out one).
   * `execute` replaces the store's own way of running it (a read in a transaction).
   */
  protected async run(text: string, params: unknown[], signal?: Cancel, execute?: Execute<Pool>): Promise<unknown[][]> {
    if (signal?.aborted) throw requestCancelled();
    let rows: unknown[][];
    try {
      const pool = this.getPool();
      rows = await (execute ? execute(pool, text, params, signal) : this.execute(pool, text, params, signal));
    } catch (err) {
      if (signal?.aborted) throw requestCancelled();
      if (this.denied?.(err as DriverError)) throw privilegeRefusal(this.name);
      throw toStoreError(this.name, err, this.classify, this.secrets);
    }
    if (signal?.aborted) throw requestCancelled();
    return rows;
  }

  /** Runs one statement of a read (scan, join, groups, count); a store that wraps reads overrides it. */
  protected read(text: string, params: unknown[], signal?: Cancel): Promise<unknown[][]> {
    return this.run(text, params, signal);
  }

  /** The introspected table: `name` as configured, `schema` and `table` as the catalog spells them. */
  protected sqlTable(
    name: string,
    schema: string,
    table: string,
    columns: SqlColumn[],
    primaryKey: string[],
    description?: string,
  ): SqlTable {
    return {
      info: { name, columns: columns.map(({ base: _b, ...c }) => c), primaryKey, ...(description ? { description } : {}) },
      sql: `${this.dialect.quoteIdent(schema)}.${this.dialect.quoteIdent(table)}`,
      columns: new Map(columns.map((c) => [c.name, c])),
    };
  }

  /** A catalog comment as a description: trimmed, and absent when empty. */
  protected comment(text: unknown): { description?: string } {
    const t = typeof text === 'string' ? text.trim() : '';
    return t ? { description: t } : {};
  }

  protected noSuchTable(name: string): StoreError {
    return new StoreError(this.name, 'failed', `table "${name}" does not exist`);
  }

  protected getPool(): Pool {
    return (this.pool ??= this.createPool());
  }

  /** The write side over this source's dialect and tables (docs/writes.md); `store` is what the store adds. */
  protected sqlWriter(store: SqlWriteStore): Writer {
    return new SqlWriter({
      source: this.name,
      dialect: this.dialect,
      placeholders: this.placeholders,
      table: (name) => this.table(name),
      decode: this.decode,
      store,
    });
  }

  /** A driver error as this source reports it: a StoreError naming the source, the detail redacted. */
  protected storeError(err: unknown): StoreError {
    return toStoreError(this.name, err, this.classify, this.secrets);
  }

  protected table(name: string): Promise<SqlTable> {
    return this.tables.get(name, () => this.loadTable(name));
  }

  private decodeRows(rows: unknown[][], columns: { key: string; column: SqlColumn }[]): Row[] {
    const decode = this.decode;
    const out: Row[] = new Array(rows.length);
    for (let n = 0; n < rows.length; n++) {
      const r = rows[n]!;
      const row: Row = {};
      for (let i = 0; i < columns.length; i++) row[columns[i]!.key] = decode(columns[i]!.column, r[i]);
      out[n] = row;
    }
    return out;
  }
}
