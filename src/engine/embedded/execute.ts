// Runs a plan: fetch units in parallel (bind-joined units after the unit whose keys they need,
// in batches, with bounded concurrency), hash joins in process, then residual filters,
// aggregation, projection, the view's own ORDER BY/LIMIT, the client's order and page. Once the
// request is cancelled (ExecuteOptions.signal), no further fetch or batch is sent and the running
// ones are stopped by their stores.
import { ApiError, requestCancelled } from '../../errors.js';
import { and, type Predicate } from '../../query/predicate.js';
import { evaluate } from '../../query/evaluate.js';
import type { JoinPushdown, NativeQuery, ReadOptions, ScanResult, Source } from '../../sources/source.js';
import { compareForSort, compareValues, type Row, type Value } from '../../values.js';
import type { EngineResult, ExecuteOptions } from '../view.js';
import { slotKey, type Expr } from './ast.js';
import { aggregate } from './aggregate.js';
import { hashKey, promote } from './casts.js';
import { evalExpr } from './eval.js';
import { partialSlot, type FetchUnit, type PartialAggregate, type Plan, type PlannedJoin } from './plan.js';
import { invertComparison } from './predicates.js';
import { columnTypeOf, type SqlType } from './sql-types.js';

interface UnitStats {
  rows: number;
  queries: number;
  keys?: number;
}

export interface ExecutionStats {
  units: UnitStats[];
  /** Rows after each in-process join, in plan order. */
  joinRows: number[];
  afterResidual: number;
  groups?: number;
  outputRows: number;
  returned: number;
}

export interface Execution {
  result: EngineResult;
  stats: ExecutionStats;
}

/** The fetched units joined in process, before anything that follows the joins. */
export interface Joined {
  rows: Row[];
  stats: ExecutionStats;
  queries: NativeQuery[];
  fetched: Record<string, number>;
  storeCount?: number;
}

export async function fetchAndJoin(plan: Plan, source: (name: string) => Source, options: ExecuteOptions = {}): Promise<Joined> {
  const run = new Run(plan, source, options);
  const unitRows = await run.fetchAll();
  const stats: ExecutionStats = { units: run.unitStats, joinRows: [], afterResidual: 0, outputRows: 0, returned: 0 };
  let rows = unitRows[0]!;
  for (const { unit, join } of plan.joins) {
    rows = hashJoin(rows, unitRows[unit]!, join);
    stats.joinRows.push(rows.length);
  }
  return {
    rows,
    stats,
    queries: run.queries,
    fetched: run.fetched,
    ...(run.storeCount !== undefined ? { storeCount: run.storeCount } : {}),
  };
}

export async function executePlan(plan: Plan, source: (name: string) => Source, options: ExecuteOptions = {}): Promise<Execution> {
  const joined = await fetchAndJoin(plan, source, options);
  const stats = joined.stats;
  let rows = joined.rows;
  if (plan.residual.length > 0) rows = rows.filter((r) => plan.residual.every((e) => evalExpr(e, r) === true));
  stats.afterResidual = rows.length;

  const view = plan.view;
  if (view.grouping) {
    rows = aggregate(rows, view.grouping.keys, view.grouping.aggregates);
    const having = view.grouping.having;
    if (having) rows = rows.filter((r) => having.every((e) => evalExpr(e, r) === true));
    stats.groups = rows.length;
  }
  rows = project(plan, rows);
  if (plan.postFilter) {
    const types = new Map(view.outputs.map((o) => [o.name, columnTypeOf(o.type)]));
    const pf = plan.postFilter;
    rows = rows.filter((r) => evaluate(pf, r, types) === true);
  }
  stats.outputRows = rows.length;

  const count = plan.count ? (plan.countInStore ? joined.storeCount : rows.length) : undefined;
  const types = new Map(view.outputs.map((o) => [o.name, columnTypeOf(o.type)]));
  const order = plan.orderBy;
  rows.sort((a, b) => {
    for (const t of order) {
      const c = compareForSort(types.get(t.column)!, a[t.column] ?? null, b[t.column] ?? null, t.desc);
      if (c !== 0) return c;
    }
    return 0;
  });
  const start = plan.offsetPushed ? 0 : plan.offset;
  const page = rows.slice(start, start + plan.limit);
  stats.returned = page.length;
  return {
    result: {
      rows: page.map((r) => pick(r, plan.columns)),
      ...(count !== undefined ? { count } : {}),
      hasMore: rows.length > start + plan.limit,
      queries: joined.queries,
      fetched: joined.fetched,
    },
    stats,
  };
}

