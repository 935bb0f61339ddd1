// The statement's shape -> the checked view: names resolved against the sources' columns, every
// expression typed with PostgreSQL's rules, joins reduced to "child joins one parent on
// equalities", grouped outputs rewritten over group-key and aggregate slots.
import type { CompareOp } from '../../query/predicate.js';
import type { SourceKind, TableInfo } from '../../sources/source.js';
import { canonicalNumeric, parseInt64, type Value } from '../../values.js';
import type { AggFn, AggregateSpec, ArithOp, Expr, JoinModel, OutputColumn, Relation, ViewModel, ViewSortItem } from './ast.js';
import { fromText, type TypeMod } from './casts.js';
import { locationOf, Refusal, unwrap, type RawNode, type RawRelation, type SyntaxView } from './parse.js';
import { arithmeticType, castAllowed, comparisonType, isInt, isNumber, sqlTypeOfColumn, typeName, widerInt, type SqlType } from './sql-types.js';
import { exprEquals, mapExpr, visitExpr } from './expr-tools.js';

export type TableLookup = (source: string, table: string, location: number) => Promise<{ kind: SourceKind; info: TableInfo }>;

/** An expression during analysis: a string literal or NULL keeps PostgreSQL's `unknown` type until context decides. */
interface Typed {
  e: Expr;
  unknown: boolean;
  loc: number;
}

interface Scope {
  relations: Relation[];
  allowAggregates: boolean;
}

export async function analyzeView(id: string, sql: string, syntax: SyntaxView, lookup: TableLookup): Promise<ViewModel> {
  const raws = [syntax.from, ...syntax.joins.map((j) => j.relation)];
  const relations = await Promise.all(raws.map((r, i) => resolveRelation(r, i, lookup)));
  const seen = new Set<string>();
  raws.forEach((r) => {
    if (seen.has(r.alias)) throw new Refusal(`table name "${r.alias}" is used more than once: give each table its own alias`, r.location);
    seen.add(r.alias);
  });

  const where: Expr[] = [];
  const joins: JoinModel[] = syntax.joins.map((j, k) => analyzeJoin(j.kind, j.on, k + 1, relations, where, j.location));
  if (syntax.where) {
    const w = typed(syntax.where, { relations, allowAggregates: false });
    where.push(...conjuncts(boolean(w, 'WHERE')));
  }

  const fullScope: Scope = { relations, allowAggregates: true };
  const items = syntax.targets.map((t) => ({ t, typedExpr: finish(typed(t.expr, fullScope)) }));
  const names = items.map(({ t }, i) => {
    const n = t.name ?? defaultName(t.expr);
    if (n === undefined) throw new Refusal(`output column ${i + 1} needs a name: add AS name`, t.location);
    return n;
  });
  names.forEach((n, i) => {
    const dup = names.indexOf(n);
    if (dup !== i) throw new Refusal(`output column name "${n}" is used twice: give one an alias`, syntax.targets[i]!.location);
  });

  const groupKeys = syntax.groupBy.map((g) => groupKey(g, syntax, items.map((x) => x.typedExpr), names, relations));
  const hasAggregate = items.some(({ typedExpr }) => containsAggregate(typedExpr.e));
  const grouped = groupKeys.length > 0 || hasAggregate;
  const aggregates: AggregateSpec[] = [];
  const toSlots = (e: Expr, loc: number): Expr => (grouped ? overSlots(e, groupKeys, aggregates, loc) : e);

  const padded = paddedRelations(joins);
  const outputs: OutputColumn[] = items.map(({ t, typedExpr }, i) => {
    const expr = toSlots(typedExpr.e, t.location);
    return { name: names[i]!, expr, type: typedExpr.e.type, nullable: nullable(typedExpr.e, relations, padded, grouped && groupKeys.length === 0) };
  });
  const orderBy: ViewSortItem[] = syntax.orderBy.map((s) => {
    const e = sortExpr(s.expr, names, items.map((x) => x.typedExpr), fullScope);
    const expr = toSlots(e, s.location);
    if (expr.type === 'jsonb' || expr.type === 'bytea') throw new Refusal(`cannot sort by a ${expr.type} value`, s.location);
    return { expr, desc: s.desc, nullsFirst: s.nulls === 'default' ? s.desc : s.nulls === 'first' };
  });

  return {
    id,
    sql,
    relations,
    joins,
    where,
    outputs,
    ...(grouped ? { grouping: { keys: groupKeys, aggregates } } : {}),
    orderBy,
    ...(syntax.limit !== undefined ? { limit: syntax.limit } : {}),
    ...(syntax.offset !== undefined ? { offset: syntax.offset } : {}),
  };
}

