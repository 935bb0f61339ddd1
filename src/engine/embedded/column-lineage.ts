// Lineage of a view's outputs: the source columns (`source.table.column`) each one is derived
// from, through every expression, group key and aggregate argument. describe_view and _schema show
// it, so a caller sees where a column's values come from (docs/engine.md, "Lineage").
import type { Expr, ViewModel } from './ast.js';
import { children } from './expr-tools.js';

export function outputLineage(model: ViewModel, e: Expr): string[] {
  const out = new Set<string>();
  const visit = (x: Expr): void => {
    if (x.kind === 'column') {
      const r = model.relations[x.rel]!;
      out.add(`${r.source}.${r.table}.${x.column}`);
    }
    if (x.kind === 'slot' && model.grouping) {
      const i = Number(x.slot.slice(1));
      const from = x.slot.startsWith('g') ? model.grouping.keys[i] : model.grouping.aggregates[i]?.arg;
      if (from) visit(from);
    }
    for (const c of children(x)) visit(c);
  };
  visit(e);
  return [...out];
}
