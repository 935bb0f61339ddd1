// The checked view: relations resolved to sources, expressions typed. Built once when the view
// loads (analyze.ts), read by the planner for every request.
import type { CompareOp } from '../../query/predicate.js';
import type { TableInfo } from '../../sources/source.js';
import type { Value } from '../../values.js';
import type { TypeMod } from './casts.js';
import type { SqlType } from './sql-types.js';

export type ArithOp = '+' | '-' | '*' | '/' | '%';
export type AggFn = 'count' | 'sum' | 'avg' | 'min' | 'max';

export type Expr =
  | { kind: 'column'; rel: number; column: string; type: SqlType }
  | { kind: 'const'; value: Value; type: SqlType }
  | { kind: 'cast'; arg: Expr; type: SqlType; mod?: TypeMod }
  | { kind: 'arith'; op: ArithOp; left: Expr; right: Expr; type: SqlType }
  | { kind: 'neg'; arg: Expr; type: SqlType }
  | { kind: 'concat'; left: Expr; right: Expr; type: 'text' }
  | { kind: 'coalesce'; args: Expr[]; type: SqlType }
  /** A scalar function, NULLIF, GREATEST or LEAST (functions.ts). */
  | { kind: 'fn'; fn: string; args: Expr[]; type: SqlType }
  | { kind: 'case'; whens: { when: Expr; then: Expr }[]; else?: Expr; type: SqlType }
  | { kind: 'and' | 'or'; args: Expr[]; type: 'bool' }
  | { kind: 'not'; arg: Expr; type: 'bool' }
  /** `via` is the type both sides are compared in (int4 = numeric compares as numeric). */
  | { kind: 'compare'; op: CompareOp; left: Expr; right: Expr; via: SqlType; type: 'bool' }
  /** `inProcess`: a list too long for one store statement (a long IN (SELECT ...) result) is never pushed. */
  | { kind: 'in'; arg: Expr; list: Expr[]; via: SqlType; type: 'bool'; inProcess?: boolean }
  | { kind: 'like'; arg: Expr; pattern: Expr; caseInsensitive: boolean; type: 'bool' }
  | { kind: 'isnull'; arg: Expr; type: 'bool' }
  /** An aggregate call (only in a grouped view's outputs and ORDER BY, before aggregation). */
  | { kind: 'agg'; fn: AggFn; arg?: Expr; distinct: boolean; type: SqlType }
  /** A value computed by an earlier step: a group key (`g0`) or an aggregate (`a0`). */
  | { kind: 'slot'; slot: string; type: SqlType }
  /**
   * `arg IN (SELECT ...)`, the subquery being the model's `sublinks[sub]` (uncorrelated); replaced
   * by an IN list of its values before the model is planned (query.ts).
   */
  | { kind: 'insub'; arg: Expr; sub: number; via: SqlType; type: 'bool' };

interface RelationColumn {
  type: SqlType;
  nullable: boolean;
  /** The store's comment on the column, shown for an output that is this column unchanged. */
  description?: string;
}

export interface Relation {
  index: number;
  alias: string;
  source: string;
  /** The store kind, as a label for explain. */
  sourceKind: string;
  table: string;
  /** The table as its source describes it; offers of work to the source name it. */
  info: TableInfo;
  columns: Map<string, RelationColumn>;
  primaryKey: string[];
  /** A subquery in FROM or a WITH query: its rows are this query's output rows (query.ts runs it). */
  query?: ViewModel;
}

/** One equality of a join: `parentKey = childKey`, compared in `via`. */
export interface JoinCondition {
  parentKey: Expr;
  childKey: Expr;
  via: SqlType;
}

/** How relation `child` joins the relations before it: to exactly one of them, its parent. */
export interface JoinModel {
  child: number;
  parent: number;
  kind: 'inner' | 'left';
  conditions: JoinCondition[];
  /** ON conjuncts on the child alone: they restrict which child rows match. */
  childFilters: Expr[];
}

export interface OutputColumn {
  name: string;
  /** Over base columns; in a grouped view over group-key and aggregate slots. */
  expr: Expr;
  type: SqlType;
  nullable: boolean;
}

export interface AggregateSpec {
  slot: string;
  fn: AggFn;
  arg?: Expr;
  distinct: boolean;
  type: SqlType;
}

export interface ViewSortItem {
  /** Over the same row as the outputs (slots in a grouped view). */
  expr: Expr;
  desc: boolean;
  nullsFirst: boolean;
}

export interface ViewModel {
  id: string;
  sql: string;
  relations: Relation[];
  /** One per relation after the first, in FROM order. */
  joins: JoinModel[];
  /** WHERE conjuncts (and INNER JOIN conjuncts that are not join keys). */
  where: Expr[];
  outputs: OutputColumn[];
  /** HAVING conjuncts are over the group-key and aggregate slots. */
  grouping?: { keys: Expr[]; aggregates: AggregateSpec[]; having?: Expr[] };
  /** SELECT DISTINCT: duplicate output rows are removed before ORDER BY and LIMIT. */
  distinct?: boolean;
  /** The subqueries of `insub` expressions, by index. */
  sublinks?: ViewModel[];
  orderBy: ViewSortItem[];
  limit?: number;
  offset?: number;
}

/** Slot keys made so far, by relation, then column: rows are read by them once per row and column. */
const slotKeys: Map<string, string>[] = [];
/** Beyond this many, keys are made anew (the names come from view definitions and SQL, so they are few). */
const MAX_SLOT_KEYS = 10_000;
let slotKeyCount = 0;

/**
 * The key of relation `rel`'s column in an engine row. The same string object for the same slot:
 * a property read with a string just concatenated costs V8 a hash and a string-table lookup
 * each time (re-keying 600 fetched rows took 4x as long that way; bench/RESULTS.md).
 */
export function slotKey(rel: number, column: string): string {
  const byColumn = (slotKeys[rel] ??= new Map());
  let key = byColumn.get(column);
  if (key === undefined) {
    key = `${rel}.${column}`;
    if (slotKeyCount < MAX_SLOT_KEYS) {
      byColumn.set(column, key);
      slotKeyCount++;
    }
  }
  return key;
}
