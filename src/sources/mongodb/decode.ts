// Documents -> rows: a column's value read from its path, converted to the column's type when that
// is lossless; a value that does not fit is an error or NULL, as the column is declared.
import { Binary, Decimal128, ObjectId, type Document } from 'mongodb';
import { StoreError } from '../../errors.js';
import { canonicalNumeric, timestampFromDate, type ColumnType, type JsonValue, type Row, type Value } from '../../values.js';
import type { MongoColumn } from './columns.js';

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

/** The collection documents are read from, named in errors: its source's name and its own. */
interface DocumentOrigin {
  source: string;
  name: string;
}

/** A column's value in a document; a misfit is NULL or an error, as the column is declared. */
export function columnValue(coll: DocumentOrigin, doc: Document, col: MongoColumn): Value {
  const raw = lookup(doc, col.path);
  const v = coerce(col.type, raw);
  if (v !== NO_FIT) return v;
  if (col.onTypeMismatch === 'null') return null;
  const id = doc._id instanceof ObjectId ? doc._id.toHexString() : JSON.stringify(toJson(doc._id));
  throw new StoreError(
    coll.source,
    'failed',
    `collection "${coll.name}": field "${col.path}" of document _id ${id} holds a ${bsonKind(raw)} value, which does not fit column "${col.name}" of type ${col.type}`,
  );
}

export function documentRow(coll: DocumentOrigin, doc: Document, columns: MongoColumn[]): Row {
  const row: Row = {};
  for (const c of columns) row[c.name] = columnValue(coll, doc, c);
  return row;
}
