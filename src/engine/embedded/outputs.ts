// The select list's outputs: their names, references to them by position or name (ORDER BY),
// and whether each can be NULL.
import type { Expr, Relation } from './ast.js';
import { finish, type Typed } from './coercion.js';
import { typed } from './expr-typing.js';
import { locationOf, unwrap, type RawNode, type RawTarget } from './parse.js';
import { Refusal } from './refusal.js';
import type { Scope } from './scope.js';

/** Each output's name (its alias, or PostgreSQL's default name), each used once. */
export function outputNames(targets: RawTarget[]): string[] {
  const names = targets.map((t, i) => {
    const n = t.name ?? defaultName(t.expr);
    if (n === undefined) throw new Refusal(`output column ${i + 1} needs a name: add AS name`, t.location);
    return n;
  });
  names.forEach((n, i) => {
    const dup = names.indexOf(n);
    if (dup !== i) throw new Refusal(`output column name "${n}" is used twice: give one an alias`, targets[i]!.location);
  });
  return names;
}

function defaultName(node: RawNode): string | undefined {
  const [tag, b] = unwrap(node);
  if (tag === 'ColumnRef') return (b.fields as RawNode[])[(b.fields as RawNode[]).length - 1]!.String?.sval as string;
  if (tag === 'TypeCast') {
    const argName = defaultName(b.arg as RawNode);
    if (argName !== undefined) return argName;
    const names = (b.typeName.names as RawNode[]).map((n) => n.String?.sval as string);
    return names[names.length - 1];
  }
  if (tag === 'FuncCall') return ((b.funcname as RawNode[])[(b.funcname as RawNode[]).length - 1]!.String?.sval as string).toLowerCase();
  if (tag === 'CoalesceExpr') return 'coalesce';
  if (tag === 'CaseExpr') return 'case';
  return undefined;
}

export function ordinal(node: RawNode): number | undefined {
  const [tag, b] = unwrap(node);
  if (tag !== 'A_Const' || b.sval || b.fval || b.boolval || b.isnull) return undefined;
  return Number(b.ival?.ival ?? 0);
}

export function sortExpr(node: RawNode, names: string[], outputs: Typed[], scope: Scope): Expr {
  const loc = locationOf(node) ?? 0;
  const n = ordinal(node);
  if (n !== undefined) {
    if (n < 1 || n > outputs.length) throw new Refusal(`ORDER BY position ${n} is not in the select list`, loc);
    return outputs[n - 1]!.e;
  }
  const [tag, b] = unwrap(node);
  if (tag === 'ColumnRef' && (b.fields as RawNode[]).length === 1) {
    const name = (b.fields as RawNode[])[0]!.String?.sval as string;
    if (names.includes(name)) return outputs[names.indexOf(name)]!.e;
  }
  return finish(typed(node, scope)).e;
}

/** Whether an output can be NULL: padded relations' columns can; strict expressions propagate NULL. */
export function nullable(e: Expr, relations: Relation[], padded: Set<number>, wholeAggregate: boolean): boolean {
  const rec = (x: Expr): boolean => nullable(x, relations, padded, wholeAggregate);
  switch (e.kind) {
    case 'column':
      return padded.has(e.rel) || relations[e.rel]!.columns.get(e.column)!.nullable;
    case 'const':
      return e.value === null;
    case 'slot':
      return true;
    case 'agg':
      return e.fn === 'count' ? false : wholeAggregate || e.arg === undefined || rec(e.arg);
    case 'coalesce':
      return e.args.every(rec);
    case 'fn':
      return e.fn !== 'concat';
    case 'case':
      return e.else === undefined || rec(e.else) || e.whens.some((w) => rec(w.then));
    case 'cast':
    case 'neg':
    case 'not':
      return rec(e.arg);
    case 'isnull':
      return false;
    case 'insub':
      return true;
    case 'arith':
    case 'concat':
      return rec(e.left) || rec(e.right);
    case 'compare':
      return rec(e.left) || rec(e.right);
    case 'in':
      return rec(e.arg) || e.list.some(rec);
    case 'like':
      return rec(e.arg) || rec(e.pattern);
    case 'and':
    case 'or':
      return e.args.some(rec);
  }
}
