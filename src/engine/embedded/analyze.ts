// The statement's shape -> the checked view: names resolved against the sources' columns, every
// expression typed with PostgreSQL's rules, joins reduced to "child joins one parent on
// equalities", grouped outputs rewritten over group-key and aggregate slots.
// The steps live beside it: scope.ts (names), expr-typing.ts (types), joins.ts, grouping.ts,
// outputs.ts; each refuses what it does not support with a Refusal at the SQL's position.
// Subqueries (in FROM, WITH queries, IN (SELECT ...)) are analyzed the same way, each on its own.
import type { AggregateSpec, Expr, JoinModel, OutputColumn, ViewModel, ViewSortItem } from './ast.js';
import { boolean, finish } from './coercion.js';
import { conjuncts, containsAggregate, exprEquals } from './expr-tools.js';
import { typed } from './expr-typing.js';
import { groupKey, overSlots } from './grouping.js';
import { analyzeJoin, paddedRelations } from './joins.js';
import { nullable, outputNames, sortExpr } from './outputs.js';
import { locationOf, type RawNode, type SyntaxView } from './parse.js';
import { Refusal } from './refusal.js';
import { bindRelations, type Scope, type TableLookup } from './scope.js';

export async function analyzeView(id: string, sql: string, syntax: SyntaxView, lookup: TableLookup): Promise<ViewModel> {
  const analyzeQuery = (q: SyntaxView): Promise<ViewModel> => analyzeView(id, sql, q, lookup);
  const relations = await bindRelations([syntax.from, ...syntax.joins.map((j) => j.relation)], lookup, (raw) => analyzeQuery(raw.query!));
  const sublinkModels = await Promise.all([...syntax.sublinks.values()].map(analyzeQuery));
  const sublinks =
    sublinkModels.length === 0
      ? undefined
      : new Map<RawNode, { index: number; model: ViewModel }>(
          [...syntax.sublinks.keys()].map((node, index) => [node, { index, model: sublinkModels[index]! }]),
        );

  const where: Expr[] = [];
  const joins: JoinModel[] = syntax.joins.map((j, k) => analyzeJoin(j.kind, j.on, k + 1, relations, where, j.location));
  if (syntax.where) {
    const w = typed(syntax.where, { relations, allowAggregates: false, ...(sublinks ? { sublinks } : {}) });
    where.push(...conjuncts(boolean(w, 'WHERE')));
  }

  const fullScope: Scope = { relations, allowAggregates: true, ...(sublinks ? { sublinks } : {}) };
  const items = syntax.targets.map((t) => ({ t, typedExpr: finish(typed(t.expr, fullScope)) }));
  const names = outputNames(syntax.targets);

  const groupKeys = syntax.groupBy.map((g) =>
    groupKey(
      g,
      syntax,
      items.map((x) => x.typedExpr),
      names,
      relations,
    ),
  );
  const hasAggregate = items.some(({ typedExpr }) => containsAggregate(typedExpr.e));
  const having = syntax.having ? boolean(typed(syntax.having, fullScope), 'HAVING') : undefined;
  const grouped = groupKeys.length > 0 || hasAggregate || having !== undefined;
  const aggregates: AggregateSpec[] = [];
  const toSlots = (e: Expr, loc: number): Expr => (grouped ? overSlots(e, groupKeys, aggregates, loc) : e);

  const padded = paddedRelations(joins);
  const outputs: OutputColumn[] = items.map(({ t, typedExpr }, i) => {
    const expr = toSlots(typedExpr.e, t.location);
    return {
      name: names[i]!,
      expr,
      type: typedExpr.e.type,
      nullable: nullable(typedExpr.e, relations, padded, grouped && groupKeys.length === 0),
    };
  });
  const orderBy: ViewSortItem[] = syntax.orderBy.map((s) => {
    const e = sortExpr(
      s.expr,
      names,
      items.map((x) => x.typedExpr),
      fullScope,
    );
    const expr = toSlots(e, s.location);
    if (expr.type === 'jsonb' || expr.type === 'bytea') throw new Refusal(`cannot sort by a ${expr.type} value`, s.location);
    if (syntax.distinct && !outputs.some((o) => exprEquals(o.expr, expr)))
      throw new Refusal('for SELECT DISTINCT, ORDER BY expressions must appear in the select list', s.location);
    return { expr, desc: s.desc, nullsFirst: s.nulls === 'default' ? s.desc : s.nulls === 'first' };
  });
  const havingSlots = having ? conjuncts(toSlots(having, locationOf(syntax.having) ?? 0)) : undefined;

  return {
    id,
    sql,
    relations,
    joins,
    where,
    outputs,
    ...(grouped ? { grouping: { keys: groupKeys, aggregates, ...(havingSlots ? { having: havingSlots } : {}) } } : {}),
    ...(syntax.distinct ? { distinct: true } : {}),
    ...(sublinkModels.length > 0 ? { sublinks: sublinkModels } : {}),
    orderBy,
    ...(syntax.limit !== undefined ? { limit: syntax.limit } : {}),
    ...(syntax.offset !== undefined ? { offset: syntax.offset } : {}),
  };
}
