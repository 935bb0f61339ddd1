// The interface every store implements (docs/architecture.md, "How to add a store"). One folder
// per store beside this file.
import type { MetricFn } from '../query/aggregate-query.js';
import type { ColumnType, Row } from '../values.js';
import type { OrderTerm, Predicate, Pushdown } from '../query/predicate.js';
import type { Writer } from './write.js';
import type { Cancel } from '../cancellation.js';

export interface StoreLimits {
  /** The most keys one bind-join statement carries (the store's parameter or statement-size limit). */
  maxKeysPerStatement: number;
}

export interface ColumnInfo {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** The store's own type name, for describe output and diagnostics. */
  nativeType: string;
  /** The store's comment on the column (PostgreSQL COMMENT ON COLUMN, MySQL COMMENT), if any. */
  description?: string;
}

export interface TableInfo {
  /** As written in config: `customers`, or `schema.customers` for PostgreSQL. */
  name: string;
  columns: ColumnInfo[];
  primaryKey: string[];
  /** The store's comment on the table, if any. */
  description?: string;
}

/** A native query as sent: SQL with placeholders, or a MongoDB command; for explain and errors. */
export interface NativeQuery {
  source: string;
  text: string;
  params: unknown[];
}

/** How native queries whose `text` writes the client's values inline read with them hidden. */
const hiddenValues = new WeakMap<NativeQuery, () => string>();

/** Registers `query`'s text with its values hidden, for a store whose text holds them inline (MongoDB). */
export function withHiddenValues(query: NativeQuery, statement: () => string): NativeQuery {
  hiddenValues.set(query, statement);
  return query;
}

/** The query as a trace may keep it: the text as sent with placeholders, or with its values hidden; never a value. */
export function statementOf(query: NativeQuery): string {
  return hiddenValues.get(query)?.() ?? query.text;
}

export interface ScanResult {
  rows: Row[];
  native: NativeQuery;
}

/** One table of a join that a SQL source runs itself (Source.scanJoin). */
interface JoinTable {
  /** Names the table in the join and prefixes its columns in the result rows: `${alias}.${column}`. */
  alias: string;
  table: string;
  columns: string[];
  /** Restricts the table's rows before the join (for a LEFT-joined table, as a condition in ON). */
  where?: Predicate;
}

/** Joins `alias` to the earlier table `parentAlias` on column equalities (NULL never equals NULL). */
interface JoinStep {
  kind: 'inner' | 'left';
  alias: string;
  parentAlias: string;
  on: { parentColumn: string; column: string }[];
}

/** Several tables of one SQL source joined by the store: one native query. */
export interface JoinPushdown {
  /** The first table is the one the joins start from. */
  tables: JoinTable[];
  joins: JoinStep[];
  /** PostgreSQL order, as Pushdown.orderBy. */
  orderBy?: { alias: string; column: string; desc: boolean }[];
  limit?: number;
  offset?: number;
}

/**
 * Groups of one table computed by the store (GROUP BY), in PostgreSQL's result types: the rows
 * come back keyed g0, g1, ... (group values) and a0, a1, ... (metrics).
 */
export interface AggregatePushdown {
  where?: Predicate;
  group: string[];
  /** count with no column is count(*). */
  metrics: { fn: MetricFn; column?: string }[];
  /** At most this many groups (the engine asks one past its budget). */
  limit: number;
}

/**
 * Work the engine offers one scan, in source column names (as Trino's applyFilter and applyTopN):
 * conjuncts of its filter and the order it wants.
 */
export interface ScanOffer {
  where: readonly Predicate[];
  orderBy: readonly OrderTerm[];
}

/** What the source runs exactly as the value model says (src/values.ts); the engine runs the rest. */
export interface ScanAcceptance {
  /** The offered conjuncts the store evaluates, the same objects. */
  taken: Predicate[];
  /** The offered conjuncts the engine must evaluate on the rows the scan returns. */
  remaining: Predicate[];
  /** Whether the store sorts by the whole order exactly (and so can also apply LIMIT and OFFSET). */
  orderBy: boolean;
}

/** A source that takes every offer: its store evaluates all of the predicate language exactly. */
export function takeEverything(work: ScanOffer): ScanAcceptance {
  return { taken: [...work.where], remaining: [], orderBy: true };
}

/** What a read may carry besides its query. */
export interface ReadOptions {
  /**
   * Aborts when nobody waits for the answer any more (docs/operations.md, "Cancelled requests"):
   * the source stops the statement it runs (or never starts it) and throws requestCancelled()
   * (src/errors.ts), never a StoreError, so the circuit breaker does not count it. A
   * Cancellation's signal is made only when the source needs one (src/cancellation.ts).
   */
  signal?: Cancel;
}

