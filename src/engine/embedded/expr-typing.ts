// A parser expression -> a typed expression (PostgreSQL's typing rules), or a Refusal naming the
// position of what the embedded engine does not support.
import { canonicalNumeric, parseInt64 } from '../../values.js';
import type { Expr } from './ast.js';
import { funcCall } from './aggregate-calls.js';
import { castTarget } from './cast-target.js';
import { minMax, nullIf, scalarCall, scalarName } from './functions.js';
import { boolean, coerce, commonType, finish, resolve, type Typed } from './coercion.js';
import { aExpr, comparison } from './operators.js';
import { locationOf, unwrap, type RawNode } from './parse.js';
import { Refusal } from './refusal.js';
import { columnRef, type Scope } from './scope.js';
import { castAllowed, typeName } from './sql-types.js';

export function typed(node: RawNode, scope: Scope): Typed {
  const [tag, b] = unwrap(node);
  const loc = locationOf(node) ?? 0;
  const sub = (n: RawNode): Typed => typed(n, scope);
  switch (tag) {
    case 'ColumnRef':
      return { e: columnRef(b, scope, loc), unknown: false, loc };
    case 'A_Const':
      return constant(b, loc);
    case 'TypeCast': {
      const arg = sub(b.arg as RawNode);
      const { type, mod } = castTarget(b.typeName as RawNode, loc);
      if (arg.unknown) {
        const r = resolve(arg, type);
        return { e: mod ? { kind: 'cast', arg: r.e, type, mod } : r.e, unknown: false, loc };
      }
      if (!castAllowed(arg.e.type, type)) throw new Refusal(`cannot cast ${typeName(arg.e.type)} to ${typeName(type)}`, loc);
      return { e: { kind: 'cast', arg: arg.e, type, ...(mod ? { mod } : {}) }, unknown: false, loc };
    }
    case 'BoolExpr': {
      const args = (b.args as RawNode[]).map((a) => boolean(sub(a), 'AND/OR/NOT'));
      if (b.boolop === 'NOT_EXPR') return { e: { kind: 'not', arg: args[0]!, type: 'bool' }, unknown: false, loc };
      return { e: { kind: b.boolop === 'AND_EXPR' ? 'and' : 'or', args, type: 'bool' }, unknown: false, loc };
    }
    case 'NullTest': {
      const arg = finish(sub(b.arg as RawNode)).e;
      const test: Expr = { kind: 'isnull', arg, type: 'bool' };
      return { e: b.nulltesttype === 'IS_NOT_NULL' ? { kind: 'not', arg: test, type: 'bool' } : test, unknown: false, loc };
    }
    case 'A_Expr':
      return b.kind === 'AEXPR_NULLIF' ? nullIf(b, loc, sub) : aExpr(b, loc, sub);
    case 'CoalesceExpr': {
      const args = (b.args as RawNode[]).map(sub);
      const type = commonType(args, 'COALESCE');
      return { e: { kind: 'coalesce', args: args.map((a) => coerce(a, type, 'COALESCE')), type }, unknown: false, loc };
    }
    case 'CaseExpr':
      return caseExpr(b, scope, loc);
    case 'FuncCall': {
      const scalar = scalarName(b);
      return scalar ? scalarCall(scalar, b, loc, sub) : funcCall(b, scope, loc, typed);
    }
    case 'SubLink':
      return inSubquery(b, scope, loc);
    case 'ParamRef':
      throw new Refusal('parameters ($1) are not supported in a view', loc);
    case 'BooleanTest':
      throw new Refusal('IS TRUE / IS FALSE / IS UNKNOWN are not supported: compare with = true, or use IS NULL', loc);
    case 'MinMaxExpr':
      return minMax(b, loc, sub);
    case 'NullIfExpr':
      throw new Refusal('NULLIF is not supported', loc);
    default:
      throw new Refusal(`${tag.replace(/Expr$/, '')} expressions are not supported`, loc);
  }
}

/** `x IN (SELECT y ...)`: compared as `x = y`, with PostgreSQL's types for that comparison. */
function inSubquery(b: RawNode, scope: Scope, loc: number): Typed {
  const found = scope.sublinks?.get(b);
  if (!found) {
    const where = scope.sublinks ? ' here: IN (SELECT ...) may stand in WHERE, HAVING, the select list and ORDER BY' : '';
    throw new Refusal(`subqueries are not supported${where}`, loc);
  }
  const outputs = found.model.outputs;
  if (outputs.length !== 1) throw new Refusal(`subquery has ${outputs.length} columns: IN (SELECT ...) takes exactly one`, loc);
  const item: Typed = { e: { kind: 'const', value: null, type: outputs[0]!.type }, unknown: false, loc };
  const c = comparison('=', typed(b.testexpr as RawNode, scope), item, loc) as Extract<Expr, { kind: 'compare' }>;
  return { e: { kind: 'insub', arg: c.left, sub: found.index, via: c.via, type: 'bool' }, unknown: false, loc };
}

function constant(b: RawNode, loc: number): Typed {
  const known = (e: Expr): Typed => ({ e, unknown: false, loc });
  if (b.isnull) return { e: { kind: 'const', value: null, type: 'text' }, unknown: true, loc };
  if (b.sval) return { e: { kind: 'const', value: (b.sval.sval as string | undefined) ?? '', type: 'text' }, unknown: true, loc };
  if (b.boolval) return known({ kind: 'const', value: b.boolval.boolval === true, type: 'bool' });
  if (b.fval) {
    const text = b.fval.fval as string;
    const int = /^-?\d+$/.test(text) ? parseInt64(text) : null;
    if (int !== null) return known({ kind: 'const', value: int, type: 'int8' });
    return known({ kind: 'const', value: canonicalNumeric(text)!, type: 'numeric' });
  }
  if (b.bsval) throw new Refusal('bit-string constants are not supported', loc);
  return known({ kind: 'const', value: BigInt(b.ival?.ival ?? 0), type: 'int4' });
}

function caseExpr(b: RawNode, scope: Scope, loc: number): Typed {
  const sub = (n: RawNode): Typed => typed(n, scope);
  const subject = b.arg ? sub(b.arg as RawNode) : undefined;
  const whens = (b.args as RawNode[]).map((w) => {
    const cw = w.CaseWhen as RawNode;
    const cond = sub(cw.expr as RawNode);
    const when = subject ? comparison('=', subject, cond, cond.loc) : boolean(cond, 'CASE WHEN');
    return { when, then: sub(cw.result as RawNode) };
  });
  const elseT = b.defresult ? sub(b.defresult as RawNode) : undefined;
  const results = [...whens.map((w) => w.then), ...(elseT ? [elseT] : [])];
  const type = commonType(results, 'CASE');
  return {
    e: {
      kind: 'case',
      whens: whens.map((w) => ({ when: w.when, then: coerce(w.then, type, 'CASE') })),
      ...(elseT ? { else: coerce(elseT, type, 'CASE') } : {}),
      type,
    },
    unknown: false,
    loc,
  };
}
