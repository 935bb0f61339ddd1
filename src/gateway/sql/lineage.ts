// Lineage of a governed statement: which view columns each part of the checked statement reads.
// A masked column may be read in exactly two places: as an output of the outermost SELECT that is
// the column itself (it is masked on output), or inside count(col) (only whether it is NULL
// counts). Anywhere else it would let its value through an expression, a filter, a join, a group,
// an order, DISTINCT, HAVING or a subquery's output (which the statement around it could compare,
// join or count by value), so the statement is refused naming it. Subqueries in FROM, WITH
// queries and IN (SELECT ...) are checked the same way, each on the columns it reads.
import type { Expr, Relation, ViewModel } from '../../engine/embedded/ast.js';
import { children, mapExpr } from '../../engine/embedded/expr-tools.js';
import { badRequest } from '../../errors.js';
import { isNullMask } from '../../policy/mask.js';

/**
 * The caller's mask on a relation's column (email, null, ...), undefined when it is not masked (a
 * subquery's columns never are: see guardMasked).
 */
export type IsMasked = (relation: Relation, column: string) => string | undefined;

/** The outputs that are a masked column itself: output name -> [relation, column]. */
export function maskedOutputs(model: ViewModel, masked: IsMasked): Map<string, { relation: Relation; column: string }> {
  const out = new Map<string, { relation: Relation; column: string }>();
  for (const o of model.outputs) {
    const e = model.grouping ? undefined : o.expr;
    if (e?.kind === 'column' && masked(model.relations[e.rel]!, e.column) !== undefined)
      out.set(o.name, { relation: model.relations[e.rel]!, column: e.column });
  }
  return out;
}

/** Refuses every read of a masked column that is not an outermost output or count(col). */
export function guardMasked(model: ViewModel, masked: IsMasked, outermost = true): void {
  const name = (rel: number, column: string) => `${model.relations[rel]!.alias}.${column}`;
  const refuse = (e: Expr, where: string): void => {
    const mask = e.kind === 'column' ? masked(model.relations[e.rel]!, e.column) : undefined;
    if (e.kind === 'column' && mask !== undefined) {
      const mayOnly = isNullMask(mask)
        ? 'it may only be selected as it is (it comes back as NULL), not even counted'
        : `it may only be selected as it is (it comes back masked) or counted with count(${e.column})`;
      throw badRequest(
        `column ${name(e.rel, e.column)} is masked${isNullMask(mask) ? ' with null' : ''} for your role: ${mayOnly}; it cannot be used in ${where}`,
        { param: 'sql', column: name(e.rel, e.column) },
      );
    }
    for (const c of children(e)) refuse(c, where);
  };
  for (const w of model.where) refuse(w, 'WHERE');
  for (const j of model.joins) {
    for (const c of j.conditions) {
      refuse(c.parentKey, 'JOIN ... ON');
      refuse(c.childKey, 'JOIN ... ON');
    }
    for (const f of j.childFilters) refuse(f, 'JOIN ... ON');
  }
  const output = outermost
    ? (o: string) => `an expression (output "${o}")`
    : (o: string) => `the output of a subquery or WITH query ("${o}")`;
  if (model.grouping) {
    const g = model.grouping;
    for (const k of g.keys) refuse(k, 'GROUP BY');
    for (const a of g.aggregates) {
      // Under a null mask even whether a value is NULL is hidden, so count(col) is refused too.
      const countsIt =
        a.fn === 'count' && !a.distinct && a.arg?.kind === 'column' && !isNullMask(masked(model.relations[a.arg.rel]!, a.arg.column));
      if (a.arg && !countsIt) refuse(a.arg, a.distinct ? `${a.fn}(DISTINCT ...)` : `${a.fn}()`);
    }
    // HAVING filters groups by value: even count(col) there is refused.
    for (const h of g.having ?? []) refuse(overInputs(h, model), 'HAVING');
  } else {
    for (const o of model.outputs) if (!outermost || o.expr.kind !== 'column') refuse(o.expr, output(o.name));
    if (model.distinct) for (const o of model.outputs) refuse(o.expr, 'DISTINCT');
  }
  for (const s of model.orderBy) refuse(s.expr, 'ORDER BY');
  for (const r of model.relations) if (r.query) guardMasked(r.query, masked, false);
  for (const sub of model.sublinks ?? []) guardMasked(sub, masked, false);
}

/** A grouped expression with its slots replaced by what they compute (group keys, aggregate arguments). */
function overInputs(e: Expr, model: ViewModel): Expr {
  const g = model.grouping!;
  return mapExpr(e, (x) => {
    if (x.kind !== 'slot') return undefined;
    const i = Number(x.slot.slice(1));
    if (x.slot.startsWith('g')) return g.keys[i]!;
    const a = g.aggregates[i]!;
    return a.arg ? { kind: 'agg', fn: a.fn, arg: a.arg, distinct: a.distinct, type: a.type } : { kind: 'const', value: null, type: a.type };
  });
}
