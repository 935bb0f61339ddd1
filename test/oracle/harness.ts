// Runs generated queries on the engine and on the oracle and compares the answers in the value
// model (docs/query.md, "Values"): int as bigint, numeric as PostgreSQL prints it (scale included),
// text by code point, timestamps as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, jsonb as JSON (object key order
// ignored).
import { bindFilter } from '../../src/query/bind.js';
import { parseFilter } from '../../src/query/filter-parser.js';
import type { Predicate } from '../../src/query/predicate.js';
import type { EngineQuery, EngineResult, View } from '../../src/engine/view.js';
import type { ColumnType } from '../../src/values.js';
import type { OracleEnv, OracleType } from './env.js';
import { oracleCountSql, oracleQuerySql, type GenColumn, type GenQuery } from './generate.js';
import type { OracleView } from './views.js';
import { modelView } from './model.js';

/** The run's seed: VG_ORACLE_SEED, else a fixed default so every failure reproduces. */
export const SEED = Number(process.env.VG_ORACLE_SEED ?? 20_240_331);
/** Queries in flight at once per test (VG_ORACLE_CONCURRENCY). */
export const CONCURRENCY = Number(process.env.VG_ORACLE_CONCURRENCY ?? 4);
/** Generated queries per view and fixture (VG_ORACLE_QUERIES). */
export const QUERIES = Number(process.env.VG_ORACLE_QUERIES ?? 150);

export interface ViewCtx {
  env: OracleEnv;
  def: OracleView;
  view: View;
  /** Oracle result types of the view's columns. */
  types: Record<string, OracleType>;
  cols: GenColumn[];
  /** Every row of the view, per the oracle. */
  all: Record<string, unknown>[];
}

export async function viewContext(
  env: OracleEnv,
  def: OracleView,
  opts: { pushdown?: boolean; batchSize?: number; model?: boolean } = {},
): Promise<ViewCtx> {
  const all = await env.oracle(`SELECT * FROM (${def.sql}) v`);
  const cols: GenColumn[] = all.columns.map((name) => {
    const seen = new Map<string, unknown>();
    let hasNull = false;
    for (const r of all.rows) {
      const v = r[name];
      if (v === null) hasNull = true;
      else seen.set(canon(v), v);
    }
    return { name, type: all.types[name]!, values: [...seen.values()], hasNull };
  });
  const view = opts.model ? modelView(`model.${def.name}`, def.key, all.rows, all.types) : await env.view(def.name, opts);
  return { env, def, view, types: all.types, cols, all: all.rows };
}

// ---- values -----------------------------------------------------------------------------------

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stable((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  if (typeof v === 'bigint') return `${v}n`;
  return JSON.stringify(v);
}

/** One value as comparable text, keeping its value-model kind (bigint vs numeric string vs float). */
export function canon(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  switch (typeof v) {
    case 'bigint':
      return `int ${v}`;
    case 'number':
      return `float ${Object.is(v, -0) ? 0 : v}`;
    case 'string':
      return `str ${JSON.stringify(v)}`;
    case 'boolean':
      return `bool ${v}`;
    default:
      return `json ${stable(v)}`;
  }
}

export function canonRow(row: Record<string, unknown>, columns: string[]): string {
  return columns.map((c) => `${c}=${canon(row[c])}`).join(' | ');
}

/** JSON for messages (bigint as digits with an n). */
export function show(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

// ---- the engine side --------------------------------------------------------------------------

export function columnTypes(view: View): Map<string, ColumnType> {
  return new Map(view.columns.map((c) => [c.name, c.type]));
}

/** Filter text -> typed predicate, exactly as the policy layer does it. */
export function bindText(view: View, text: string): Predicate {
  const types = columnTypes(view);
  return bindFilter(parseFilter(text), {
    columnType: (f) => {
      const t = types.get(f);
      if (!t) throw new Error(`view ${view.id} has no column ${f}`);
      return t;
    },
  });
}

export function engineQuery(view: View, q: GenQuery, paged = true): EngineQuery {
  return {
    columns: q.columns,
    ...(q.filterText ? { where: bindText(view, q.filterText) } : {}),
    orderBy: q.order,
    limit: paged ? q.limit : 1_000_000,
    offset: paged ? q.offset : 0,
    count: q.count,
  };
}

// ---- comparing ----------------------------------------------------------------------------------

export interface Outcome {
  failure?: string;
  engine?: EngineResult;
  oracleRows?: Record<string, unknown>[];
  total?: number;
}

export function describeQuery(ctx: ViewCtx, q: GenQuery, extra = ''): string {
  return [
    `seed ${SEED} (VG_ORACLE_SEED), fixture ${ctx.env.fixture.name}, view ${ctx.def.name}, query #${q.id}${extra}`,
    `  columns: ${q.columns.join(', ')}`,
    `  filter:  ${q.filterText ?? '(none)'}`,
    `  order:   ${q.order.map((o) => `${o.column}${o.desc ? ' desc' : ''}`).join(', ')}`,
    `  limit ${q.limit} offset ${q.offset}${q.count ? ' include_count' : ''}`,
  ].join('\n');
}

function firstDiff(a: string[], b: string[]): string {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      return `first difference at row ${i}:\n    engine: ${a[i] ?? '(none)'}\n    oracle: ${b[i] ?? '(none)'}`;
    }
  }
  return '';
}

