// SQLite's declared column types in the value model, and its stored values read into it.
//
// SQLite is dynamically typed: a column's declared type only gives it an affinity (a preference
// applied when a value is stored), and any column can hold any value. The declared type picks the
// value-model type; every stored value is then checked against it, and one that does not fit
// (text in an INTEGER column, 2 in a BOOLEAN column, a blob in a TEXT column) is an error naming
// the column, never a guessed value. STRICT tables make such values impossible.
import { Decimal } from 'decimal.js';
import { StoreError } from '../../errors.js';
import { canonicalDate, canonicalTimestamp, timestampFromDate, type ColumnType, type Value } from '../../values.js';
import type { SqlColumn } from '../sql/common.js';

/**
 * How a stored value is compared in SQL so that SQLite's order is the value model's:
 *  - native:    the column as it is (its storage class orders like the value model);
 *  - timestamp: through viewgate_timestamp(), which returns the canonical text (fixed width, so
 *               text order is time order) whatever ISO form or Unix time is stored;
 *  - rendered:  through viewgate_text(), which returns numbers as text, for columns of no or an
 *               unknown declared type (their numbers and texts would otherwise compare as numbers
 *               first, then texts).
 */
type Comparison = 'native' | 'timestamp' | 'rendered';

/** The value-model type of a declared type, by SQLite's affinity rules and the common type names. */
export function mapDeclaredType(declared: string): ColumnType {
  const t = declared.toUpperCase();
  // SQLite's rules, in its order (https://sqlite.org/datatype3.html, 3.1).
  if (t.includes('INT')) return 'int';
  if (/CHAR|CLOB|TEXT/.test(t)) return 'text';
  if (t.includes('BLOB')) return 'bytea';
  if (t.trim() === '') return 'text'; // no type: any value, read as text (see comparisonOf)
  if (/REAL|FLOA|DOUB/.test(t)) return 'float';
  // NUMERIC affinity: the name says what the values are.
  const name = /^\s*([A-Z]+)/.exec(t)?.[1] ?? '';
  switch (name) {
    case 'NUMERIC':
    case 'DECIMAL':
    case 'NUM':
      return 'numeric';
    case 'BOOL':
    case 'BOOLEAN':
      return 'bool';
    case 'DATE':
      return 'date';
    case 'DATETIME':
    case 'TIMESTAMP':
    case 'TIMESTAMPTZ':
      return 'timestamptz';
    case 'JSON':
    case 'JSONB':
      return 'jsonb';
    default:
      return 'text'; // UUID, STRING, ANY, ...: read as text (see comparisonOf)
  }
}

/** Text columns whose type has TEXT affinity hold only text; any other text column may hold numbers. */
export function comparisonOf(col: Pick<SqlColumn, 'type' | 'base'>): Comparison {
  if (col.type === 'timestamptz') return 'timestamp';
  if (col.type === 'text' && !/char|clob|text/.test(col.base)) return 'rendered';
  return 'native';
}

/** The scale of DECIMAL(p,s) / NUMERIC(p,s), if declared. */
function declaredScale(base: string): number | undefined {
  const m = /\(\s*\d+\s*,\s*(\d+)\s*\)/.exec(base);
  return m ? Number(m[1]) : undefined;
}

/**
 * A stored REAL as an exact decimal: an integral double is its exact integer, any other the
 * shortest decimal that reads back as the same double (what was written, for up to 15 digits).
 * Strictly increasing in the double, so SQLite's numeric order is the order of these decimals.
 */
function realAsDecimal(x: number): string | undefined {
  if (!Number.isFinite(x)) return undefined;
  if (Number.isInteger(x)) return BigInt(x).toString();
  return new Decimal(String(x)).toFixed();
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * A numeric value as an SQLite parameter that compares with every stored INTEGER and REAL exactly
 * as the value model compares their decimals (realAsDecimal): an integer within 64 bits as an
 * integer, any other value that is some REAL's decimal as that REAL. Undefined otherwise (e.g.
 * 0.1000000000000000001): no stored number reads as that value.
 */
export function numericParam(v: string): bigint | number | undefined {
  const d = new Decimal(v);
  if (d.isInteger()) {
    const i = BigInt(d.toFixed());
    if (i >= INT64_MIN && i <= INT64_MAX) return i;
  }
  const y = Number(v);
  const back = realAsDecimal(y);
  return back !== undefined && new Decimal(back).eq(d) ? y : undefined;
}

