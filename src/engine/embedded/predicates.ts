// Moving predicates between the two forms the engine knows: typed expressions (evaluated in
// process) and source Predicates (sent to a store). Also the facts the planner reasons with:
// does a conjunct reject a NULL-padded relation, and what does a value on one side of a join
// key say about the other side (through lossless casts only).
import type { CompareOp, Predicate } from '../../query/predicate.js';
import type { Value } from '../../values.js';
import { slotKey, type Expr } from './ast.js';
import { castPreimage, promote } from './casts.js';
import { evalExpr } from './eval.js';
import { castColumn, children as childrenOf } from './expr-tools.js';
import { ceilDec, floorDec, isIntegral, parseDec } from './numeric.js';
import { castInjective, castOrderPreserving, comparisonType, intRange, isInt, type SqlType } from './sql-types.js';

type Scalar = Exclude<Value, null>;

/** The client's predicate on output names, as an expression over what each output is. */
export function predicateToExpr(p: Predicate, output: (name: string) => Expr | undefined): Expr | undefined {
  const rec = (q: Predicate): Expr | undefined => predicateToExpr(q, output);
  switch (p.op) {
    case 'and':
    case 'or': {
      const args = p.args.map(rec);
      return args.every((a) => a !== undefined) ? { kind: p.op, args: args as Expr[], type: 'bool' } : undefined;
    }
    case 'not': {
      const a = rec(p.arg);
      return a ? { kind: 'not', arg: a, type: 'bool' } : undefined;
    }
    case 'const':
      return { kind: 'const', value: p.value, type: 'bool' };
    case 'isnull': {
      const e = output(p.column);
      return e ? { kind: 'isnull', arg: e, type: 'bool' } : undefined;
    }
    case 'like': {
      const e = output(p.column);
      return e && e.type === 'text'
        ? { kind: 'like', arg: e, pattern: { kind: 'const', value: p.pattern, type: 'text' }, caseInsensitive: false, type: 'bool' }
        : undefined;
    }
    case 'cmp': {
      const e = output(p.column);
      const via = e && comparisonType(e.type, e.type);
      if (!e || !via) return undefined;
      return { kind: 'compare', op: p.cmp, left: e, right: { kind: 'const', value: p.value, type: e.type }, via, type: 'bool' };
    }
    case 'in': {
      const e = output(p.column);
      const via = e && comparisonType(e.type, e.type);
      if (!e || !via) return undefined;
      if (p.values.length === 0) return { kind: 'const', value: false, type: 'bool' };
      return { kind: 'in', arg: e, list: p.values.map((v) => ({ kind: 'const', value: v, type: e.type })), via, type: 'bool' };
    }
  }
}

/** NULL when the column is NULL, FALSE otherwise: `col = v` for a `v` no value of the column can equal. */
function falseUnlessNull(column: string): Predicate {
  return {
    op: 'and',
    args: [
      { op: 'isnull', column },
      { op: 'const', value: null },
    ],
  };
}