function multisetDiff(engine: string[], oracle: string[]): string {
  const count = new Map<string, number>();
  for (const r of engine) count.set(r, (count.get(r) ?? 0) + 1);
  for (const r of oracle) count.set(r, (count.get(r) ?? 0) - 1);
  const extra = [...count].filter(([, n]) => n > 0).map(([r, n]) => `${r}${n > 1 ? ` (x${n})` : ''}`);
  const missing = [...count].filter(([, n]) => n < 0).map(([r, n]) => `${r}${n < -1 ? ` (x${-n})` : ''}`);
  if (extra.length === 0 && missing.length === 0) return '';
  return [
    extra.length
      ? `  rows only the engine returned (${extra.length}):\n${extra
          .slice(0, 6)
          .map((r) => `    ${r}`)
          .join('\n')}`
      : '',
    missing.length
      ? `  rows only PostgreSQL returned (${missing.length}):\n${missing
          .slice(0, 6)
          .map((r) => `    ${r}`)
          .join('\n')}`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** Compares row lists as multisets and, when `ordered`, as sequences. Returns '' when equal. */
export function compareRows(
  engine: Record<string, unknown>[],
  oracle: Record<string, unknown>[],
  columns: string[],
  ordered: boolean,
): string {
  const a = engine.map((r) => canonRow(r, columns));
  const b = oracle.map((r) => canonRow(r, columns));
  const ms = multisetDiff(a, b);
  if (ms) return `rows differ (engine ${a.length}, oracle ${b.length}):\n${ms}`;
  if (ordered && a.some((r, i) => r !== b[i])) return `same rows, different order: ${firstDiff(a, b)}`;
  return '';
}

const TOTAL = '__oracle_total';

/** Runs one generated query on both sides and compares rows, order, hasMore and count. */
export async function checkQuery(ctx: ViewCtx, q: GenQuery, view: View = ctx.view): Promise<Outcome> {
  const o = oracleQuerySql(ctx.def.sql, q, ctx.types, true, TOTAL);
  let oracleRows: Record<string, unknown>[];
  let total: number;
  try {
    oracleRows = (await ctx.env.oracle(o.sql, o.params)).rows;
    if (oracleRows.length > 0) total = Number(oracleRows[0]![TOTAL]);
    else if (q.offset === 0) total = 0;
    else {
      // The page is past the end: the window count is not there, ask for it.
      const c = oracleCountSql(ctx.def.sql, q, ctx.types);
      total = Number((await ctx.env.oracle(c.sql, c.params)).rows[0]!.n);
    }
  } catch (err) {
    return {
      failure: `${describeQuery(ctx, q)}\n  the ORACLE failed (a generator bug): ${(err as Error).message}\n  ${o.sql}\n  params ${show(o.params)}`,
    };
  }
  let engine: EngineResult;
  try {
    engine = await view.engine.execute(engineQuery(view, q));
  } catch (err) {
    const e = err as Error & { status?: number };
    return { failure: `${describeQuery(ctx, q)}\n  the engine threw${e.status ? ` ${e.status}` : ''}: ${e.message}`, oracleRows, total };
  }
  const problems: string[] = [];
  const diff = compareRows(engine.rows, oracleRows, q.columns, true);
  if (diff) problems.push(diff);
  const more = total > q.offset + q.limit;
  if (engine.hasMore !== more) problems.push(`hasMore is ${engine.hasMore}; ${total} rows match, offset ${q.offset} + limit ${q.limit}`);
  if (q.count && engine.count !== total) problems.push(`count is ${engine.count}; PostgreSQL counts ${total}`);
  if (problems.length === 0) return { engine, oracleRows, total };
  return {
    failure: `${describeQuery(ctx, q)}\n  ${problems.join('\n  ')}\n  oracle SQL: ${o.sql.replace(/\s+/g, ' ')}\n  params ${show(o.params)}`,
    engine,
    oracleRows,
    total,
  };
}

/** Runs `fn` over `items` with at most `n` in flight; results in input order. */
export async function mapPool<T, R>(items: T[], n: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  return out;
}

/** Formats the failures of a corpus run (at most `max` in full). */
export function report(failures: string[], total: number, max = Number(process.env.VG_ORACLE_SHOW ?? 8)): string {
  if (failures.length === 0) return '';
  return `${failures.length} of ${total} queries failed (showing ${Math.min(max, failures.length)}):\n\n${failures.slice(0, max).join('\n\n')}`;
}
