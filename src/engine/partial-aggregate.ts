// Partial aggregation below a join (docs/engine.md, "Aggregate pushdown"). For aggregates over a
// view `A JOIN B ON A.k = B.k` where B.k is B's primary key, A's store groups A's rows by A.k and
// A's group columns (counts, sums, mins, maxes); those partial groups are joined with B's rows as
// A's rows would be, and combined here into the groups the rows would give, in the store's result
// layout, so the single-store code finishes them (avg as sum / count, minGroup, having, page).
// The embedded engine (src/engine/embedded/) offers it as its ViewEngine.aggregate.
import type { MetricFn } from '../query/aggregate-query.js';
import { and } from '../query/predicate.js';
import type { AggregatePushdown, Source } from '../sources/source.js';
import type { Row } from '../values.js';
import { outputTypes, type Groups } from './aggregate/in-process.js';
import { groupsOfStoreRows, storeLayout } from './aggregate/pushed.js';
import { aggregateColumns } from './aggregate/run.js';
import { metricSqlType, sqlTypeOf, type AggregateQuery, type AggregateResult } from './aggregate/types.js';
import { aggregate } from './embedded/aggregate.js';
import type { AggregateSpec, Expr } from './embedded/ast.js';
import { fetchAndJoin, type Joined } from './embedded/execute.js';
import { explainFailure, renderPlan } from './embedded/explain.js';
import { castColumn, relationsOf } from './embedded/expr-tools.js';
import { partialSlot, type Plan, type PlannedJoin } from './embedded/plan.js';
import { chainInvertible } from './embedded/predicates.js';
import { castInjective, type SqlType } from './embedded/sql-types.js';
import type { EngineQuery, ExecuteOptions, ExplainResult, ViewColumn } from './view.js';

/** What the aggregation needs of an embedded engine. */
export interface JoinedView {
  pushdown: boolean;
  columns: ReadonlyMap<string, ViewColumn>;
  /** The engine's plan of a governed query (EmbeddedEngine.plan). */
  plan(q: EngineQuery): Plan;
  source(name: string): Source;
}

/** The groups, aggregated below the join, or undefined when that is not sound (then they run in process). */
export async function aggregateBelowJoin(
  view: JoinedView,
  q: EngineQuery,
  agg: AggregateQuery,
  options: ExecuteOptions = {},
): Promise<AggregateResult | undefined> {
  const partial = await partialAggregation(view, q, agg);
  if (!partial) return undefined;
  const { joined, groups } = await run(view, partial, agg, options);
  return { ...groups, ranIn: 'store', queries: joined.queries };
}

/** With aggregateBelowJoin: its plan (run, so every query is known), or undefined when it declines. */
export async function explainBelowJoin(
  view: JoinedView,
  q: EngineQuery,
  agg: AggregateQuery,
  options: ExecuteOptions = {},
): Promise<ExplainResult | undefined> {
  const partial = await partialAggregation(view, q, agg);
  if (!partial) return undefined;
  try {
    const { joined, groups } = await run(view, partial, agg, options);
    joined.stats.groups = groups.rows.length;
    const plan = { engine: 'embedded', text: renderPlan(partial.plan, joined.stats), fetched: joined.fetched };
    return { plan: { ...plan, returned: groups.rows.length, hasMore: groups.hasMore }, queries: joined.queries };
  } catch (err) {
    return explainFailure(partial.plan, err);
  }
}

async function run(
  view: JoinedView,
  partial: PartialAggregation,
  agg: AggregateQuery,
  options: ExecuteOptions,
): Promise<{ joined: Joined; groups: Groups }> {
  const joined = await fetchAndJoin(partial.plan, (name) => view.source(name), options);
  return { joined, groups: combinePartials(joined.rows, partial, agg, view.columns) };
}

