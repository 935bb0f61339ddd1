// The keyset continuation of an ordered query (docs/query.md, "Cursors"): the rows that come after
// one row in a total order, as a plain Predicate, so every engine and store pushes it down like any
// filter (no OFFSET: a deep page costs what the first does).
//
// The order is PostgreSQL's (predicate.ts, Pushdown.orderBy): ascending puts NULL last, descending
// puts it first. `(a, b) > (x, y)` is spelled out term by term, because row comparison has neither
// per-term directions nor NULL ordering:
//   (a after x) OR (a = x AND b after y)
// where "a = x" is `a IS NULL` for a NULL x, and "a after x" is
//   ascending:  a > x OR a IS NULL   (x NULL: nothing comes after it)
//   descending: a < x                (x NULL: a IS NOT NULL)
// A column that cannot be NULL (a key) drops its IS NULL branch, and the leading term is also
// bounded on its own (`a >= x`), so a store can answer from an index range on it.
import type { Value } from '../values.js';
import { and, type OrderTerm, type Predicate } from './predicate.js';

type Bound = Exclude<Value, null>;

function equal(column: string, v: Value): Predicate {
  return v === null ? { op: 'isnull', column } : { op: 'cmp', column, cmp: '=', value: v as Bound };
}

/** Rows strictly after `v` on one term; undefined when none can be. */
function after(term: OrderTerm, v: Value, nullable: boolean): Predicate | undefined {
  const { column } = term;
  if (term.desc) return v === null ? { op: 'not', arg: { op: 'isnull', column } } : { op: 'cmp', column, cmp: '<', value: v as Bound };
  if (v === null) return undefined;
  const gt: Predicate = { op: 'cmp', column, cmp: '>', value: v as Bound };
  return nullable ? { op: 'or', args: [gt, { op: 'isnull', column }] } : gt;
}

/** A bound on the leading term alone, implied by the whole predicate, when it is a plain range. */
function leadingRange(term: OrderTerm, v: Value, nullable: boolean): Predicate | undefined {
  if (v === null) return undefined;
  if (term.desc) return { op: 'cmp', column: term.column, cmp: '<=', value: v as Bound };
  return nullable ? undefined : { op: 'cmp', column: term.column, cmp: '>=', value: v as Bound };
}

/**
 * The rows after the row whose order values are `values` (one per term); with `inclusive`, also the
 * rows that tie with it on every term. Undefined means "no row" only when the result says so: an
 * empty order with `inclusive` is every row (undefined), without it a constant false. `nullable`
 * says which columns may hold NULL (default: all).
 */
export function keysetAfter(
  terms: readonly OrderTerm[],
  values: readonly Value[],
  inclusive = false,
  nullable: (column: string) => boolean = () => true,
): Predicate | undefined {
  if (values.length !== terms.length) throw new Error('keysetAfter: one value per order term');
  const branches: Predicate[] = [];
  for (let i = 0; i < terms.length; i++) {
    const next = after(terms[i]!, values[i]!, nullable(terms[i]!.column));
    if (!next) continue;
    branches.push(and(...terms.slice(0, i).map((t, j) => equal(t.column, values[j]!)), next)!);
  }
  if (inclusive) {
    const tie = and(...terms.map((t, j) => equal(t.column, values[j]!)));
    if (!tie) return undefined;
    branches.push(tie);
  }
  if (branches.length === 0) return { op: 'const', value: false };
  if (branches.length === 1) return branches[0];
  return and(leadingRange(terms[0]!, values[0]!, nullable(terms[0]!.column)), { op: 'or', args: branches });
}
