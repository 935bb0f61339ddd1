// Evaluates a typed expression on one in-process row, as PostgreSQL would: NULL propagation,
// three-valued logic, integer overflow and division-by-zero errors, exact numeric arithmetic.
import { holds, likeMatch } from '../../query/evaluate.js';
import { compareValues, type Row, type Value } from '../../values.js';
import { slotKey, type Expr } from './ast.js';
import { castValue, promote, toText } from './casts.js';
import { dataError } from './errors.js';
import { evalFunction } from './functions.js';
import { addDec, divDec, divisionByZero, formatDec, modDec, mulDec, parseDec, subDec } from './numeric.js';
import { columnTypeOf, intRange, isInt, typeName, type SqlType } from './sql-types.js';

export function evalExpr(e: Expr, row: Row): Value {
  switch (e.kind) {
    case 'column':
      return row[slotKey(e.rel, e.column)] ?? null;
    case 'slot':
      return row[e.slot] ?? null;
    case 'const':
      return e.value;
    case 'cast':
      return castValue(evalExpr(e.arg, row), e.arg.type, e.type, e.mod);
    case 'arith': {
      const l = evalExpr(e.left, row);
      if (l === null) return null;
      const r = evalExpr(e.right, row);
      if (r === null) return null;
      return arithmetic(e.op, l, r, e.type);
    }
    case 'neg': {
      const v = evalExpr(e.arg, row);
      if (v === null) return null;
      if (isInt(e.type)) return checkInt(-(v as bigint), e.type);
      if (e.type === 'numeric') return formatDec({ ...parseDec(v as string), unscaled: -parseDec(v as string).unscaled });
      return -(v as number);
    }
    case 'concat': {
      const l = evalExpr(e.left, row);
      if (l === null) return null;
      const r = evalExpr(e.right, row);
      if (r === null) return null;
      return toText(l, e.left.type) + toText(r, e.right.type);
    }
    case 'coalesce':
      for (const a of e.args) {
        const v = evalExpr(a, row);
        if (v !== null) return v;
      }
      return null;
    case 'fn':
      return evalFunction(
        e,
        e.args.map((a) => evalExpr(a, row)),
      );
    case 'case':
      for (const w of e.whens) if (evalExpr(w.when, row) === true) return evalExpr(w.then, row);
      return e.else ? evalExpr(e.else, row) : null;
    case 'and': {
      let unknown = false;
      for (const a of e.args) {
        const v = evalExpr(a, row);
        if (v === false) return false;
        if (v === null) unknown = true;
      }
      return unknown ? null : true;
    }
    case 'or': {
      let unknown = false;
      for (const a of e.args) {
        const v = evalExpr(a, row);
        if (v === true) return true;
        if (v === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case 'not': {
      const v = evalExpr(e.arg, row);
      return v === null ? null : !v;
    }
    case 'isnull':
      return evalExpr(e.arg, row) === null;
    case 'compare': {
      const l = evalExpr(e.left, row);
      if (l === null) return null;
      const r = evalExpr(e.right, row);
      if (r === null) return null;
      return holds(e.op, compareIn(e.via, promote(l, e.left.type, e.via), promote(r, e.right.type, e.via)));
    }
    case 'in': {
      const v = evalExpr(e.arg, row);
      if (v === null) return null;
      const a = promote(v, e.arg.type, e.via);
      let unknown = false;
      for (const item of e.list) {
        const x = evalExpr(item, row);
        if (x === null) unknown = true;
        else if (compareIn(e.via, a, promote(x, item.type, e.via)) === 0) return true;
      }
      return unknown ? null : false;
    }
    case 'like': {
      const v = evalExpr(e.arg, row);
      if (v === null) return null;
      const p = evalExpr(e.pattern, row);
      if (p === null) return null;
      return e.caseInsensitive ? likeMatch(asciiLower(v as string), asciiLower(p as string)) : likeMatch(v as string, p as string);
    }
    case 'agg':
      throw new Error('evalExpr: an aggregate is computed by the Aggregate step');
    case 'insub':
      throw new Error('evalExpr: IN (SELECT ...) is replaced by its values before planning');
  }
}

/** ILIKE folds ASCII letters only, as PostgreSQL does under the C collation. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

function compareIn(via: SqlType, a: Value, b: Value): number {
  return compareValues(columnTypeOf(via), a, b);
}

function checkInt(v: bigint, type: SqlType): bigint {
  const [lo, hi] = intRange(type);
  if (v < lo || v > hi) throw dataError(`${typeName(type)} out of range`, '22003');
  return v;
}

function arithmetic(op: string, l: Exclude<Value, null>, r: Exclude<Value, null>, type: SqlType): Value {
  if (isInt(type)) {
    const a = l as bigint;
    const b = r as bigint;
    switch (op) {
      case '+':
        return checkInt(a + b, type);
      case '-':
        return checkInt(a - b, type);
      case '*':
        return checkInt(a * b, type);
      case '/':
        if (b === 0n) throw divisionByZero();
        return checkInt(a / b, type); // BigInt division truncates toward zero, as PostgreSQL's
      default:
        if (b === 0n) throw divisionByZero();
        return a % b;
    }
  }
  if (type === 'numeric') {
    const a = parseDec(String(l));
    const b = parseDec(String(r));
    const f = op === '+' ? addDec : op === '-' ? subDec : op === '*' ? mulDec : op === '/' ? divDec : modDec;
    return formatDec(f(a, b));
  }
  const a = Number(l);
  const b = Number(r);
  if ((op === '/' || op === '%') && b === 0) throw divisionByZero();
  const out = op === '+' ? a + b : op === '-' ? a - b : op === '*' ? a * b : op === '/' ? a / b : a % b;
  if (!Number.isFinite(out) && Number.isFinite(a) && Number.isFinite(b)) throw dataError('value out of range: overflow', '22003');
  return out;
}
