// The value model (docs/query.md, "Values"): one in-process representation for every store.
//
//   bool        -> boolean
//   int         -> bigint            (exact 64-bit; serialized as bare JSON digits)
//   float       -> number
//   numeric     -> string            (exact decimal text, scale as PostgreSQL prints it: "12.50")
//   text        -> string            (compared by code point)
//   timestamptz -> string            (canonical "YYYY-MM-DDTHH:MM:SS.ffffffZ", always 6 fraction digits)
//   date        -> string            ("YYYY-MM-DD")
//   jsonb       -> any JSON value
//   bytea       -> string            (base64)
//   NULL        -> null
import { hash } from 'node:crypto';
import { Decimal } from 'decimal.js';

export const COLUMN_TYPES = ['bool', 'int', 'float', 'numeric', 'text', 'timestamptz', 'date', 'jsonb', 'bytea'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export type Value = null | boolean | bigint | number | string | JsonValue;
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type Row = Record<string, Value>;

/** Types that can appear in filters and ORDER BY. jsonb and bytea cannot. */
export function isComparableType(t: ColumnType): boolean {
  return t !== 'jsonb' && t !== 'bytea';
}

/** Compares strings by Unicode code point (PostgreSQL with the C collation on UTF-8). */
function compareText(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const ca = a.charCodeAt(i);
    const cb = b.charCodeAt(i);
    if (ca === cb) continue;
    // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF and must sort after 0xE000-0xFFFF.
    const sa = ca >= 0xd800 && ca <= 0xdfff;
    const sb = cb >= 0xd800 && cb <= 0xdfff;
    if (sa !== sb) return sa ? 1 : -1;
    return ca < cb ? -1 : 1;
  }
  return a.length - b.length;
}

