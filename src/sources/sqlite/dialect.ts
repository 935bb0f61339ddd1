// SQLite's SQL for the shared builders (src/sources/sql/common.ts), and which predicates and orders
// it evaluates exactly as the value model does (SqliteSource.offer). What is taken, and why:
//
//  - text: compared and sorted with COLLATE BINARY (a column may declare NOCASE or RTRIM), which is
//    memcmp over the stored encoding. In a UTF-8 database that is code-point order, so every
//    comparison and ORDER BY is taken; in a UTF-16 database only =, <> and IN (equality is equality
//    in any encoding). LIKE becomes GLOB: SQLite's LIKE ignores ASCII case, GLOB is case-sensitive
//    and matches per character (`%` -> `*`, `_` -> `?`, a literal `*`, `?` or `[` as `[*]`, `[?]`,
//    `[[]`). Columns of no or an unknown declared type go through viewgate_text() (types.ts).
//    Declined: text with an unpaired surrogate (UTF-8 cannot hold it), LIKE patterns with NUL (GLOB
//    stops there) or longer than SQLite's pattern limit.
//  - int, bool (stored 0/1), float: SQLite compares integers and doubles exactly, also with each
//    other. A float NaN is never stored (SQLite stores NULL), so a comparison with NaN is declined
//    and NaN in an IN list matches nothing.
//  - numeric: stored as INTEGER or REAL, read as exact decimals (realAsDecimal, strictly increasing
//    in the stored number), so SQLite's numeric order is the value model's. A comparison is taken
//    when its value binds exactly (numericParam); an IN value that does not can equal no stored
//    value and is left out.
//  - date: stored 'YYYY-MM-DD' text is the canonical form (anything else is a misfit), whose text
//    order is date order.
//  - timestamptz: the stored forms (ISO text with or without 'T', offset or 'Z'; Unix seconds) do
//    not order as text, so comparisons and ORDER BY go through viewgate_timestamp(), which returns
//    the canonical form: text order is time order, and the values are the ones decoding returns.
//  - jsonb and bytea are not comparable: only IS NULL.
// Misfits (values that do not fit the declared type) are errors when a row is read or passes
// through viewgate_timestamp()/viewgate_text(); a native comparison may leave such a row out first.
import { StoreError } from '../../errors.js';
import type { Predicate } from '../../query/predicate.js';
import { canonicalDate, canonicalTimestamp } from '../../values.js';
import type { Params, Scalar, SqlColumn, SqlDialect } from '../sql/common.js';
import type { ColumnInfo, ScanAcceptance, ScanOffer, TableInfo } from '../source.js';
import { comparisonOf, numericParam } from './types.js';

/** SQLITE_MAX_LIKE_PATTERN_LENGTH of the bundled build, in bytes; it bounds GLOB patterns too. */
const MAX_PATTERN_BYTES = 50_000;

const quoteIdent = (s: string): string => `"${s.replace(/"/g, '""')}"`;
/** An identifier from the catalog as a string literal (for the error messages of the functions). */
const literal = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** The column as a comparison operand (see types.ts, Comparison). */
function operand(col: SqlColumn): string {
  const c = quoteIdent(col.name);
  switch (comparisonOf(col)) {
    case 'timestamp':
      return `viewgate_timestamp(${c}, ${literal(col.name)})`;
    case 'rendered':
      return `viewgate_text(${c}, ${literal(col.name)})`;
    default:
      return c;
  }
}

/** Text-valued operands compare by bytes, whatever collation the column declares. */
function collated(col: SqlColumn): string {
  const text = col.type === 'text' || col.type === 'date' || col.type === 'timestamptz';
  return text ? `${operand(col)} COLLATE BINARY` : operand(col);
}

/** A value as the parameter SQLite compares exactly with the column's stored values, or undefined. */
function bindable(col: Pick<ColumnInfo, 'type'>, v: Scalar): unknown {
  switch (col.type) {
    case 'int':
      return typeof v === 'bigint' ? v : typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    case 'float':
      return typeof v === 'number' && !Number.isNaN(v) ? v : undefined;
    case 'numeric':
      return typeof v === 'string' ? safeNumericParam(v) : undefined;
    case 'bool':
      return typeof v === 'boolean' ? (v ? 1n : 0n) : undefined;
    case 'text':
      return typeof v === 'string' && wellFormed(v) ? v : undefined;
    case 'date':
      return typeof v === 'string' && canonicalDate(v) === v ? v : undefined;
    case 'timestamptz':
      return typeof v === 'string' && canonicalTimestamp(v) === v ? v : undefined;
    default:
      return undefined;
  }
}

/** Text SQLite holds as the value model does: no unpaired surrogate (UTF-8 cannot encode one). */
const wellFormed = (s: string): boolean => !/\p{Cs}/u.test(s);

function safeNumericParam(v: string): bigint | number | undefined {
  try {
    return numericParam(v);
  } catch {
    return undefined; // not a decimal
  }
}

