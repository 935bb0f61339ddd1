// The statement generator of the generated SQL oracle (docs/testing.md): seeded random SELECTs in
// the governed-SQL subset (docs/sql.md) over the oracle's views, named `fed.<view>` both in
// viewgate and on the oracle database (where schema fed holds the same views). One text runs on
// both sides. Columns, their PostgreSQL types and sample values come from the oracle itself
// (`Catalog`), also for subqueries and WITH queries, whose output types are PostgreSQL's.
import type { OracleType } from './env.js';
import type { Rng } from './generate.js';

export interface GCol {
  name: string;
  type: OracleType;
  /** Sample values as SQL literal text (never NULL). */
  lits: string[];
  nullable: boolean;
  /** Masked for the caller: used only as it is in the outermost SELECT list, or in count(col) (docs/sql.md). */
  masked?: boolean;
  /** Masked, and not inside count(col) either. */
  uncounted?: boolean;
}

/** Columns of a relation (a view or a SELECT), from the oracle. */
export type Catalog = (fromSql: string) => Promise<GCol[]>;

interface Scoped {
  ref: string;
  col: GCol;
}

export interface GenStatement {
  sql: string;
  /** ORDER BY names every output column, so the order is total up to rows that are equal. */
  ordered: boolean;
  /**
   * Which of two equal numerics with different scales (0 and 0.00) PostgreSQL returns is arbitrary
   * here: the statement cuts ordered ties (LIMIT), or keeps one of equal values (DISTINCT, GROUP BY,
   * min, max).
   */
  looseScale: boolean;
  /** Reads a masked column (as an output, or in count(col)). */
  readsMasked: boolean;
}

const COMPARABLE: OracleType[] = ['int', 'numeric', 'float', 'text', 'bool', 'timestamptz', 'date'];
const SUMMABLE: OracleType[] = ['int', 'numeric'];
const ORDERABLE_AGG: OracleType[] = ['int', 'numeric', 'float', 'text', 'timestamptz', 'date'];

/** A literal of a value as the oracle's decoder gives it (env.ts decodeOracle). */
export function literal(type: OracleType, v: unknown): string | undefined {
  switch (type) {
    case 'int':
    case 'numeric':
      return String(v);
    case 'float':
      return Number.isFinite(v) ? `${String(v)}::float8` : undefined;
    case 'bool':
      return v ? 'true' : 'false';
    case 'text':
      return `'${String(v).replace(/'/g, "''")}'`;
    case 'timestamptz':
      return `'${String(v)}'::timestamptz`;
    case 'date':
      return `'${String(v)}'::date`;
    default:
      return undefined;
  }
}

/** A literal near one of the column's values: the value itself, or a neighbour of it. */
function nearLiteral(rng: Rng, c: GCol): string {
  const base = c.lits.length > 0 ? rng.pick(c.lits) : defaultLiteral(c.type);
  if (!rng.chance(0.3)) return base;
  switch (c.type) {
    case 'int':
      return String(BigInt(base) + (rng.chance(0.5) ? 1n : -1n));
    case 'numeric':
      return rng.chance(0.5) ? `${base.includes('.') ? base : `${base}.0`}01` : `${base}`;
    case 'text': {
      const raw = base.slice(1, -1);
      return rng.pick([`'${raw.toUpperCase()}'`, `'${raw} '`, `'${raw.slice(0, 2)}'`, "''"]);
    }
    default:
      return base;
  }
}

function defaultLiteral(type: OracleType): string {
  const d: Partial<Record<OracleType, string>> = {
    int: '1',
    numeric: '1.5',
    float: '0.5::float8',
    text: "'a'",
    bool: 'true',
    timestamptz: "'2024-03-31T01:00:00Z'::timestamptz",
    date: "'2024-01-01'::date",
  };
  return d[type]!;
}

// ---- scalar expressions ---------------------------------------------------------------------------

interface Expr {
  sql: string;
  type: OracleType;
}