const FLIP: Record<CompareOp, CompareOp> = { '=': '=', '<>': '<>', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** A conjunct on one relation as a source Predicate on its columns, or undefined when a store cannot evaluate it. */
export function toSourcePredicate(e: Expr, rel: number): Predicate | undefined {
  const rec = (x: Expr): Predicate | undefined => toSourcePredicate(x, rel);
  switch (e.kind) {
    case 'and':
    case 'or': {
      const args = e.args.map(rec);
      return args.every((a) => a !== undefined) ? { op: e.kind, args: args as Predicate[] } : undefined;
    }
    case 'not': {
      const a = rec(e.arg);
      return a ? { op: 'not', arg: a } : undefined;
    }
    case 'const':
      return e.type === 'bool' ? { op: 'const', value: e.value as boolean | null } : undefined;
    case 'column':
      return e.rel === rel && e.type === 'bool' ? { op: 'cmp', column: e.column, cmp: '=', value: true } : undefined;
    case 'isnull': {
      const c = castColumn(e.arg);
      return c && c.rel === rel ? { op: 'isnull', column: c.column } : undefined;
    }
    case 'like': {
      const c = e.arg.kind === 'column' && e.arg.rel === rel ? e.arg : undefined;
      if (!c || e.caseInsensitive || e.pattern.kind !== 'const') return undefined;
      return e.pattern.value === null ? { op: 'const', value: null } : { op: 'like', column: c.column, pattern: e.pattern.value as string };
    }
    case 'compare': {
      const [chain, k, op] =
        e.right.kind === 'const' ? [e.left, e.right, e.op] : e.left.kind === 'const' ? [e.right, e.left, FLIP[e.op]] : [];
      if (!chain || !k || k.kind !== 'const') return undefined;
      const c = castColumn(chain);
      if (!c || c.rel !== rel) return undefined;
      if (k.value === null) return { op: 'const', value: null };
      return invertComparison(chain, op!, promote(k.value, k.type, e.via) as Scalar, e.via);
    }
    case 'in': {
      const c = castColumn(e.arg);
      if (!c || c.rel !== rel || e.inProcess || e.list.some((x) => x.kind !== 'const')) return undefined;
      const values: Scalar[] = [];
      let sawNull = false;
      for (const item of e.list as Extract<Expr, { kind: 'const' }>[]) {
        if (item.value === null) {
          sawNull = true;
          continue;
        }
        const p = invertComparison(e.arg, '=', promote(item.value, item.type, e.via) as Scalar, e.via);
        if (!p) return undefined;
        if (p.op === 'cmp') values.push(p.value);
        else if (p.op !== 'and') return undefined; // 'and' is falseUnlessNull: the item matches nothing
      }
      const inList: Predicate = values.length > 0 ? { op: 'in', column: c.column, values: dedupe(values) } : falseUnlessNull(c.column);
      return sawNull ? { op: 'or', args: [inList, { op: 'const', value: null }] } : inList;
    }
    default:
      return undefined;
  }
}

function dedupe(values: Scalar[]): Scalar[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const k = typeof v === 'object' ? JSON.stringify(v) : `${typeof v}:${String(v)}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * `chain op v` (compared in `via`), where chain is a column under casts, as a predicate on the
 * column itself: exact through injective casts for = and <>, through order-preserving ones for
 * ranges; undefined when no such predicate exists (a lossy cast).
 */
export function invertComparison(chain: Expr, op: CompareOp, v: Scalar, via: SqlType): Predicate | undefined {
  const col = castColumn(chain)!;
  // From the comparison type down to the chain's type.
  let target = toChainType(chain.type, op, v, via);
  if (target === undefined) return undefined;
  let cur = chain;
  while (target !== 'none' && cur.kind === 'cast') {
    const from = cur.arg.type;
    if (cur.mod) return undefined;
    if (op === '=' || op === '<>') {
      const pre = castPreimage(target.value, from, cur.type);
      if (pre === undefined) return undefined;
      target = pre === 'none' ? 'none' : { value: pre.value, op: target.op };
    } else {
      if (!castOrderPreserving(from, cur.type)) return undefined;
      const t = toChainType(from, target.op, target.value, cur.type);
      if (t === undefined || t === 'none') return undefined;
      target = t;
    }
    cur = cur.arg;
  }
  if (target === 'none') return op === '<>' ? { op: 'not', arg: falseUnlessNull(col.column) } : falseUnlessNull(col.column);
  return { op: 'cmp', column: col.column, cmp: target.op, value: target.value };
}

/** The comparison value in the chain's own type (ranges onto integers round the bound). */
function toChainType(t: SqlType, op: CompareOp, v: Scalar, via: SqlType): { value: Scalar; op: CompareOp } | 'none' | undefined {
  if (t === via || (isInt(t) && isInt(via))) {
    if (isInt(t)) {
      const pre = castPreimage(v, t, t);
      if (pre === 'none') return op === '=' || op === '<>' ? 'none' : undefined;
    }
    return { value: v, op };
  }
  if (isInt(t) && via === 'numeric') {
    const d = parseDec(v as string);
    const [lo, hi] = intRange(t);
    // A value outside the column's range (int4 = 9223372036854775808) is never equal to it, and
    // cannot be sent to the store as a value of its type; a range against it stays in process.
    const fits = (i: bigint): boolean => i >= lo && i <= hi;
    if (isIntegral(d)) {
      const i = floorDec(d);
      if (fits(i)) return { value: i, op };
      return op === '=' || op === '<>' ? 'none' : undefined;
    }
    if (op === '=' || op === '<>') return 'none';
    // x > 7.5 is x > 7; x >= 7.5 is x >= 8; x < 7.5 is x < 8; x <= 7.5 is x <= 7.
    const bound = op === '>' || op === '<=' ? floorDec(d) : ceilDec(d);
    return fits(bound) ? { value: bound, op } : undefined;
  }
  if (t === 'date' && via === 'timestamptz') {
    const pre = castPreimage(v, 'date', 'timestamptz');
    if (pre === undefined) return undefined;
    if (pre === 'none') return op === '=' || op === '<>' ? 'none' : undefined;
    return { value: pre.value, op };
  }
  return undefined;
}

/**
 * What a fact on the column under `fromChain` says about the column under `toChain`, given
 * `fromChain = toChain` (compared in `via`). Undefined when nothing can be said.
 */
export function inferAcross(fact: Predicate, fromChain: Expr, toChain: Expr, via: SqlType): Predicate | undefined {
  const from = castColumn(fromChain)!;
  const forward = (v: Scalar): Scalar | undefined => {
    try {
      const out = evalExpr(fromChain, { [slotKey(from.rel, from.column)]: v });
      return out === null ? undefined : (promote(out, fromChain.type, via) as Scalar);
    } catch {
      return undefined; // e.g. out of range for a narrowing cast: say nothing
    }
  };
  if (fact.op === 'cmp') {
    if (fact.cmp === '<>') return undefined;
    if (fact.cmp !== '=' && !chainOrderPreserving(fromChain)) return undefined;
    const w = forward(fact.value);
    return w === undefined ? undefined : invertComparison(toChain, fact.cmp, w, via);
  }
  if (fact.op === 'in') {
    const to = castColumn(toChain)!;
    const values: Scalar[] = [];
    for (const v of fact.values) {
      const w = forward(v);
      if (w === undefined) return undefined;
      const p = invertComparison(toChain, '=', w, via);
      if (!p) return undefined;
      if (p.op === 'cmp') values.push(p.value);
    }
    return { op: 'in', column: to.column, values: dedupe(values) };
  }
  return undefined;
}

function chainOrderPreserving(chain: Expr): boolean {
  let cur = chain;
  while (cur.kind === 'cast') {
    if (cur.mod || !castOrderPreserving(cur.arg.type, cur.type)) return false;
    cur = cur.arg;
  }
  return true;
}

/** Whether the chain's column can be found from a value of the chain (every cast injective). */
export function chainInvertible(chain: Expr): boolean {
  let cur = chain;
  while (cur.kind === 'cast') {
    if (cur.mod || !castInjective(cur.arg.type, cur.type)) return false;
    cur = cur.arg;
  }
  return true;
}

/** Expression is NULL whenever every column of `rel` is NULL (strictness, as PostgreSQL's reduce_outer_joins). */
function strictIn(e: Expr, rel: number): boolean {
  switch (e.kind) {
    case 'column':
      return e.rel === rel;
    case 'cast':
    case 'neg':
      return strictIn(e.arg, rel);
    case 'arith':
    case 'concat':
      return strictIn(e.left, rel) || strictIn(e.right, rel);
    case 'coalesce':
      return e.args.every((a) => strictIn(a, rel));
    default:
      return false;
  }
}

/** The conjunct is never TRUE when `rel` is NULL-padded, so a LEFT JOIN to `rel` may be planned as INNER. */
export function rejectsNulls(e: Expr, rel: number): boolean {
  switch (e.kind) {
    case 'and':
      return e.args.some((a) => rejectsNulls(a, rel));
    case 'or':
      return e.args.every((a) => rejectsNulls(a, rel));
    case 'not':
      return e.arg.kind === 'isnull' ? strictIn(e.arg.arg, rel) : strictBool(e.arg, rel);
    case 'const':
      return e.value !== true;
    default:
      return strictBool(e, rel);
  }
}

/** A boolean expression that is NULL when `rel` is NULL-padded. */
function strictBool(e: Expr, rel: number): boolean {
  switch (e.kind) {
    case 'column':
      return e.rel === rel;
    case 'compare':
      return strictIn(e.left, rel) || strictIn(e.right, rel);
    case 'in':
      return strictIn(e.arg, rel);
    case 'like':
      return strictIn(e.arg, rel) || strictIn(e.pattern, rel);
    case 'and':
    case 'or':
      return e.args.every((a) => strictBool(a, rel));
    case 'not':
      return strictBool(e.arg, rel);
    default:
      return false;
  }
}

/** The relation columns an expression reads, by relation. */
export function columnsOf(e: Expr, out: Map<number, Set<string>>): void {
  const visit = (x: Expr): void => {
    if (x.kind === 'column') {
      let s = out.get(x.rel);
      if (!s) out.set(x.rel, (s = new Set()));
      s.add(x.column);
    }
    for (const c of childrenOf(x)) visit(c);
  };
  visit(e);
}
