// Predicate -> MongoDB filter: the filter a scan or count pushes down, exact or a superset to be
// narrowed in process.
//
// Predicates keep SQL's three-valued logic by compiling each node twice: the filter for "p is TRUE"
// and the filter for "p is FALSE" (NOT p is TRUE = p is FALSE; (a AND b) is FALSE = a is FALSE OR
// b is FALSE; `x < v` is FALSE = `x >= v`, ...). Every leaf filter matches only present, non-null
// values ($nin always carries null), so no negation ever matches NULL or a missing field.
//
// Exact where possible, a superset plus a residual otherwise. Each compiled filter says whether it
// matches exactly the documents where the predicate has the wanted truth value, or a superset of
// them. Supersets compose (AND and OR of supersets are supersets; NOT is compiled as the dual), so
// when any leaf is inexact the whole filter is still a superset: it is pushed down, and the exact
// predicate is evaluated in process on the converted rows (src/query/evaluate.ts, SQL three-valued
// logic, keeping rows where it is TRUE); offset and limit then apply after that residual, and
// count() counts the same way. Two things make a leaf inexact:
//  - Columns declared `onTypeMismatch: null`: a stored value that does not fit the declared type
//    reads as NULL, but MongoDB compares the stored BSON value. Every filter on such a column is
//    pushed as it is for fitting values (a superset: misfits it matches are removed in process),
//    and `is null` as "not a type that always fits, or an array on the path" (ALWAYS_FITS).
//  - LIKE on a text column that may hold ObjectIds, when the pattern could match some but not a
//    range of ObjectIds' hex text (e.g. `%0001`): pushed as {$or: [{col: regex}, {col: {$type:
//    'objectId'}}]}. A pattern no 24-hex text can match (any literal other than 0-9a-f, like
//    `alpha%`) or a hex prefix (`65f%`, an ObjectId range) stays exact.
//
// Which columns may hold ObjectIds: every column declared `text` (an ObjectId is text
// wherever it is stored: `_id` most often, references such as `user_id` too). Nothing in the
// declaration says a field holds strings only, so no text column is assumed to. Equality, IN and
// range filters on text are exact for both forms (each value also matches its ObjectId); LIKE as
// above; ORDER BY in read-plan.ts.
import { BSONRegExp, Decimal128, ObjectId, type Document } from 'mongodb';
import { StoreError } from '../../errors.js';
import type { CompareOp, Predicate } from '../../query/predicate.js';
import { isComparableType, type ColumnType, type Value } from '../../values.js';
import type { MongoColumn } from './columns.js';
import { ALWAYS_FITS, likeOnHex, pathPrefixes } from './exact.js';

type Scalar = Exclude<Value, null>;

// Shared constants, compared by identity: frozen so no caller can change them.
const NEVER: Document = Object.freeze({ _id: Object.freeze({ $in: Object.freeze([]) }) });
export const ALWAYS: Document = Object.freeze({});
const isAlways = (f: Document): boolean => Object.keys(f).length === 0;

export function andF(parts: Document[]): Document {
  const ps = parts.filter((p) => !isAlways(p));
  if (ps.includes(NEVER)) return NEVER;
  if (ps.length <= 1) return ps[0] ?? ALWAYS;
  return { $and: ps.flatMap((p) => (Object.keys(p).length === 1 && p.$and ? (p.$and as Document[]) : [p])) };
}

function orF(parts: Document[]): Document {
  const ps = parts.filter((p) => p !== NEVER);
  if (ps.some(isAlways)) return ALWAYS;
  if (ps.length <= 1) return ps[0] ?? NEVER;
  return { $or: ps.flatMap((p) => (Object.keys(p).length === 1 && p.$or ? (p.$or as Document[]) : [p])) };
}

/**
 * A compiled filter: exactly the documents where the predicate has the wanted truth value, or
 * (exact: false) a superset of them, to be narrowed in process.
 */
interface Compiled {
  filter: Document;
  exact: boolean;
}

export const exactly = (filter: Document): Compiled => ({ filter, exact: true });
/** A superset that matches nothing is exact. */
const sure = (c: Compiled): boolean => c.exact || c.filter === NEVER;

function andC(parts: Compiled[]): Compiled {
  const filter = andF(parts.map((p) => p.filter));
  // An inexact conjunct that is ALWAYS (no useful superset) is dropped from the filter.
  return { filter, exact: filter === NEVER || parts.every(sure) };
}

function orC(parts: Compiled[]): Compiled {
  const filter = orF(parts.map((p) => p.filter));
  return { filter, exact: parts.every(sure) || (isAlways(filter) && parts.some((p) => p.exact && isAlways(p.filter))) };
}

const NEGATE: Record<CompareOp, CompareOp> = { '=': '<>', '<>': '=', '<': '>=', '<=': '>', '>': '<=', '>=': '<' };
const RANGE = { '<': '$lt', '<=': '$lte', '>': '$gt', '>=': '$gte' } as const;
const HEX24 = /^[0-9a-f]{24}$/;

