// The query generator of the oracle: a seeded PRNG, random filters in the client grammar
// (docs/query.md) over a view's output columns, random ORDER BY (the view key appended) and
// limit/offset.
//
// Filters are generated as this file's own small AST (GFilter) and printed twice, independently:
// as filter-grammar text (which goes through the product's parseFilter + bindFilter into the
// engine) and as PostgreSQL SQL with bound parameters (which runs on the oracle database). The
// literals come from the view's actual values (read from the oracle) and from perturbations of
// them (+-1, +-1 microsecond, another scale, another case, a trailing space, a prefix, ...).
import { Decimal } from 'decimal.js';
import type { OracleType } from './env.js';

// ---- PRNG -------------------------------------------------------------------------------------

/** mulberry32: small, fast, good enough, and the same on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(a: readonly T[]): T {
    if (a.length === 0) throw new Error('pick from an empty list');
    return a[this.int(a.length)]!;
  }
}

/** A seed for one (run seed, labels...) pair: FNV-1a over the labels. */
export function seedFor(seed: number, ...labels: (string | number)[]): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const ch of labels.join('\u0000')) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

// ---- the filter AST ---------------------------------------------------------------------------

type Lit = { kind: 'string'; value: string } | { kind: 'number'; text: string } | { kind: 'bool'; value: boolean };
type CmpOp = '=' | '!=' | '<>' | '<' | '<=' | '>' | '>=';
type LikeMode = 'like' | 'contains' | 'starts' | 'ends';

export type GFilter =
  | { k: 'and' | 'or'; args: GFilter[] }
  | { k: 'not'; arg: GFilter }
  | { k: 'cmp'; col: string; op: CmpOp; lit: Lit }
  | { k: 'like'; col: string; mode: LikeMode; neg: boolean; text: string }
  | { k: 'in'; col: string; neg: boolean; items: (Lit | null)[] }
  | { k: 'isnull'; col: string; neg: boolean }
  | { k: 'between'; col: string; neg: boolean; lo: Lit; hi: Lit };

export interface GenColumn {
  name: string;
  type: OracleType;
  /** Distinct non-null values of the column in the view (value model). */
  values: unknown[];
  hasNull: boolean;
}

export interface GenQuery {
  id: number;
  columns: string[];
  filter?: GFilter;
  filterText?: string;
  /** A hand-written PostgreSQL WHERE clause for the oracle (directed queries); else `filter` is printed. */
  sql?: string;
  order: { column: string; desc: boolean }[];
  limit: number;
  offset: number;
  count: boolean;
}

const FILTERABLE: ReadonlySet<OracleType> = new Set(['int', 'numeric', 'float', 'text', 'bool', 'timestamptz', 'date']);

function filterable(c: GenColumn): boolean {
  return FILTERABLE.has(c.type);
}

// ---- literals -----------------------------------------------------------------------------------

const ADVERSARIAL_TEXT = [
  '',
  ' ',
  'a',
  'A',
  'z',
  '~',
  "'",
  "''",
  '%',
  '_',
  '\\',
  'paid',
  'PAID',
  't1',
  'T1',
  't1 ',
  '\u{1F600}',
  '\uE000',
  '\uFFFD',
  '\uFFFF',
  '\u{10FFFF}',
  'é',
  'Ω',
  '\n',
  '0',
  '1',
  '01',
  'abc',
  'view',
  'View',
  'SKU-',
  'sku',
];

function cps(s: string): string[] {
  return [...s];
}

/** Epoch microseconds of a canonical timestamp `YYYY-MM-DDTHH:MM:SS.ffffffZ`. */
function tsMicros(s: string): bigint {
  const ms = Date.parse(`${s.slice(0, 19)}Z`);
  return BigInt(ms) * 1000n + BigInt(s.slice(20, 26));
}