function padScale(text: string, scale: number | undefined): string {
  if (scale === undefined || scale === 0) return text;
  const dot = text.indexOf('.');
  const digits = dot < 0 ? 0 : text.length - dot - 1;
  return digits >= scale ? text : `${dot < 0 ? `${text}.` : text}${'0'.repeat(scale - digits)}`;
}

// Unix time within the canonical form's four-digit years: 0001-01-01 to 9999-12-31T23:59:59.
const UNIX_MIN = -62_135_596_800n;
const UNIX_MAX = 253_402_300_799n;

/**
 * A stored timestamp in canonical form: ISO 8601 text ('YYYY-MM-DD', 'YYYY-MM-DD HH:MM[:SS[.fff]]'
 * with 'T' or a space, read as UTC unless it carries 'Z' or an offset) or an INTEGER of Unix
 * seconds. Undefined for anything else (REAL Julian day numbers included).
 */
export function timestampValue(raw: unknown): string | undefined {
  if (typeof raw === 'string') return canonicalTimestamp(raw) ?? undefined;
  if (typeof raw === 'bigint' && raw >= UNIX_MIN && raw <= UNIX_MAX) return timestampFromDate(new Date(Number(raw) * 1000));
  return undefined;
}

/** A value of a column read as text: text as it is, numbers as JavaScript prints them. */
export function renderedText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'bigint' || typeof raw === 'number') return String(raw);
  return undefined;
}

const safe = (i: bigint): boolean => i >= BigInt(Number.MIN_SAFE_INTEGER) && i <= BigInt(Number.MAX_SAFE_INTEGER);

/** A stored value in the value model, or undefined when it does not fit the column's type. */
function fit(col: SqlColumn, raw: unknown): Value | undefined {
  switch (col.type) {
    case 'int':
      return typeof raw === 'bigint' ? raw : undefined;
    case 'float':
      if (typeof raw === 'number') return raw;
      return typeof raw === 'bigint' && safe(raw) ? Number(raw) : undefined;
    case 'numeric': {
      const text = typeof raw === 'bigint' ? raw.toString() : typeof raw === 'number' ? realAsDecimal(raw) : undefined;
      return text === undefined ? undefined : padScale(text, declaredScale(col.base));
    }
    case 'bool':
      return raw === 0n ? false : raw === 1n ? true : undefined;
    case 'date':
      return typeof raw === 'string' && canonicalDate(raw) === raw ? raw : undefined;
    case 'timestamptz':
      return timestampValue(raw);
    case 'jsonb':
      if (typeof raw === 'number') return raw;
      if (typeof raw === 'bigint') return safe(raw) ? Number(raw) : undefined;
      if (typeof raw !== 'string') return undefined;
      try {
        return JSON.parse(raw) as Value;
      } catch {
        return undefined;
      }
    case 'bytea':
      return Buffer.isBuffer(raw) ? raw.toString('base64') : undefined;
    case 'text':
      return comparisonOf(col) === 'rendered' ? renderedText(raw) : typeof raw === 'string' ? raw : undefined;
  }
}

/** The stored value's SQLite storage class, with its article. */
function storageClass(raw: unknown): string {
  if (typeof raw === 'bigint') return 'an INTEGER';
  if (typeof raw === 'number') return 'a REAL';
  if (typeof raw === 'string') return 'a TEXT';
  return Buffer.isBuffer(raw) ? 'a BLOB' : `a ${typeof raw}`;
}

/** The error for a stored value that does not fit its column: names the column, never shows the value. */
export function misfit(source: string, column: string, type: ColumnType, raw: unknown, declared?: string): StoreError {
  const as = declared === undefined ? '' : ` (declared ${declared ? declared.toUpperCase() : 'without a type'})`;
  return new StoreError(source, 'failed', `column "${column}" holds ${storageClass(raw)} value that does not fit its type ${type}${as}`);
}

/** Reads one stored value of a column; throws misfit() when it does not fit. */
export function decodeValue(source: string, col: SqlColumn, raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  const v = fit(col, raw);
  if (v === undefined) throw misfit(source, col.name, col.type, raw, col.base);
  return v;
}
