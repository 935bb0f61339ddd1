// Binds a parsed filter to column types: every literal (and claim) is coerced to its column's type,
// giving the typed Predicate that engines and sources consume.
//
// Literal errors are the client's (400). Claim errors are the credential's (403): a missing claim,
// a claim of the wrong shape (a list used with '=', an object) or a claim value that does not fit
// the column (e.g. "x" for an int column). A row filter never widens because of a bad claim.
import { Decimal } from 'decimal.js';
import { ApiError, badRequest } from '../errors.js';
import {
  canonicalDate,
  canonicalNumeric,
  canonicalTimestamp,
  isComparableType,
  parseInt64,
  type ColumnType,
  type Value,
} from '../values.js';
import { posContext, posText, type FilterAst, type Lit, type Pos } from './ast.js';
import { formatLit } from './filter-format.js';
import type { CompareOp, Predicate } from './predicate.js';

export interface BindContext {
  /**
   * Returns the column's type, or throws (the policy layer throws 400 unknown field / masked field).
   * `pos` is the character offset in a text filter; `path` the JSON path in a structured one.
   */
  columnType(field: string, pos?: number, path?: string): ColumnType;
  /** Value of a claim for a row filter; undefined (or null) when the credential lacks it: a 403. */
  claim?(path: string[]): unknown;
  /** Error context, default 'filter'. */
  param?: string;
}

export type Scalar = Exclude<Value, null>;
export type ScalarLit = Extract<Lit, { kind: 'string' | 'number' | 'bool' }>;

const INT64_LIMIT = new Decimal(2).pow(63);
/** Numeric literals are limited to this many digits on either side of the point. */
const MAX_NUMERIC_DIGITS = 1000;

export function bindFilter(ast: FilterAst, ctx: BindContext): Predicate {
  const param = ctx.param ?? 'filter';
  switch (ast.kind) {
    case 'and':
    case 'or':
      return { op: ast.kind, args: ast.args.map((a) => bindFilter(a, ctx)) };
    case 'not':
      return { op: 'not', arg: bindFilter(ast.arg, ctx) };
    case 'isnull': {
      columnOf(ast.field, ast.pos, ctx);
      const p: Predicate = { op: 'isnull', column: ast.field };
      return ast.negated ? { op: 'not', arg: p } : p;
    }
    case 'cmp': {
      const type = columnOf(ast.field, ast.pos, ctx);
      const value = one(type, ast.field, ast.value, ctx, `'${ast.op}'`);
      const cmp: CompareOp = ast.op === '!=' ? '<>' : ast.op;
      return { op: 'cmp', column: ast.field, cmp, value };
    }
    case 'between': {
      const type = columnOf(ast.field, ast.pos, ctx);
      const low = one(type, ast.field, ast.low, ctx, "'between'");
      const high = one(type, ast.field, ast.high, ctx, "'between'");
      const p: Predicate = {
        op: 'and',
        args: [
          { op: 'cmp', column: ast.field, cmp: '>=', value: low },
          { op: 'cmp', column: ast.field, cmp: '<=', value: high },
        ],
      };
      return ast.negated ? { op: 'not', arg: p } : p;
    }
    case 'like': {
      const type = columnOf(ast.field, ast.pos, ctx);
      const word = { like: 'like', contains: 'contains', starts: 'starts with', ends: 'ends with' }[ast.mode];
      if (type !== 'text') {
        throw badRequest(`'${word}' needs a text column; ${ast.field} is ${type}${posText(ast.pos)}`, {
          ...posContext(param, ast.pos),
          field: ast.field,
        });
      }
      if (ast.mode === 'like' && ast.value.kind === 'claim') {
        throw badRequest(`a claim cannot be a 'like' pattern${posText(ast.pos)}`, posContext(param, ast.pos));
      }
      const text = one('text', ast.field, ast.value, ctx, `'${word}'`) as string;
      let pattern: string;
      if (ast.mode === 'like') {
        if (endsWithEscape(text)) {
          throw badRequest(`the 'like' pattern for ${ast.field} ends with the escape character '\\'${posText(ast.value.pos)}`, {
            ...posContext(param, ast.value.pos),
            field: ast.field,
          });
        }
        pattern = text;
      } else {
        const lit = escapeLike(text);
        pattern = ast.mode === 'contains' ? `%${lit}%` : ast.mode === 'starts' ? `${lit}%` : `%${lit}`;
      }
      const p: Predicate = { op: 'like', column: ast.field, pattern };
      return ast.negated ? { op: 'not', arg: p } : p;
    }
    case 'in':
      return bindIn(ast, ctx);
  }
}

