// Scalar functions and the NULLIF, GREATEST and LEAST expressions (docs/sql.md, "Functions"):
// typed with PostgreSQL's signatures for the types the engine holds, evaluated as PostgreSQL
// evaluates them. Text functions count characters (code points); lower and upper fold ASCII
// letters only, as PostgreSQL does under the C collation (like ILIKE in eval.ts). No store is ever
// offered a function call (predicates.ts pushes column comparisons only), so the ones that can
// fail (abs and mod overflowing or dividing by zero, a negative substring length) run in process
// on rows that already passed the row filter.
import { compareValues, type Value } from '../../values.js';
import type { Expr } from './ast.js';
import { toText } from './casts.js';
import { coerce, commonType, finish, resolve, type Typed } from './coercion.js';
import { DATE_FUNCTIONS, dateCall, evalDateFunction } from './date-functions.js';
import { dataError } from './errors.js';
import { ceilDec, divisionByZero, floorDec, formatDec, modDec, parseDec, roundDec, type Dec } from './numeric.js';
import { comparison } from './operators.js';
import type { RawNode } from './parse.js';
import { Refusal } from './refusal.js';
import { columnTypeOf, intRange, isInt, typeName, widerInt, type SqlType } from './sql-types.js';

/** The scalar functions a statement may call by name (NULLIF, GREATEST and LEAST are expressions). */
export const SCALAR_FUNCTIONS = [
  'lower',
  'upper',
  'length',
  'char_length',
  'character_length',
  'btrim',
  'ltrim',
  'rtrim',
  'substring',
  'substr',
  'left',
  'right',
  'replace',
  'strpos',
  'position',
  'concat',
  'abs',
  'round',
  'trunc',
  'floor',
  'ceil',
  'ceiling',
  'mod',
  ...DATE_FUNCTIONS,
] as const;

type FnExpr = Extract<Expr, { kind: 'fn' }>;
type Sub = (node: RawNode) => Typed;

/** The scalar function a FuncCall names (bare or `pg_catalog.`), if it is one. */
export function scalarName(b: RawNode): string | undefined {
  const parts = ((b.funcname ?? []) as RawNode[]).map((n) => String(n.String?.sval ?? '').toLowerCase());
  const name = parts[parts.length - 1]!;
  const bare = parts.length === 1 || (parts.length === 2 && parts[0] === 'pg_catalog');
  return bare && (SCALAR_FUNCTIONS as readonly string[]).includes(name) ? name : undefined;
}

function call(fn: string, args: Expr[], type: SqlType, loc: number): Typed {
  return { e: { kind: 'fn', fn, args, type }, unknown: false, loc };
}