/** A scalar expression over one column of the scope (sometimes the column itself). */
function scalar(rng: Rng, s: Scoped): Expr {
  const c = s.ref;
  if (rng.chance(0.45)) return { sql: c, type: s.col.type };
  switch (s.col.type) {
    case 'int':
      return rng.pick<Expr>([
        { sql: `${c} + ${rng.int(5)}`, type: 'int' },
        { sql: `${c} * ${rng.int(3) + 1}`, type: 'int' },
        { sql: `-${c}`, type: 'int' },
        { sql: `abs(${c})`, type: 'int' },
        { sql: `mod(${c}, ${rng.int(4) + 2})`, type: 'int' },
        { sql: `coalesce(${c}, 0)`, type: 'int' },
        { sql: `${c}::numeric / 4`, type: 'numeric' },
        { sql: `${c}::text`, type: 'text' },
      ]);
    case 'numeric':
      return rng.pick<Expr>([
        { sql: `${c} + 1.25`, type: 'numeric' },
        { sql: `${c} * 2`, type: 'numeric' },
        { sql: `round(${c}, ${rng.int(3)})`, type: 'numeric' },
        { sql: `trunc(${c})`, type: 'numeric' },
        { sql: `floor(${c})`, type: 'numeric' },
        { sql: `abs(${c})`, type: 'numeric' },
        { sql: `coalesce(${c}, 0)`, type: 'numeric' },
        { sql: `${c} / 8`, type: 'numeric' },
      ]);
    case 'float':
      return rng.pick<Expr>([
        { sql: `${c} * 2`, type: 'float' },
        { sql: `abs(${c})`, type: 'float' },
        { sql: `round(${c})`, type: 'float' },
      ]);
    case 'text':
      return rng.pick<Expr>([
        { sql: `lower(${c})`, type: 'text' },
        { sql: `upper(${c})`, type: 'text' },
        { sql: `${c} || '-x'`, type: 'text' },
        { sql: `coalesce(${c}, '(none)')`, type: 'text' },
        { sql: `left(${c}, 2)`, type: 'text' },
        { sql: `length(${c})`, type: 'int' },
        { sql: `btrim(${c})`, type: 'text' },
        { sql: `substr(${c}, 2, 3)`, type: 'text' },
        { sql: `replace(${c}, 'a', 'A')`, type: 'text' },
        { sql: `strpos(${c}, 'e')`, type: 'int' },
        { sql: `CASE WHEN ${c} IS NULL THEN 'null' WHEN ${c} < ${nearLiteral(rng, s.col)} THEN 'lo' ELSE 'hi' END`, type: 'text' },
      ]);
    case 'bool':
      return rng.pick<Expr>([
        { sql: `NOT ${c}`, type: 'bool' },
        { sql: `${c} IS NULL`, type: 'bool' },
        { sql: `coalesce(${c}, false)`, type: 'bool' },
      ]);
    case 'timestamptz':
      return rng.pick<Expr>([
        { sql: `date_trunc('${rng.pick(TRUNC_UNITS)}', ${c})`, type: 'timestamptz' },
        { sql: `extract(${rng.pick(EXTRACT_FIELDS)} FROM ${c})`, type: 'numeric' },
        { sql: `date_part('${rng.pick(EXTRACT_FIELDS)}', ${c})`, type: 'float' },
        { sql: `${c}::date`, type: 'date' },
      ]);
    case 'date':
      return rng.pick<Expr>([
        { sql: `date_trunc('${rng.pick(TRUNC_UNITS.filter((u) => !TIME_UNITS.includes(u)))}', ${c})`, type: 'timestamptz' },
        { sql: `extract(${rng.pick(EXTRACT_FIELDS.filter((u) => !TIME_UNITS.includes(u)))} FROM ${c})`, type: 'numeric' },
        { sql: `date_part('${rng.pick(EXTRACT_FIELDS)}', ${c})`, type: 'float' },
      ]);
    default:
      return { sql: c, type: s.col.type };
  }
}

const TIME_UNITS = ['hour', 'minute', 'second', 'milliseconds', 'microseconds'];
const TRUNC_UNITS = ['year', 'quarter', 'month', 'week', 'day', 'hour', 'minute', 'second', 'milliseconds', 'decade', 'century'];
const EXTRACT_FIELDS = [
  'year',
  'quarter',
  'month',
  'week',
  'day',
  'dow',
  'isodow',
  'doy',
  'hour',
  'minute',
  'second',
  'milliseconds',
  'microseconds',
  'epoch',
  'isoyear',
  'decade',
  'century',
];