/** The LIKE pattern (likeMatch's reading: `\` makes the next character literal) as a GLOB pattern. */
function likeToGlob(pattern: string): string {
  const literalChar = (c: string): string => (c === '*' || c === '?' || c === '[' ? `[${c}]` : c);
  const cps = Array.from(pattern);
  let out = '';
  for (let k = 0; k < cps.length; k++) {
    const c = cps[k]!;
    if (c === '\\' && k + 1 < cps.length) out += literalChar(cps[++k]!);
    else if (c === '%') out += '*';
    else if (c === '_') out += '?';
    else out += literalChar(c);
  }
  return out;
}

export function sqliteDialect(source: string): SqlDialect {
  const inexact = (col: SqlColumn, v: Scalar): StoreError =>
    new StoreError(source, 'failed', `a ${col.type} value (${typeof v}) cannot be compared exactly with column "${col.name}" in SQLite`);
  return {
    quoteIdent,
    compare(col, op, value, params) {
      const p = bindable(col, value);
      if (p === undefined) throw inexact(col, value);
      return `(${collated(col)} ${op} ${params.add(p)})`;
    },
    inList(col, values, params) {
      // A value that does not bind (a numeric no stored number holds, NaN, text with an unpaired
      // surrogate, a timestamp not in canonical form) equals no stored value: it is left out.
      const ps = values.flatMap((v) => {
        const p = bindable(col, v);
        return p === undefined ? [] : [params.add(p)];
      });
      if (ps.length === 0) return `(CASE WHEN ${quoteIdent(col.name)} IS NULL THEN NULL ELSE FALSE END)`;
      return `(${collated(col)} IN (${ps.join(', ')}))`;
    },
    like(col, pattern, params: Params) {
      return `(${operand(col)} GLOB ${params.add(likeToGlob(pattern))})`;
    },
    constant: (v) => (v === null ? 'NULL' : v ? 'TRUE' : 'FALSE'),
    order(col, desc) {
      return `${collated(col)} ${desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`;
    },
    joinEquals(parent, child) {
      return `${collated(parent)} = ${operand(child)}`;
    },
    limit(limit, offset, params) {
      if (limit === undefined && !offset) return '';
      // SQLite has no OFFSET without LIMIT; a negative LIMIT is its "all rows".
      const l = `LIMIT ${limit === undefined ? '-1' : params.add(limit)}`;
      return offset ? `${l} OFFSET ${params.add(offset)}` : l;
    },
  };
}

/** Whether SQLite evaluates `p` exactly as the value model does (see the top of this file). */
function exact(p: Predicate, columns: ReadonlyMap<string, ColumnInfo>, textOrder: boolean): boolean {
  switch (p.op) {
    case 'and':
    case 'or':
      return p.args.every((a) => exact(a, columns, textOrder));
    case 'not':
      return exact(p.arg, columns, textOrder);
    case 'const':
      return true;
    case 'isnull':
      return columns.has(p.column);
    case 'cmp': {
      const col = columns.get(p.column);
      if (!col || bindable(col, p.value) === undefined) return false;
      return col.type !== 'text' || p.cmp === '=' || p.cmp === '<>' || textOrder;
    }
    case 'in': {
      const col = columns.get(p.column);
      if (!col || col.type === 'jsonb' || col.type === 'bytea') return false;
      // Numeric and float values that do not bind are left out of the list (see inList).
      if (col.type === 'numeric') return p.values.every((v) => typeof v === 'string' && isDecimal(v));
      if (col.type === 'float') return p.values.every((v) => typeof v === 'number');
      return p.values.every((v) => bindable(col, v) !== undefined);
    }
    case 'like': {
      const col = columns.get(p.column);
      // GLOB reads its pattern up to the first NUL.
      const glob = likeToGlob(p.pattern);
      return col?.type === 'text' && wellFormed(glob) && !glob.includes('\0') && Buffer.byteLength(glob) <= MAX_PATTERN_BYTES;
    }
  }
}

function isDecimal(v: string): boolean {
  try {
    numericParam(v);
    return true;
  } catch {
    return false;
  }
}

/**
 * What SQLite takes of the work offered for one scan. `textOrder`: whether BINARY is code-point
 * order (a UTF-8 database).
 */
export function sqliteOffer(table: TableInfo, work: ScanOffer, textOrder: boolean): ScanAcceptance {
  const columns = new Map(table.columns.map((c) => [c.name, c]));
  const taken: Predicate[] = [];
  const remaining: Predicate[] = [];
  for (const p of work.where) (exact(p, columns, textOrder) ? taken : remaining).push(p);
  const orderBy = work.orderBy.every((o) => {
    const col = columns.get(o.column);
    return col !== undefined && col.type !== 'jsonb' && col.type !== 'bytea' && (col.type !== 'text' || textOrder);
  });
  return { taken, remaining, orderBy };
}