function bindIn(ast: Extract<FilterAst, { kind: 'in' }>, ctx: BindContext): Predicate {
  const type = columnOf(ast.field, ast.pos, ctx);
  const values: Scalar[] = [];
  const seen = new Set<unknown>();
  let hasNull = false;
  const add = (v: Scalar): void => {
    const k = typeof v === 'object' ? JSON.stringify(v) : v;
    if (!seen.has(k)) {
      seen.add(k);
      values.push(v);
    }
  };
  for (const lit of ast.values) {
    if (lit.kind === 'null') {
      hasNull = true;
    } else if (lit.kind === 'claim') {
      const raw = claimValue(lit.path, ctx);
      for (const el of Array.isArray(raw) ? raw : [raw]) {
        if (el === null) hasNull = true;
        else add(coerceClaim(type, ast.field, lit.path, el));
      }
    } else {
      add(coerceLiteral(type, lit, { field: ast.field, param: ctx.param }));
    }
  }
  // SQL: `x in (1, null)` is true, or unknown where it would be false; an empty list (from an
  // empty list claim) matches nothing, and `not in` an empty list matches everything.
  let p: Predicate = values.length > 0 ? { op: 'in', column: ast.field, values } : { op: 'const', value: false };
  if (hasNull) p = values.length > 0 ? { op: 'or', args: [p, { op: 'const', value: null }] } : { op: 'const', value: null };
  return ast.negated ? { op: 'not', arg: p } : p;
}

function columnOf(field: string, pos: Pos | undefined, ctx: BindContext): ColumnType {
  const type = typeof pos === 'string' ? ctx.columnType(field, undefined, pos) : ctx.columnType(field, pos);
  if (!isComparableType(type)) {
    const param = ctx.param ?? 'filter';
    throw badRequest(`${field} is a ${type} column and cannot be used in a filter${posText(pos)}`, {
      ...posContext(param, pos),
      field,
    });
  }
  return type;
}

/** One value for a comparison: a literal or a scalar claim. */
function one(type: ColumnType, field: string, lit: Lit, ctx: BindContext, opText: string): Scalar {
  const param = ctx.param ?? 'filter';
  if (lit.kind === 'null') {
    throw badRequest(`null cannot be used with ${opText}; use 'is null' or 'is not null'${posText(lit.pos)}`, {
      ...posContext(param, lit.pos),
      field,
    });
  }
  if (lit.kind !== 'claim') return coerceLiteral(type, lit, { field, param });
  const raw = claimValue(lit.path, ctx);
  if (Array.isArray(raw)) {
    throw claimError(
      lit.path,
      `claim "${claimName(lit.path)}" is a list, and the row filter uses it with ${opText}; only 'in' takes a list`,
    );
  }
  return coerceClaim(type, field, lit.path, raw);
}

function claimValue(path: string[], ctx: BindContext): unknown {
  const v = ctx.claim?.(path);
  if (v === undefined || v === null) {
    // Only a curated tool's filter, written in the config, can put a claim into the client's filter.
    const what = (ctx.param ?? 'filter') === 'filter' ? "the tool's filter" : 'the row filter';
    throw claimError(path, `the credential lacks claim "${claimName(path)}" required by ${what}`);
  }
  return v;
}

function claimName(path: string[]): string {
  return path.join('.');
}

function claimError(path: string[], message: string): ApiError {
  return new ApiError('forbidden', message, { claim: claimName(path) });
}

function coerceClaim(type: ColumnType, field: string, path: string[], raw: unknown): Scalar {
  let lit: ScalarLit | undefined;
  if (typeof raw === 'string') lit = { kind: 'string', value: raw };
  else if (typeof raw === 'boolean') lit = { kind: 'bool', value: raw };
  else if (typeof raw === 'bigint') lit = { kind: 'number', text: raw.toString() };
  else if (typeof raw === 'number' && Number.isFinite(raw) && !(Number.isInteger(raw) && !Number.isSafeInteger(raw))) {
    lit = { kind: 'number', text: String(raw) };
  }
  const result = lit ? tryCoerce(type, lit) : { problem: 'is not a single value' };
  if ('problem' in result) {
    throw claimError(path, `the credential's claim "${claimName(path)}" does not fit column ${field} (${type}): it ${result.problem}`);
  }
  return result.value;
}