async function resolveRelation(raw: RawRelation, index: number, lookup: TableLookup): Promise<Relation> {
  const { kind, info } = await lookup(raw.source, raw.table, raw.location);
  return {
    index,
    alias: raw.alias,
    source: raw.source,
    sourceKind: kind,
    table: raw.table,
    columns: new Map(
      info.columns.map((c) => [c.name, { type: sqlTypeOfColumn(c), nullable: c.nullable, ...(c.description ? { description: c.description } : {}) }]),
    ),
    primaryKey: info.primaryKey,
  };
}

// ---- joins ------------------------------------------------------------------------------------

function analyzeJoin(kind: 'inner' | 'left', on: RawNode, child: number, relations: Relation[], where: Expr[], location: number): JoinModel {
  const scope: Scope = { relations: relations.slice(0, child + 1), allowAggregates: false };
  const parts = conjuncts(boolean(typed(on, scope), 'JOIN ... ON'));
  const conditions: JoinModel['conditions'] = [];
  const childFilters: Expr[] = [];
  let parent: number | undefined;
  for (const p of parts) {
    const rels = relationsOf(p);
    if (rels.size === 1 && rels.has(child)) {
      childFilters.push(p);
      continue;
    }
    const eq = p.kind === 'compare' && p.op === '=' ? keyPair(p.left, p.right, child) : undefined;
    if (eq && (parent === undefined || parent === eq.parent)) {
      parent = eq.parent;
      conditions.push({ parentKey: eq.parentKey, childKey: eq.childKey, via: (p as Extract<Expr, { kind: 'compare' }>).via });
      continue;
    }
    if (kind === 'inner') {
      where.push(p);
      continue;
    }
    throw new Refusal(
      eq
        ? 'a LEFT JOIN must relate the joined table to one earlier table'
        : 'LEFT JOIN ... ON supports equalities between columns (casts allowed) and conditions on the joined table alone',
      location,
    );
  }
  if (parent === undefined) {
    throw new Refusal('a join needs an equality between a column of the joined table and a column of an earlier table (casts allowed)', location);
  }
  return { child, parent, kind, conditions, childFilters };
}

/** `a = b` as parent key = child key, when each side is a (cast) column of one relation. */
function keyPair(a: Expr, b: Expr, child: number): { parent: number; parentKey: Expr; childKey: Expr } | undefined {
  const ra = castColumn(a);
  const rb = castColumn(b);
  if (!ra || !rb) return undefined;
  if (rb.rel === child && ra.rel < child) return { parent: ra.rel, parentKey: a, childKey: b };
  if (ra.rel === child && rb.rel < child) return { parent: rb.rel, parentKey: b, childKey: a };
  return undefined;
}

/** The column under zero or more casts. */
export function castColumn(e: Expr): Extract<Expr, { kind: 'column' }> | undefined {
  let cur = e;
  while (cur.kind === 'cast') cur = cur.arg;
  return cur.kind === 'column' ? cur : undefined;
}

/** Relations on the NULL-padded side of a LEFT JOIN, directly or through their parent. */
export function paddedRelations(joins: JoinModel[]): Set<number> {
  const out = new Set<number>();
  for (const j of joins) if (j.kind === 'left' || out.has(j.parent)) out.add(j.child);
  return out;
}

// ---- expressions ------------------------------------------------------------------------------

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

function containsAggregate(e: Expr): boolean {
  let found = false;
  visitExpr(e, (x) => {
    if (x.kind === 'agg') found = true;
  });
  return found;
}

