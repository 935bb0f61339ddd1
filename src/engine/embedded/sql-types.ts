// The types the embedded engine reasons with: PostgreSQL's, narrowed to what the value model holds.
// Integers keep their width because PostgreSQL's result types depend on it (sum(int4) is bigint,
// sum(int8) is numeric; int4 arithmetic overflows at 2^31).
import type { ColumnInfo } from '../../sources/source.js';
import type { ColumnType } from '../../values.js';

export type SqlType = 'bool' | 'int2' | 'int4' | 'int8' | 'numeric' | 'float8' | 'text' | 'timestamptz' | 'date' | 'jsonb' | 'bytea';

/** A string literal or NULL whose type comes from context, as PostgreSQL's `unknown`. */
export type LiteralType = SqlType | 'unknown';

const INT_TYPES: ReadonlySet<SqlType> = new Set(['int2', 'int4', 'int8']);
export const isInt = (t: LiteralType): boolean => INT_TYPES.has(t as SqlType);
export const isNumber = (t: LiteralType): boolean => isInt(t) || t === 'numeric' || t === 'float8';

const INT_RANGE: Record<string, [bigint, bigint]> = {
  int2: [-(2n ** 15n), 2n ** 15n - 1n],
  int4: [-(2n ** 31n), 2n ** 31n - 1n],
  int8: [-(2n ** 63n), 2n ** 63n - 1n],
};

export function intRange(t: SqlType): [bigint, bigint] {
  return INT_RANGE[t] ?? INT_RANGE.int8!;
}

/** PostgreSQL's name for a type in messages. */
export function typeName(t: LiteralType): string {
  const names: Record<string, string> = {
    int2: 'smallint',
    int4: 'integer',
    int8: 'bigint',
    float8: 'double precision',
    timestamptz: 'timestamp with time zone',
  };
  return names[t] ?? t;
}

export function columnTypeOf(t: SqlType): ColumnType {
  if (isInt(t)) return 'int';
  if (t === 'float8') return 'float';
  return t as ColumnType;
}

/** A source column's type; integer width from the store's own type name. */
export function sqlTypeOfColumn(col: ColumnInfo): SqlType {
  switch (col.type) {
    case 'int':
      return intWidth(col.nativeType.toLowerCase());
    case 'float':
      return 'float8';
    default:
      return col.type;
  }
}

function intWidth(native: string): SqlType {
  const unsigned = native.includes('unsigned');
  if (/\b(bigint|int8|long)\b/.test(native)) return 'int8';
  if (/\b(smallint|int2|tinyint|year)\b/.test(native)) return unsigned && native.includes('smallint') ? 'int4' : 'int2';
  if (/\bmediumint\b/.test(native)) return 'int4';
  if (/\b(int|int4|integer)\b/.test(native) || /^int\(/.test(native)) return unsigned ? 'int8' : 'int4';
  return 'int8';
}

/** The wider of two integer types. */
export function widerInt(a: SqlType, b: SqlType): SqlType {
  const rank = (t: SqlType): number => (t === 'int2' ? 0 : t === 'int4' ? 1 : 2);
  return rank(a) >= rank(b) ? a : b;
}

/** Result type of + - * / % (PostgreSQL's operator resolution for the types we hold), or undefined. */
export function arithmeticType(a: SqlType, b: SqlType): SqlType | undefined {
  if (!isNumber(a) || !isNumber(b)) return undefined;
  if (a === 'float8' || b === 'float8') return 'float8';
  if (a === 'numeric' || b === 'numeric') return 'numeric';
  return widerInt(a, b);
}

/**
 * The type two values are compared in, or undefined when PostgreSQL has no such comparison
 * (int = text is refused: write a cast).
 */
export function comparisonType(a: SqlType, b: SqlType): SqlType | undefined {
  if (a === b) return a === 'jsonb' || a === 'bytea' ? undefined : isInt(a) ? 'int8' : a;
  if (isNumber(a) && isNumber(b)) return arithmeticType(a, b) === 'float8' ? 'float8' : isInt(a) && isInt(b) ? 'int8' : 'numeric';
  if ((a === 'date' && b === 'timestamptz') || (a === 'timestamptz' && b === 'date')) return 'timestamptz';
  return undefined;
}

/** Explicit casts PostgreSQL allows between the types we hold. */
export function castAllowed(from: SqlType, to: SqlType): boolean {
  if (from === to) return true;
  if (from === 'bytea' || to === 'bytea') return false;
  if (to === 'text' || from === 'text') return true;
  if (isNumber(from) && isNumber(to)) return true;
  if ((from === 'int4' && to === 'bool') || (from === 'bool' && to === 'int4')) return true;
  if ((from === 'date' && to === 'timestamptz') || (from === 'timestamptz' && to === 'date')) return true;
  return false;
}

/** Casts that never map two different values to one: a predicate on the result maps back onto the input. */
export function castInjective(from: SqlType, to: SqlType): boolean {
  if (from === to) return true;
  if (isInt(from) && (isInt(to) || to === 'numeric' || to === 'text')) return isInt(to) ? widerInt(from, to) === to : true;
  if (from === 'bool' && to === 'text') return true;
  if (from === 'date' && to === 'timestamptz') return true;
  return false;
}

/** Injective casts that also keep the order, so ranges map back too. */
export function castOrderPreserving(from: SqlType, to: SqlType): boolean {
  if (from === to) return true;
  if (isInt(from) && isInt(to)) return widerInt(from, to) === to;
  if (isInt(from) && to === 'numeric') return true;
  return from === 'date' && to === 'timestamptz';
}
