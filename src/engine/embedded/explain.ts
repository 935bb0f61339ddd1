// Explain output: the plan tree as readable text (with rows and queries per node once it ran),
// and SQL-like text for expressions and pushed predicates.
import { ApiError, StoreError } from '../../errors.js';
import type { Predicate } from '../../query/predicate.js';
import type { Value } from '../../values.js';
import type { Expr, ViewModel } from './ast.js';
import type { ExplainResult } from '../view.js';
import { RowBudgetExceeded, type ExecutionStats } from './execute.js';
import type { FetchUnit, Plan, PlannedJoin } from './plan.js';
import { typeName } from './sql-types.js';

function formatValue(v: Value): string {
  if (v === null) return 'NULL';
  if (typeof v === 'string') return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === 'bigint' || typeof v === 'number') return String(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  return `'${JSON.stringify(v).replace(/'/g, "''")}'`;
}

const MAX_LISTED = 8;

function list(values: Value[]): string {
  const shown = values.slice(0, MAX_LISTED).map(formatValue).join(', ');
  return values.length > MAX_LISTED ? `${shown}, ... ${values.length} values` : shown;
}

/** A source predicate (column names of one table, or output names). */
export function formatPredicate(p: Predicate): string {
  switch (p.op) {
    case 'and':
    case 'or':
      return p.args.length === 0 ? (p.op === 'and' ? 'TRUE' : 'FALSE') : `(${p.args.map(formatPredicate).join(` ${p.op.toUpperCase()} `)})`;
    case 'not':
      return p.arg.op === 'isnull' ? `${p.arg.column} IS NOT NULL` : `NOT ${formatPredicate(p.arg)}`;
    case 'const':
      return p.value === null ? 'NULL' : p.value ? 'TRUE' : 'FALSE';
    case 'isnull':
      return `${p.column} IS NULL`;
    case 'cmp':
      return `${p.column} ${p.cmp} ${formatValue(p.value)}`;
    case 'in':
      return `${p.column} IN (${list(p.values)})`;
    case 'like':
      return `${p.column} LIKE ${formatValue(p.pattern)}`;
  }
}

export function formatExpr(e: Expr, view: ViewModel): string {
  const f = (x: Expr): string => formatExpr(x, view);
  switch (e.kind) {
    case 'column':
      return `${view.relations[e.rel]!.alias}.${e.column}`;
    case 'const':
      return formatValue(e.value);
    case 'slot': {
      const i = Number(e.slot.slice(1));
      if (e.slot.startsWith('g') && view.grouping) return f(view.grouping.keys[i]!);
      const a = view.grouping?.aggregates[i];
      return a ? `${a.fn}(${a.distinct ? 'DISTINCT ' : ''}${a.arg ? f(a.arg) : '*'})` : e.slot;
    }
    case 'agg':
      return `${e.fn}(${e.distinct ? 'DISTINCT ' : ''}${e.arg ? f(e.arg) : '*'})`;
    case 'cast':
      return `${f(e.arg)}::${e.mod?.precision !== undefined ? `numeric(${e.mod.precision},${e.mod.scale ?? 0})` : typeName(e.type).replace('timestamp with time zone', 'timestamptz')}`;
    case 'arith':
      return `(${f(e.left)} ${e.op} ${f(e.right)})`;
    case 'neg':
      return `-${f(e.arg)}`;
    case 'concat':
      return `${f(e.left)} || ${f(e.right)}`;
    case 'coalesce':
      return `COALESCE(${e.args.map(f).join(', ')})`;
    case 'fn':
      return `${e.fn}(${e.args.map(f).join(', ')})`;
    case 'case':
      return `CASE ${e.whens.map((w) => `WHEN ${f(w.when)} THEN ${f(w.then)}`).join(' ')}${e.else ? ` ELSE ${f(e.else)}` : ''} END`;
    case 'and':
    case 'or':
      return `(${e.args.map(f).join(` ${e.kind.toUpperCase()} `)})`;
    case 'not':
      return e.arg.kind === 'isnull' ? `${f(e.arg.arg)} IS NOT NULL` : `NOT ${f(e.arg)}`;
    case 'isnull':
      return `${f(e.arg)} IS NULL`;
    case 'insub':
      return `${f(e.arg)} IN (subquery ${e.sub + 1})`;
    case 'compare':
      return `${f(e.left)} ${e.op} ${f(e.right)}`;
    case 'in':
      return `${f(e.arg)} IN (${e.list.map(f).join(', ')})`;
    case 'like':
      return `${f(e.arg)} ${e.caseInsensitive ? 'ILIKE' : 'LIKE'} ${f(e.pattern)}`;
  }
}