/** A call of scalar function `name` (a FuncCall body), its arguments typed by `sub`. */
export function scalarCall(name: string, b: RawNode, loc: number, sub: Sub): Typed {
  if (b.agg_star || b.agg_distinct || b.over || b.agg_filter || b.agg_order || b.agg_within_group || b.func_variadic) {
    throw new Refusal(`${name}() is not an aggregate: *, DISTINCT, FILTER, ORDER BY, OVER and VARIADIC do not apply to it`, loc);
  }
  const args = ((b.args ?? []) as RawNode[]).map(sub);
  const missing = (): never => {
    const sig = args.map((a) => (a.unknown ? 'unknown' : typeName(a.e.type))).join(', ');
    throw new Refusal(`function ${name}(${sig}) does not exist; add a cast, or see the functions in docs/sql.md`, loc);
  };
  const arity = (...n: number[]): void => {
    if (!n.includes(args.length)) missing();
  };
  const text = (t: Typed): Expr => {
    const r = resolve(t, 'text');
    return r.e.type === 'text' ? r.e : missing();
  };
  const int4 = (t: Typed): Expr => {
    const r = resolve(t, 'int4');
    return r.e.type === 'int4' || r.e.type === 'int2' ? r.e : missing();
  };
  switch (name) {
    case 'lower':
    case 'upper':
      arity(1);
      return call(name, [text(args[0]!)], 'text', loc);
    case 'length':
    case 'char_length':
    case 'character_length':
      arity(1);
      return call('length', [text(args[0]!)], 'int4', loc);
    case 'btrim':
    case 'ltrim':
    case 'rtrim':
      arity(1, 2);
      return call(name, args.map(text), 'text', loc);
    case 'replace':
      arity(3);
      return call(name, args.map(text), 'text', loc);
    case 'strpos':
    case 'position':
      arity(2);
      return call('strpos', args.map(text), 'int4', loc);
    case 'left':
    case 'right':
      arity(2);
      return call(name, [text(args[0]!), int4(args[1]!)], 'text', loc);
    case 'substring':
      // substring(text, text) is a regular-expression match, which the engine does not run.
      if (args.slice(1).some((a) => a.unknown || a.e.type === 'text')) {
        throw new Refusal('substring with a pattern (SIMILAR or a regular expression) is not supported: give integer positions', loc);
      }
      arity(2, 3);
      return call('substr', [text(args[0]!), ...args.slice(1).map(int4)], 'text', loc);
    case 'substr':
      arity(2, 3);
      return call('substr', [text(args[0]!), ...args.slice(1).map(int4)], 'text', loc);
    case 'concat':
      if (args.length === 0) missing();
      return call(
        'concat',
        args.map((a) => {
          const t = finish(a);
          if (t.e.type === 'bytea') missing();
          return t.e;
        }),
        'text',
        loc,
      );
    case 'abs': {
      arity(1);
      const x = args[0]!;
      if (x.unknown || !(isInt(x.e.type) || x.e.type === 'numeric' || x.e.type === 'float8')) missing();
      return call('abs', [x.e], x.e.type, loc);
    }
    case 'round':
    case 'trunc': {
      arity(1, 2);
      if (args.length === 2) return call(name, [toNumeric(args[0]!, missing), int4(args[1]!)], 'numeric', loc);
      const x = roundable(args[0]!, missing);
      return call(name, [x], x.type, loc);
    }
    case 'floor':
    case 'ceil':
    case 'ceiling': {
      arity(1);
      const x = roundable(args[0]!, missing);
      return call(name === 'ceiling' ? 'ceil' : name, [x], x.type, loc);
    }
    case 'mod':
      return modCall(args, loc, missing);
    case 'date_trunc':
    case 'date_part':
    case 'extract':
      return dateCall(name, args, loc, missing);
    default:
      return missing();
  }
}

/** round/trunc/floor/ceil of one argument: numeric stays numeric; integers resolve to the double precision form, as in PostgreSQL. */
function roundable(t: Typed, missing: () => never): Expr {
  if (t.unknown) return missing();
  if (t.e.type === 'numeric' || t.e.type === 'float8') return t.e;
  if (isInt(t.e.type)) return { kind: 'cast', arg: t.e, type: 'float8' };
  return missing();
}

/** The numeric argument of round(x, n) / trunc(x, n): integers cast implicitly; double precision has no such form. */
function toNumeric(t: Typed, missing: () => never): Expr {
  const r = resolve(t, 'numeric');
  if (r.e.type === 'numeric') return r.e;
  if (isInt(r.e.type)) return { kind: 'cast', arg: r.e, type: 'numeric' };
  return missing();
}

function modCall(args: Typed[], loc: number, missing: () => never): Typed {
  if (args.length !== 2) return missing();
  let [l, r] = args as [Typed, Typed];
  if (l.unknown && r.unknown) return missing();
  if (l.unknown) l = resolve(l, r.e.type);
  if (r.unknown) r = resolve(r, l.e.type);
  const [a, b] = [l.e.type, r.e.type];
  if (isInt(a) && isInt(b)) return call('mod', [l.e, r.e], widerInt(a, b), loc);
  const numericOrInt = (t: SqlType) => t === 'numeric' || isInt(t);
  if (numericOrInt(a) && numericOrInt(b)) return call('mod', [coerce(l, 'numeric', 'mod'), coerce(r, 'numeric', 'mod')], 'numeric', loc);
  return missing();
}

