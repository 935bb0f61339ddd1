// MongoDB source (mongodb driver). Collections and their columns are declared in config; a
// missing field is NULL. Only `find` with plain operators (and countDocuments) is used, so the
// same queries run on MongoDB and on FerretDB.
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
// above; ORDER BY below.
//
// ORDER BY: MongoDB sorts by BSON type first (null/missing, numbers, strings, then ObjectIds), and
// only within a type by value, so a sort is pushed down per "class": for every sort key up to the
// first `_id` key (unique, so later keys never decide the order within a class), text keys split
// into ObjectIds / other non-null values / NULL, other nullable keys into non-null / NULL. Within
// one combination of classes MongoDB's order is PostgreSQL's; the classes' finds (each with
// limit offset+limit) are merged in process by the value model (compareForSort). A key declared
// `onTypeMismatch: null` (a misfit sorts as NULL in PostgreSQL, by its BSON type in MongoDB), or
// more than MAX_PARTS combinations, sorts in process after one find without sort. See Plan.
import { Binary, BSONRegExp, Decimal128, MongoClient, ObjectId, type Document } from 'mongodb';
import { StoreError } from '../../errors.js';
import { evaluate } from '../../query/evaluate.js';
import { predicateColumns, type CompareOp, type OrderTerm, type Predicate, type Pushdown } from '../../query/predicate.js';
import {
  canonicalNumeric,
  compareForSort,
  isComparableType,
  timestampFromDate,
  type ColumnType,
  type JsonValue,
  type Row,
  type Value,
} from '../../values.js';
import { ALWAYS_FITS, likeOnHex, pathPrefixes, predicateText } from './exact.js';
import {
  takeEverything,
  type NativeQuery,
  type ScanAcceptance,
  type ScanOffer,
  type ScanResult,
  type Source,
  type TableInfo,
} from '../source.js';
import type { StoreLimits } from '../source.js';
import { toStoreError, urlSecrets } from '../store-errors.js';
import { mongoReason } from './errors.js';

interface MongoColumnDecl {
  type: ColumnType;
  /** Dotted field path; defaults to the column name. */
  path?: string;
  onTypeMismatch?: 'error' | 'null';
  description?: string;
}

export interface MongoSourceOptions {
  name: string;
  url: string;
  database: string;
  timeoutMs?: number;
  pool?: number;
  collections: Record<string, { description?: string; columns: Record<string, MongoColumnDecl> }>;
}

interface MongoColumn {
  name: string;
  type: ColumnType;
  path: string;
  onTypeMismatch: 'error' | 'null';
  /** A stored value that does not fit reads as NULL (never for jsonb, which takes every value). */
  misfitIsNull: boolean;
  /** Can read as NULL: every field but `_id`, and any column whose misfits read as NULL. */
  nullable: boolean;
  /** May hold ObjectIds beside strings: every text column (see the rule at the top). */
  objectIds: boolean;
}

function mongoColumn(name: string, c: MongoColumnDecl): MongoColumn {
  const path = c.path ?? name;
  const onTypeMismatch = c.onTypeMismatch ?? 'error';
  const misfitIsNull = onTypeMismatch === 'null' && c.type !== 'jsonb';
  // `_id` is never null (a document may have `_id: null`, but that is not supported here).
  return { name, type: c.type, path, onTypeMismatch, misfitIsNull, nullable: path !== '_id' || misfitIsNull, objectIds: c.type === 'text' };
}

type Scalar = Exclude<Value, null>;

const NATIVE: Record<ColumnType, string> = {
  bool: 'bool',
  int: 'long',
  float: 'double',
  numeric: 'decimal',
  text: 'string',
  timestamptz: 'date',
  date: 'date',
  jsonb: 'object',
  bytea: 'binData',
};

// ---- filters --------------------------------------------------------------------------------

// Shared constants, compared by identity: frozen so no caller can change them.
const NEVER: Document = Object.freeze({ _id: Object.freeze({ $in: Object.freeze([]) }) });
const ALWAYS: Document = Object.freeze({});
const isAlways = (f: Document): boolean => Object.keys(f).length === 0;

