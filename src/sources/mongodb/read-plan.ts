// How a scan runs on MongoDB: which finds (filter, sort, skip, limit) make the page, which fields
// they fetch, and what is then done in process (the residual filter, a merge or a sort).
//
// ORDER BY: MongoDB sorts by BSON type first (null/missing, numbers, strings, then ObjectIds), and
// only within a type by value, so a sort is pushed down per "class": for every sort key up to the
// first `_id` key (unique, so later keys never decide the order within a class), text keys split
// into ObjectIds / other non-null values / NULL, other nullable keys into non-null / NULL. Within
// one combination of classes MongoDB's order is PostgreSQL's; the classes' finds (each with
// limit offset+limit) are merged in process by the value model (compareForSort). A key declared
// `onTypeMismatch: null` (a misfit sorts as NULL in PostgreSQL, by its BSON type in MongoDB), or
// more than MAX_PARTS combinations, sorts in process after one find without sort. See Plan.
import type { Document } from 'mongodb';
import { StoreError } from '../../errors.js';
import { evaluate } from '../../query/evaluate.js';
import { predicateColumns, type OrderTerm, type Predicate, type Pushdown } from '../../query/predicate.js';
import { compareForSort, type Value } from '../../values.js';
import type { CollectionMeta } from './collection.js';
import type { MongoColumn } from './columns.js';
import { columnValue, documentRow } from './decode.js';
import { ALWAYS, andF, exactly } from './filter.js';

export interface Find {
  filter: Document;
  sort?: Document;
  skip?: number;
  limit?: number;
}

/** Sort-class combinations beyond which one find and an in-process sort are used instead of a merge. */
const MAX_PARTS = 8;

/**
 * How a scan runs. `filter` is pushed down; with a `residual` it is a superset, and the residual is
 * evaluated in process on each document before offset/limit apply. MongoDB sorts null/missing
 * before every value in ascending order (PostgreSQL after), and by BSON type before value (every
 * string before every ObjectId), so the sort keys are split into classes (sortClasses, and the top
 * of this file):
 *  - single: no key needs classes (no ORDER BY, or never-null keys that are not text, such as an
 *            int `_id`): one find with sort/skip/limit;
 *  - split:  only the leading key needs classes, and it is not text: one find for the rows where it
 *            is not null, one for the rows where it is, concatenated in PostgreSQL's NULL position;
 *            skip/limit are carried across the two (with a count when the page starts in the second);
 *  - merge:  one find per combination of classes, each sorted and limited to offset+limit rows,
 *            merged in process by the value model (compareForSort), then offset/limit;
 *  - memory: a key declared onTypeMismatch: null, or more than MAX_PARTS combinations: one find
 *            without sort/limit, then sort by the value model and slice in process.
 * With a residual, single and merge read their finds as cursors without skip/limit and stop once
 * the page is full (a split becomes a merge of its two finds), and memory filters before sorting.
 */
export type Plan = {
  filter: Document;
  residual?: Predicate;
  orderBy: OrderTerm[];
  offset: number;
  limit?: number;
} & (
  | { kind: 'single'; sort?: Document }
  | { kind: 'split'; first: Find; second: Find; lead: string }
  | { kind: 'merge'; parts: Find[] }
  | { kind: 'memory' }
);

/**
 * Filters that split the documents by a sort key into classes within which MongoDB's order is
 * PostgreSQL's: text into ObjectIds / other non-null values / NULL, any other nullable key into
 * non-null / NULL. (Values of other BSON types in a text column do not fit it: reading one fails
 * the query; misfit-is-NULL keys are sorted in process.)
 */
function sortClasses(c: MongoColumn): Document[] {
  const p = c.path;
  const out: Document[] = c.objectIds
    ? [{ [p]: { $type: 'objectId' } }, { [p]: c.nullable ? { $ne: null, $not: { $type: 'objectId' } } : { $not: { $type: 'objectId' } } }]
    : [c.nullable ? { [p]: { $ne: null } } : ALWAYS];
  if (c.nullable) out.push({ [p]: { $eq: null } });
  return out;
}

function sortOf(meta: CollectionMeta, terms: OrderTerm[]): Document | undefined {
  const s: Document = {};
  for (const t of terms) {
    const path = meta.compiler.column(t.column).path;
    if (!(path in s)) s[path] = t.desc ? -1 : 1;
  }
  return Object.keys(s).length > 0 ? s : undefined;
}

