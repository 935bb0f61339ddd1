// What every engine offers the gateway: a view's schema and a way to run a governed query on it.
import type { ViewId } from '../config/view-id.js';
import type { ColumnType, Row } from '../values.js';
import type { OrderTerm, Predicate } from '../query/predicate.js';
import type { NativeQuery, ReadOptions } from '../sources/source.js';
import type { Writer } from '../sources/write.js';
import type { AggregateQuery, AggregateResult, IntWidth } from './aggregate/types.js';

export interface ViewColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
  description?: string;
  /** An int column's width where the store says it (sum of int2/int4 is int, of int8 numeric, as in PostgreSQL). */
  intWidth?: IntWidth;
}

/** A query after policy: only granted columns, the row filter ANDed on, the limit clamped. */
export interface EngineQuery {
  columns: string[];
  /**
   * The columns the caller asked for, when `columns` also holds the order's (the gateway reads
   * them for a cursor): an error's hint names only these.
   */
  requested?: string[];
  where?: Predicate;
  /** Total order: the view's key is already appended. */
  orderBy: OrderTerm[];
  limit: number;
  offset: number;
  count: boolean;
  /**
   * The mandatory part of `where` (the grant's row filter and the view's rowSecurity), already ANDed
   * into it. Engines that plan fetches use it to constrain every store by it before any row is
   * fetched (docs/security.md, "Row budget").
   */
  rowFilter?: Predicate;
  /** Who asks: engines that pass identity on to the store (the hub) need it. */
  identity?: { role: string; claims: Record<string, unknown> };
  /**
   * A row filter the store enforces itself (a hub view's rowSecurity) that binds this caller: the
   * engine binds the caller's claims with it before the store runs, so a missing claim, or one
   * that does not fit its column, is refused as for any row filter (docs/hub.md).
   */
  storeRowSecurity?: StoreRowSecurity;
}

/** Binds a caller's claims into the row filter a store enforces; throws the 403 a row filter gives. */
export interface StoreRowSecurity {
  bind(claims: Record<string, unknown>): Predicate;
}

export interface EngineResult {
  rows: Row[];
  /** Rows matching `where`, ignoring limit and offset (only when asked). */
  count?: number;
  /** Whether rows exist beyond offset + limit. */
  hasMore: boolean;
  /** Every native query sent, for explain and audit. */
  queries: NativeQuery[];
  /** Rows fetched per source. */
  fetched: Record<string, number>;
}

export interface ExplainResult {
  plan: unknown;
  queries: NativeQuery[];
}

/**
 * How an engine runs one request's query: `signal` aborts when nobody waits for the answer any
 * more; the engine then starts no further store query and passes it to the ones running, which
 * stop (docs/operations.md, "Cancelled requests").
 */
export type ExecuteOptions = ReadOptions;

export interface ViewEngine {
  execute(q: EngineQuery, options?: ExecuteOptions): Promise<EngineResult>;
  explain(q: EngineQuery, options?: ExecuteOptions): Promise<ExplainResult>;
  /**
   * Optional: runs the aggregation in the store when it can do so exactly, answering undefined
   * when it cannot (src/engine/aggregate/run.ts then aggregates the governed rows in process).
   */
  aggregate?(q: EngineQuery, agg: AggregateQuery, options?: ExecuteOptions): Promise<AggregateResult | undefined>;
  /** With aggregate: the plan of the store's aggregation, or undefined when it would run in process. */
  explainAggregate?(q: EngineQuery, agg: AggregateQuery, options?: ExecuteOptions): Promise<ExplainResult | undefined>;
}

export interface View {
  service: string;
  name: string;
  /** `service.view`, as in grants and MCP. */
  id: ViewId;
  description: string;
  key: string[];
  columns: ViewColumn[];
  engine: ViewEngine;
  /**
   * Present when the view can be written (docs/writes.md): one table of a store that writes, whose
   * key is a primary or unique key of the table.
   */
  write?: WriteTarget;
  /** Engine-specific state for describe output, e.g. a materialized view's last refresh. */
  status?(): Record<string, unknown>;
}

/** Where a writable view's writes go: the store's write side and the table as configured. */
export interface WriteTarget {
  writer: Writer;
  table: string;
}