function boolean(t: Typed, clause: string): Expr {
  const r = resolve(t, 'bool');
  if (r.e.type !== 'bool') throw new Refusal(`${clause} needs a boolean condition, got ${typeName(r.e.type)}`, t.loc);
  return r.e;
}

/** A literal of unknown type becomes text when nothing else decides. */
function finish(t: Typed): Typed {
  return t.unknown ? resolve(t, 'text') : t;
}

/** Gives an unknown literal the type `to` (parsing its text now, so a bad literal fails at load). */
function resolve(t: Typed, to: SqlType): Typed {
  if (!t.unknown) return t;
  const c = t.e as Extract<Expr, { kind: 'const' }>;
  let value: Value = null;
  if (c.value !== null) {
    try {
      value = fromText(c.value as string, to);
    } catch (err) {
      throw new Refusal((err as Error).message.replace(/ \(while evaluating the view\)$/, ''), t.loc);
    }
  }
  return { e: { kind: 'const', value, type: to }, unknown: false, loc: t.loc };
}

/** Implicit coercion to `to` (integer widening, int -> numeric -> float, date -> timestamptz). */
function coerce(t: Typed, to: SqlType, what: string): Expr {
  if (t.unknown) return resolve(t, to).e;
  const from = t.e.type;
  if (from === to) return t.e;
  const ok = (isNumber(from) && isNumber(to) && arithmeticType(from, to) === to) || (from === 'date' && to === 'timestamptz');
  if (!ok) throw new Refusal(`${what}: ${typeName(from)} cannot be matched with ${typeName(to)}; add a cast`, t.loc);
  return { kind: 'cast', arg: t.e, type: to };
}

/** The common type of CASE branches, COALESCE arguments or IN list items. */
function commonType(items: Typed[], what: string): SqlType {
  const known = items.filter((t) => !t.unknown).map((t) => t.e.type);
  if (known.length === 0) return 'text';
  let out = known[0]!;
  for (const t of known.slice(1)) {
    if (t === out) continue;
    if (isNumber(t) && isNumber(out)) out = arithmeticType(t, out)!;
    else if ((t === 'date' && out === 'timestamptz') || (t === 'timestamptz' && out === 'date')) out = 'timestamptz';
    else throw new Refusal(`${what} types ${typeName(out)} and ${typeName(t)} cannot be matched`, items.find((x) => x.e.type === t)!.loc);
  }
  return out;
}

const COMPARE: Record<string, CompareOp> = { '=': '=', '<>': '<>', '!=': '<>', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };
const ARITH = new Set(['+', '-', '*', '/', '%']);

function typed(node: RawNode, scope: Scope): Typed {
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
      return aExpr(b, scope, loc);
    case 'CoalesceExpr': {
      const args = (b.args as RawNode[]).map(sub);
      const type = commonType(args, 'COALESCE');
      return { e: { kind: 'coalesce', args: args.map((a) => coerce(a, type, 'COALESCE')), type }, unknown: false, loc };
    }
    case 'CaseExpr':
      return caseExpr(b, scope, loc);
    case 'FuncCall':
      return funcCall(b, scope, loc);
    case 'SubLink':
      throw new Refusal('subqueries are not supported', loc);
    case 'ParamRef':
      throw new Refusal('parameters ($1) are not supported in a view', loc);
    case 'BooleanTest':
      throw new Refusal('IS TRUE / IS FALSE / IS UNKNOWN are not supported: compare with = true, or use IS NULL', loc);
    case 'MinMaxExpr':
      throw new Refusal('GREATEST and LEAST are not supported', loc);
    case 'NullIfExpr':
      throw new Refusal('NULLIF is not supported', loc);
    default:
      throw new Refusal(`${tag.replace(/Expr$/, '')} expressions are not supported`, loc);
  }
}