function pick(row: Row, columns: string[]): Row {
  const out: Row = {};
  for (const c of columns) out[c] = row[c] ?? null;
  return out;
}

/**
 * Output rows (the outputs the request needs), after the view's own ORDER BY / LIMIT / OFFSET;
 * under DISTINCT the first row of each set of equal output rows stands for them (its ORDER BY
 * values are those of the outputs, which are equal).
 */
function project(plan: Plan, rows: Row[]): Row[] {
  const view = plan.view;
  const outputs = view.outputs.filter((o) => plan.outputs.includes(o.name));
  const projectRow = (r: Row): Row => {
    const out: Row = {};
    for (const o of outputs) out[o.name] = evalExpr(o.expr, r);
    return out;
  };
  const projected = view.distinct ? distinctRows(rows, projectRow, outputs) : undefined;
  if (projected) rows = [...projected.keys()];
  const limited = view.limit !== undefined || view.offset !== undefined;
  if (limited && view.orderBy.length > 0) {
    const keyed = rows.map((r) => ({ r, k: view.orderBy.map((o) => evalExpr(o.expr, r)) }));
    keyed.sort((a, b) => {
      for (let i = 0; i < view.orderBy.length; i++) {
        const o = view.orderBy[i]!;
        const c = sortCompare(o.expr.type, a.k[i]!, b.k[i]!, o.desc, o.nullsFirst);
        if (c !== 0) return c;
      }
      return 0;
    });
    rows = keyed.map((x) => x.r);
  }
  if (limited) rows = rows.slice(view.offset ?? 0, view.limit === undefined ? undefined : (view.offset ?? 0) + view.limit);
  return rows.map((r) => projected?.get(r) ?? projectRow(r));
}

/** One input row per distinct output row (NULLs equal, as DISTINCT compares), mapped to that output row. */
function distinctRows(rows: Row[], projectRow: (r: Row) => Row, outputs: { name: string; type: SqlType }[]): Map<Row, Row> {
  const seen = new Set<string>();
  const out = new Map<Row, Row>();
  for (const r of rows) {
    const p = projectRow(r);
    const key = JSON.stringify(outputs.map((o) => (p[o.name] === null ? null : hashKey(p[o.name]!, o.type))));
    if (seen.has(key)) continue;
    seen.add(key);
    out.set(r, p);
  }
  return out;
}

export function sortCompare(type: SqlType, a: Value, b: Value, desc: boolean, nullsFirst: boolean): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    return (a === null) === nullsFirst ? -1 : 1;
  }
  const c = compareValues(columnTypeOf(type), a, b);
  return desc ? -c : c;
}