function joinText(j: PlannedJoin, view: ViewModel): string {
  const on = j.conditions.map((c) => `${formatExpr(c.childKey, view)} = ${formatExpr(c.parentKey, view)}`).join(' AND ');
  return `${j.kind.toUpperCase()} JOIN ${view.relations[j.child]!.alias} ON ${on}${j.fromLeft ? ' (LEFT in the view; planned as INNER)' : ''}`;
}

function unitLines(u: FetchUnit, plan: Plan, stats: ExecutionStats | undefined): string[] {
  const view = plan.view;
  const rel = (i: number): string => {
    const r = view.relations[i]!;
    return `${r.source}.${r.table}${r.alias !== r.table ? ` ${r.alias}` : ''}`;
  };
  const s = stats?.units[u.id];
  const ran = s
    ? `  [${s.queries} ${s.queries === 1 ? 'query' : 'queries'}, ${s.rows} ${s.rows === 1 ? 'row' : 'rows'}${s.keys !== undefined ? `, ${s.keys} keys` : ''}]`
    : '';
  const what =
    u.members.length === 1
      ? rel(u.members[0]!)
      : [rel(u.members[0]!), ...u.internalJoins.map((j) => `${j.kind.toUpperCase()} JOIN ${rel(j.child)}`)].join(' ');
  const lines = [`${u.bind ? 'BindFetch' : 'Fetch'} ${u.source} (${u.sourceKind}): ${what}${ran}`];
  if (u.members.length > 1) for (const j of u.internalJoins) lines.push(`  join in store: ${joinText(j, view)}`);
  for (const sc of u.scans) {
    const alias = view.relations[sc.rel]!.alias;
    const prefix = u.members.length > 1 ? `${alias}: ` : '';
    if (u.partial)
      lines.push(
        `  partial groups in store: GROUP BY ${u.partial.group.join(', ')}; ${u.partial.metrics.map((m) => `${m.fn}(${m.column ?? '*'})`).join(', ') || 'no aggregates'}`,
      );
    else lines.push(`  ${prefix}columns: ${sc.columns.join(', ') || '(none: rows only)'}`);
    for (const p of sc.pushed)
      lines.push(`  ${prefix}pushed: ${formatPredicate(p.predicate)}  (${p.origin}${p.via ? ` from ${p.via}` : ''})`);
    for (const e of sc.local) lines.push(`  ${prefix}filter in process after fetch: ${formatExpr(e, view)}`);
  }
  if (u.orderBy) {
    const order = u.orderBy.map((o) => `${view.relations[o.rel]!.alias}.${o.column}${o.desc ? ' DESC' : ''}`).join(', ');
    lines.push(`  pushed: ORDER BY ${order} LIMIT ${u.limit}${u.offset ? ` OFFSET ${u.offset}` : ''}`);
  }
  if (u.bind) {
    const b = u.bind;
    lines.push(
      `  keys: ${view.relations[b.targetRel]!.alias}.${b.targetColumn} IN (distinct ${formatExpr(b.providerKey, view)} of fetch #${b.fromUnit}), batches of ${plan.batchSize}, ${plan.concurrency} at a time`,
    );
  }
  lines.push(`  ${u.reason}`);
  return lines.map((l, i) => (i === 0 ? `#${u.id} ${l}` : l));
}

