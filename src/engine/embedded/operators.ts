// Operator expressions (comparison, arithmetic, ||, IN, LIKE, BETWEEN) typed with PostgreSQL's
// rules; the operands are typed by the caller's `sub`.
import type { CompareOp } from '../../query/predicate.js';
import type { ArithOp, Expr } from './ast.js';
import { commonType, finish, resolve, type Typed } from './coercion.js';
import type { RawNode } from './parse.js';
import { Refusal } from './refusal.js';
import { arithmeticType, comparisonType, isInt, isNumber, typeName, widerInt } from './sql-types.js';

const COMPARE: Record<string, CompareOp> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const ARITH = new Set(['+', '-', '*', '/', '%']);

/** An `A_Expr` parser node, its operands typed by `sub`. */
export function aExpr(b: RawNode, loc: number, sub: (n: RawNode) => Typed): Typed {
  const op = (b.name as RawNode[] | undefined)?.map((n) => n.String?.sval as string).join('.') ?? '';
  const kind = b.kind as string;
  const out = (e: Expr): Typed => ({ e, unknown: false, loc });
  if (kind === 'AEXPR_OP') {
    if (!b.lexpr) {
      const arg = sub(b.rexpr as RawNode);
      if (op !== '-' && op !== '+') throw new Refusal(`prefix operator ${op} is not supported`, loc);
      const a = arg.unknown ? resolve(arg, 'numeric') : arg;
      if (!isNumber(a.e.type)) throw new Refusal(`operator does not exist: ${op} ${typeName(a.e.type)}`, loc);
      return out(op === '+' ? a.e : { kind: 'neg', arg: a.e, type: a.e.type });
    }
    const l = sub(b.lexpr as RawNode);
    const r = sub(b.rexpr as RawNode);
    if (COMPARE[op]) return out(comparison(COMPARE[op]!, l, r, loc));
    if (ARITH.has(op)) return out(arithmetic(op as ArithOp, l, r, loc));
    if (op === '||') {
      const lt = l.unknown ? 'text' : l.e.type;
      const rt = r.unknown ? 'text' : r.e.type;
      if (lt !== 'text' && rt !== 'text') throw new Refusal(`operator does not exist: ${typeName(lt)} || ${typeName(rt)}`, loc);
      return out({ kind: 'concat', left: finish(l).e, right: finish(r).e, type: 'text' });
    }
    throw new Refusal(`operator ${op} is not supported`, loc);
  }
  if (kind === 'AEXPR_IN') {
    const arg = sub(b.lexpr as RawNode);
    const items = (b.rexpr as RawNode).List ? ((b.rexpr as RawNode).List.items as RawNode[]).map(sub) : [sub(b.rexpr as RawNode)];
    const argT = arg.unknown ? commonType(items, 'IN') : arg.e.type;
    const a = resolve(arg, argT);
    const list = items.map((it) => {
      const c = comparison('=', a, it, it.loc) as Extract<Expr, { kind: 'compare' }>;
      return c;
    });
    const via = list[0]!.via;
    // Items compared in different types (an int8 column IN (1, 9223372036854775808)): x IN (a, b)
    // is x = a OR x = b, also in three-valued logic.
    const e: Expr = list.some((c) => c.via !== via)
      ? { kind: 'or', args: list, type: 'bool' }
      : { kind: 'in', arg: a.e, list: list.map((c) => c.right), via, type: 'bool' };
    return out(op === '<>' ? { kind: 'not', arg: e, type: 'bool' } : e);
  }
  if (kind === 'AEXPR_LIKE' || kind === 'AEXPR_ILIKE') {
    const arg = resolve(sub(b.lexpr as RawNode), 'text');
    const pat = sub(b.rexpr as RawNode);
    if ((b.rexpr as RawNode).FuncCall) throw new Refusal('LIKE ... ESCAPE is not supported: the escape character is \\', loc);
    const pattern = resolve(pat, 'text');
    if (arg.e.type !== 'text' || pattern.e.type !== 'text') throw new Refusal('LIKE and ILIKE compare text: add ::text', loc);
    const e: Expr = { kind: 'like', arg: arg.e, pattern: pattern.e, caseInsensitive: kind === 'AEXPR_ILIKE', type: 'bool' };
    return out(op.startsWith('!') ? { kind: 'not', arg: e, type: 'bool' } : e);
  }
  if (kind === 'AEXPR_BETWEEN' || kind === 'AEXPR_NOT_BETWEEN') {
    const arg = sub(b.lexpr as RawNode);
    const [lo, hi] = ((b.rexpr as RawNode).List.items as RawNode[]).map(sub) as [Typed, Typed];
    if (kind === 'AEXPR_BETWEEN')
      return out({ kind: 'and', args: [comparison('>=', arg, lo, loc), comparison('<=', arg, hi, loc)], type: 'bool' });
    return out({ kind: 'or', args: [comparison('<', arg, lo, loc), comparison('>', arg, hi, loc)], type: 'bool' });
  }
  const names: Record<string, string> = {
    AEXPR_OP_ANY: 'ANY',
    AEXPR_OP_ALL: 'ALL',
    AEXPR_DISTINCT: 'IS DISTINCT FROM',
    AEXPR_NOT_DISTINCT: 'IS NOT DISTINCT FROM',
    AEXPR_NULLIF: 'NULLIF',
    AEXPR_SIMILAR: 'SIMILAR TO',
    AEXPR_BETWEEN_SYM: 'BETWEEN SYMMETRIC',
    AEXPR_NOT_BETWEEN_SYM: 'NOT BETWEEN SYMMETRIC',
  };
  throw new Refusal(`${names[kind] ?? kind} is not supported`, loc);
}

export function comparison(op: CompareOp, l: Typed, r: Typed, loc: number): Expr {
  const left = l.unknown ? resolve(l, r.unknown ? 'text' : r.e.type) : l;
  const right = r.unknown ? resolve(r, left.e.type) : r;
  const via = comparisonType(left.e.type, right.e.type);
  if (!via) {
    throw new Refusal(
      `operator does not exist: ${typeName(left.e.type)} ${op} ${typeName(right.e.type)}; cast one side (e.g. x::text)`,
      loc,
    );
  }
  return { kind: 'compare', op, left: left.e, right: right.e, via, type: 'bool' };
}

function arithmetic(op: ArithOp, l: Typed, r: Typed, loc: number): Expr {
  if (l.unknown && r.unknown) throw new Refusal(`operator is not unique: unknown ${op} unknown; add a cast`, loc);
  const left = l.unknown ? resolve(l, r.e.type) : l;
  const right = r.unknown ? resolve(r, left.e.type) : r;
  const type = arithmeticType(left.e.type, right.e.type);
  if (!type) throw new Refusal(`operator does not exist: ${typeName(left.e.type)} ${op} ${typeName(right.e.type)}`, loc);
  const widen = (t: Typed): Expr => (t.e.type === type || (isInt(t.e.type) && isInt(type)) ? t.e : { kind: 'cast', arg: t.e, type });
  return { kind: 'arith', op, left: widen(left), right: widen(right), type: isInt(type) ? widerInt(left.e.type, right.e.type) : type };
}