function andF(parts: Document[]): Document {
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

const exactly = (filter: Document): Compiled => ({ filter, exact: true });
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

class FilterCompiler {
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

// ---- documents -> rows ----------------------------------------------------------------------

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && (Object.getPrototypeOf(v) === Object.prototype || Object.getPrototypeOf(v) === null);

function lookup(doc: Document, path: string): unknown {
  let cur: unknown = doc;
  for (const seg of path.split('.')) {
    if (!isPlainObject(cur)) return Array.isArray(cur) ? cur : undefined; // an array on the path does not fit a scalar
    cur = cur[seg];
  }
  return cur;
}

function bsonKind(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v instanceof Date) return 'date';
  if (typeof v === 'bigint') return 'long';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int/double' : 'double';
  if (typeof v === 'object' && v !== null && '_bsontype' in v) return String((v as { _bsontype: string })._bsontype);
  return typeof v === 'object' ? 'object' : typeof v;
}

function toJson(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  if (v instanceof Date) return timestampFromDate(v);
  if (v instanceof ObjectId) return v.toHexString();
  if (v instanceof Binary) return Buffer.from(v.buffer).toString('base64');
  if (Array.isArray(v)) return v.map(toJson);
  if (isPlainObject(v)) {
    const out: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = toJson(x);
    return out;
  }
  return String(v); // Decimal128, Timestamp, ...
}

const NO_FIT = Symbol('no fit');

/** The stored value in the column's type when that is lossless, else NO_FIT. Missing and null are NULL. */
function coerce(type: ColumnType, v: unknown): Value | typeof NO_FIT {
  if (v === undefined || v === null) return null;
  switch (type) {
    case 'text':
      return typeof v === 'string' ? v : v instanceof ObjectId ? v.toHexString() : NO_FIT;
    case 'int':
      if (typeof v === 'bigint') return v;
      return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : NO_FIT;
    case 'float':
      if (typeof v === 'number') return v;
      return typeof v === 'bigint' && BigInt(Number(v)) === v ? Number(v) : NO_FIT;
    case 'numeric':
      if (typeof v === 'bigint') return v.toString();
      if (typeof v === 'number') return Number.isFinite(v) ? (canonicalNumeric(String(v)) ?? NO_FIT) : NO_FIT;
      return v instanceof Decimal128 ? (canonicalNumeric(v.toString()) ?? NO_FIT) : NO_FIT;
    case 'bool':
      return typeof v === 'boolean' ? v : NO_FIT;
    case 'timestamptz':
      return v instanceof Date && !Number.isNaN(v.getTime()) ? timestampFromDate(v) : NO_FIT;
    case 'date': {
      if (!(v instanceof Date) || Number.isNaN(v.getTime())) return NO_FIT;
      const iso = v.toISOString();
      return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : NO_FIT; // a date is stored as its UTC midnight
    }
    case 'jsonb':
      return toJson(v);
    case 'bytea':
      return v instanceof Binary ? Buffer.from(v.buffer).toString('base64') : NO_FIT;
  }
}

// ---- explain text ---------------------------------------------------------------------------

function shell(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'bigint') return `NumberLong("${v}")`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'object') return String(v);
  if (v instanceof Date) return `ISODate("${v.toISOString()}")`;
  if (v instanceof ObjectId) return `ObjectId("${v.toHexString()}")`;
  if (v instanceof Decimal128) return `NumberDecimal("${v.toString()}")`;
  if (v instanceof BSONRegExp) return `/${v.pattern.replace(/\//g, '\\/')}/${v.options}`;
  if (Array.isArray(v)) return `[${v.map(shell).join(', ')}]`;
  return `{${Object.entries(v as Document)
    .map(([k, x]) => `${JSON.stringify(k)}: ${shell(x)}`)
    .join(', ')}}`;
}

// ---- the source -----------------------------------------------------------------------------