function indent(lines: string[], by: string): string[] {
  return lines.map((l) => by + l);
}

/** The plan as an indented tree, top (the page) first; with row counts when `stats` is given. */
export function renderPlan(plan: Plan, stats?: ExecutionStats): string {
  const view = plan.view;
  const out: string[] = [];
  const rows = (n: number | undefined): string => (stats && n !== undefined ? `  [${n} ${n === 1 ? 'row' : 'rows'}]` : '');
  const order = plan.orderBy.map((o) => `${o.column}${o.desc ? ' DESC' : ''}`).join(', ');
  const stack: string[][] = [];
  if (plan.combine) out.push(`Combine ${plan.combine}${rows(stats?.groups)}`);
  else {
    out.push(
      `Page: ORDER BY ${order || '(none)'} LIMIT ${plan.limit} OFFSET ${plan.offset}${plan.offsetPushed ? ' (offset applied by the store)' : ''}${plan.count ? ', with count' : ''}${rows(stats?.returned)}`,
    );
    if (plan.postFilter) stack.push([`Filter on output rows: ${formatPredicate(plan.postFilter)}${rows(stats?.outputRows)}`]);
    stack.push([`Project${view.distinct ? ' DISTINCT' : ''}: ${plan.outputs.join(', ')}`]);
  }
  if (view.limit !== undefined || view.offset !== undefined) {
    stack.push([
      `View ORDER BY ${view.orderBy.map((o) => formatExpr(o.expr, view) + (o.desc ? ' DESC' : '')).join(', ') || '(none)'} LIMIT ${view.limit ?? 'ALL'} OFFSET ${view.offset ?? 0}`,
    ]);
  }
  if (view.grouping) {
    const g = view.grouping;
    stack.push([
      `Aggregate: GROUP BY ${g.keys.map((k) => formatExpr(k, view)).join(', ') || '()'}; ${g.aggregates.map((a) => formatExpr({ kind: 'slot', slot: a.slot, type: a.type }, view)).join(', ')}${g.having ? `; HAVING ${g.having.map((h) => formatExpr(h, view)).join(' AND ')}` : ''}${rows(stats?.groups)}`,
    ]);
  }
  if (plan.residual.length > 0)
    stack.push([`Filter after joins: ${plan.residual.map((e) => formatExpr(e, view)).join(' AND ')}${rows(stats?.afterResidual)}`]);
  let depth = '  ';
  for (const s of stack) {
    out.push(...indent(s, depth));
    depth += '  ';
  }
  out.push(...indent(joinTree(plan, plan.joins.length - 1, stats), depth));
  if (plan.notes.length > 0) {
    out.push('', 'Decisions:');
    for (const n of plan.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}

function joinTree(plan: Plan, k: number, stats: ExecutionStats | undefined): string[] {
  if (k < 0) return unitLines(plan.units[0]!, plan, stats);
  const { unit, join } = plan.joins[k]!;
  const n = stats?.joinRows[k];
  return [
    `HashJoin ${joinText(join, plan.view)}${n !== undefined ? `  [${n} ${n === 1 ? 'row' : 'rows'}]` : ''}`,
    ...indent(joinTree(plan, k - 1, stats), '  '),
    ...indent(unitLines(plan.units[unit]!, plan, stats), '  '),
  ];
}

/** Over budget or a data error: the plan still explains why; anything else is thrown. */
export function explainFailure(plan: Plan, err: unknown): ExplainResult {
  if (!(err instanceof ApiError) || err instanceof StoreError || err.kind === 'request_cancelled') throw err;
  const fetched = err instanceof RowBudgetExceeded ? { fetched: err.fetched } : {};
  return {
    plan: { engine: 'embedded', text: renderPlan(plan), error: { status: err.status, message: err.message }, ...fetched },
    queries: [],
  };
}