/** Exact INNER / LEFT join on equality keys; a NULL key never matches. */
export function hashJoin(left: Row[], right: Row[], join: PlannedJoin): Row[] {
  const only = join.conditions.length === 1 ? join.conditions[0]! : undefined;
  const keyOf = (row: Row, side: 'parentKey' | 'childKey'): string | undefined => {
    if (only) {
      const v = evalExpr(only[side], row);
      return v === null ? undefined : hashKey(promote(v, only[side].type, only.via)!, only.via);
    }
    const parts: string[] = [];
    for (const c of join.conditions) {
      const e = c[side];
      const v = evalExpr(e, row);
      if (v === null) return undefined;
      parts.push(hashKey(promote(v, e.type, c.via)!, c.via));
    }
    return parts.join('\u0000');
  };
  const table = new Map<string, Row[]>();
  for (const r of right) {
    const k = keyOf(r, 'childKey');
    if (k === undefined) continue;
    const bucket = table.get(k);
    if (bucket) bucket.push(r);
    else table.set(k, [r]);
  }
  const out: Row[] = [];
  for (const l of left) {
    const k = keyOf(l, 'parentKey');
    const matches = k === undefined ? undefined : table.get(k);
    if (matches) for (const r of matches) out.push({ ...l, ...r });
    else if (join.kind === 'left') out.push(l);
  }
  return out;
}

/** One request's fetching: the row budget, the concurrency limit, the log of native queries. */
class Run {
  readonly queries: NativeQuery[] = [];
  readonly fetched: Record<string, number> = {};
  readonly unitStats: UnitStats[];
  storeCount?: number;
  private used = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  private failed = false;
  private firstError: unknown;

  constructor(
    private readonly plan: Plan,
    private readonly source: (name: string) => Source,
    private readonly options: ExecuteOptions,
  ) {
    this.unitStats = plan.units.map(() => ({ rows: 0, queries: 0 }));
    for (const u of plan.units) this.fetched[u.source] ??= 0;
  }

  /** Fetches every unit; on a failure waits for the queries already sent, then throws the first error. */
  async fetchAll(): Promise<Row[][]> {
    const started = new Map<number, Promise<Row[]>>();
    // A bound unit starts once the unit whose keys it needs is fetched (bindings never form a cycle).
    const start = (u: FetchUnit): Promise<Row[]> => {
      let p = started.get(u.id);
      if (p) return p;
      p = (async () => {
        const provider = u.bind ? await start(this.plan.units[u.bind.fromUnit]!) : undefined;
        if (this.failed) return [];
        return this.fetchUnit(u, provider);
      })();
      p.catch((err: unknown) => this.fail(err));
      started.set(u.id, p);
      return p;
    };
    const promises = this.plan.units.map(start);
    const settled = await Promise.allSettled(promises);
    if (this.failed) throw this.firstError ?? (settled.find((s) => s.status === 'rejected') as PromiseRejectedResult).reason;
    return settled.map((s) => (s as PromiseFulfilledResult<Row[]>).value);
  }

  private async fetchUnit(u: FetchUnit, providerRows: Row[] | undefined): Promise<Row[]> {
    let rows: Row[];
    if (!u.bind) rows = await this.fetchOnce(u, undefined);
    else {
      const keys = this.bindKeys(u, providerRows!);
      this.unitStats[u.id]!.keys = keys.length;
      const size = Math.max(1, Math.min(this.plan.batchSize, this.source(u.source).limits.maxKeysPerStatement));
      const batches: (typeof keys)[] = [];
      for (let i = 0; i < keys.length; i += size) batches.push(keys.slice(i, i + size));
      // Settle every batch before failing, so no query of this request is still running afterwards.
      const parts = await Promise.allSettled(batches.map((b) => this.fetchOnce(u, { op: 'in', column: u.bind!.targetColumn, values: b })));
      const failure = parts.find((x): x is PromiseRejectedResult => x.status === 'rejected');
      if (failure) throw failure.reason;
      rows = parts.flatMap((x) => (x as PromiseFulfilledResult<Row[]>).value);
    }
    const local = u.scans.flatMap((s) => s.local);
    return local.length === 0 ? rows : rows.filter((r) => local.every((e) => evalExpr(e, r) === true));
  }