/**
 * Coerces a literal to a column type, or throws a 400 naming the field, the value and the type.
 * Also for values that arrive as text elsewhere (e.g. `ids`: `{kind: 'string', value}` with param 'ids').
 */
export function coerceLiteral(type: ColumnType, lit: Lit, ctx: { field: string; param?: string }): Scalar {
  const { field } = ctx;
  const param = ctx.param ?? 'filter';
  const fail = (problem: string): ApiError =>
    badRequest(`${field} is ${article(type)} ${type} column; ${formatLit(lit)} ${problem}${posText(lit.pos)}`, {
      ...posContext(param, lit.pos),
      field,
    });
  if (lit.kind === 'null' || lit.kind === 'claim' || lit.kind === 'param') throw fail('is not a literal value');
  if (!isComparableType(type)) throw fail(`cannot be compared with a ${type} column`);
  const result = tryCoerce(type, lit);
  if ('problem' in result) throw fail(result.problem);
  return result.value;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? 'an' : 'a';
}

/** Coercion (docs/query.md, "Filter grammar") without throwing: the value, or what is wrong. */
export function tryCoerce(type: ColumnType, lit: ScalarLit): { value: Scalar } | { problem: string } {
  switch (type) {
    case 'text':
      return { value: lit.kind === 'string' ? lit.value : lit.kind === 'number' ? lit.text : String(lit.value) };
    case 'int': {
      if (lit.kind === 'bool') return { problem: 'is not an integer' };
      const text = lit.kind === 'string' ? lit.value.trim() : lit.text;
      const exact = parseInt64(text);
      if (exact !== null) return { value: exact };
      const d = decimalOf(text);
      if (!d) return { problem: 'is not an integer' };
      if (!d.isInteger()) return { problem: 'is not a whole number' };
      if (d.abs().gte(INT64_LIMIT) && !d.eq(INT64_LIMIT.neg())) return { problem: 'is out of range for a 64-bit integer' };
      return { value: BigInt(d.toFixed(0)) };
    }
    case 'float': {
      if (lit.kind === 'bool') return { problem: 'is not a number' };
      const text = lit.kind === 'string' ? lit.value.trim() : lit.text;
      if (!decimalOf(text)) return { problem: 'is not a number' };
      const n = Number(text);
      if (!Number.isFinite(n)) return { problem: 'is out of range for a float' };
      return { value: n };
    }
    case 'numeric': {
      if (lit.kind === 'bool') return { problem: 'is not a number' };
      const text = lit.kind === 'string' ? lit.value.trim() : lit.text;
      const d = decimalOf(text);
      if (!d) return { problem: 'is not a number' };
      if (d.e >= MAX_NUMERIC_DIGITS || d.decimalPlaces() > MAX_NUMERIC_DIGITS) {
        return { problem: `has more than ${MAX_NUMERIC_DIGITS} digits on one side of the decimal point` };
      }
      const c = canonicalNumeric(text);
      return c === null ? { problem: 'is not a number' } : { value: c };
    }
    case 'bool': {
      if (lit.kind === 'bool') return { value: lit.value };
      const t = (lit.kind === 'string' ? lit.value : lit.text).trim().toLowerCase();
      if (t === 'true' || t === 't' || t === '1') return { value: true };
      if (t === 'false' || t === 'f' || t === '0') return { value: false };
      return { problem: 'is not a boolean (use true or false)' };
    }
    case 'timestamptz': {
      const c = lit.kind === 'string' ? canonicalTimestamp(lit.value) : null;
      return c === null
        ? { problem: "is not a timestamp (ISO 8601 text, e.g. '2024-05-01T10:00:00Z'; no offset means UTC)" }
        : { value: c };
    }
    case 'date': {
      const c = lit.kind === 'string' ? canonicalDate(lit.value) : null;
      return c === null ? { problem: "is not a date (text 'YYYY-MM-DD')" } : { value: c };
    }
    case 'jsonb':
    case 'bytea':
      return { problem: `cannot be compared with a ${type} column` };
  }
}

const NUMBER_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function decimalOf(text: string): Decimal | null {
  if (!NUMBER_RE.test(text)) return null;
  try {
    const d = new Decimal(text);
    return d.isFinite() ? d : null;
  } catch {
    return null;
  }
}

/** Makes text match itself literally in a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function endsWithEscape(pattern: string): boolean {
  let n = 0;
  for (let i = pattern.length - 1; i >= 0 && pattern[i] === '\\'; i--) n++;
  return n % 2 === 1;
}