/** The decimal as a double when that double is exactly the decimal (12.5, not 0.1). */
function exactDouble(v: string): number | undefined {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(v);
  if (!m) return undefined;
  const frac = m[3] ?? '';
  const n = BigInt((m[2] || '0') + frac);
  const five = 5n ** BigInt(frac.length);
  if (n % five !== 0n) return undefined;
  let q = n / five;
  while (q > 0n && q % 2n === 0n) q /= 2n;
  return q < 2n ** 53n ? Number(v) : undefined;
}

/**
 * The hex strings of ObjectIds that are below `v` in code-point order, as one bound:
 * {op: '$lt' | '$lte', hex}. Lets text range filters also match ObjectId values.
 */
function hexBelow(v: string): { op: '$lt' | '$lte'; hex: string } {
  let k = 0;
  while (k < 24 && k < v.length && /[0-9a-f]/.test(v[k]!)) k++;
  const p = v.slice(0, k);
  if (k === 24) return v.length === 24 ? { op: '$lt', hex: p } : { op: '$lte', hex: p };
  if (k === v.length) return { op: '$lt', hex: p.padEnd(24, '0') };
  const c = v[k]!; // not a hex digit
  const d = c > 'f' ? 'f' : c > '9' && c < 'a' ? '9' : undefined;
  return d ? { op: '$lte', hex: (p + d).padEnd(24, 'f') } : { op: '$lt', hex: p.padEnd(24, '0') };
}

