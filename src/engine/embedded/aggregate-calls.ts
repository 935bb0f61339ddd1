// Aggregate calls (count, sum, avg, min, max) in the view's SQL: where they are allowed, which
// forms are supported, and PostgreSQL's result types.
import type { AggFn } from './ast.js';
import { resolve, type Typed } from './coercion.js';
import type { RawNode } from './parse.js';
import { Refusal } from './refusal.js';
import type { Scope } from './scope.js';
import { isInt, typeName, type SqlType } from './sql-types.js';

const AGGREGATES = new Set<AggFn>(['count', 'sum', 'avg', 'min', 'max']);

/** A `FuncCall` parser node; its argument is typed by `typeOf` in a scope without aggregates. */
export function funcCall(b: RawNode, scope: Scope, loc: number, typeOf: (node: RawNode, scope: Scope) => Typed): Typed {
  const parts = (b.funcname as RawNode[]).map((n) => (n.String?.sval as string).toLowerCase());
  const name = parts[parts.length - 1]!;
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog') || !AGGREGATES.has(name as AggFn)) {
    if (name === 'coalesce') throw new Refusal('write COALESCE without a schema', loc);
    throw new Refusal(
      `function ${parts.join('.')}() is not supported; the functions are count, sum, avg, min, max and those in docs/sql.md`,
      loc,
    );
  }
  const fn = name as AggFn;
  if (!scope.allowAggregates) throw new Refusal(`aggregate functions are not allowed here (only in the SELECT list and ORDER BY)`, loc);
  if (b.over) throw new Refusal('window functions are not supported', loc);
  if (b.agg_filter) throw new Refusal('aggregate FILTER is not supported', loc);
  if (b.agg_order) throw new Refusal('ORDER BY inside an aggregate is not supported', loc);
  if (b.agg_within_group || b.func_variadic) throw new Refusal(`this form of ${fn}() is not supported`, loc);
  const distinct = b.agg_distinct === true;
  if (b.agg_star) {
    if (fn !== 'count') throw new Refusal(`${fn}(*) does not exist`, loc);
    return { e: { kind: 'agg', fn, distinct: false, type: 'int8' }, unknown: false, loc };
  }
  const args = (b.args ?? []) as RawNode[];
  if (args.length !== 1) throw new Refusal(`${fn}() takes one argument`, loc);
  const inner: Scope = { ...scope, allowAggregates: false };
  let arg = typeOf(args[0]!, inner);
  if (arg.unknown) arg = resolve(arg, fn === 'count' || fn === 'min' || fn === 'max' ? 'text' : 'numeric');
  const t = arg.e.type;
  const type = aggregateType(fn, t);
  if (!type) throw new Refusal(`function ${fn}(${typeName(t)}) does not exist`, loc);
  return { e: { kind: 'agg', fn, arg: arg.e, distinct, type }, unknown: false, loc };
}

/** PostgreSQL's aggregate result types: sum(int4) is bigint, sum(int8) numeric, avg of integers numeric. */
export function aggregateType(fn: AggFn, t: SqlType): SqlType | undefined {
  switch (fn) {
    case 'count':
      return 'int8';
    case 'sum':
      if (t === 'int2' || t === 'int4') return 'int8';
      if (t === 'int8' || t === 'numeric') return 'numeric';
      return t === 'float8' ? 'float8' : undefined;
    case 'avg':
      if (isInt(t) || t === 'numeric') return 'numeric';
      return t === 'float8' ? 'float8' : undefined;
    case 'min':
    case 'max':
      return t === 'bool' || t === 'jsonb' || t === 'bytea' ? undefined : t;
  }
}
