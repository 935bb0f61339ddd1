// Casts between value-model values, as PostgreSQL performs them (session TimeZone UTC), and the
// inverse of the lossless ones, which lets a predicate on `x::text` become a predicate on `x`.
import { canonicalDate, canonicalNumeric, canonicalTimestamp, type JsonValue, type Value } from '../../values.js';
import { dataError } from './errors.js';
import { formatDec, integerDigits, isIntegral, parseDec, roundDec, normalizedDec } from './numeric.js';
import { castInjective, intRange, isInt, typeName, type SqlType } from './sql-types.js';

/** numeric(p, s) or varchar(n) modifiers of a cast. */
export interface TypeMod {
  precision?: number;
  scale?: number;
  length?: number;
}

export function castValue(v: Value, from: SqlType, to: SqlType, mod?: TypeMod): Value {
  if (v === null) return null;
  const out = from === to ? v : convert(v, from, to);
  return mod ? applyMod(out, to, mod) : out;
}

function convert(v: Exclude<Value, null>, from: SqlType, to: SqlType): Value {
  if (to === 'text') return toText(v, from);
  if (from === 'text') return fromText(v as string, to);
  if (isInt(from)) {
    const i = v as bigint;
    if (isInt(to)) return checkInt(i, to);
    if (to === 'numeric') return i.toString();
    if (to === 'float8') return Number(i);
    if (to === 'bool') return i !== 0n;
  }
  if (from === 'numeric') {
    const s = v as string;
    if (isInt(to)) return checkInt(roundDec(parseDec(s), 0).unscaled, to);
    if (to === 'float8') return Number(s);
  }
  if (from === 'float8') {
    const f = v as number;
    if (isInt(to)) {
      if (!Number.isFinite(f)) throw dataError(`${typeName(to)} out of range`, '22003');
      return checkInt(BigInt(roundHalfEven(f)), to);
    }
    if (to === 'numeric') {
      if (!Number.isFinite(f)) throw dataError(`cannot convert ${f} to numeric`, '22003');
      // PostgreSQL converts through 15 significant digits (DBL_DIG).
      return canonicalNumeric(String(Number(f.toPrecision(15))))!;
    }
  }
  if (from === 'bool' && to === 'int4') return v ? 1n : 0n;
  if (from === 'date' && to === 'timestamptz') return `${v as string}T00:00:00.000000Z`;
  if (from === 'timestamptz' && to === 'date') return (v as string).slice(0, 10);
  throw dataError(`cannot cast ${typeName(from)} to ${typeName(to)}`, '42846');
}

