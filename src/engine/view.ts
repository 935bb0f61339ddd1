// What every engine offers the gateway: a view's schema and a way to run a governed query on it.
import type { ColumnType, Row } from '../values.js';
import type { OrderTerm, Predicate } from '../query/predicate.js';
import type { NativeQuery } from '../sources/source.js';

export interface ViewColumn {
  name: string;
  type: ColumnType;
  nullable: boolean;
  description?: string;
}

/** A query after policy: only granted columns, the row filter ANDed on, the limit clamped. */
export interface EngineQuery {
  columns: string[];
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

export interface ViewEngine {
  execute(q: EngineQuery): Promise<EngineResult>;
  explain(q: EngineQuery): Promise<ExplainResult>;
}

export interface View {
  service: string;
  name: string;
  /** `service.view`, as in grants and MCP. */
  id: string;
  description: string;
  key: string[];
  columns: ViewColumn[];
  engine: ViewEngine;
  /**
   * A row filter every caller gets (the view's rowSecurity) that the gateway ANDs on, as for a
   * grant's rowFilter. Set by the embedded engine; hub views enforce rowSecurity inside PostgreSQL.
   */
  rowSecurity?: { filter: string; exemptRoles: string[] };
  /** Engine-specific state for describe output, e.g. a materialized view's last refresh. */
  status?(): Record<string, unknown>;
}
