// The plan of one request: what each store is asked for (fetch units), how the fetched rows are
// joined, and what runs in process after that. Built by optimize.ts, run by execute.ts, printed
// by explain.ts.
import type { OrderTerm, Predicate } from '../../query/predicate.js';
import type { AggregatePushdown } from '../../sources/source.js';
import type { Expr, JoinCondition, ViewModel } from './ast.js';

/** Why a predicate reached a store. */
type PushOrigin = 'filter' | 'view' | 'join-on' | 'inferred';

export interface PushedPredicate {
  predicate: Predicate;
  origin: PushOrigin;
  /** For inferred predicates: the join key it was carried across, e.g. `c.customer_id`. */
  via?: string;
  /** Part of the row filter (or inferred from it): the store returns only the caller's rows. */
  scoped?: boolean;
}

/** One relation's part of a fetch. */
export interface RelationScan {
  rel: number;
  /** Source columns to fetch. */
  columns: string[];
  pushed: PushedPredicate[];
  /** Conjuncts on this relation alone that its store does not take: applied right after the fetch. */
  local: Expr[];
}

/** The join between a unit's relation and its parent, as the planner decided it. */
export interface PlannedJoin {
  child: number;
  parent: number;
  kind: 'inner' | 'left';
  /** The view said LEFT, but a conjunct rejects the NULL-padded rows. */
  fromLeft: boolean;
  conditions: JoinCondition[];
}

/** A bind join: this unit is fetched with the de-duplicated key values of a unit fetched before it. */
export interface BindSpec {
  fromUnit: number;
  /** Key on the providing side, evaluated on its rows; compared in `via`. */
  providerKey: Expr;
  /** Key on this unit's side: a column under lossless casts, inverted to get the column's values. */
  targetKey: Expr;
  via: string;
  targetRel: number;
  targetColumn: string;
}

/**
 * Partial groups a unit's store computes instead of returning its rows (docs/engine.md, "Aggregate
 * pushdown"): each comes back as a row of the unit's relation holding the group columns, with the
 * partial aggregates in the slots partialSlot(0), partialSlot(1), ...
 */
export interface PartialAggregate {
  /** Source columns grouped by: the join key columns, then the relation's group columns. */
  group: string[];
  /** count with no column is count(*). */
  metrics: AggregatePushdown['metrics'];
}

export const partialSlot = (i: number): string => `p${i}`;

/**
 * What one native query (or one batch of them) fetches: one relation, or several relations of one
 * SQL source joined by that source itself.
 */
export interface FetchUnit {
  id: number;
  source: string;
  sourceKind: string;
  /** Relations in join order; the first is the unit's root. */
  members: number[];
  /** Joins among the members (sent to the store as SQL joins). */
  internalJoins: PlannedJoin[];
  scans: RelationScan[];
  bind?: BindSpec;
  /** ORDER BY + LIMIT (+ OFFSET) pushed into the store. */
  orderBy?: { rel: number; column: string; desc: boolean }[];
  limit?: number;
  offset?: number;
  /** Why this unit is fetched the way it is (for explain). */
  reason: string;
  /** Every row it fetches passed the row filter, in its store or through the keys it is bound to. */
  scoped?: boolean;
  /** Fetches partial groups (one relation, no local conditions) instead of rows. */
  partial?: PartialAggregate;
}

export interface Plan {
  view: ViewModel;
  pushdown: boolean;
  units: FetchUnit[];
  /** In-process hash joins, in order: each joins one unit to the rows so far. */
  joins: { unit: number; join: PlannedJoin }[];
  /** Conjuncts evaluated after the joins (before any aggregation). */
  residual: Expr[];
  /** The client's conjuncts that can only be evaluated on output rows (aggregates, a view LIMIT). */
  postFilter?: Predicate;
  /** Output columns computed (requested, ordered by, filtered on). */
  outputs: string[];
  columns: string[];
  /** What a hint may name (EngineQuery.requested). */
  requested: string[];
  orderBy: OrderTerm[];
  limit: number;
  offset: number;
  /** OFFSET already applied by the store (the whole view is one fetch unit). */
  offsetPushed: boolean;
  count: boolean;
  /** The count comes from the store's own count query (single relation with everything pushed). */
  countInStore: boolean;
  rowBudget: number;
  batchSize: number;
  concurrency: number;
  notes: string[];
  /** With a partial unit: how the joined partial groups are combined (for explain). */
  combine?: string;
}