interface Find {
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
type Plan = {
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

interface CollectionMeta {
  name: string;
  info: TableInfo;
  columns: Map<string, MongoColumn>;
  types: Map<string, ColumnType>;
  compiler: FilterCompiler;
}

/** The keys of one bind join travel in one $in; a BSON command is at most 16 MiB. */
export const MONGODB_LIMITS: StoreLimits = { maxKeysPerStatement: 50_000 };

export class MongoSource implements Source {
  readonly name: string;
  readonly kind = 'mongodb';
  readonly limits = MONGODB_LIMITS;
  private readonly timeoutMs: number;
  private readonly secrets: string[];
  private client?: MongoClient;
  private readonly collections = new Map<string, CollectionMeta>();

  constructor(private readonly opts: MongoSourceOptions) {
    this.name = opts.name;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.secrets = urlSecrets(opts.url);
    for (const [coll, decl] of Object.entries(opts.collections)) {
      const columns = new Map<string, MongoColumn>();
      for (const [name, c] of Object.entries(decl.columns)) columns.set(name, mongoColumn(name, c));
      const info: TableInfo = {
        name: coll,
        columns: [...columns.values()].map((c) => ({
          name: c.name,
          type: c.type,
          nullable: c.nullable,
          nativeType: c.path === c.name ? NATIVE[c.type] : `${NATIVE[c.type]} at ${c.path}`,
          ...(decl.columns[c.name]!.description ? { description: decl.columns[c.name]!.description } : {}),
        })),
        ...(decl.description ? { description: decl.description } : {}),
        primaryKey: [...columns.values()].filter((c) => c.path === '_id').map((c) => c.name),
      };
      const types = new Map([...columns.values()].map((c) => [c.name, c.type]));
      this.collections.set(coll, { name: coll, info, columns, types, compiler: new FilterCompiler(coll, columns, this.name) });
    }
  }

  /**
   * Every predicate and order is taken: a filter MongoDB cannot say exactly is pushed as a superset
   * with the exact residual evaluated here, and an order it cannot sort by the value model is
   * merged or sorted here (see the header).
   */
  offer(_table: TableInfo, work: ScanOffer): ScanAcceptance {
    return takeEverything(work);
  }

  async connect(): Promise<void> {
    this.getClient();
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (c) await c.close();
  }

  async ping(): Promise<void> {
    await this.wrap(() => this.getClient().db(this.opts.database).command({ ping: 1 }));
  }

  async introspect(table: string): Promise<TableInfo> {
    return this.meta(table).info;
  }

  async scan(table: string, pushdown: Pushdown): Promise<ScanResult> {
    const meta = this.meta(table);
    const plan = this.plan(meta, pushdown);
    const native = this.describe(meta, pushdown, plan);
    if (pushdown.limit === 0) return { rows: [], native };
    const wanted = pushdown.columns.map((c) => meta.compiler.column(c, false));
    const docs = await this.pageDocs(meta, plan, this.projection(meta, pushdown, plan.residual));
    return { rows: docs.map((d) => this.row(meta, d, wanted)), native };
  }

  async count(table: string, where?: Predicate): Promise<number> {
    const meta = this.meta(table);
    const c = where ? meta.compiler.truth(where, true) : exactly(ALWAYS);
    if (c.exact || !where) return this.wrap(() => this.coll(meta).countDocuments(c.filter, this.maxTime()));
    // The filter is a superset: count the documents where the predicate is TRUE.
    const keep = this.keeper(meta, where);
    const projection = this.projection(meta, { columns: [] }, where);
    return this.wrap(async () => {
      let n = 0;
      for await (const d of this.coll(meta).find(c.filter, { projection, ...this.maxTime() })) if (keep(d)) n++;
      return n;
    });
  }

  async explainScan(table: string, pushdown: Pushdown): Promise<NativeQuery> {
    const meta = this.meta(table);
    return this.describe(meta, pushdown, this.plan(meta, pushdown));
  }

  private getClient(): MongoClient {
    if (!this.client) {
      // Connecting may take the query timeout, within 1-10 s (so a tiny query timeout still connects).
      const connectMs = this.timeoutMs > 0 ? Math.min(Math.max(this.timeoutMs, 1000), 10_000) : 10_000;
      this.client = new MongoClient(this.opts.url, {
        maxPoolSize: this.opts.pool ?? 10,
        serverSelectionTimeoutMS: connectMs,
        connectTimeoutMS: connectMs,
        useBigInt64: true,
      });
    }
    return this.client;
  }

  private coll(meta: CollectionMeta) {
    return this.getClient().db(this.opts.database).collection(meta.name);
  }

  private maxTime(): { maxTimeMS?: number } {
    return this.timeoutMs > 0 ? { maxTimeMS: this.timeoutMs } : {};
  }

  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toStoreError(this.name, err, mongoReason, this.secrets);
    }
  }

