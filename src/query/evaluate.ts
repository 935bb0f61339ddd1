// Evaluates a typed predicate on one row in process, with SQL's three-valued logic and
// PostgreSQL's comparison semantics (null = unknown; a missing column reads as NULL).
import { compareValues, type ColumnType, type Row, type Value } from '../values.js';
import type { ColumnTypes, CompareOp, Predicate } from './predicate.js';

export function evaluate(pred: Predicate, row: Row, types: ColumnTypes): boolean | null {
  switch (pred.op) {
    case 'and': {
      let unknown = false;
      for (const a of pred.args) {
        const v = evaluate(a, row, types);
        if (v === false) return false;
        if (v === null) unknown = true;
      }
      return unknown ? null : true;
    }
    case 'or': {
      let unknown = false;
      for (const a of pred.args) {
        const v = evaluate(a, row, types);
        if (v === true) return true;
        if (v === null) unknown = true;
      }
      return unknown ? null : false;
    }
    case 'not': {
      const v = evaluate(pred.arg, row, types);
      return v === null ? null : !v;
    }
    case 'const':
      return pred.value;
    case 'isnull':
      return read(row, pred.column) === null;
    case 'cmp': {
      const v = read(row, pred.column);
      if (v === null) return null;
      return holds(pred.cmp, compareValues(typeOf(types, pred.column), v, pred.value));
    }
    case 'in': {
      const v = read(row, pred.column);
      if (v === null) return null;
      const type = typeOf(types, pred.column);
      return pred.values.some((x) => compareValues(type, v, x) === 0);
    }
    case 'like': {
      const v = read(row, pred.column);
      if (v === null) return null;
      return likeMatch(String(v), pred.pattern);
    }
  }
}

/** Whether a comparison result (<0, 0, >0) satisfies the operator. */
export function holds(op: CompareOp, c: number): boolean {
  switch (op) {
    case '=':
      return c === 0;
    case '<>':
      return c !== 0;
    case '<':
      return c < 0;
    case '<=':
      return c <= 0;
    case '>':
      return c > 0;
    case '>=':
      return c >= 0;
  }
}

function read(row: Row, column: string): Value {
  const v = row[column];
  return v === undefined ? null : v;
}

function typeOf(types: ColumnTypes, column: string): ColumnType {
  const t = types.get(column);
  if (!t) throw new Error(`evaluate: no type for column "${column}"`);
  return t;
}

type PatternItem = { any: true } | { one: true } | { ch: string };

/**
 * SQL LIKE, case-sensitive, by code point: `%` any run, `_` one character, `\` makes the next
 * character literal (a trailing `\` stands for itself). Linear-time wildcard matching with one
 * backtrack point, so no pattern can make it blow up.
 */
export function likeMatch(text: string, pattern: string): boolean {
  const t = Array.from(text);
  const p = compilePattern(pattern);
  let i = 0;
  let j = 0;
  let starJ = -1;
  let starI = 0;
  while (i < t.length) {
    const item = p[j];
    if (item && ('one' in item || ('ch' in item && item.ch === t[i]))) {
      i++;
      j++;
    } else if (item && 'any' in item) {
      starJ = j++;
      starI = i;
    } else if (starJ >= 0) {
      j = starJ + 1;
      i = ++starI;
    } else {
      return false;
    }
  }
  while (j < p.length && 'any' in p[j]!) j++;
  return j === p.length;
}

function compilePattern(pattern: string): PatternItem[] {
  const cps = Array.from(pattern);
  const out: PatternItem[] = [];
  for (let k = 0; k < cps.length; k++) {
    const c = cps[k]!;
    if (c === '\\' && k + 1 < cps.length) out.push({ ch: cps[++k]! });
    else if (c === '%') {
      if (!(out.length > 0 && 'any' in out[out.length - 1]!)) out.push({ any: true });
    } else if (c === '_') out.push({ one: true });
    else out.push({ ch: c });
  }
  return out;
}