// ---- predicates -------------------------------------------------------------------------------------

function atom(rng: Rng, scope: Scoped[]): string {
  const s = rng.pick(scope);
  const c = s.ref;
  const lit = (): string => nearLiteral(rng, s.col);
  const r = rng.int(10);
  if (s.col.type === 'bool') return rng.pick([c, `NOT ${c}`, `${c} IS NULL`, `${c} = ${lit()}`]);
  if (r === 0) return `${c} IS ${rng.chance(0.5) ? 'NOT ' : ''}NULL`;
  if (r === 1) {
    const items = Array.from({ length: rng.int(3) + 1 }, lit);
    if (rng.chance(0.2)) items.push('NULL');
    return `${c} ${rng.chance(0.3) ? 'NOT ' : ''}IN (${items.join(', ')})`;
  }
  if (r === 2) {
    const [a, b] = [lit(), lit()];
    return `${c} ${rng.chance(0.2) ? 'NOT ' : ''}BETWEEN ${a} AND ${b}`;
  }
  if (r === 3 && s.col.type === 'text') {
    const raw = s.col.lits.length > 0 ? rng.pick(s.col.lits).slice(1, -1) : 'a';
    const pat = rng.pick([`${raw.slice(0, 2)}%`, `%${raw.slice(-2)}`, `%${raw.slice(1, 3)}%`, `_${raw.slice(1)}`]);
    return `${c} ${rng.chance(0.2) ? 'NOT ' : ''}${rng.chance(0.3) ? 'ILIKE' : 'LIKE'} '${pat.replace(/\\/g, '\\\\')}'`;
  }
  if (r === 4 && scope.length > 1) {
    const other = scope.filter((o) => o !== s && o.col.type === s.col.type);
    if (other.length > 0) return `${c} ${rng.pick(['=', '<>', '<', '>='])} ${rng.pick(other).ref}`;
  }
  const e = scalar(rng, s);
  if (e.type !== s.col.type) return `${c} ${rng.pick(['=', '<>', '<', '<=', '>', '>='])} ${lit()}`;
  return `${e.sql} ${rng.pick(['=', '<>', '<', '<=', '>', '>='])} ${lit()}`;
}

function predicate(rng: Rng, scope: Scoped[], depth = 0): string {
  const r = depth >= 2 ? 0 : rng.int(6);
  if (r <= 2) return atom(rng, scope);
  if (r === 3) return `NOT (${predicate(rng, scope, depth + 1)})`;
  const op = r === 4 ? 'AND' : 'OR';
  return `(${predicate(rng, scope, depth + 1)} ${op} ${predicate(rng, scope, depth + 1)})`;
}

// ---- statements -------------------------------------------------------------------------------------

interface Rel {
  /** What goes after FROM / JOIN before the alias: `fed.view`, `(SELECT ...)` or a WITH name. */
  from: string;
  cols: GCol[];
}

interface Ctx {
  rng: Rng;
  views: string[];
  catalog: Catalog;
  /** WITH queries defined so far: name -> SELECT text. */
  ctes: [string, string][];
  /** Only statements that aggregate one view or a join of views, without min/max (an aggregate-only grant). */
  aggregateOnly: boolean;
  readsMasked: boolean;
}

const scoped = (alias: string, cols: GCol[], nullable = false): Scoped[] =>
  cols
    .filter((c) => COMPARABLE.includes(c.type) && !c.masked)
    .map((c) => ({ ref: `${alias}.${c.name}`, col: nullable ? { ...c, nullable: true } : c }));

async function viewRel(ctx: Ctx): Promise<Rel> {
  const from = `fed.${ctx.rng.pick(ctx.views)}`;
  return { from, cols: await ctx.catalog(from) };
}

/** A relation for FROM or JOIN: mostly a view, sometimes a subquery or a WITH query. */
async function relation(ctx: Ctx, nested: boolean): Promise<Rel> {
  const r = nested ? 0 : ctx.rng.int(10);
  if (r <= 6 || ctx.aggregateOnly) return viewRel(ctx);
  const inner = await select(ctx, true);
  // A subquery PostgreSQL cannot run (an overflow in it) would fail every statement around it.
  const cols = await ctx.catalog(`(${inner.sql})`).catch(() => undefined);
  if (!cols) return viewRel(ctx);
  if (r <= 8 || ctx.ctes.length > 2) return { from: `(${inner.sql})`, cols };
  const name = `w${ctx.ctes.length}`;
  ctx.ctes.push([name, inner.sql]);
  return { from: name, cols };
}