/** Compares two non-null values of one column type; returns <0, 0 or >0. */
export function compareValues(type: ColumnType, a: Value, b: Value): number {
  switch (type) {
    case 'bool':
      return Number(a) - Number(b);
    case 'int': {
      const x = a as bigint;
      const y = b as bigint;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'float': {
      const x = a as number;
      const y = b as number;
      // PostgreSQL: NaN equals NaN and sorts above every other value.
      if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) ? (Number.isNaN(y) ? 0 : 1) : -1;
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'numeric':
      return new Decimal(a as string).comparedTo(new Decimal(b as string));
    case 'text':
    case 'bytea':
      return compareText(a as string, b as string);
    case 'timestamptz':
    case 'date':
      // Canonical forms have fixed width, so plain string order is time order.
      return a === b ? 0 : (a as string) < (b as string) ? -1 : 1;
    case 'jsonb': {
      const x = JSON.stringify(a);
      const y = JSON.stringify(b);
      return x === y ? 0 : x < y ? -1 : 1;
    }
  }
}

/** PostgreSQL ordering with NULLs: ascending puts NULLs last, descending puts them first. */
export function compareForSort(type: ColumnType, a: Value, b: Value, desc: boolean): number {
  if (a === null || b === null) {
    if (a === b) return 0;
    // NULL is the largest value in either direction.
    const c = a === null ? 1 : -1;
    return desc ? -c : c;
  }
  const c = compareValues(type, a, b);
  return desc ? -c : c;
}

// ---- canonical forms -------------------------------------------------------------------------

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/;

/**
 * Parses an ISO-8601 / PostgreSQL timestamp text into the canonical UTC form.
 * Text without an offset is taken as UTC. Returns null when the text is not a valid timestamp.
 */
export function canonicalTimestamp(text: string): string | null {
  const m = TS_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', off] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  const [micros, carrySeconds] = roundMicros(frac);
  let offsetMinutes = 0;
  if (off && off !== 'Z' && off !== 'z') {
    const sign = off[0] === '-' ? -1 : 1;
    const digits = off.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  // Already UTC, within the second and past year 99: the canonical text is the fields themselves
  // (what the stores send for a timestamp column in UTC).
  if (offsetMinutes === 0 && carrySeconds === 0 && year >= 100) return `${y}-${mo}-${d}T${h}:${mi}:${s}.${micros}Z`;
  const ms = Date.UTC(year, month - 1, day, Number(h), Number(mi), Number(s) + carrySeconds) - offsetMinutes * 60_000;
  if (year < 100) {
    // Date.UTC maps years 0-99 to 1900-1999; rebuild such dates explicitly.
    const dt = new Date(0);
    dt.setUTCFullYear(year, month - 1, day);
    dt.setUTCHours(Number(h), Number(mi) - offsetMinutes, Number(s) + carrySeconds, 0);
    return formatTimestamp(dt.getTime(), micros);
  }
  return formatTimestamp(ms, micros);
}

/**
 * Fraction digits to six, rounded as PostgreSQL rounds timestamp input (half to even);
 * returns the digits and 1 when rounding carries into the next second.
 */
function roundMicros(frac: string): [string, number] {
  const kept = (frac + '000000').slice(0, 6);
  const rest = frac.slice(6);
  if (!/[1-9]/.test(rest)) return [kept, 0];
  const half = rest[0] === '5' && !/[1-9]/.test(rest.slice(1));
  const up = rest[0]! > '5' || (rest[0] === '5' && !half) || (half && Number(kept[5]) % 2 === 1);
  if (!up) return [kept, 0];
  const n = Number(kept) + 1;
  return n === 1_000_000 ? ['000000', 1] : [String(n).padStart(6, '0'), 0];
}

/** Canonical text for a JS Date (millisecond precision), optionally with the sub-millisecond digits. */
export function timestampFromDate(d: Date): string {
  return formatTimestamp(d.getTime() - d.getUTCMilliseconds(), String(d.getUTCMilliseconds()).padStart(3, '0') + '000');
}

function formatTimestamp(msWholeSeconds: number, micros: string): string {
  const iso = new Date(Math.floor(msWholeSeconds / 1000) * 1000).toISOString(); // YYYY-MM-DDTHH:MM:SS.000Z
  return `${iso.slice(0, 19)}.${micros}Z`;
}

function daysInMonth(y: number, m: number): number {
  return [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1]!;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function canonicalDate(text: string): string | null {
  const m = DATE_RE.exec(text.trim());
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  return `${m[1]}-${m[2]}-${m[3]}`;
}

const INT_RE = /^[+-]?\d+$/;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

export function parseInt64(text: string): bigint | null {
  const t = text.trim();
  if (!INT_RE.test(t)) return null;
  const v = BigInt(t);
  return v < INT64_MIN || v > INT64_MAX ? null : v;
}

const NUMERIC_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** Canonical decimal text: no exponent, no leading '+', scale kept as written ("12.50" stays "12.50"). */
export function canonicalNumeric(text: string): string | null {
  const t = text.trim();
  if (!NUMERIC_RE.test(t)) return null;
  // A huge exponent would expand into an enormous digit string.
  const exp = /[eE]([+-]?\d+)$/.exec(t);
  if (exp && Math.abs(Number(exp[1])) > 1000) return null;
  const d = new Decimal(t);
  if (/[eE]/.test(t)) return d.toFixed();
  const frac = t.includes('.') ? t.split('.')[1]!.length : 0;
  return d.toFixed(frac);
}

/** Freezes a value and everything it holds, so that a value shared between requests cannot be changed by one of them. */
export function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

// ---- JSON output -----------------------------------------------------------------------------

/**
 * A deterministic text for any value: sorted object keys, bigints distinct from numbers and
 * strings. What the response cache key and the opaque row order compare values by.
 */
export function canonical(v: unknown): string {
  if (v === undefined) return 'u';
  if (v === null || typeof v === 'boolean' || typeof v === 'number') return JSON.stringify(v) ?? 'null';
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'string') return JSON.stringify(v);
  // Written out with loops: the response cache key prints a whole engine query on every request.
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + (i in v ? canonical(v[i]) : ''); // a hole prints as nothing
    return s + ']';
  }
  if (v instanceof Map) return `M${canonical([...v.entries()].sort(([a], [b]) => (String(a) < String(b) ? -1 : 1)))}`;
  const o = v as Record<string, unknown>;
  let s = '{';
  for (const k of Object.keys(o).sort()) {
    const x = o[k];
    if (x === undefined) continue;
    s += (s.length === 1 ? '' : ',') + JSON.stringify(k) + ':' + canonical(x);
  }
  return s + '}';
}

/**
 * JSON.stringify that writes bigint as bare digits (exact 64-bit integers), so clients that parse
 * big numbers exactly get them exactly. Written out rather than as a replacer: a replacer makes
 * JSON.stringify call back into JavaScript for every value, which costs twice as much on the rows
 * every response carries.
 */
export function toJson(value: unknown): string {
  return jsonText(value) ?? 'null';
}

/**
 * toJson for values that seldom hold a bigint (audit records: only a write's keys can): the
 * engine's own JSON.stringify, about twice as fast, and toJson's writing when it meets a bigint.
 */
export function toJsonSeldomBig(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'null';
  } catch (err) {
    if (err instanceof TypeError) return toJson(value); // "Do not know how to serialize a BigInt"
    throw err;
  }
}

/** JSON.stringify's text for one value (`undefined` where it would leave the value out). */
function jsonText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      return v === null ? 'null' : objectText(v);
    default:
      return undefined; // undefined, functions and symbols, as JSON.stringify leaves them out
  }
}

function objectText(v: object): string | undefined {
  const toJSON = (v as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return jsonText((toJSON as () => unknown).call(v));
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i === 0 ? '' : ',') + (jsonText(v[i]) ?? 'null');
    return s + ']';
  }
  let s = '{';
  let first = true;
  for (const [k, x] of Object.entries(v)) {
    const text = jsonText(x);
    if (text === undefined) continue;
    s += (first ? '' : ',') + JSON.stringify(k) + ':' + text;
    first = false;
  }
  return s + '}';
}

/** A value as plain JSON data (bigint within 2^53 becomes a number, beyond it a digit string). */
export function toPlain(v: Value): JsonValue {
  if (typeof v === 'bigint') {
    return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
  }
  return v as JsonValue;
}

/** The strong ETag of a JSON body as REST sends it; If-Match on a write compares against the same tag. */
export function etagOf(text: string): string {
  return `"${hash('sha256', text, 'base64url').slice(0, 27)}"`;
}
