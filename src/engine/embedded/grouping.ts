// GROUP BY: the group keys, and a grouped view's expressions rewritten over group-key and
// aggregate slots.
import type { AggregateSpec, Expr, Relation } from './ast.js';
import { finish, type Typed } from './coercion.js';
import { containsAggregate, exprEquals, mapExpr } from './expr-tools.js';
import { typed } from './expr-typing.js';
import { ordinal } from './outputs.js';
import { locationOf, unwrap, type RawNode, type SyntaxView } from './parse.js';
import { Refusal } from './refusal.js';
import type { Scope } from './scope.js';

export function groupKey(node: RawNode, syntax: SyntaxView, outputs: Typed[], names: string[], relations: Relation[]): Expr {
  const loc = locationOf(node) ?? 0;
  const n = ordinal(node);
  const scope: Scope = { relations, allowAggregates: false };
  let e: Expr;
  if (n !== undefined) {
    if (n < 1 || n > outputs.length) throw new Refusal(`GROUP BY position ${n} is not in the select list`, loc);
    e = outputs[n - 1]!.e;
  } else {
    const [tag, b] = unwrap(node);
    const single =
      tag === 'ColumnRef' && (b.fields as RawNode[]).length === 1 ? ((b.fields as RawNode[])[0]!.String?.sval as string) : undefined;
    // PostgreSQL reads a GROUP BY name as an input column first, then as an output name.
    if (single !== undefined && !relations.some((r) => r.columns.has(single)) && names.includes(single))
      e = outputs[names.indexOf(single)]!.e;
    else e = finish(typed(node, scope)).e;
  }
  if (containsAggregate(e)) throw new Refusal('aggregate functions are not allowed in GROUP BY', loc);
  if (e.type === 'jsonb' || e.type === 'bytea') throw new Refusal(`cannot group by a ${e.type} value`, loc);
  void syntax;
  return e;
}

/** Rewrites a grouped view's expression over group-key slots (g0..) and aggregate slots (a0..). */
export function overSlots(e: Expr, keys: Expr[], aggregates: AggregateSpec[], loc: number): Expr {
  return mapExpr(e, (x) => {
    const k = keys.findIndex((g) => exprEquals(g, x));
    if (k >= 0) return { kind: 'slot', slot: `g${k}`, type: x.type };
    if (x.kind === 'agg') {
      let i = aggregates.findIndex(
        (a) =>
          a.fn === x.fn &&
          a.distinct === x.distinct &&
          (a.arg === undefined ? x.arg === undefined : x.arg !== undefined && exprEquals(a.arg, x.arg)),
      );
      if (i < 0) {
        i = aggregates.length;
        aggregates.push({ slot: `a${i}`, fn: x.fn, ...(x.arg ? { arg: x.arg } : {}), distinct: x.distinct, type: x.type });
      }
      return { kind: 'slot', slot: `a${i}`, type: x.type };
    }
    if (x.kind === 'column')
      throw new Refusal(`column "${x.column}" must appear in the GROUP BY clause or be used in an aggregate function`, loc);
    return undefined;
  });
}