/** NULLIF(a, b) (an A_Expr body): NULL when a = b, else a, in a's type. */
export function nullIf(b: RawNode, loc: number, sub: Sub): Typed {
  const cmp = comparison('=', sub(b.lexpr as RawNode), sub(b.rexpr as RawNode), loc) as Extract<Expr, { kind: 'compare' }>;
  return call('nullif', [cmp, cmp.left], cmp.left.type, loc);
}

/** GREATEST / LEAST (a MinMaxExpr body): the arguments in their common type; NULLs are ignored. */
export function minMax(b: RawNode, loc: number, sub: Sub): Typed {
  const name = b.op === 'IS_LEAST' ? 'least' : 'greatest';
  const what = name.toUpperCase();
  const args = ((b.args ?? []) as RawNode[]).map(sub);
  const type = commonType(args, what);
  if (type === 'jsonb' || type === 'bytea') throw new Refusal(`${what} of ${type} values is not supported`, loc);
  return call(
    name,
    args.map((a) => coerce(a, type, what)),
    type,
    loc,
  );
}

/** The value of a function call, its arguments already evaluated. */
export function evalFunction(e: FnExpr, args: Value[]): Value {
  switch (e.fn) {
    case 'concat':
      return args.map((v, i) => (v === null ? '' : outputText(v, e.args[i]!.type))).join('');
    case 'greatest':
    case 'least': {
      const sign = e.fn === 'greatest' ? 1 : -1;
      const type = columnTypeOf(e.type);
      let best: Value = null;
      for (const v of args) if (v !== null && (best === null || sign * compareValues(type, v, best) > 0)) best = v;
      return best;
    }
    case 'nullif':
      return args[0] === true ? null : args[1]!;
  }
  // Every other function is strict: NULL in, NULL out.
  if (args.some((v) => v === null)) return null;
  type Arg = Exclude<Value, null>;
  const [x, y, z] = args as [Arg, Arg?, Arg?];
  switch (e.fn) {
    case 'lower':
    case 'upper':
      return caseMap(x as string, e.fn === 'upper');
    case 'length':
      return BigInt(chars(x as string).length);
    case 'btrim':
    case 'ltrim':
    case 'rtrim':
      return trim(x as string, y === undefined ? ' ' : (y as string), e.fn);
    case 'replace':
      return y === '' ? x : (x as string).split(y as string).join(z as string);
    case 'strpos': {
      const at = (x as string).indexOf(y as string);
      return BigInt(at < 0 ? 0 : chars((x as string).slice(0, at)).length + 1);
    }
    case 'left':
    case 'right':
      return leftRight(chars(x as string), Number(y), e.fn === 'left');
    case 'substr':
      return substr(chars(x as string), Number(y), z === undefined ? undefined : Number(z));
    case 'abs':
      return abs(x, e.type);
    case 'round':
    case 'trunc':
      if (y !== undefined) return decimalRound(x as string, Number(y), e.fn);
      return e.type === 'numeric' ? decimalRound(x as string, 0, e.fn) : e.fn === 'round' ? rint(x as number) : Math.trunc(x as number);
    case 'floor':
    case 'ceil': {
      if (e.type !== 'numeric') return e.fn === 'floor' ? Math.floor(x as number) : Math.ceil(x as number);
      const d = parseDec(x as string);
      return formatDec({ unscaled: e.fn === 'floor' ? floorDec(d) : ceilDec(d), scale: 0 });
    }
    case 'mod':
      if (isInt(e.type)) {
        if (y === 0n) throw divisionByZero();
        return (x as bigint) % (y as bigint);
      }
      return formatDec(modDec(parseDec(x as string), parseDec(y as string)));
    case 'date_trunc':
    case 'date_part':
    case 'extract':
    case 'extract_date':
      return evalDateFunction(e.fn, x as string, y as string);
    default:
      throw new Error(`evalFunction: unknown function ${e.fn}`);
  }
}