  private meta(table: string): CollectionMeta {
    const m = this.collections.get(table);
    if (!m) throw new StoreError(this.name, 'failed', `collection "${table}" is not configured for database "${this.opts.database}"`);
    return m;
  }

  private sortOf(meta: CollectionMeta, terms: OrderTerm[]): Document | undefined {
    const s: Document = {};
    for (const t of terms) {
      const path = meta.compiler.column(t.column).path;
      if (!(path in s)) s[path] = t.desc ? -1 : 1;
    }
    return Object.keys(s).length > 0 ? s : undefined;
  }

  private plan(meta: CollectionMeta, pd: Pushdown): Plan {
    for (const n of [pd.limit, pd.offset]) {
      if (n !== undefined && (!Number.isSafeInteger(n) || n < 0))
        throw new StoreError(this.name, 'failed', `limit and offset must be non-negative integers`);
    }
    const where = pd.where ? meta.compiler.truth(pd.where, true) : exactly(ALWAYS);
    const orderBy = pd.orderBy ?? [];
    const offset = pd.offset ?? 0;
    const base = { filter: where.filter, residual: where.exact ? undefined : pd.where, orderBy, offset, limit: pd.limit };
    const cols = orderBy.map((o) => meta.compiler.column(o.column));
    const sort = this.sortOf(meta, orderBy);
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
      const absent = { filter: andF([where.filter, { [lead]: { $eq: null } }]), sort: this.sortOf(meta, orderBy.slice(1)) };
      const [a, b] = orderBy[0]!.desc ? [absent, present] : [present, absent];
      return { ...base, kind: 'split', first: a, second: b, lead };
    }
    const limit = base.residual || pd.limit === undefined ? undefined : offset + pd.limit;
    return { ...base, kind: 'merge', parts: combos.map((cs) => ({ filter: andF([where.filter, ...cs]), sort, limit })) };
  }

  /** The documents of the page, in PostgreSQL order. */
  private async pageDocs(meta: CollectionMeta, plan: Plan, projection: Document): Promise<Document[]> {
    if (plan.kind === 'memory') {
      const keep = this.keeper(meta, plan.residual);
      const docs = (await this.find(meta, { filter: plan.filter }, projection)).filter(keep);
      const end = plan.limit === undefined ? undefined : plan.offset + plan.limit;
      return this.sorted(meta, docs, plan.orderBy).slice(plan.offset, end);
    }
    if (plan.kind === 'single' && !plan.residual) {
      return this.find(meta, { filter: plan.filter, sort: plan.sort, skip: plan.offset || undefined, limit: plan.limit }, projection);
    }
    if (plan.kind === 'split') return this.findSplit(meta, plan, projection);
    const parts = plan.kind === 'single' ? [{ filter: plan.filter, sort: plan.sort }] : plan.parts;
    return this.merge(meta, plan, parts, projection);
  }

  /**
   * Reads `parts` (each in PostgreSQL order) as cursors and merges them by the value model, keeping
   * the documents where the residual is TRUE, until offset + limit of them have been read.
   */
  private merge(meta: CollectionMeta, plan: Plan, parts: Find[], projection: Document): Promise<Document[]> {
    const { offset, limit, orderBy } = plan;
    const keep = this.keeper(meta, plan.residual);
    const keys = orderBy.map((o) => meta.compiler.column(o.column));
    // With a residual some documents are dropped, so read a little ahead in each round trip.
    const batchSize = limit === undefined ? undefined : Math.min(1000, Math.max(101, offset + limit + 1));
    type Head = { doc: Document; key: Value[] } | null;
    const before = (a: NonNullable<Head>, b: NonNullable<Head>): boolean => {
      for (let i = 0; i < keys.length; i++) {
        const c = compareForSort(keys[i]!.type, a.key[i]!, b.key[i]!, orderBy[i]!.desc);
        if (c !== 0) return c < 0;
      }
      return false;
    };
    return this.wrap(async () => {
      const cursors = parts.map((f) =>
        this.coll(meta).find(f.filter, {
          projection,
          ...(f.sort ? { sort: f.sort } : {}),
          ...(f.limit !== undefined ? { limit: f.limit } : {}),
          ...(batchSize !== undefined ? { batchSize } : {}),
          ...this.maxTime(),
        }),
      );
      const next = async (i: number): Promise<Head> => {
        for (;;) {
          const doc = await cursors[i]!.next();
          if (doc === null) return null;
          if (keep(doc)) return { doc, key: keys.map((k) => this.value(meta, doc, k)) };
        }
      };
      try {
        const heads = await Promise.all(cursors.map((_, i) => next(i)));
        const out: Document[] = [];
        let skipped = 0;
        for (;;) {
          let best = -1;
          for (let i = 0; i < heads.length; i++) if (heads[i] && (best < 0 || before(heads[i]!, heads[best]!))) best = i;
          if (best < 0) break;
          if (skipped < offset) skipped++;
          else out.push(heads[best]!.doc);
          if (limit !== undefined && out.length >= limit) break;
          heads[best] = await next(best);
        }
        return out;
      } finally {
        await Promise.allSettled(cursors.map((c) => c.close()));
      }
    });
  }

  /** Whether a document is kept by the residual (every document when there is none). */
  private keeper(meta: CollectionMeta, residual: Predicate | undefined): (doc: Document) => boolean {
    if (!residual) return () => true;
    const cols = [...predicateColumns(residual)].map((c) => meta.compiler.column(c, false));
    return (doc) => evaluate(residual, this.row(meta, doc, cols), meta.types) === true;
  }

  /** Documents sorted by the value model (PostgreSQL order). */
  private sorted(meta: CollectionMeta, docs: Document[], orderBy: OrderTerm[]): Document[] {
    if (orderBy.length === 0) return docs;
    const keys = orderBy.map((o) => meta.compiler.column(o.column));
    const all = docs.map((doc) => ({ doc, key: keys.map((k) => this.value(meta, doc, k)) }));
    all.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const c = compareForSort(keys[i]!.type, a.key[i]!, b.key[i]!, orderBy[i]!.desc);
        if (c !== 0) return c;
      }
      return 0;
    });
    return all.map((x) => x.doc);
  }

  private async findSplit(meta: CollectionMeta, plan: Extract<Plan, { kind: 'split' }>, projection: Document): Promise<Document[]> {
    const a = await this.find(meta, { ...plan.first, skip: plan.offset || undefined, limit: plan.limit }, projection);
    if (plan.limit !== undefined && a.length >= plan.limit) return a;
    // The page reaches into the second part. If it also starts there, the first part's size says where.
    let skip = 0;
    if (a.length === 0 && plan.offset > 0) {
      const n = await this.wrap(() => this.coll(meta).countDocuments(plan.first.filter, this.maxTime()));
      skip = Math.max(0, plan.offset - n);
    }
    const limit = plan.limit === undefined ? undefined : plan.limit - a.length;
    const b = await this.find(meta, { ...plan.second, skip: skip || undefined, limit }, projection);
    return [...a, ...b];
  }

  private find(meta: CollectionMeta, f: Find, projection: Document): Promise<Document[]> {
    return this.wrap(() =>
      this.coll(meta)
        .find(f.filter, {
          projection,
          ...(f.sort ? { sort: f.sort } : {}),
          ...(f.skip ? { skip: f.skip } : {}),
          ...(f.limit !== undefined ? { limit: f.limit } : {}),
          ...this.maxTime(),
        })
        .toArray(),
    );
  }

  /**
   * The fields to fetch: requested columns, sort keys (compared in process by merge and memory
   * plans), the residual's columns, and always _id (for error messages).
   */
  private projection(meta: CollectionMeta, pd: Pick<Pushdown, 'columns' | 'orderBy'>, residual?: Predicate): Document {
    const paths = new Set(['_id']);
    for (const c of pd.columns) paths.add(meta.compiler.column(c, false).path);
    for (const o of pd.orderBy ?? []) paths.add(meta.compiler.column(o.column).path);
    for (const c of residual ? predicateColumns(residual) : []) paths.add(meta.compiler.column(c, false).path);
    // MongoDB rejects a projection with both `a` and `a.b`; `a` covers `a.b`.
    const kept = [...paths].filter((p) => ![...paths].some((q) => p.startsWith(`${q}.`)));
    return Object.fromEntries(kept.map((p) => [p, 1]));
  }

  private row(meta: CollectionMeta, doc: Document, columns: MongoColumn[]): Row {
    const row: Row = {};
    for (const c of columns) row[c.name] = this.value(meta, doc, c);
    return row;
  }

  private value(meta: CollectionMeta, doc: Document, col: MongoColumn): Value {
    const raw = lookup(doc, col.path);
    const v = coerce(col.type, raw);
    if (v !== NO_FIT) return v;
    if (col.onTypeMismatch === 'null') return null;
    const id = doc._id instanceof ObjectId ? doc._id.toHexString() : JSON.stringify(toJson(doc._id));
    throw new StoreError(
      this.name,
      'failed',
      `collection "${meta.name}": field "${col.path}" of document _id ${id} holds a ${bsonKind(raw)} value, which does not fit column "${col.name}" of type ${col.type}`,
    );
  }

  private describe(meta: CollectionMeta, pd: Pushdown, plan: Plan): NativeQuery {
    const projection = this.projection(meta, pd, plan.residual);
    const coll = /^[A-Za-z_][A-Za-z0-9_]*$/.test(meta.name) ? `db.${meta.name}` : `db.getCollection(${JSON.stringify(meta.name)})`;
    const text = (f: Find): string =>
      `${coll}.find(${shell(f.filter)}, ${shell(projection)})` +
      (f.sort ? `.sort(${shell(f.sort)})` : '') +
      (f.skip ? `.skip(${f.skip})` : '') +
      (f.limit !== undefined ? `.limit(${f.limit})` : '') +
      (this.timeoutMs > 0 ? `.maxTimeMS(${this.timeoutMs})` : '');
    const page = `offset ${plan.offset}${plan.limit === undefined ? '' : `, limit ${plan.limit}`}`;
    const keys = plan.orderBy.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', ');
    const lines: string[] = [];
    switch (plan.kind) {
      case 'single':
        lines.push(
          plan.residual
            ? text({ filter: plan.filter, sort: plan.sort })
            : text({ filter: plan.filter, sort: plan.sort, skip: plan.offset || undefined, limit: plan.limit }),
        );
        break;
      case 'split':
        lines.push(
          text({ ...plan.first, skip: plan.offset || undefined, limit: plan.limit }),
          text({ ...plan.second, limit: plan.limit }),
          `// PostgreSQL NULL order on "${plan.lead}": the second find continues the first (its skip/limit follow from the first's rows)`,
        );
        break;
      case 'merge':
        lines.push(...plan.parts.map(text));
        break;
      case 'memory':
        lines.push(text({ filter: plan.filter }));
        break;
    }
    if (plan.residual) {
      lines.push(
        `// residual evaluated in process on each document: ${predicateText(plan.residual)} (SQL three-valued logic; rows where it is TRUE are kept; the filter above is a superset)`,
      );
    }
    if (plan.kind === 'merge') {
      lines.push(
        `// merged in process by ${keys} (PostgreSQL order: text by code point, ObjectIds as their hex text, NULLs last ascending), then ${page}`,
      );
    } else if (plan.kind === 'memory') {
      lines.push(`// sorted in process by ${keys || '(no order)'} (PostgreSQL NULL order), then ${page}`);
    } else if (plan.residual) {
      lines.push(`// then ${page}, after the residual`);
    }
    return { source: this.name, text: lines.join('\n'), params: [] };
  }
}