/** A read a plan would send, as the cost guard judges it before anything runs (docs/security.md, "Cost guards"). */
export type PlannedRead =
  | { op: 'scan'; table: string; pushdown: Pushdown }
  | { op: 'join'; pushdown: JoinPushdown }
  | { op: 'count'; table: string; where?: Predicate }
  | { op: 'aggregate'; table: string; pushdown: AggregatePushdown }
  /** A statement another system sends to the store as it is (a hub's postgres_fdw); only SQL sources judge it. */
  | { op: 'statement'; native: NativeQuery };

/** A table one native query would read whole. */
export interface FullScan {
  table: string;
  /** The rows the table holds: its total size, never the share of one caller. */
  rows: number;
  /** Columns the query filters this table on that lead no index. */
  unindexed: string[];
  /** Columns that lead an index of the table: a filter on one lets the store avoid the scan. */
  indexed: string[];
  /** The store that holds the table, when it is not the one the query went to (a hub's foreign scan). */
  source?: string;
}

/** A foreign table a PostgreSQL plan reads through a foreign data wrapper, and what the wrapper sends. */
export interface ForeignRead {
  /** `schema.table` of the foreign table. */
  table: string;
  /** The foreign server it reads through, and that server's wrapper. */
  server: string;
  wrapper: string;
  /** The statement the wrapper sends, when the plan shows it (postgres_fdw's `Remote SQL`). */
  remote?: string;
}

/** What a store's plan says it would read: tables read whole, and foreign tables read through a wrapper. */
export interface PlanScans {
  fullScans: FullScan[];
  /**
   * Tables read from their start until the rows asked are found (an unfiltered scan below a LIMIT):
   * read whole for the guard when the query asks more rows than maxScanRows.
   */
  pageScans?: FullScan[];
  /** Only PostgreSQL plans have them; the hub judges them by the store behind the wrapper (src/hub/scan-judge.ts). */
  foreignReads?: ForeignRead[];
}

/** A read the cost guard cannot judge before it runs, and what would make it judgeable. */
export interface Unjudgeable {
  read: string;
  help: string;
}

/** How a store would read one planned read: its native query and the tables it would read whole. */
export interface AccessPlan extends PlanScans {
  native: NativeQuery;
  /** Reads that cannot be judged: the guard refuses the query as it refuses a costly one. */
  unjudgeable?: Unjudgeable[];
}

export interface Source {
  readonly name: string;
  /** The store kind, as registered (src/sources/registry.ts); for explain and logs. */
  readonly kind: string;
  readonly limits: StoreLimits;
  /** Opens the pool; does not fail when the store is down (the first query does). */
  connect(): Promise<void>;
  close(): Promise<void>;
  /** One round trip; throws a StoreError when the store cannot be reached. */
  ping(): Promise<void>;
  /** Columns, types and primary keys; SQL sources read their catalog, MongoDB its declared columns. */
  introspect(table: string): Promise<TableInfo>;
  /**
   * Optional: forget what introspect learned, so the next introspect asks the store again (the drift
   * check of docs/contracts.md); a store without a catalog checks that the table still exists then.
   */
  refreshCatalog?(): void;
  /** One native query for the pushdown; rows in the value model, keyed by source column name. */
  scan(table: string, pushdown: Pushdown, options?: ReadOptions): Promise<ScanResult>;
  /** Number of rows matching `where`. */
  count(table: string, where?: Predicate, options?: ReadOptions): Promise<number>;
  /**
   * Which of `work` the store runs exactly; no round trip. `scan` and `count` are only given
   * predicates and orders it took.
   */
  offer(table: TableInfo, work: ScanOffer): ScanAcceptance;
  /** The native query `scan` would send, without sending it (for explain). */
  explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery>;
  /**
   * Optional (SQL sources): runs a join of its own tables as one query; rows are keyed
   * `${alias}.${column}`. The embedded engine sends a whole single-source subplan this way.
   */
  scanJoin?(pushdown: JoinPushdown, options?: ReadOptions): Promise<ScanResult>;
  /**
   * Optional: the groups computed by the store, or undefined when it cannot compute them exactly
   * as PostgreSQL does (the engine then aggregates the scanned rows itself). avg is never asked:
   * the engine asks sum and count and divides.
   */
  aggregate?(table: string, pushdown: AggregatePushdown, options?: ReadOptions): Promise<ScanResult | undefined>;
  /** With aggregate: the native query it would send, or undefined when it would decline. */
  explainAggregate?(table: string, pushdown: AggregatePushdown): Promise<NativeQuery | undefined>;
  /**
   * Optional: the store's own access path for a read, without running it (SQL: EXPLAIN without
   * ANALYZE; MongoDB: the filter against listIndexes), with the total size of each table it would
   * read whole. Cached per query shape.
   */
  accessPlan?(read: PlannedRead): Promise<AccessPlan>;
  /** Optional: the store's write side (docs/writes.md); absent: its tables are read-only. */
  readonly writer?: Writer;
}
