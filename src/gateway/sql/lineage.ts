// Lineage of a governed statement: which view columns each part of the checked statement reads.
// A masked column may be read in exactly two places: as an output of the outermost SELECT that is
// the column itself (it is masked on output), or inside count(col) (only whether it is NULL
// counts). Anywhere else it would let its value through an expression, a filter, a join, a group
// or an order, so the statement is refused naming it.
import type { Expr, ViewModel } from '../../engine/embedded/ast.js';
import { children } from '../../engine/embedded/expr-tools.js';
import { badRequest } from '../../errors.js';

/** Whether a relation's column is masked for the caller. */
export type IsMasked = (rel: number, column: string) => boolean;

/** The outputs that are a masked column itself: output name -> [relation, column]. */
export function maskedOutputs(model: ViewModel, masked: IsMasked): Map<string, { rel: number; column: string }> {
  const out = new Map<string, { rel: number; column: string }>();
  for (const o of model.outputs) {
    const e = model.grouping ? undefined : o.expr;
    if (e?.kind === 'column' && masked(e.rel, e.column)) out.set(o.name, { rel: e.rel, column: e.column });
  }
  return out;
}

/** Refuses every read of a masked column that is not an outermost output or count(col). */
export function guardMasked(model: ViewModel, masked: IsMasked): void {
  const name = (rel: number, column: string) => `${model.relations[rel]!.alias}.${column}`;
  const refuse = (e: Expr, where: string): void => {
    if (e.kind === 'column' && masked(e.rel, e.column)) {
      throw badRequest(
        `column ${name(e.rel, e.column)} is masked for your role: it may only be selected as it is (it comes back masked) or counted with count(${e.column}); it cannot be used in ${where}`,
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
  if (model.grouping) {
    for (const k of model.grouping.keys) refuse(k, 'GROUP BY');
    for (const a of model.grouping.aggregates) {
      const countsIt = a.fn === 'count' && !a.distinct && a.arg?.kind === 'column';
      if (a.arg && !countsIt) refuse(a.arg, a.distinct ? `${a.fn}(DISTINCT ...)` : `${a.fn}()`);
    }
  } else {
    for (const o of model.outputs) if (o.expr.kind !== 'column') refuse(o.expr, `an expression (output "${o.name}")`);
  }
  for (const s of model.orderBy) refuse(s.expr, 'ORDER BY');
}