  /** The distinct values of the target column that can match the provider's keys. */
  private bindKeys(u: FetchUnit, providerRows: Row[]): Exclude<Value, null>[] {
    const b = u.bind!;
    const via = b.via as SqlType;
    const seen = new Map<string, Exclude<Value, null>>();
    const cache = new Map<string, Exclude<Value, null> | null>();
    for (const r of providerRows) {
      const v = evalExpr(b.providerKey, r);
      if (v === null) continue;
      const w = promote(v, b.providerKey.type, via)!;
      const k = hashKey(w, via);
      if (cache.has(k)) continue;
      const p = invertComparison(b.targetKey, '=', w, via);
      const target = p && p.op === 'cmp' ? p.value : null;
      cache.set(k, target);
      if (target !== null) seen.set(hashKey(target, innermostType(b.targetKey)), target);
    }
    return [...seen.values()];
  }

  /** One native query (or one bind batch) for the unit, through the concurrency limit and the row budget. */
  private async fetchOnce(u: FetchUnit, keyIn: Predicate | undefined): Promise<Row[]> {
    await this.slot();
    try {
      if (this.failed) return [];
      if (this.options.signal?.aborted) throw requestCancelled();
      const src = this.source(u.source);
      const budgetCap = this.plan.rowBudget - this.used + 1;
      const limit = u.limit === undefined ? budgetCap : Math.min(u.limit, budgetCap);
      const whereOf = (rel: number): Predicate | undefined => {
        const s = u.scans.find((x) => x.rel === rel)!;
        return and(...s.pushed.map((p) => p.predicate), keyIn && u.bind!.targetRel === rel ? keyIn : undefined);
      };
      let rows: Row[];
      let native: NativeQuery;
      if (u.members.length === 1) {
        const rel = u.members[0]!;
        const table = this.plan.view.relations[rel]!.table;
        const scan = u.scans[0]!;
        const where = whereOf(rel);
        if (u.partial) {
          const res = await src.aggregate?.(table, { ...(where ? { where } : {}), ...u.partial, limit }, this.options);
          if (!res) throw new Error(`source "${u.source}" declined the partial aggregation it was planned for`);
          this.queries.push(res.native);
          return this.counted(
            u,
            res.rows.map((r) => partialRow(r, rel, u.partial!)),
          );
        }
        const pushdown = {
          columns: scan.columns,
          ...(where ? { where } : {}),
          ...(u.orderBy ? { orderBy: u.orderBy.map((o) => ({ column: o.column, desc: o.desc })) } : {}),
          limit,
          ...(u.offset ? { offset: u.offset } : {}),
        };
        const countP = this.plan.countInStore ? src.count(table, where, this.options) : undefined;
        const [res, count] = await Promise.all([src.scan(table, pushdown, this.options), countP]);
        if (count !== undefined) {
          this.storeCount = count;
          this.queries.push({ source: u.source, text: `count(*) of ${table} with the same filter`, params: [] });
        }
        native = res.native;
        rows = res.rows.map((r) => {
          const out: Row = {};
          for (const k in r) out[slotKey(rel, k)] = r[k]!;
          return out;
        });
      } else {
        const scanJoin = joinScanner(src);
        if (!scanJoin) throw new Error(`source "${u.source}" cannot run joins`);
        const alias = (rel: number): string => `t${rel}`;
        const res = await scanJoin(
          {
            tables: u.members.map((rel) => {
              const where = whereOf(rel);
              return {
                alias: alias(rel),
                table: this.plan.view.relations[rel]!.table,
                columns: u.scans.find((s) => s.rel === rel)!.columns,
                ...(where ? { where } : {}),
              };
            }),
            joins: u.internalJoins.map((j) => ({
              kind: j.kind,
              alias: alias(j.child),
              parentAlias: alias(j.parent),
              on: j.conditions.map((c) => ({
                parentColumn: (c.parentKey as Extract<Expr, { kind: 'column' }>).column,
                column: (c.childKey as Extract<Expr, { kind: 'column' }>).column,
              })),
            })),
            ...(u.orderBy ? { orderBy: u.orderBy.map((o) => ({ alias: alias(o.rel), column: o.column, desc: o.desc })) } : {}),
            limit,
            ...(u.offset ? { offset: u.offset } : {}),
          },
          this.options,
        );
        native = res.native;
        rows = res.rows.map((r) => {
          const out: Row = {};
          for (const [k, v] of Object.entries(r)) out[k.slice(1)] = v; // "t3.col" -> "3.col"
          return out;
        });
      }
      this.queries.push(native);
      return this.counted(u, rows);
    } catch (err) {
      this.fail(err);
      throw err;
    } finally {
      this.release();
    }
  }