function roundHalfEven(f: number): number {
  const r = Math.round(f);
  return Math.abs(f % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function checkInt(i: bigint, to: SqlType): bigint {
  const [lo, hi] = intRange(to);
  if (i < lo || i > hi) throw dataError(`${typeName(to)} out of range`, '22003');
  return i;
}

function applyMod(v: Value, to: SqlType, mod: TypeMod): Value {
  if (v === null) return null;
  if (to === 'text' && mod.length !== undefined)
    return Array.from(v as string)
      .slice(0, mod.length)
      .join('');
  if (to === 'numeric' && mod.precision !== undefined) {
    const d = roundDec(parseDec(v as string), mod.scale ?? 0);
    if (integerDigits(d) > mod.precision - (mod.scale ?? 0)) {
      throw dataError(`numeric field overflow: a value does not fit numeric(${mod.precision}, ${mod.scale ?? 0})`, '22003');
    }
    return formatDec(d);
  }
  return v;
}

// ---- to and from text ------------------------------------------------------------------------

export function toText(v: Exclude<Value, null>, from: SqlType): string {
  switch (from) {
    case 'bool':
      return v ? 'true' : 'false';
    case 'float8':
      return floatText(v as number);
    case 'timestamptz':
      return timestampText(v as string);
    case 'jsonb':
      return jsonbText(v as JsonValue);
    default:
      return String(v);
  }
}

/** float8out: shortest round-trip digits, exponent form below 1e-4 and from 1e15. */
export function floatText(f: number): string {
  if (Number.isNaN(f)) return 'NaN';
  if (!Number.isFinite(f)) return f > 0 ? 'Infinity' : '-Infinity';
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  const [mant, expText] = f.toExponential().split('e') as [string, string];
  const exp = Number(expText);
  if (exp < -4 || exp >= 15) return `${mant}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp >= 0) {
    const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    body = frac ? `${int}.${frac}` : int;
  } else {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  return neg ? `-${body}` : body;
}

/** timestamptz output with TimeZone UTC: `2024-01-10 01:00:00.5+00`. */
export function timestampText(canonical: string): string {
  if (!/^\d{4}-/.test(canonical)) return canonical; // infinity
  const frac = canonical.slice(20, 26).replace(/0+$/, '');
  return `${canonical.slice(0, 10)} ${canonical.slice(11, 19)}${frac ? `.${frac}` : ''}+00`;
}

/** jsonb output: keys ordered by length, then bytes; `", "` and `": "` separators. */
export function jsonbText(v: JsonValue): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(jsonbText).join(', ')}]`;
  const keys = Object.keys(v).sort((a, b) => {
    const x = Buffer.from(a);
    const y = Buffer.from(b);
    return x.length - y.length || Buffer.compare(x, y);
  });
  return `{${keys.map((k) => `${JSON.stringify(k)}: ${jsonbText(v[k]!)}`).join(', ')}}`;
}

const BOOL_WORDS: [string, boolean][] = [
  ['true', true],
  ['false', false],
  ['yes', true],
  ['no', false],
];

export function fromText(s: string, to: SqlType): Value {
  const bad = (): Error => dataError(`invalid input syntax for type ${typeName(to)}: "${s}"`, '22P02');
  const t = s.trim();
  switch (to) {
    case 'int2':
    case 'int4':
    case 'int8': {
      if (!/^[+-]?\d+$/.test(t)) throw bad();
      return checkInt(BigInt(t), to);
    }
    case 'numeric': {
      const n = canonicalNumeric(t);
      if (n === null) throw bad();
      return n;
    }
    case 'float8': {
      const f = parseFloatText(t);
      if (f === undefined) throw bad();
      return f;
    }
    case 'bool': {
      const w = t.toLowerCase();
      if (['t', 'y', '1', 'on'].includes(w)) return true;
      if (['f', 'n', '0', 'off'].includes(w)) return false;
      for (const [word, value] of BOOL_WORDS) if (w.length > 0 && word.startsWith(w)) return value;
      throw bad();
    }
    case 'date': {
      const d = canonicalDate(t);
      if (d === null) throw bad();
      return d;
    }
    case 'timestamptz': {
      const ts = canonicalTimestamp(t);
      if (ts === null) throw bad();
      return ts;
    }
    case 'jsonb':
      try {
        return JSON.parse(t) as JsonValue;
      } catch {
        throw bad();
      }
    case 'bytea':
      throw bad();
    case 'text':
      return s;
  }
}

function parseFloatText(t: string): number | undefined {
  const w = t.toLowerCase();
  if (w === 'nan') return NaN;
  if (/^[+]?(infinity|inf)$/.test(w)) return Infinity;
  if (/^-(infinity|inf)$/.test(w)) return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/.test(w)) return undefined;
  return Number(w);
}

// ---- comparison domain ------------------------------------------------------------------------

/** A value of type `from` in the comparison type `via` (int -> numeric, date -> timestamptz, ...). */
export function promote(v: Value, from: SqlType, via: SqlType): Value {
  if (v === null || from === via || (isInt(from) && isInt(via))) return v;
  return convert(v, from, via);
}

/** A string that is equal for equal values of the comparison type (1.0 = 1.00, -0 = 0). */
export function hashKey(v: Exclude<Value, null>, via: SqlType): string {
  switch (via) {
    case 'numeric':
      return normalizedDec(v as string);
    case 'float8':
      return Number.isNaN(v) ? 'NaN' : String((v as number) + 0);
    case 'jsonb':
      return JSON.stringify(v);
    default:
      return String(v);
  }
}

// ---- inverse of lossless casts ----------------------------------------------------------------

/** The input that casts to `v`: exactly one (`value`), or none at all (`none`). */
export type Preimage = { value: Exclude<Value, null> } | 'none';

/** Undefined when the cast is not injective, so a value on its result says nothing about its input. */
export function castPreimage(v: Exclude<Value, null>, from: SqlType, to: SqlType): Preimage | undefined {
  if (!castInjective(from, to)) return undefined;
  if (from === to || (isInt(from) && isInt(to))) {
    if (isInt(from)) {
      const [lo, hi] = intRange(from);
      return (v as bigint) < lo || (v as bigint) > hi ? 'none' : { value: v };
    }
    return { value: v };
  }
  if (isInt(from) && to === 'numeric') {
    const d = parseDec(v as string);
    if (!isIntegral(d)) return 'none';
    return castPreimage(roundDec(d, 0).unscaled, from, from);
  }
  if (isInt(from) && to === 'text') {
    const s = v as string;
    if (!/^-?(0|[1-9]\d*)$/.test(s) || s === '-0') return 'none';
    return castPreimage(BigInt(s), from, from);
  }
  if (from === 'bool' && to === 'text') return v === 'true' ? { value: true } : v === 'false' ? { value: false } : 'none';
  if (from === 'date' && to === 'timestamptz') {
    const s = v as string;
    return s.slice(10) === 'T00:00:00.000000Z' ? { value: s.slice(0, 10) } : 'none';
  }
  return undefined;
}