/** The partial aggregation for this request, when it is sound and A's store says its GROUP BY exactly. */
async function partialAggregation(view: JoinedView, q: EngineQuery, agg: AggregateQuery): Promise<PartialAggregation | undefined> {
  if (!view.pushdown) return undefined;
  const plan = view.plan({ ...q, columns: aggregateColumns(agg), orderBy: [], offset: 0, limit: 1, count: false });
  const found = planPartialAggregation(plan, agg, view.columns);
  if ('declined' in found) return undefined;
  const unit = plan.units[found.unit]!;
  const where = and(...unit.scans[0]!.pushed.map((p) => p.predicate));
  const table = plan.view.relations[unit.members[0]!]!.table;
  const native = await view.source(unit.source).explainAggregate?.(table, { ...(where ? { where } : {}), ...unit.partial!, limit: 1 });
  return native ? found : undefined;
}

/** One slot of the combined groups (a0, a1, ... as storeLayout). */
interface CombineSpec extends AggregateSpec {
  /** A count: 0, not NULL, when no partial group reaches it (an aggregate without groups over no rows). */
  count: boolean;
}

interface PartialAggregation {
  /** The request's plan, A's fetch unit marked `partial`. */
  plan: Plan;
  /** A's fetch unit. */
  unit: number;
  /** The group columns over the joined rows, in the query's order. */
  keys: Expr[];
  combine: CombineSpec[];
}

interface Declined {
  declined: string;
}

/**
 * Marks A's fetch unit in `plan` (the governed scan of the aggregation's columns) as a partial
 * aggregation for `agg` when that gives exactly the rows' groups, or says why not. The caller
 * still asks A's store whether it says that GROUP BY exactly (Source.explainAggregate).
 */
function planPartialAggregation(plan: Plan, agg: AggregateQuery, columns: ReadonlyMap<string, ViewColumn>): PartialAggregation | Declined {
  const view = plan.view;
  if (!plan.pushdown) return { declined: 'pushdown is off' };
  if (view.grouping || view.limit !== undefined || view.offset !== undefined)
    return { declined: 'the view aggregates or has its own LIMIT/OFFSET' };
  if (plan.units.length !== 2 || plan.joins.length !== 1 || plan.units.some((u) => u.members.length !== 1 || u.limit !== undefined))
    return { declined: 'the view is not two tables fetched from two stores' };
  if (plan.postFilter || plan.residual.length > 0) return { declined: 'a condition is evaluated after the join' };
  const join = plan.joins[0]!.join;
  // A LEFT JOIN's NULL-padded side never aggregates: its partial groups would stand for rows the preserved side multiplies.
  const candidates = join.kind === 'left' ? [join.parent] : [join.parent, join.child];
  const reasons: string[] = [];
  for (const a of candidates) {
    const found = partialOn(plan, agg, columns, join, a);
    if (!('declined' in found)) return found;
    reasons.push(found.declined);
  }
  return { declined: reasons.join('; ') };
}