function withClause(ctx: Ctx, sql: string): string {
  return ctx.ctes.length === 0 ? sql : `WITH ${ctx.ctes.map(([n, q]) => `${n} AS (${q})`).join(', ')} ${sql}`;
}

/** One SELECT; `nested` keeps it small (a subquery, a WITH query). */
async function select(ctx: Ctx, nested: boolean): Promise<GenStatement> {
  const { rng } = ctx;
  const from = await relation(ctx, nested);
  let scope = scoped('r0', from.cols);
  let masked = from.cols.filter((c) => c.masked).map((col) => ({ ref: `r0.${col.name}`, col }));
  const parts = [`FROM ${from.from} r0`];
  if (scope.length === 0) throw new Error(`${from.from}: no comparable column`);
  // A join on an equality of two columns of one type.
  if (rng.chance(nested ? 0.15 : 0.35)) {
    const right = await relation(ctx, nested);
    const pairs = scoped('r1', right.cols).flatMap((rc) =>
      scope.filter((l) => l.col.type === rc.col.type && rc.col.type !== 'bool').map((l) => [l, rc] as const),
    );
    if (pairs.length > 0) {
      const [l, rc] = pickPair(rng, pairs);
      const left = rng.chance(0.5);
      const extra = rng.chance(0.2) ? ` AND ${atom(rng, scoped('r1', right.cols))}` : '';
      parts.push(`${left ? 'LEFT JOIN' : 'JOIN'} ${right.from} r1 ON ${rc.ref} = ${l.ref}${extra}`);
      scope = [...scope, ...scoped('r1', right.cols, left)];
      masked = [...masked, ...right.cols.filter((c) => c.masked).map((col) => ({ ref: `r1.${col.name}`, col }))];
    }
  }
  if (rng.chance(0.6)) {
    let where = predicate(rng, scope);
    if (!nested && !ctx.aggregateOnly && rng.chance(0.15)) where = `${where} AND ${await inSubquery(ctx, scope)}`;
    parts.push(`WHERE ${where}`);
  }
  const items: string[] = [];
  let grouped = false;
  const mode = rng.int(10);
  if (mode < 4 || ctx.aggregateOnly) {
    // GROUP BY: keys, then aggregates.
    grouped = true;
    const keys = Array.from({ length: rng.int(3) }, () => scalar(rng, rng.pick(scope)));
    keys.forEach((k) => items.push(k.sql));
    const n = rng.int(3) + 1;
    for (let i = 0; i < n; i++) items.push(aggregate(rng, scope, masked, ctx.aggregateOnly));
    if (items.some((e) => masked.some((m) => e === `count(${m.ref})`))) ctx.readsMasked = true;
    if (keys.length > 0) parts.push(`GROUP BY ${keys.map((k) => k.sql).join(', ')}`);
    if (rng.chance(0.35)) parts.push(`HAVING ${having(rng, scope, ctx.aggregateOnly)}`);
  } else {
    const n = rng.int(4) + 1;
    for (let i = 0; i < n; i++) items.push(scalar(rng, rng.pick(scope)).sql);
  }
  const distinct = !grouped && rng.chance(0.25);
  // A masked column, as it is, in the outermost SELECT list: it comes back masked. Nothing may
  // order by it, so such a statement orders by the other outputs only and has no LIMIT (PostgreSQL
  // and viewgate may cut ties differently), and its rows compare as a multiset.
  const plain = items.length;
  if (!nested && !grouped && !distinct && masked.length > 0 && rng.chance(0.6))
    for (let i = rng.int(2) + 1; i > 0; i--) {
      items.push(rng.pick(masked).ref);
      ctx.readsMasked = true;
    }
  const list = items.map((e, i) => `${e} AS c${i}`).join(', ');
  let ordered = false;
  let limited = false;
  const all = items
    .slice(0, plain)
    .map((_, i) => `${i + 1}${rng.chance(0.3) ? ' DESC' : ''}${rng.chance(0.2) ? rng.pick([' NULLS FIRST', ' NULLS LAST']) : ''}`);
  if (rng.chance(nested ? 0.2 : 0.45)) {
    parts.push(`ORDER BY ${all.join(', ')}`);
    ordered = items.length === plain;
    if (ordered && rng.chance(0.7)) {
      parts.push(`LIMIT ${rng.int(8) + 1}${rng.chance(0.4) ? ` OFFSET ${rng.int(4)}` : ''}`);
      limited = true;
    }
  }
  const body = `SELECT ${distinct ? 'DISTINCT ' : ''}${list} ${parts.join(' ')}`;
  return { sql: body, ordered, looseScale: limited || grouped || distinct, readsMasked: ctx.readsMasked };
}

