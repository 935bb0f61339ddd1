// Runs a checked statement whose relations may be subqueries (governed SQL: subqueries in FROM,
// WITH queries, IN (SELECT ...)). Each `IN (SELECT ...)` is uncorrelated: it runs first and
// becomes an IN list of its values, with PostgreSQL's NULL semantics, so the planner pushes it
// like any IN list. Each subquery in FROM is a source of its own whose scan plans and runs the
// subquery with the conjuncts pushed into it (as a view takes a request's filter), so every
// relation inside it is scanned as the caller's relation is, at every reference.
import { ApiError } from '../../errors.js';
import type { Pushdown } from '../../query/predicate.js';
import type { ReadOptions, ScanResult, Source, TableInfo } from '../../sources/source.js';
import type { EngineQuery, ExecuteOptions } from '../view.js';
import type { Value } from '../../values.js';
import type { Expr, ViewModel } from './ast.js';
import { hashKey } from './casts.js';
import { ComputedSource } from './computed-source.js';
import { executePlan, type Execution } from './execute.js';
import { mapExpr } from './expr-tools.js';
import { planRequest, type PlanOptions } from './optimize.js';
import type { Plan } from './plan.js';
import type { NativeQuery } from '../../sources/source.js';
import { SUBQUERY_SOURCE } from './scope.js';
import type { SqlType } from './sql-types.js';

/** How the statement's relations are read and planned; subqueries are added by runQuery. */
export interface QueryEnv {
  source(name: string): Source;
  plan: Omit<PlanOptions, 'offer'>;
  options: ExecuteOptions;
}

/** One run of a subquery, for explain: what it was, its plan, what it did and its native queries. */
export interface Subplan {
  /** `IN (subquery 1)`, or `(subquery).name` for a subquery in FROM or a WITH query. */
  label: string;
  plan: Plan;
  stats: Execution['stats'];
  queries: NativeQuery[];
  subplans: Subplan[];
}

export async function runQuery(model: ViewModel, q: EngineQuery, env: QueryEnv): Promise<Execution & { plan: Plan; subplans: Subplan[] }> {
  const subplans: Subplan[] = [];
  const resolved = await withSubqueryValues(model, env, subplans);
  const subqueries = new Subqueries(resolved, env, subplans);
  const source = (name: string): Source => (name === SUBQUERY_SOURCE ? subqueries : env.source(name));
  const plan = planRequest(resolved, q, { ...env.plan, offer: (name, table, work) => source(name).offer(table, work) });
  return { ...(await executePlan(plan, source, env.options)), plan, subplans };
}

function subplan(label: string, run: Awaited<ReturnType<typeof runQuery>>): Subplan {
  return { label, plan: run.plan, stats: run.stats, queries: run.result.queries, subplans: run.subplans };
}

/** The model with each `x IN (SELECT ...)` replaced by `x IN (its values)`. */
async function withSubqueryValues(model: ViewModel, env: QueryEnv, subplans: Subplan[]): Promise<ViewModel> {
  const subs = model.sublinks ?? [];
  if (subs.length === 0) return model;
  // Settle every subquery before failing, so none of this request's queries still runs afterwards.
  const settled = await Promise.allSettled(subs.map((sub) => subqueryValues(sub, env)));
  const failed = settled.find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
  const lists = settled.map((x) => (x as PromiseFulfilledResult<{ values: Value[]; type: SqlType; run: Subplan }>).value);
  subplans.push(...lists.map((l, i) => ({ ...l.run, label: `IN (subquery ${i + 1})` })));
  const replace = (e: Expr): Expr =>
    mapExpr(e, (x) => {
      if (x.kind !== 'insub') return undefined;
      const { values, type } = lists[x.sub]!;
      // x IN (empty) is FALSE even when x is NULL; otherwise it is the IN list's three-valued result.
      if (values.length === 0) return { kind: 'const', value: false, type: 'bool' };
      const list: Expr[] = values.map((value) => ({ kind: 'const', value, type }));
      const inProcess = values.length > env.plan.batchSize;
      return { kind: 'in', arg: replace(x.arg), list, via: x.via, type: 'bool', ...(inProcess ? { inProcess } : {}) };
    });
  return {
    ...model,
    joins: model.joins.map((j) => ({
      ...j,
      conditions: j.conditions.map((c) => ({ ...c, parentKey: replace(c.parentKey), childKey: replace(c.childKey) })),
      childFilters: j.childFilters.map(replace),
    })),
    where: model.where.map(replace),
    outputs: model.outputs.map((o) => ({ ...o, expr: replace(o.expr) })),
    ...(model.grouping
      ? {
          grouping: {
            ...model.grouping,
            keys: model.grouping.keys.map(replace),
            aggregates: model.grouping.aggregates.map((a) => (a.arg ? { ...a, arg: replace(a.arg) } : a)),
            ...(model.grouping.having ? { having: model.grouping.having.map(replace) } : {}),
          },
        }
      : {}),
    orderBy: model.orderBy.map((o) => ({ ...o, expr: replace(o.expr) })),
  };
}

/** The distinct values of a one-column subquery (one NULL kept when there is any). */
async function subqueryValues(sub: ViewModel, env: QueryEnv): Promise<{ values: Value[]; type: SqlType; run: Subplan }> {
  const out = sub.outputs[0]!;
  const budget = env.plan.rowBudget;
  const run = await runQuery(sub, { columns: [out.name], orderBy: [], limit: budget, offset: 0, count: false }, env);
  const { result } = run;
  if (result.hasMore) throw budgetExceeded(budget);
  const seen = new Map<string, Value>();
  for (const row of result.rows) {
    const v = row[out.name] ?? null;
    seen.set(v === null ? '\u0000null' : hashKey(v, out.type), v);
  }
  return { values: [...seen.values()], type: out.type, run: subplan('', run) };
}

function budgetExceeded(budget: number): ApiError {
  return new ApiError(
    'row_budget_exceeded',
    `a subquery of the statement yields more than ${budget} rows (the row budget); narrow it with a WHERE condition`,
    { rowBudget: budget },
  );
}

/**
 * The statement's subqueries in FROM as one source: a scan runs the subquery with the pushed
 * predicate as its filter on output columns, and returns its output rows.
 */
class Subqueries extends ComputedSource {
  readonly name = SUBQUERY_SOURCE;
  readonly kind = 'subquery';

  constructor(
    private readonly model: ViewModel,
    private readonly env: QueryEnv,
    private readonly subplans: Subplan[],
  ) {
    super();
  }

  private query(table: string): ViewModel {
    const r = this.model.relations.find((x) => x.query && x.table === table);
    if (!r?.query) throw new Error(`no subquery "${table}"`);
    return r.query;
  }

  introspect(table: string): Promise<TableInfo> {
    return Promise.reject(new Error(`subquery "${table}" is described by its analysis`));
  }

  async scan(table: string, pushdown: Pushdown, options: ReadOptions = {}): Promise<ScanResult> {
    const q: EngineQuery = {
      columns: pushdown.columns,
      ...(pushdown.where ? { where: pushdown.where } : {}),
      orderBy: [],
      limit: pushdown.limit ?? this.env.plan.rowBudget + 1,
      offset: 0,
      count: false,
    };
    const run = await runQuery(this.query(table), q, { ...this.env, options: { ...this.env.options, ...options } });
    const { result } = run;
    this.subplans.push(subplan(`(subquery).${table}`, run));
    return { rows: result.rows, native: this.ranFor(`subquery ${table}`, result.queries) };
  }
}
