// Walking, rewriting and comparing typed expressions.
import type { Expr } from './ast.js';

/** The direct sub-expressions of `e`. */
export function children(e: Expr): Expr[] {
  switch (e.kind) {
    case 'column':
    case 'const':
    case 'slot':
      return [];
    case 'cast':
    case 'neg':
    case 'not':
    case 'isnull':
    case 'insub':
      return [e.arg];
    case 'arith':
    case 'concat':
    case 'compare':
      return [e.left, e.right];
    case 'coalesce':
    case 'fn':
    case 'and':
    case 'or':
      return e.args;
    case 'case':
      return [...e.whens.flatMap((w) => [w.when, w.then]), ...(e.else ? [e.else] : [])];
    case 'in':
      return [e.arg, ...e.list];
    case 'like':
      return [e.arg, e.pattern];
    case 'agg':
      return e.arg ? [e.arg] : [];
  }
}

function visitExpr(e: Expr, f: (x: Expr) => void): void {
  f(e);
  for (const c of children(e)) visitExpr(c, f);
}

/** Rewrites top-down: where `f` returns an expression it replaces the node (and is not descended into). */
export function mapExpr(e: Expr, f: (x: Expr) => Expr | undefined): Expr {
  const r = f(e);
  if (r) return r;
  const m = (x: Expr): Expr => mapExpr(x, f);
  switch (e.kind) {
    case 'column':
    case 'const':
    case 'slot':
      return e;
    case 'cast':
    case 'neg':
    case 'not':
    case 'isnull':
    case 'insub':
      return { ...e, arg: m(e.arg) } as Expr;
    case 'arith':
    case 'concat':
    case 'compare':
      return { ...e, left: m(e.left), right: m(e.right) } as Expr;
    case 'coalesce':
    case 'fn':
    case 'and':
    case 'or':
      return { ...e, args: e.args.map(m) } as Expr;
    case 'case':
      return { ...e, whens: e.whens.map((w) => ({ when: m(w.when), then: m(w.then) })), ...(e.else ? { else: m(e.else) } : {}) };
    case 'in':
      return { ...e, arg: m(e.arg), list: e.list.map(m) };
    case 'like':
      return { ...e, arg: m(e.arg), pattern: m(e.pattern) };
    case 'agg':
      return e.arg ? { ...e, arg: m(e.arg) } : e;
  }
}

function exprKey(e: Expr): string {
  return JSON.stringify(e, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
}

export function exprEquals(a: Expr, b: Expr): boolean {
  return exprKey(a) === exprKey(b);
}

/** The column under zero or more casts. */
export function castColumn(e: Expr): Extract<Expr, { kind: 'column' }> | undefined {
  let cur = e;
  while (cur.kind === 'cast') cur = cur.arg;
  return cur.kind === 'column' ? cur : undefined;
}

export function conjuncts(e: Expr): Expr[] {
  return e.kind === 'and' ? e.args.flatMap(conjuncts) : [e];
}

export function relationsOf(e: Expr): Set<number> {
  const out = new Set<number>();
  visitExpr(e, (x) => {
    if (x.kind === 'column') out.add(x.rel);
  });
  return out;
}

export function containsAggregate(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.kind === 'agg') found = true;
  });
  return found;
}
