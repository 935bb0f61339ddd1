// The interface every store implements (docs/configuration.md, "Sources"). One file per store
// beside this one.
import type { ColumnType, Row } from '../values.js';
import type { Predicate, Pushdown } from '../query/predicate.js';

export type SourceKind = 'postgres' | 'mysql' | 'mongodb';

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

export interface Source {
  readonly name: string;
  readonly kind: SourceKind;
  /** Opens the pool; does not fail when the store is down (the first query does). */
  connect(): Promise<void>;
  close(): Promise<void>;
  /** One round trip; throws a StoreError when the store cannot be reached. */
  ping(): Promise<void>;
  /** Columns, types and primary keys; SQL sources read their catalog, MongoDB its declared columns. */
  introspect(table: string): Promise<TableInfo>;
  /** One native query for the pushdown; rows in the value model, keyed by source column name. */
  scan(table: string, pushdown: Pushdown): Promise<ScanResult>;
  /** Number of rows matching `where`. */
  count(table: string, where?: Predicate): Promise<number>;
  /** The native query `scan` would send, without sending it (for explain). */
  explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery>;
  /**
   * Optional (SQL sources): runs a join of its own tables as one query; rows are keyed
   * `${alias}.${column}`. The embedded engine sends a whole single-source subplan this way.
   */
  scanJoin?(pushdown: JoinPushdown): Promise<ScanResult>;
}