export function planScan(meta: CollectionMeta, pd: Pushdown): Plan {
  for (const n of [pd.limit, pd.offset]) {
    if (n !== undefined && (!Number.isSafeInteger(n) || n < 0))
      throw new StoreError(meta.source, 'failed', `limit and offset must be non-negative integers`);
  }
  const where = pd.where ? meta.compiler.truth(pd.where, true) : exactly(ALWAYS);
  const orderBy = pd.orderBy ?? [];
  const offset = pd.offset ?? 0;
  const base = { filter: where.filter, residual: where.exact ? undefined : pd.where, orderBy, offset, limit: pd.limit };
  const cols = orderBy.map((o) => meta.compiler.column(o.column));
  const sort = sortOf(meta, orderBy);
  if (cols.some((c) => c.misfitIsNull)) return { ...base, kind: 'memory' };
  // The classes of each key up to the first `_id` key (unique: later keys never decide the order
  // within one combination), and their combinations.
  let combos: Document[][] = [[]];
  const classed: MongoColumn[] = [];
  const seen = new Set<string>();
  for (const c of cols) {
    if (!seen.has(c.path)) {
      seen.add(c.path);
      const classes = sortClasses(c);
      if (classes.length > 1) {
        classed.push(c);
        combos = combos.flatMap((cs) => classes.map((k) => [...cs, k]));
      }
    }
    if (c.path === '_id') break;
  }
  if (combos.length === 1) return { ...base, kind: 'single', sort };
  if (combos.length > MAX_PARTS) return { ...base, kind: 'memory' };
  const first = cols[0]!;
  if (!base.residual && classed.length === 1 && classed[0] === first && !first.objectIds) {
    const lead = first.path;
    const present = { filter: andF([where.filter, { [lead]: { $ne: null } }]), sort };
    const absent = { filter: andF([where.filter, { [lead]: { $eq: null } }]), sort: sortOf(meta, orderBy.slice(1)) };
    const [a, b] = orderBy[0]!.desc ? [absent, present] : [present, absent];
    return { ...base, kind: 'split', first: a, second: b, lead };
  }
  const limit = base.residual || pd.limit === undefined ? undefined : offset + pd.limit;
  return { ...base, kind: 'merge', parts: combos.map((cs) => ({ filter: andF([where.filter, ...cs]), sort, limit })) };
}

/**
 * The fields to fetch: requested columns, sort keys (compared in process by merge and memory
 * plans), the residual's columns, and always _id (for error messages).
 */
export function projectionOf(meta: CollectionMeta, pd: Pick<Pushdown, 'columns' | 'orderBy'>, residual?: Predicate): Document {
  const paths = new Set(['_id']);
  for (const c of pd.columns) paths.add(meta.compiler.column(c, false).path);
  for (const o of pd.orderBy ?? []) paths.add(meta.compiler.column(o.column).path);
  for (const c of residual ? predicateColumns(residual) : []) paths.add(meta.compiler.column(c, false).path);
  // MongoDB rejects a projection with both `a` and `a.b`; `a` covers `a.b`.
  const kept = [...paths].filter((p) => ![...paths].some((q) => p.startsWith(`${q}.`)));
  return Object.fromEntries(kept.map((p) => [p, 1]));
}

/** Whether a document is kept by the residual (every document when there is none). */
export function residualKeeper(meta: CollectionMeta, residual: Predicate | undefined): (doc: Document) => boolean {
  if (!residual) return () => true;
  const cols = [...predicateColumns(residual)].map((c) => meta.compiler.column(c, false));
  return (doc) => evaluate(residual, documentRow(meta, doc, cols), meta.types) === true;
}

/** Two documents' sort keys (`keys`' values) in the value model's order (PostgreSQL's). */
export function compareKeys(keys: MongoColumn[], orderBy: OrderTerm[], a: Value[], b: Value[]): number {
  for (let i = 0; i < keys.length; i++) {
    const c = compareForSort(keys[i]!.type, a[i]!, b[i]!, orderBy[i]!.desc);
    if (c !== 0) return c;
  }
  return 0;
}

/** Documents sorted by the value model (PostgreSQL order). */
export function sortedDocs(meta: CollectionMeta, docs: Document[], orderBy: OrderTerm[]): Document[] {
  if (orderBy.length === 0) return docs;
  const keys = orderBy.map((o) => meta.compiler.column(o.column));
  const all = docs.map((doc) => ({ doc, key: keys.map((k) => columnValue(meta, doc, k)) }));
  all.sort((a, b) => compareKeys(keys, orderBy, a.key, b.key));
  return all.map((x) => x.doc);
}