function tsText(micros: bigint, offsetMinutes = 0): string {
  const shifted = micros + BigInt(offsetMinutes) * 60_000_000n;
  let sec = shifted / 1_000_000n;
  let frac = shifted % 1_000_000n;
  if (frac < 0n) {
    frac += 1_000_000n;
    sec -= 1n;
  }
  const base = new Date(Number(sec) * 1000).toISOString().slice(0, 19);
  const f = frac.toString().padStart(6, '0');
  if (offsetMinutes === 0) return `${base}.${f}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const a = Math.abs(offsetMinutes);
  return `${base}.${f}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** A literal for a value of the column's type, as a client would write it. */
function literalOf(rng: Rng, type: OracleType, v: unknown): Lit {
  switch (type) {
    case 'int':
      return rng.chance(0.15) ? { kind: 'string', value: String(v) } : { kind: 'number', text: String(v) };
    case 'numeric':
    case 'float':
      return { kind: 'number', text: String(v) };
    case 'bool':
      return { kind: 'bool', value: v as boolean };
    default:
      return { kind: 'string', value: String(v) };
  }
}

/** A nearby or tricky value of the column's type (value model, or a literal text form). */
function perturb(rng: Rng, col: GenColumn): Lit {
  const base = col.values.length > 0 ? rng.pick(col.values) : undefined;
  switch (col.type) {
    case 'int': {
      const b = (base as bigint | undefined) ?? 0n;
      const inRange = (x: bigint): boolean => x >= -(2n ** 63n) && x < 2n ** 63n;
      const v = rng.pick([b + 1n, b - 1n, 0n, -1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n - 1n, -(2n ** 63n), 1000n, 7n].filter(inRange));
      return { kind: 'number', text: v.toString() };
    }
    case 'numeric': {
      const b = new Decimal((base as string | undefined) ?? '0');
      const choices = [
        b.toFixed(b.decimalPlaces() + 1 + rng.int(3)), // same value, another scale
        b.plus('0.01').toFixed(),
        b.minus('0.000001').toFixed(),
        b.trunc().toFixed(),
        '0',
        '-0.5',
        '100',
        '1e3',
        '12.5',
      ];
      return { kind: 'number', text: rng.pick(choices) };
    }
    case 'float': {
      const b = (base as number | undefined) ?? 0;
      return { kind: 'number', text: String(rng.pick([b + 1, b - 0.5, b * 1.0000001, 0, -1, 1e300, 2.5])) };
    }
    case 'bool':
      return { kind: 'bool', value: rng.chance(0.5) };
    case 'text': {
      const b = (base as string | undefined) ?? '';
      const p = cps(b);
      const i = rng.int(p.length + 1);
      const choices = [
        p.slice(0, i).join(''),
        p.slice(i).join(''),
        b.toUpperCase(),
        b.toLowerCase(),
        `${b} `,
        ` ${b}`,
        `${b}\u{1F600}`,
        `${b}\uE000`,
        rng.pick(ADVERSARIAL_TEXT),
        rng.pick(ADVERSARIAL_TEXT),
      ];
      return { kind: 'string', value: rng.pick(choices) };
    }
    case 'timestamptz': {
      const m = tsMicros((base as string | undefined) ?? '2024-03-31T01:00:00.000000Z');
      const delta = rng.pick([1n, -1n, 1000n, -1000n, 500n, 1_000_000n, 3_600_000_000n, -3_600_000_000n, 0n]);
      const form = rng.int(4);
      const v = m + delta;
      if (form === 0) return { kind: 'string', value: tsText(v, rng.pick([120, -300, 60, 330])) };
      if (form === 1) return { kind: 'string', value: tsText(v).slice(0, 26).replace('T', ' ') }; // no offset: UTC
      if (form === 2) return { kind: 'string', value: tsText(v).slice(0, 10) }; // a date: midnight UTC
      return { kind: 'string', value: tsText(v) };
    }
    case 'date': {
      const b = (base as string | undefined) ?? '2024-03-31';
      const t = Date.parse(`${b}T00:00:00Z`) + rng.pick([-1, 0, 1]) * 86_400_000;
      return { kind: 'string', value: new Date(t).toISOString().slice(0, 10) };
    }
    default:
      throw new Error(`no literals for ${col.type}`);
  }
}

function valueLit(rng: Rng, col: GenColumn): Lit {
  if (col.values.length > 0 && rng.chance(0.65)) return literalOf(rng, col.type, rng.pick(col.values));
  return perturb(rng, col);
}

function textValue(rng: Rng, col: GenColumn): string {
  const lit = valueLit(rng, col);
  return lit.kind === 'string' ? lit.value : lit.kind === 'number' ? lit.text : String(lit.value);
}

/** A LIKE pattern built from a real value: some characters become `_`, some runs `%`; literal metacharacters escaped. */
function likePattern(rng: Rng, col: GenColumn): string {
  const v = cps(textValue(rng, col));
  type Tok = { lit: string } | { wild: '%' | '_' };
  let toks: Tok[] = v.map((ch) => ({ lit: ch }));
  const n = rng.int(3);
  for (let k = 0; k < n && toks.length > 0; k++) {
    const i = rng.int(toks.length);
    if (rng.chance(0.5)) toks[i] = { wild: '_' };
    else {
      const j = Math.min(toks.length, i + 1 + rng.int(4));
      toks = [...toks.slice(0, i), { wild: '%' }, ...toks.slice(j)];
    }
  }
  if (rng.chance(0.3)) toks.unshift({ wild: '%' });
  if (rng.chance(0.3)) toks.push({ wild: '%' });
  let s = toks.map((t) => ('wild' in t ? t.wild : /[\\%_]/.test(t.lit) ? `\\${t.lit}` : t.lit)).join('');
  if (rng.chance(0.15)) s = s.replace(/[a-z]/g, (c) => c.toUpperCase());
  return s;
}

function substringOf(rng: Rng, col: GenColumn, mode: LikeMode): string {
  const v = cps(textValue(rng, col));
  const i = rng.int(v.length + 1);
  const j = i + rng.int(v.length - i + 1);
  if (mode === 'starts') return v.slice(0, j).join('');
  if (mode === 'ends') return v.slice(i).join('');
  return v.slice(i, j).join('');
}

// ---- filters ------------------------------------------------------------------------------------

const CMP_OPS: CmpOp[] = ['=', '!=', '<>', '<', '<=', '>', '>='];

function genLeaf(rng: Rng, cols: GenColumn[]): GFilter {
  const col = rng.pick(cols.filter(filterable));
  const r = rng.next();
  if (r < 0.12) return { k: 'isnull', col: col.name, neg: rng.chance(0.5) };
  if (col.type === 'text' && r < 0.4) {
    const mode = rng.pick<LikeMode>(['like', 'like', 'contains', 'starts', 'ends']);
    const text = mode === 'like' ? likePattern(rng, col) : substringOf(rng, col, mode);
    return { k: 'like', col: col.name, mode, neg: rng.chance(0.35), text };
  }
  if (r < 0.58) {
    const n = 1 + rng.int(4);
    const items: (Lit | null)[] = [];
    for (let i = 0; i < n; i++) items.push(rng.chance(0.12) ? null : valueLit(rng, col));
    return { k: 'in', col: col.name, neg: rng.chance(0.4), items };
  }
  if (r < 0.7 && col.type !== 'bool') {
    let lo = valueLit(rng, col);
    let hi = valueLit(rng, col);
    // Mostly in order (a reversed range matches nothing, which is also worth a few queries).
    if (rng.chance(0.85) && litKey(lo) > litKey(hi) && lo.kind === hi.kind) [lo, hi] = [hi, lo];
    return { k: 'between', col: col.name, neg: rng.chance(0.3), lo, hi };
  }
  return { k: 'cmp', col: col.name, op: rng.pick(CMP_OPS), lit: valueLit(rng, col) };
}

function litKey(l: Lit): string {
  return l.kind === 'string' ? l.value : l.kind === 'number' ? l.text : String(l.value);
}

/** A random filter: mostly one to four leaves (large conjunctions would match nothing), nested up to three levels. */
function genFilter(rng: Rng, cols: GenColumn[], depth = 0): GFilter {
  if (depth >= 3 || rng.chance([0.4, 0.7, 0.85][depth]!)) return genLeaf(rng, cols);
  const r = rng.next();
  if (r < 0.2) return { k: 'not', arg: genFilter(rng, cols, depth + 1) };
  const n = rng.chance(0.8) ? 2 : 3;
  const args: GFilter[] = [];
  for (let i = 0; i < n; i++) args.push(genFilter(rng, cols, depth + 1));
  return { k: r < 0.55 ? 'and' : 'or', args };
}

export function genQuery(rng: Rng, id: number, cols: GenColumn[], key: string[], opts: { filter?: boolean } = {}): GenQuery {
  const names = cols.map((c) => c.name);
  const columns = rng.chance(0.5) ? names : names.filter(() => rng.chance(0.5));
  if (columns.length === 0) columns.push(rng.pick(names));
  const filter = opts.filter === false || (opts.filter === undefined && rng.chance(0.08)) ? undefined : genFilter(rng, cols);
  const order: GenQuery['order'] = [];
  const orderable = cols.filter(filterable);
  const nOrder = rng.int(3);
  for (let i = 0; i < nOrder; i++) {
    const c = rng.pick(orderable).name;
    if (!order.some((o) => o.column === c)) order.push({ column: c, desc: rng.chance(0.5) });
  }
  for (const k of key) if (!order.some((o) => o.column === k)) order.push({ column: k, desc: false });
  return {
    id,
    columns,
    ...(filter ? { filter, filterText: printFilter(filter, new Rng(seedFor(id, 'print'))) } : {}),
    order,
    limit: rng.pick([1, 2, 3, 5, 7, 10, 25, 100, 1000]),
    offset: rng.pick([0, 0, 0, 0, 0, 1, 2, 3, 5, 12, 30, 100]),
    count: rng.chance(0.3),
  };
}

// ---- printing: the filter grammar -------------------------------------------------------------

function kw(rng: Rng, w: string): string {
  const r = rng.int(5);
  return r === 0 ? w.toUpperCase() : r === 1 ? w[0]!.toUpperCase() + w.slice(1) : w;
}

function printLit(rng: Rng, l: Lit): string {
  if (l.kind === 'string') return `'${l.value.replace(/'/g, "''")}'`;
  if (l.kind === 'number') return l.text;
  return kw(rng, String(l.value));
}

function printField(rng: Rng, name: string): string {
  return rng.chance(0.1) ? `"${name}"` : name;
}

/** Filter-grammar text for a GFilter (random keyword case, optional parentheses where precedence allows). */
export function printFilter(g: GFilter, rng: Rng): string {
  const w = (s: string): string =>
    s
      .split(' ')
      .map((x) => kw(rng, x))
      .join(' ');
  switch (g.k) {
    case 'and':
    case 'or':
      return g.args
        .map((a) => {
          const inner = printFilter(a, rng);
          const needs = g.k === 'and' && a.k === 'or';
          const optional = a.k === 'and' || a.k === 'not' || (a.k !== 'or' && rng.chance(0.15));
          return needs || (optional && rng.chance(0.5)) ? `(${inner})` : inner;
        })
        .join(` ${w(g.k)} `);
    case 'not': {
      const inner = printFilter(g.arg, rng);
      const compound = g.arg.k === 'and' || g.arg.k === 'or';
      return `${w('not')} ${compound || rng.chance(0.5) ? `(${inner})` : inner}`;
    }
    case 'cmp':
      return `${printField(rng, g.col)} ${g.op} ${printLit(rng, g.lit)}`;
    case 'like': {
      const op = { like: 'like', contains: 'contains', starts: 'starts with', ends: 'ends with' }[g.mode];
      return `${printField(rng, g.col)} ${g.neg ? `${w('not')} ` : ''}${w(op)} ${printLit(rng, { kind: 'string', value: g.text })}`;
    }
    case 'in':
      return `${printField(rng, g.col)} ${g.neg ? `${w('not')} ` : ''}${w('in')} (${g.items.map((i) => (i === null ? w('null') : printLit(rng, i))).join(', ')})`;
    case 'isnull':
      return `${printField(rng, g.col)} ${w(g.neg ? 'is not null' : 'is null')}`;
    case 'between':
      return `${printField(rng, g.col)} ${g.neg ? `${w('not')} ` : ''}${w('between')} ${printLit(rng, g.lo)} ${w('and')} ${printLit(rng, g.hi)}`;
  }
}

// ---- printing: PostgreSQL -------------------------------------------------------------------------

const PG_CAST: Record<string, string> = {
  int: 'int8',
  numeric: 'numeric',
  float: 'float8',
  text: 'text',
  bool: 'boolean',
  timestamptz: 'timestamptz',
  date: 'date',
};

const qi = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/** Escapes text so that LIKE matches it literally (PostgreSQL's default escape is `\`). */
function likeLiteral(s: string): string {
  return s.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** The filter as PostgreSQL over `v.<column>`, literals as bound parameters cast to the column's type. */
export function printSql(g: GFilter, types: Record<string, OracleType>, params: unknown[]): string {
  const col = (c: string): string => `v.${qi(c)}`;
  const param = (c: string, l: Lit): string => {
    const t = types[c];
    if (!t || !PG_CAST[t]) throw new Error(`oracle printer: column ${c} has no comparable type`);
    params.push(l.kind === 'string' ? l.value : l.kind === 'number' ? l.text : String(l.value));
    return `$${params.length}::${PG_CAST[t]}`;
  };
  switch (g.k) {
    case 'and':
    case 'or':
      return `(${g.args.map((a) => printSql(a, types, params)).join(g.k === 'and' ? ' AND ' : ' OR ')})`;
    case 'not':
      return `(NOT ${printSql(g.arg, types, params)})`;
    case 'cmp':
      return `(${col(g.col)} ${g.op === '!=' ? '<>' : g.op} ${param(g.col, g.lit)})`;
    case 'like': {
      const pattern =
        g.mode === 'like'
          ? g.text
          : g.mode === 'contains'
            ? `%${likeLiteral(g.text)}%`
            : g.mode === 'starts'
              ? `${likeLiteral(g.text)}%`
              : `%${likeLiteral(g.text)}`;
      params.push(pattern);
      return `(${col(g.col)} ${g.neg ? 'NOT LIKE' : 'LIKE'} $${params.length}::text)`;
    }
    case 'in':
      return `(${col(g.col)} ${g.neg ? 'NOT IN' : 'IN'} (${g.items.map((i) => (i === null ? 'NULL' : param(g.col, i))).join(', ')}))`;
    case 'isnull':
      return `(${col(g.col)} ${g.neg ? 'IS NOT NULL' : 'IS NULL'})`;
    case 'between':
      return `(${col(g.col)} ${g.neg ? 'NOT BETWEEN' : 'BETWEEN'} ${param(g.col, g.lo)} AND ${param(g.col, g.hi)})`;
  }
}

/** The whole oracle query for a generated query over a view. */
export function oracleQuerySql(
  viewSql: string,
  q: GenQuery,
  types: Record<string, OracleType>,
  paged = true,
  /** Also select `count(*) OVER ()` as this column: the number of matching rows before LIMIT/OFFSET. */
  totalAs?: string,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let sql = `SELECT ${q.columns.map((c) => `v.${qi(c)}`).join(', ')}${totalAs ? `, count(*) OVER () AS ${qi(totalAs)}` : ''} FROM (${viewSql}) v`;
  const where = oracleWhere(q, types, params);
  if (where) sql += ` WHERE ${where}`;
  sql += ` ORDER BY ${q.order.map((o) => `v.${qi(o.column)} ${o.desc ? 'DESC NULLS FIRST' : 'ASC NULLS LAST'}`).join(', ')}`;
  if (paged) {
    params.push(q.limit, q.offset);
    sql += ` LIMIT $${params.length - 1} OFFSET $${params.length}`;
  }
  return { sql, params };
}

/** The oracle's WHERE clause of a query: its hand-written SQL, else its generated filter printed as SQL. */
function oracleWhere(q: { filter?: GFilter; sql?: string }, types: Record<string, OracleType>, params: unknown[]): string | undefined {
  if (q.sql) return `(${q.sql})`;
  return q.filter ? printSql(q.filter, types, params) : undefined;
}

export function oracleCountSql(
  viewSql: string,
  q: { filter?: GFilter; sql?: string } | GFilter | undefined,
  types: Record<string, OracleType>,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const query = q === undefined ? {} : 'k' in q ? { filter: q } : q;
  const where = oracleWhere(query, types, params);
  const sql = `SELECT count(*) AS n FROM (${viewSql}) v${where ? ` WHERE ${where}` : ''}`;
  return { sql, params };
}

// ---- three-valued partition ---------------------------------------------------------------------

const and = (...args: GFilter[]): GFilter => ({ k: 'and', args });
const or = (...args: GFilter[]): GFilter => ({ k: 'or', args });
const not = (arg: GFilter): GFilter => ({ k: 'not', arg });
const notNull = (col: string): GFilter => ({ k: 'isnull', col, neg: true });
/** FALSE for every row, written in the grammar. */
const never = (col: string): GFilter => and({ k: 'isnull', col, neg: false }, notNull(col));

/**
 * Two-valued filters for "p is TRUE", "p is FALSE" and "p is UNKNOWN" under SQL's three-valued logic,
 * built only from the grammar (so they go through the engine like any client filter).
 */
export function truthOf(g: GFilter, want: boolean): GFilter {
  switch (g.k) {
    case 'and':
      return want ? and(...g.args.map((a) => truthOf(a, true))) : or(...g.args.map((a) => truthOf(a, false)));
    case 'or':
      return want ? or(...g.args.map((a) => truthOf(a, true))) : and(...g.args.map((a) => truthOf(a, false)));
    case 'not':
      return truthOf(g.arg, !want);
    case 'isnull':
      return want ? g : { ...g, neg: !g.neg };
    case 'in': {
      const values = g.items.filter((i): i is Lit => i !== null);
      const hasNull = values.length < g.items.length;
      if (!hasNull) return want ? and(notNull(g.col), g) : and(notNull(g.col), not(g));
      // `c in (V, null)` is TRUE when c in V and UNKNOWN otherwise; `not in` is FALSE when c in V.
      if (values.length === 0) return never(g.col);
      const member = and(notNull(g.col), { k: 'in', col: g.col, neg: false, items: values });
      return want === !g.neg ? member : never(g.col);
    }
    default:
      // A leaf on one column is UNKNOWN exactly when the column is NULL (its literals are not null).
      return want ? and(notNull(g.col), g) : and(notNull(g.col), not(g));
  }
}

export function unknownOf(g: GFilter): GFilter {
  return not(or(truthOf(g, true), truthOf(g, false)));
}