/** LIKE -> regular expression: anchored, `.` matching newlines (flag s), metacharacters escaped. */
function likeRegex(pattern: string): string {
  const parts: string[] = [];
  for (let i = 0; i < pattern.length; i++) {
    let ch = pattern[i]!;
    if (ch === '%' || ch === '_') parts.push(ch === '%' ? '.*' : '.');
    else {
      if (ch === '\\' && i + 1 < pattern.length) ch = pattern[++i]!;
      parts.push(ch.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&'));
    }
  }
  // A leading or trailing `.*` is dropped instead of anchoring (same matches; a prefix pattern stays
  // an index-friendly ^prefix). \z, not $: in PCRE `$` also matches before a final newline.
  const open = parts[0] === '.*';
  if (open) parts.shift();
  const tail = parts.length > 0 && parts[parts.length - 1] === '.*';
  if (tail) parts.pop();
  return `${open ? '' : '^'}${parts.join('')}${tail || (open && parts.length === 0) ? '' : '\\z'}`;
}

export class FilterCompiler {
  constructor(
    private readonly coll: string,
    private readonly columns: Map<string, MongoColumn>,
    private readonly source: string,
  ) {}

  column(name: string, comparable = true): MongoColumn {
    const col = this.columns.get(name);
    if (!col) throw new StoreError(this.source, 'failed', `collection "${this.coll}" has no column "${name}"`);
    if (comparable && !isComparableType(col.type)) {
      throw new StoreError(this.source, 'failed', `column "${name}" of type ${col.type} cannot be compared or sorted`);
    }
    return col;
  }

  /**
   * The filter matching the documents where `p` is TRUE (`want`) or FALSE (`!want`), exactly or as
   * a superset (see the top of this file).
   */
  truth(p: Predicate, want: boolean): Compiled {
    switch (p.op) {
      case 'and':
        return want ? andC(p.args.map((a) => this.truth(a, true))) : orC(p.args.map((a) => this.truth(a, false)));
      case 'or':
        return want ? orC(p.args.map((a) => this.truth(a, true))) : andC(p.args.map((a) => this.truth(a, false)));
      case 'not':
        return this.truth(p.arg, !want);
      case 'const':
        return exactly(p.value === want ? ALWAYS : NEVER); // unknown (null) is neither
      case 'isnull': {
        const col = this.column(p.column, false);
        if (!col.misfitIsNull) return exactly({ [col.path]: want ? { $eq: null } : { $ne: null } });
        return { filter: want ? this.mayReadNull(col) : { [col.path]: { $ne: null } }, exact: false };
      }
      case 'cmp': {
        const col = this.column(p.column);
        return this.onValues(col, this.compare(col, want ? p.cmp : NEGATE[p.cmp], p.value));
      }
      case 'in': {
        // An empty list is FALSE even for NULL (as PostgreSQL's `= ANY('{}')`).
        if (p.values.length === 0) return exactly(want ? NEVER : ALWAYS);
        const col = this.column(p.column);
        const alts = p.values.flatMap((v) => this.equalAlternatives(col, v));
        if (want) return this.onValues(col, alts.length === 0 ? NEVER : { [col.path]: { $in: alts } });
        return this.onValues(col, { [col.path]: { $nin: [null, ...alts] } });
      }
      case 'like':
        return this.like(this.column(p.column), p.pattern, want);
    }
  }

  /**
   * A filter on stored values, exact for values that fit the column. Under onTypeMismatch: null a
   * misfit it matches reads as NULL (the predicate is unknown there): a superset.
   */
  private onValues(col: MongoColumn, filter: Document): Compiled {
    return { filter, exact: !col.misfitIsNull };
  }

  /**
   * A superset of the documents where a misfit-is-NULL column reads as NULL: missing, null, a BSON
   * type that does not always fit (ALWAYS_FITS), or an array on the path ($type looks into arrays).
   */
  private mayReadNull(col: MongoColumn): Document {
    const fits = ALWAYS_FITS[col.type as Exclude<ColumnType, 'jsonb'>];
    if (fits.length === 0) return ALWAYS;
    return orF([{ [col.path]: { $not: { $type: fits } } }, ...pathPrefixes(col.path).map((q) => ({ [q]: { $type: 'array' } }))]);
  }

  /**
   * LIKE (`want`) or NOT LIKE (`!want`): strings by a regular expression; ObjectIds, whose value is
   * their hex text, by what the pattern says about 24-hex text (likeOnHex): none, all or a range
   * of them exactly, else every ObjectId as a superset.
   */
  private like(col: MongoColumn, pattern: string, want: boolean): Compiled {
    if (col.type !== 'text') throw new StoreError(this.source, 'failed', `like needs a text column; "${col.name}" is ${col.type}`);
    const re = likeRegex(pattern);
    const path = col.path;
    const strings = want ? { [path]: { $regex: re, $options: 's' } } : { [path]: { $type: 'string', $not: new BSONRegExp(re, 's') } };
    if (!col.objectIds) return this.onValues(col, strings);
    const hex = likeOnHex(pattern);
    const anyId = { [path]: { $type: 'objectId' } };
    let ids: Document;
    switch (hex.kind) {
      case 'none':
        ids = want ? NEVER : anyId;
        break;
      case 'all':
        ids = want ? anyId : NEVER;
        break;
      case 'range': {
        const lo = new ObjectId(hex.lo);
        const hi = new ObjectId(hex.hi);
        ids = want ? { [path]: { $gte: lo, $lte: hi } } : orF([{ [path]: { $lt: lo } }, { [path]: { $gt: hi } }]);
        break;
      }
      case 'some':
        return { filter: orF([strings, anyId]), exact: false };
    }
    return this.onValues(col, orF([strings, ids]));
  }

  /** `col op v` is TRUE; never matches a missing or null field. */
  private compare(col: MongoColumn, op: CompareOp, v: Scalar): Document {
    if (op === '=') {
      const alts = this.equalAlternatives(col, v);
      return alts.length === 0 ? NEVER : { [col.path]: alts.length === 1 ? { $eq: alts[0] } : { $in: alts } };
    }
    if (op === '<>') return { [col.path]: { $nin: [null, ...this.equalAlternatives(col, v)] } };
    if (col.type === 'timestamptz') {
      // BSON dates have milliseconds. For a value with sub-millisecond digits, x < v is x <= floor(v)
      // and x > v is x > floor(v).
      const s = String(v);
      const ms = new Date(`${s.slice(0, 23)}Z`);
      const exact = s.slice(23, 26) === '000';
      const rop = exact ? RANGE[op] : op === '<' || op === '<=' ? '$lte' : '$gt';
      return { [col.path]: { [rop]: ms } };
    }
    const strings = { [col.path]: { [RANGE[op]]: this.encode(col, v) } };
    if (col.type !== 'text') return strings;
    // Text columns may hold ObjectIds (output as their hex text): match those by their hex order too.
    const s = String(v);
    const below = op === '<' || op === '>=' ? hexBelow(s) : HEX24.test(s) ? { op: '$lte' as const, hex: s } : hexBelow(s);
    const idOp = op === '<' || op === '<=' ? below.op : below.op === '$lt' ? '$gte' : '$gt';
    return orF([strings, { [col.path]: { [idOp]: new ObjectId(below.hex) } }]);
  }

  /** The BSON values a document may hold for a value equal to `v`. */
  private equalAlternatives(col: MongoColumn, v: Scalar): unknown[] {
    if (col.type === 'timestamptz' && String(v).slice(23, 26) !== '000') return []; // no BSON date equals it
    const enc = this.encode(col, v);
    return col.type === 'text' && HEX24.test(String(v)) ? [enc, new ObjectId(String(v))] : [enc];
  }

  private encode(col: MongoColumn, v: Scalar): unknown {
    switch (col.type) {
      case 'numeric':
        return exactDouble(String(v)) ?? Decimal128.fromString(String(v));
      case 'timestamptz':
        return new Date(`${String(v).slice(0, 23)}Z`);
      case 'date':
        return new Date(`${String(v)}T00:00:00.000Z`);
      default:
        return v; // bigint is sent as a 64-bit integer
    }
  }
}