function columnRef(b: RawNode, scope: Scope, loc: number): Expr {
  const fields = (b.fields as RawNode[]).map((f) => f.String?.sval as string);
  if (fields.length === 1) {
    const name = fields[0]!;
    const hits = scope.relations.filter((r) => r.columns.has(name));
    if (hits.length === 0) throw new Refusal(`column "${name}" does not exist in ${scope.relations.map((r) => r.alias).join(', ')}`, loc);
    if (hits.length > 1) throw new Refusal(`column reference "${name}" is ambiguous: qualify it (${hits.map((h) => `${h.alias}.${name}`).join(' or ')})`, loc);
    const r = hits[0]!;
    return { kind: 'column', rel: r.index, column: name, type: r.columns.get(name)!.type };
  }
  if (fields.length === 2) {
    const [alias, name] = fields as [string, string];
    const r = scope.relations.find((x) => x.alias === alias);
    if (!r) throw new Refusal(`missing FROM-clause entry for table "${alias}"`, loc);
    const c = r.columns.get(name);
    if (!c) throw new Refusal(`column ${alias}.${name} does not exist; ${r.source}.${r.table} has ${[...r.columns.keys()].join(', ')}`, loc);
    return { kind: 'column', rel: r.index, column: name, type: c.type };
  }
  throw new Refusal('column references are written alias.column', loc);
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

const TYPE_NAMES: Record<string, SqlType> = {
  int2: 'int2',
  smallint: 'int2',
  int4: 'int4',
  int: 'int4',
  integer: 'int4',
  int8: 'int8',
  bigint: 'int8',
  numeric: 'numeric',
  decimal: 'numeric',
  float8: 'float8',
  float4: 'float8',
  real: 'float8',
  float: 'float8',
  text: 'text',
  varchar: 'text',
  bool: 'bool',
  boolean: 'bool',
  timestamptz: 'timestamptz',
  date: 'date',
  jsonb: 'jsonb',
  json: 'jsonb',
};

function castTarget(tn: RawNode, loc: number): { type: SqlType; mod?: TypeMod } {
  const names = (tn.names as RawNode[]).map((n) => n.String?.sval as string);
  const name = names[names.length - 1]!.toLowerCase();
  if (tn.arrayBounds) throw new Refusal('array types are not supported', loc);
  if (name === 'timestamp') throw new Refusal('timestamp without time zone is not supported: cast to timestamptz', loc);
  const type = TYPE_NAMES[name];
  if (!type) throw new Refusal(`cast to ${name} is not supported`, loc);
  const mods = ((tn.typmods ?? []) as RawNode[]).map((m) => Number(m.A_Const?.ival?.ival ?? 0));
  if (mods.length === 0) return { type };
  if (name === 'numeric' || name === 'decimal') {
    const [precision, scale = 0] = mods as [number, number?];
    if (precision < 1 || precision > 1000 || scale < 0 || scale > precision) throw new Refusal(`invalid numeric(${mods.join(', ')})`, loc);
    return { type, mod: { precision, scale } };
  }
  if (name === 'varchar') return { type, mod: { length: mods[0]! } };
  throw new Refusal(`type modifiers on ${name} are not supported`, loc);
}

function aExpr(b: RawNode, scope: Scope, loc: number): Typed {
  const sub = (n: RawNode): Typed => typed(n, scope);
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
    if (list.some((c) => c.via !== via)) throw new Refusal('IN list items must all have one type', loc);
    const e: Expr = { kind: 'in', arg: a.e, list: list.map((c) => c.right), via, type: 'bool' };
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
    if (kind === 'AEXPR_BETWEEN') return out({ kind: 'and', args: [comparison('>=', arg, lo, loc), comparison('<=', arg, hi, loc)], type: 'bool' });
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

function comparison(op: CompareOp, l: Typed, r: Typed, loc: number): Expr {
  const left = l.unknown ? resolve(l, r.unknown ? 'text' : r.e.type) : l;
  const right = r.unknown ? resolve(r, left.e.type) : r;
  const via = comparisonType(left.e.type, right.e.type);
  if (!via) {
    throw new Refusal(`operator does not exist: ${typeName(left.e.type)} ${op} ${typeName(right.e.type)}; cast one side (e.g. x::text)`, loc);
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

const AGGREGATES = new Set<AggFn>(['count', 'sum', 'avg', 'min', 'max']);

function funcCall(b: RawNode, scope: Scope, loc: number): Typed {
  const parts = (b.funcname as RawNode[]).map((n) => (n.String?.sval as string).toLowerCase());
  const name = parts[parts.length - 1]!;
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog') || !AGGREGATES.has(name as AggFn)) {
    if (name === 'coalesce') throw new Refusal('write COALESCE without a schema', loc);
    throw new Refusal(`function ${parts.join('.')}() is not supported; the functions are count, sum, avg, min, max and COALESCE`, loc);
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
  let arg = typed(args[0]!, inner);
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

// ---- outputs, GROUP BY, ORDER BY --------------------------------------------------------------

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

function ordinal(node: RawNode): number | undefined {
  const [tag, b] = unwrap(node);
  if (tag !== 'A_Const' || b.sval || b.fval || b.boolval || b.isnull) return undefined;
  return Number(b.ival?.ival ?? 0);
}

function groupKey(node: RawNode, syntax: SyntaxView, outputs: Typed[], names: string[], relations: Relation[]): Expr {
  const loc = locationOf(node) ?? 0;
  const n = ordinal(node);
  const scope: Scope = { relations, allowAggregates: false };
  let e: Expr;
  if (n !== undefined) {
    if (n < 1 || n > outputs.length) throw new Refusal(`GROUP BY position ${n} is not in the select list`, loc);
    e = outputs[n - 1]!.e;
  } else {
    const [tag, b] = unwrap(node);
    const single = tag === 'ColumnRef' && (b.fields as RawNode[]).length === 1 ? ((b.fields as RawNode[])[0]!.String?.sval as string) : undefined;
    // PostgreSQL reads a GROUP BY name as an input column first, then as an output name.
    if (single !== undefined && !relations.some((r) => r.columns.has(single)) && names.includes(single)) e = outputs[names.indexOf(single)]!.e;
    else e = finish(typed(node, scope)).e;
  }
  if (containsAggregate(e)) throw new Refusal('aggregate functions are not allowed in GROUP BY', loc);
  if (e.type === 'jsonb' || e.type === 'bytea') throw new Refusal(`cannot group by a ${e.type} value`, loc);
  void syntax;
  return e;
}

function sortExpr(node: RawNode, names: string[], outputs: Typed[], scope: Scope): Expr {
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

/** Rewrites a grouped view's expression over group-key slots (g0..) and aggregate slots (a0..). */
function overSlots(e: Expr, keys: Expr[], aggregates: AggregateSpec[], loc: number): Expr {
  return mapExpr(e, (x) => {
    const k = keys.findIndex((g) => exprEquals(g, x));
    if (k >= 0) return { kind: 'slot', slot: `g${k}`, type: x.type };
    if (x.kind === 'agg') {
      let i = aggregates.findIndex((a) => a.fn === x.fn && a.distinct === x.distinct && (a.arg === undefined ? x.arg === undefined : x.arg !== undefined && exprEquals(a.arg, x.arg)));
      if (i < 0) {
        i = aggregates.length;
        aggregates.push({ slot: `a${i}`, fn: x.fn, ...(x.arg ? { arg: x.arg } : {}), distinct: x.distinct, type: x.type });
      }
      return { kind: 'slot', slot: `a${i}`, type: x.type };
    }
    if (x.kind === 'column') throw new Refusal(`column "${x.column}" must appear in the GROUP BY clause or be used in an aggregate function`, loc);
    return undefined;
  });
}

/** Whether an output can be NULL: padded relations' columns can; strict expressions propagate NULL. */
function nullable(e: Expr, relations: Relation[], padded: Set<number>, wholeAggregate: boolean): boolean {
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
    case 'case':
      return e.else === undefined || rec(e.else) || e.whens.some((w) => rec(w.then));
    case 'cast':
    case 'neg':
    case 'not':
      return rec(e.arg);
    case 'isnull':
      return false;
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
