// JOIN ... ON reduced to the one shape the engine runs: a child relation joins one earlier parent
// on key equalities, with conditions on the child alone as its filters.
import type { Expr, JoinModel, Relation } from './ast.js';
import { boolean } from './coercion.js';
import { castColumn, conjuncts, relationsOf } from './expr-tools.js';
import { typed } from './expr-typing.js';
import type { RawNode } from './parse.js';
import { Refusal } from './refusal.js';
import type { Scope } from './scope.js';

export function analyzeJoin(
  kind: 'inner' | 'left',
  on: RawNode,
  child: number,
  relations: Relation[],
  where: Expr[],
  location: number,
): JoinModel {
  const scope: Scope = { relations: relations.slice(0, child + 1), allowAggregates: false };
  const parts = conjuncts(boolean(typed(on, scope), 'JOIN ... ON'));
  const conditions: JoinModel['conditions'] = [];
  const childFilters: Expr[] = [];
  let parent: number | undefined;
  for (const p of parts) {
    const rels = relationsOf(p);
    if (rels.size === 1 && rels.has(child)) {
      childFilters.push(p);
      continue;
    }
    const eq = p.kind === 'compare' && p.op === '=' ? keyPair(p.left, p.right, child) : undefined;
    if (eq && (parent === undefined || parent === eq.parent)) {
      parent = eq.parent;
      conditions.push({ parentKey: eq.parentKey, childKey: eq.childKey, via: (p as Extract<Expr, { kind: 'compare' }>).via });
      continue;
    }
    if (kind === 'inner') {
      where.push(p);
      continue;
    }
    throw new Refusal(
      eq
        ? 'a LEFT JOIN must relate the joined table to one earlier table'
        : 'LEFT JOIN ... ON supports equalities between columns (casts allowed) and conditions on the joined table alone',
      location,
    );
  }
  if (parent === undefined) {
    throw new Refusal(
      'a join needs an equality between a column of the joined table and a column of an earlier table (casts allowed)',
      location,
    );
  }
  return { child, parent, kind, conditions, childFilters };
}

/** `a = b` as parent key = child key, when each side is a (cast) column of one relation. */
function keyPair(a: Expr, b: Expr, child: number): { parent: number; parentKey: Expr; childKey: Expr } | undefined {
  const ra = castColumn(a);
  const rb = castColumn(b);
  if (!ra || !rb) return undefined;
  if (rb.rel === child && ra.rel < child) return { parent: ra.rel, parentKey: a, childKey: b };
  if (ra.rel === child && rb.rel < child) return { parent: rb.rel, parentKey: b, childKey: a };
  return undefined;
}

/** Relations on the NULL-padded side of a LEFT JOIN, directly or through their parent. */
export function paddedRelations(joins: JoinModel[]): Set<number> {
  const out = new Set<number>();
  for (const j of joins) if (j.kind === 'left' || out.has(j.parent)) out.add(j.child);
  return out;
}