  /** Counts fetched rows (or partial groups) against the row budget. */
  private counted(u: FetchUnit, rows: Row[]): Row[] {
    const n = rows.length;
    this.unitStats[u.id]!.queries++;
    this.unitStats[u.id]!.rows += n;
    this.fetched[u.source] = (this.fetched[u.source] ?? 0) + n;
    this.used += n;
    if (this.used > this.plan.rowBudget) throw this.budgetError();
    return rows;
  }

  /** Remembers the first failure; later batches are not sent. */
  private fail(err: unknown): void {
    if (!this.failed) this.firstError = err;
    this.failed = true;
  }

  private budgetError(): ApiError {
    const view = this.plan.view;
    const hint = keyHint(this.plan);
    return new RowBudgetExceeded(
      { ...this.fetched },
      `view "${view.id}" would read more than ${this.plan.rowBudget} rows from its stores for this request (the row budget). ` +
        `Narrow the query with a filter on a key column${hint ? ` (e.g. ${hint} = ...)` : ''}, or materialize the view in a PostgreSQL hub (engine: hub with materialize) and query it there.`,
      // No per-store counts: they would tell a caller how many rows its filter matched before the
      // row filter on sides it cannot see (docs/security.md). explain shows them to who may explain.
      { view: view.id, rowBudget: this.plan.rowBudget },
    );
  }

  private async slot(): Promise<void> {
    if (this.active < this.plan.concurrency) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.active--;
  }
}

/** The 422 of an exceeded row budget; the per-store counts travel beside it, for explain only. */
export class RowBudgetExceeded extends ApiError {
  constructor(
    readonly fetched: Record<string, number>,
    message: string,
    context: Record<string, unknown>,
  ) {
    super('row_budget_exceeded', message, context);
  }
}

/** A partial group as a row of its relation: group columns in their slots, partial aggregates in partialSlot(i). */
function partialRow(r: Row, rel: number, partial: PartialAggregate): Row {
  const out: Row = {};
  partial.group.forEach((c, i) => (out[slotKey(rel, c)] = r[`g${i}`] ?? null));
  partial.metrics.forEach((_, i) => (out[partialSlot(i)] = r[`a${i}`] ?? null));
  return out;
}

function innermostType(e: Expr): SqlType {
  let cur = e;
  while (cur.kind === 'cast') cur = cur.arg;
  return cur.type;
}

/**
 * An output column to suggest filtering on: a primary key of the first table, else the first
 * column. Only columns the request asked for, which the caller can see: a hint never names a
 * hidden column.
 */
function keyHint(plan: Plan): string | undefined {
  const view = plan.view;
  const first = view.relations[0]!;
  const visible = (name: string) => plan.requested.includes(name);
  for (const o of view.outputs) {
    let e = o.expr;
    while (e.kind === 'cast') e = e.arg;
    if (e.kind === 'column' && e.rel === 0 && first.primaryKey.includes(e.column) && visible(o.name)) return o.name;
  }
  return view.outputs.find((o) => visible(o.name))?.name;
}

/** The source's scanJoin, if it can run a join of its own tables as one query. */
export function joinScanner(src: Source): ((pd: JoinPushdown, options?: ReadOptions) => Promise<ScanResult>) | undefined {
  return src.scanJoin ? (pd, options) => src.scanJoin!(pd, options) : undefined;
}