function partialOn(
  plan: Plan,
  agg: AggregateQuery,
  columns: ReadonlyMap<string, ViewColumn>,
  join: PlannedJoin,
  a: number,
): PartialAggregation | Declined {
  const view = plan.view;
  const alias = (rel: number): string => view.relations[rel]!.alias;
  const aIsParent = a === join.parent;
  const b = aIsParent ? join.child : join.parent;
  const unit = plan.units.find((u) => u.members[0] === a)!;
  if (unit.scans[0]!.local.length > 0) return { declined: `a condition on ${alias(a)} is evaluated in process, not by its store` };

  // Each row of A meets at most one row of B: B's side of the join covers B's primary key, through
  // casts that keep distinct values distinct, up to the type the join compares in.
  const aKeys = join.conditions.map((c) => castColumn(aIsParent ? c.parentKey : c.childKey)!.column);
  const bKeys = new Set(
    join.conditions.flatMap((c) => {
      const chain = aIsParent ? c.childKey : c.parentKey;
      return chainInvertible(chain) && castInjective(chain.type, c.via) ? [castColumn(chain)!.column] : [];
    }),
  );
  const pk = view.relations[b]!.primaryKey;
  if (pk.length === 0 || !pk.every((k) => bKeys.has(k)))
    return { declined: `the join does not cover the primary key of ${alias(b)}, so a row of ${alias(a)} may meet several of its rows` };

  const exprOf = (name: string): Expr => view.outputs.find((o) => o.name === name)!.expr;
  const columnOfA = (name: string): string | undefined => {
    const e = exprOf(name);
    return e.kind === 'column' && e.rel === a ? e.column : undefined;
  };
  const group = [...new Set(aKeys)];
  const keys: Expr[] = [];
  for (const g of agg.group) {
    const col = columnOfA(g);
    if (col !== undefined) {
      if (!group.includes(col)) group.push(col);
    } else if ([...relationsOf(exprOf(g))].some((r) => r !== b)) {
      return { declined: `group column "${g}" is computed from ${alias(a)}, not one of its columns` };
    }
    keys.push(exprOf(g));
  }
  // count(distinct x) and distinctOn: decomposable when x has one value per partial group, the join key or a group column.
  const perPartial = (name: string): Expr | undefined => {
    const i = agg.group.indexOf(name);
    if (i >= 0) return keys[i];
    const col = columnOfA(name);
    return col !== undefined && aKeys.includes(col) ? exprOf(name) : undefined;
  };

  const metrics: AggregatePushdown['metrics'] = [];
  const partialOf = (fn: MetricFn, column: string | undefined, type: SqlType): Expr => {
    let i = metrics.findIndex((m) => m.fn === fn && m.column === column);
    if (i < 0) i = metrics.push(column === undefined ? { fn } : { fn, column }) - 1;
    return { kind: 'slot', slot: partialSlot(i), type };
  };
  const combine: CombineSpec[] = [];
  for (const [i, m] of storeLayout(agg).entries()) {
    const slot = `a${i}`;
    if (m.fn === 'count_distinct') {
      const arg = perPartial(m.column!);
      if (!arg) return { declined: `count(distinct ${m.column}) is over neither the join key of ${alias(a)} nor a group column` };
      combine.push({ slot, fn: 'count', arg, distinct: true, type: 'int8', count: true });
      continue;
    }
    const col = m.column === undefined ? undefined : columnOfA(m.column);
    if (m.column !== undefined && col === undefined) return { declined: `${m.fn}(${m.column}) is not over a column of ${alias(a)}` };
    const viewColumn = m.column === undefined ? undefined : columns.get(m.column)!;
    if (m.fn === 'count') {
      combine.push({ slot, fn: 'sum', arg: partialOf('count', col, 'int8'), distinct: false, type: 'int8', count: true });
    } else if (m.fn === 'sum') {
      const type = metricSqlType('sum', viewColumn)!;
      if (type === 'float8') return { declined: `a float sum depends on the order of addition` };
      combine.push({ slot, fn: 'sum', arg: partialOf('sum', col, type), distinct: false, type, count: false });
    } else {
      const type = sqlTypeOf(viewColumn!);
      combine.push({ slot, fn: m.fn === 'min' ? 'min' : 'max', arg: partialOf(m.fn, col, type), distinct: false, type, count: false });
    }
  }

  unit.partial = { group, metrics };
  plan.combine = `GROUP BY ${agg.group.join(', ') || '()'}: partial groups of ${alias(a)} joined with ${alias(b)}; counts and sums added, min of mins, max of maxes, avg = sum / count`;
  plan.notes.push(
    `aggregates are computed in "${unit.source}" per ${group.map((c) => `${alias(a)}.${c}`).join(', ')} before the join: ` +
      `each row of ${alias(a)} meets at most one row of ${alias(b)} (its primary key ${pk.map((k) => `${alias(b)}.${k}`).join(', ')} is the join key)`,
  );
  return { plan, unit: unit.id, keys, combine };
}

/** The groups the rows would give, from the partial groups joined with B's rows. */
function combinePartials(rows: Row[], p: PartialAggregation, agg: AggregateQuery, columns: ReadonlyMap<string, ViewColumn>): Groups {
  const combined = aggregate(rows, p.keys, p.combine);
  for (const g of combined) for (const c of p.combine) if (c.count) g[c.slot] ??= 0n;
  return groupsOfStoreRows(combined, agg, outputTypes(columns, agg));
}