/** Mostly a pair of columns of one name (customer_id = customer_id: rows meet), else any pair of one type. */
function pickPair(rng: Rng, pairs: (readonly [Scoped, Scoped])[]): readonly [Scoped, Scoped] {
  const named = pairs.filter(([a, b]) => a.col.name === b.col.name);
  return named.length > 0 && rng.chance(0.75) ? rng.pick(named) : rng.pick(pairs);
}

function aggregate(rng: Rng, scope: Scoped[], masked: Scoped[], aggregateOnly: boolean): string {
  const s = rng.pick(scope);
  const r = rng.int(7);
  if (r === 0) return 'count(*)';
  const countable = masked.filter((m) => !m.col.uncounted);
  if (r === 1 && countable.length > 0 && rng.chance(0.5)) return `count(${rng.pick(countable).ref})`;
  if (r === 1) return `count(${s.ref})`;
  if (r === 2) return `count(DISTINCT ${s.ref})`;
  if ((r === 3 || r === 4) && SUMMABLE.includes(s.col.type))
    return `${r === 3 ? 'sum' : 'avg'}(${rng.chance(0.2) ? 'DISTINCT ' : ''}${s.ref})`;
  if (ORDERABLE_AGG.includes(s.col.type) && !aggregateOnly) return `${rng.chance(0.5) ? 'min' : 'max'}(${s.ref})`;
  return 'count(*)';
}

function having(rng: Rng, scope: Scoped[], aggregateOnly: boolean): string {
  const s = rng.pick(scope);
  if (SUMMABLE.includes(s.col.type) && rng.chance(0.4)) return `sum(${s.ref}) ${rng.pick(['>', '<', '>='])} ${nearLiteral(rng, s.col)}`;
  if (ORDERABLE_AGG.includes(s.col.type) && !aggregateOnly && rng.chance(0.4))
    return `max(${s.ref}) ${rng.pick(['>', '<', '='])} ${nearLiteral(rng, s.col)}`;
  return `count(*) ${rng.pick(['>', '>=', '<', '='])} ${rng.int(4)}`;
}

/** `x [NOT] IN (SELECT y FROM fed.view ...)` for a column x of the scope and a column y of x's type. */
async function inSubquery(ctx: Ctx, scope: Scoped[]): Promise<string> {
  const { rng } = ctx;
  for (let attempt = 0; attempt < 4; attempt++) {
    const rel = await viewRel(ctx);
    const inner = scoped('q', rel.cols);
    const pairs = scope.flatMap((s) => inner.filter((i) => i.col.type === s.col.type && s.col.type !== 'bool').map((i) => [s, i] as const));
    if (pairs.length === 0) continue;
    const [s, i] = pickPair(rng, pairs);
    const where = rng.chance(0.5) ? ` WHERE ${atom(rng, inner)}` : '';
    return `${s.ref} ${rng.chance(0.3) ? 'NOT ' : ''}IN (SELECT ${i.ref} FROM ${rel.from} q${where})`;
  }
  return 'true';
}

/** A statement with seed-determined shape over `views` (names in service fed). */
export async function generateStatement(rng: Rng, views: string[], catalog: Catalog, aggregateOnly = false): Promise<GenStatement> {
  const ctx: Ctx = { rng, views, catalog, ctes: [], aggregateOnly, readsMasked: false };
  const s = await select(ctx, false);
  const sql = withClause(ctx, s.sql);
  return { ...s, sql, readsMasked: ctx.readsMasked, looseScale: s.looseScale || /DISTINCT|GROUP BY|LIMIT|\b(min|max)\(/.test(sql) };
}