/** A value as PostgreSQL's output function writes it (concat's arguments): booleans are t and f. */
function outputText(v: Exclude<Value, null>, type: SqlType): string {
  return type === 'bool' ? (v ? 't' : 'f') : toText(v, type);
}

const chars = (s: string): string[] => Array.from(s);

/** ASCII letters only: PostgreSQL's lower and upper under the C collation, which viewgate's SQL follows (like ILIKE). */
function caseMap(s: string, upper: boolean): string {
  return upper ? s.replace(/[a-z]+/g, (m) => m.toUpperCase()) : s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function trim(s: string, set: string, fn: string): string {
  const drop = new Set(chars(set));
  const cs = chars(s);
  let from = 0;
  let to = cs.length;
  if (fn !== 'rtrim') while (from < to && drop.has(cs[from]!)) from++;
  if (fn !== 'ltrim') while (to > from && drop.has(cs[to - 1]!)) to--;
  return cs.slice(from, to).join('');
}

/** left(s, n) / right(s, n): a negative n counts from the other end. */
function leftRight(cs: string[], n: number, left: boolean): string {
  const keep = n >= 0 ? Math.min(n, cs.length) : Math.max(cs.length + n, 0);
  return (left ? cs.slice(0, keep) : cs.slice(cs.length - keep)).join('');
}

/** substr(s, start[, count]), 1-based; positions before the first character count towards `count`. */
function substr(cs: string[], start: number, count: number | undefined): string {
  if (count !== undefined && count < 0) throw dataError('negative substring length not allowed', '22011');
  const from = Math.max(start, 1);
  const end = count === undefined ? cs.length + 1 : start + count;
  return end <= from ? '' : cs.slice(from - 1, end - 1).join('');
}

function abs(v: Exclude<Value, null>, type: SqlType): Value {
  if (isInt(type)) {
    const x = v as bigint;
    const out = x < 0n ? -x : x;
    const [, hi] = intRange(type);
    if (out > hi) throw dataError(`${typeName(type)} out of range`, '22003');
    return out;
  }
  if (type === 'numeric') return (v as string).replace(/^-/, '');
  return Math.abs(v as number);
}

/** PostgreSQL limits the places of round(numeric, n) and trunc(numeric, n) to this many either way. */
const MAX_PLACES = 2000;

/** round/trunc of a numeric to `places` digits (negative: left of the point); the result's scale is max(places, 0). */
function decimalRound(v: string, places: number, fn: string): string {
  if (v === 'NaN') return v;
  const s = Math.max(-MAX_PLACES, Math.min(MAX_PLACES, places));
  const d = parseDec(v);
  const r: Dec = fn === 'round' ? roundDec(d, s) : truncDec(d, s);
  return formatDec(s >= 0 ? r : { unscaled: r.unscaled * 10n ** BigInt(-s), scale: 0 });
}

function truncDec(d: Dec, scale: number): Dec {
  if (scale >= d.scale) return { unscaled: d.unscaled * 10n ** BigInt(scale - d.scale), scale };
  return { unscaled: d.unscaled / 10n ** BigInt(d.scale - scale), scale };
}

/** round(double precision) is C's rint: halves go to the even neighbour. */
function rint(x: number): number {
  if (!Number.isFinite(x)) return x;
  const f = Math.floor(x);
  const d = x - f;
  const r = d < 0.5 ? f : d > 0.5 ? f + 1 : f % 2 === 0 ? f : f + 1;
  return r === 0 && x < 0 ? -0 : r;
}
