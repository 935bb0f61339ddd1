// MongoDB source (mongodb driver). Collections and their columns are declared in config; a
// missing field is NULL. Only `find` with plain operators (and countDocuments) is used, so the
// same queries run on MongoDB and on FerretDB.
//
// Predicates keep SQL's three-valued logic by compiling each node twice: the filter for "p is TRUE"
// and the filter for "p is FALSE" (NOT p is TRUE = p is FALSE; (a AND b) is FALSE = a is FALSE OR
// b is FALSE; `x < v` is FALSE = `x >= v`, ...). Every leaf filter matches only present, non-null
// values ($nin always carries null), so no negation ever matches NULL or a missing field.
import { Binary, BSONRegExp, Decimal128, MongoClient, ObjectId, type Document } from 'mongodb';
import { StoreError } from '../errors.js';
import type { CompareOp, OrderTerm, Predicate, Pushdown } from '../query/predicate.js';
import {
  canonicalNumeric,
  compareForSort,
  isComparableType,
  timestampFromDate,
  type ColumnType,
  type JsonValue,
  type Row,
  type Value,
} from '../values.js';
import type { NativeQuery, ScanResult, Source, TableInfo } from './source.js';
import { mongoReason, toStoreError, urlSecrets } from './store-errors.js';

export interface MongoColumnDecl {
  type: ColumnType;
  /** Dotted field path; defaults to the column name. */
  path?: string;
  onTypeMismatch?: 'error' | 'null';
}

export interface MongoSourceOptions {
  name: string;
  url: string;
  database: string;
  timeoutMs?: number;
  pool?: number;
  collections: Record<string, { columns: Record<string, MongoColumnDecl> }>;
}

interface MongoColumn {
  name: string;
  type: ColumnType;
  path: string;
  onTypeMismatch: 'error' | 'null';
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

  /** The filter matching the documents where `p` is TRUE (`want`) or FALSE (`!want`). */
  truth(p: Predicate, want: boolean): Document {
    switch (p.op) {
      case 'and':
        return want ? andF(p.args.map((a) => this.truth(a, true))) : orF(p.args.map((a) => this.truth(a, false)));
      case 'or':
        return want ? orF(p.args.map((a) => this.truth(a, true))) : andF(p.args.map((a) => this.truth(a, false)));
      case 'not':
        return this.truth(p.arg, !want);
      case 'const':
        return p.value === want ? ALWAYS : NEVER; // unknown (null) is neither
      case 'isnull':
        return { [this.column(p.column, false).path]: want ? { $eq: null } : { $ne: null } };
      case 'cmp':
        return this.compare(this.column(p.column), want ? p.cmp : NEGATE[p.cmp], p.value);
      case 'in': {
        // An empty list is FALSE even for NULL (as PostgreSQL's `= ANY('{}')`).
        if (p.values.length === 0) return want ? NEVER : ALWAYS;
        const col = this.column(p.column);
        const alts = p.values.flatMap((v) => this.equalAlternatives(col, v));
        if (want) return alts.length === 0 ? NEVER : { [col.path]: { $in: alts } };
        return { [col.path]: { $nin: [null, ...alts] } };
      }
      case 'like': {
        const col = this.column(p.column);
        if (col.type !== 'text') throw new StoreError(this.source, 'failed', `like needs a text column; "${col.name}" is ${col.type}`);
        const re = likeRegex(p.pattern);
        return want ? { [col.path]: { $regex: re, $options: 's' } } : { [col.path]: { $type: 'string', $not: new BSONRegExp(re, 's') } };
      }
    }
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
      if (typeof v === 'number') return Number.isFinite(v) ? canonicalNumeric(String(v)) ?? NO_FIT : NO_FIT;
      return v instanceof Decimal128 ? canonicalNumeric(v.toString()) ?? NO_FIT : NO_FIT;
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

/**
 * How a scan runs. MongoDB sorts null/missing before every value in ascending order (and last in
 * descending), PostgreSQL the other way round, so:
 *  - single: no ORDER BY, or only never-null keys (`_id`): one find with sort/skip/limit;
 *  - split:  only the leading key can be null: one find for the rows where it is not null, one for
 *            the rows where it is (sorted by the remaining keys), concatenated in PostgreSQL's NULL
 *            position; skip/limit are carried across the two (with a count when the page starts in
 *            the second part);
 *  - memory: a later key can be null too (nulls would interleave): one find without sort/limit,
 *            then sort by the value model and slice in process.
 */
type Plan =
  | { kind: 'single'; find: Find }
  | { kind: 'split'; first: Find; second: Find; offset: number; limit?: number; lead: string }
  | { kind: 'memory'; find: Find; orderBy: OrderTerm[]; offset: number; limit?: number };

interface CollectionMeta {
  name: string;
  info: TableInfo;
  columns: Map<string, MongoColumn>;
  compiler: FilterCompiler;
}

export class MongoSource implements Source {
  readonly name: string;
  readonly kind = 'mongodb' as const;
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
      for (const [name, c] of Object.entries(decl.columns)) {
        columns.set(name, { name, type: c.type, path: c.path ?? name, onTypeMismatch: c.onTypeMismatch ?? 'error' });
      }
      const info: TableInfo = {
        name: coll,
        columns: [...columns.values()].map((c) => ({
          name: c.name,
          type: c.type,
          nullable: c.path !== '_id',
          nativeType: c.path === c.name ? NATIVE[c.type] : `${NATIVE[c.type]} at ${c.path}`,
        })),
        primaryKey: [...columns.values()].filter((c) => c.path === '_id').map((c) => c.name),
      };
      this.collections.set(coll, { name: coll, info, columns, compiler: new FilterCompiler(coll, columns, this.name) });
    }
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
    const projection = this.projection(meta, pushdown);
    const docs =
      pushdown.limit === 0
        ? []
        : plan.kind === 'split'
          ? await this.findSplit(meta, plan, projection)
          : await this.find(meta, plan.find, projection);

    const wanted = pushdown.columns.map((c) => meta.compiler.column(c, false));
    if (plan.kind !== 'memory') return { rows: docs.map((d) => this.row(meta, d, wanted)), native };
    const keys = plan.orderBy.map((o) => meta.compiler.column(o.column));
    const all = docs.map((d) => ({ row: this.row(meta, d, wanted), key: keys.map((k) => this.value(meta, d, k)) }));
    all.sort((a, b) => {
      for (let i = 0; i < keys.length; i++) {
        const c = compareForSort(keys[i]!.type, a.key[i]!, b.key[i]!, plan.orderBy[i]!.desc);
        if (c !== 0) return c;
      }
      return 0;
    });
    const end = plan.limit === undefined ? undefined : plan.offset + plan.limit;
    return { rows: all.slice(plan.offset, end).map((x) => x.row), native };
  }

