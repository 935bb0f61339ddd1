// Whether a MongoDB read would scan its collection whole (docs/security.md, "Cost guards"): no
// index leads with a field the filter's conjuncts test. Judged from the filter's shape and the
// collection's indexes (listIndexes), never from what the caller's values match.
import { splitAnd, type Predicate } from '../../query/predicate.js';
import type { FullScan, PlannedRead } from '../source.js';
import type { CollectionMeta } from './collection.js';

/** What the guard needs of one collection: its size (estimatedDocumentCount) and the leading field of each index. */
export interface CollectionFacts {
  rows: number;
  leading: ReadonlySet<string>;
}

/** The columns of `where`'s conjuncts an index could serve: comparisons other than <>, IN, LIKE, IS NULL. */
function testedColumns(where: Predicate | undefined): string[] {
  return (where ? splitAnd(where) : []).flatMap((p) =>
    (p.op === 'cmp' && p.cmp !== '<>') || p.op === 'in' || p.op === 'like' || p.op === 'isnull' ? [p.column] : [],
  );
}

/**
 * The collection, when the read would scan it whole: no tested column leads an index, unless the
 * read has no filter, a limit, and an order an index leads with (or none): it stops after a page.
 */
export function collectionScan(meta: CollectionMeta, read: PlannedRead, facts: CollectionFacts): FullScan[] {
  if (read.op === 'join' || read.op === 'statement') return [];
  const where = read.op === 'scan' ? read.pushdown.where : read.op === 'count' ? read.where : read.pushdown.where;
  const path = (column: string): string => meta.compiler.column(column, false).path;
  const tested = [...new Set(testedColumns(where))];
  if (tested.some((c) => facts.leading.has(path(c)))) return [];
  if (read.op === 'scan' && !where && read.pushdown.limit !== undefined) {
    const first = read.pushdown.orderBy?.[0];
    if (!first || facts.leading.has(path(first.column))) return [];
  }
  const indexed = meta.info.columns.map((c) => c.name).filter((c) => facts.leading.has(path(c)));
  return [{ table: meta.name, rows: facts.rows, unindexed: tested, indexed }];
}