  async count(table: string, where?: Predicate): Promise<number> {
    const meta = this.meta(table);
    const filter = where ? meta.compiler.truth(where, true) : ALWAYS;
    return this.wrap(() => this.coll(meta).countDocuments(filter, this.timeoutMs > 0 ? { maxTimeMS: this.timeoutMs } : {}));
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

  private plan(meta: CollectionMeta, pd: Pushdown): Plan {
    for (const n of [pd.limit, pd.offset]) {
      if (n !== undefined && (!Number.isSafeInteger(n) || n < 0)) throw new StoreError(this.name, 'failed', `limit and offset must be non-negative integers`);
    }
    const filter = pd.where ? meta.compiler.truth(pd.where, true) : ALWAYS;
    const order = pd.orderBy ?? [];
    const cols = order.map((o) => meta.compiler.column(o.column));
    const offset = pd.offset ?? 0;
    const sortOf = (terms: OrderTerm[]): Document | undefined => {
      const s: Document = {};
      for (const t of terms) {
        const path = meta.compiler.column(t.column).path;
        if (!(path in s)) s[path] = t.desc ? -1 : 1;
      }
      return Object.keys(s).length > 0 ? s : undefined;
    };
    const nullable = cols.map((c) => c.path !== '_id');
    if (!nullable.includes(true)) {
      return { kind: 'single', find: { filter, sort: sortOf(order), skip: offset || undefined, limit: pd.limit } };
    }
    if (nullable.indexOf(true, 1) === -1) {
      const lead = cols[0]!.path;
      const present = { filter: andF([filter, { [lead]: { $ne: null } }]), sort: sortOf(order) };
      const absent = { filter: andF([filter, { [lead]: { $eq: null } }]), sort: sortOf(order.slice(1)) };
      const [first, second] = order[0]!.desc ? [absent, present] : [present, absent];
      return { kind: 'split', first, second, offset, limit: pd.limit, lead };
    }
    return { kind: 'memory', find: { filter }, orderBy: order, offset, limit: pd.limit };
  }

  private async findSplit(meta: CollectionMeta, plan: Extract<Plan, { kind: 'split' }>, projection: Document): Promise<Document[]> {
    const a = await this.find(meta, { ...plan.first, skip: plan.offset || undefined, limit: plan.limit }, projection);
    if (plan.limit !== undefined && a.length >= plan.limit) return a;
    // The page reaches into the second part. If it also starts there, the first part's size says where.
    let skip = 0;
    if (a.length === 0 && plan.offset > 0) {
      const n = await this.wrap(() => this.coll(meta).countDocuments(plan.first.filter, this.timeoutMs > 0 ? { maxTimeMS: this.timeoutMs } : {}));
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
          ...(this.timeoutMs > 0 ? { maxTimeMS: this.timeoutMs } : {}),
        })
        .toArray(),
    );
  }

  /** The fields to fetch: requested columns, in-process sort keys, and always _id (for error messages). */
  private projection(meta: CollectionMeta, pd: Pushdown): Document {
    const paths = new Set(['_id']);
    for (const c of pd.columns) paths.add(meta.compiler.column(c, false).path);
    for (const o of pd.orderBy ?? []) paths.add(meta.compiler.column(o.column).path);
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
    const projection = this.projection(meta, pd);
    const coll = /^[A-Za-z_][A-Za-z0-9_]*$/.test(meta.name) ? `db.${meta.name}` : `db.getCollection(${JSON.stringify(meta.name)})`;
    const text = (f: Find): string =>
      `${coll}.find(${shell(f.filter)}, ${shell(projection)})` +
      (f.sort ? `.sort(${shell(f.sort)})` : '') +
      (f.skip ? `.skip(${f.skip})` : '') +
      (f.limit !== undefined ? `.limit(${f.limit})` : '') +
      (this.timeoutMs > 0 ? `.maxTimeMS(${this.timeoutMs})` : '');
    let out: string;
    if (plan.kind === 'single') out = text(plan.find);
    else if (plan.kind === 'split') {
      out =
        `${text({ ...plan.first, skip: plan.offset || undefined, limit: plan.limit })}\n` +
        `${text({ ...plan.second, limit: plan.limit })}\n` +
        `// PostgreSQL NULL order on "${plan.lead}": the second find continues the first (its skip/limit follow from the first's rows)`;
    } else {
      const keys = plan.orderBy.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', ');
      out = `${text(plan.find)}\n// sorted in process by ${keys} (PostgreSQL NULL order), then offset ${plan.offset}${plan.limit === undefined ? '' : `, limit ${plan.limit}`}`;
    }
    return { source: this.name, text: out, params: [] };
  }
}
