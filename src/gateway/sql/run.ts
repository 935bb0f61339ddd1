// One governed SQL statement (docs/sql.md): allow-list (allow.ts) -> the embedded engine's parse
// and analysis over the caller's views (relations.ts) -> the masked-column guard (lineage.ts) ->
// aggregate rights (aggregate-policy.ts) -> the engine's own planner and executor (subqueries
// included), each view reference a governed scan -> minGroupSize, masks, order and the page
// (page.ts). The text never reaches a store.
import type { Config } from '../../config/schema.js';
import { parseViewId, type ViewId } from '../../config/view-id.js';
import type { Relation } from '../../engine/embedded/ast.js';
import { analyzeView } from '../../engine/embedded/analyze.js';
import { renderStatementPlan } from '../../engine/embedded/explain-statement.js';
import { shapeQuery, viewReferences, type SyntaxView } from '../../engine/embedded/parse.js';
import { runQuery } from '../../engine/embedded/query.js';
import { Refusal } from '../../engine/embedded/refusal.js';
import { columnTypeOf } from '../../engine/embedded/sql-types.js';
import type { View } from '../../engine/view.js';
import { ApiError } from '../../errors.js';
import type { ViewAccess } from '../../policy/access.js';
import { judgeScans, refuseCostly, strictestGuard, withTimeout, type ScanDecision } from '../cost-guard.js';
import type { CursorCodec } from '../../policy/cursor.js';
import type { Identity } from '../../policy/identity.js';
import type { ColumnType, Row } from '../../values.js';
import { allowedStatement, sqlError } from './allow.js';
import { guardMasked, maskedOutputs } from './lineage.js';
import { governSqlAggregates } from './aggregate-policy.js';
import { cursorOffset, cutPage, pagedStatement, sqlCursorBinding } from './page.js';
import { GovernedViews, relationInfo, type SqlRelation } from './relations.js';
import type { Cancel } from '../../cancellation.js';

export interface SqlRequest {
  sql: string;
  limit?: number;
  explain?: boolean;
  /** The next_cursor of an earlier page of the same statement and limit. */
  cursor?: string;
}

interface SqlField {
  name: string;
  type: ColumnType;
}

export interface SqlResult {
  rows: Row[];
  fields: SqlField[];
  /** More rows exist beyond the limit. */
  truncated: boolean;
  /** The cursor of the next page, when more rows exist. */
  nextCursor?: string;
  /** The cursor of the rows after the first `shown` of this page (a surface that shows fewer rows than it got). */
  cursorAfter(shown: number): string | undefined;
  /** Groups left out because a view read has minGroupSize (only then). */
  suppressedGroups?: number;
  /** The views read, in FROM order. */
  views: ViewId[];
  /** The limit applied: the client's, capped by the smallest maxLimit of the views read. */
  limit: number;
  explain?: { plan: { engine: 'sql'; text: string }; queries: unknown[]; costGuard?: ScanDecision[] };
}

/** What the gateway lends a statement: the caller's views, by the same rules as every read. */
export interface SqlContext {
  config: Config;
  identity: Identity;
  /** The view and the caller's access to it, or undefined when the caller may not read it or it does not exist. */
  resolve(id: ViewId): Promise<{ view: View; access: ViewAccess } | undefined>;
  /** Rate limit of the view's grant (one token per view read). */
  admit(access: ViewAccess): Promise<void>;
  /** Seals and opens cursors (server.cursorSecret). */
  cursors: CursorCodec;
  signal?: Cancel;
}

const NAME = 'sql';

/** The engine returns every row of the statement: page.ts orders and cuts them (the scans are bounded by row budgets). */
const EVERY_ROW = Number.MAX_SAFE_INTEGER - 1;

export async function runSql(req: SqlRequest, ctx: SqlContext): Promise<SqlResult> {
  const { sql } = req;
  const stmt = await allowedStatement(sql);
  const syntax = await refusing(sql, () => shapeQuery(stmt));
  const relations = await resolveRelations(sql, syntax, ctx);
  const services = new Map<string, GovernedViews>();
  const source = (name: string): GovernedViews => {
    let s = services.get(name);
    if (!s) services.set(name, (s = new GovernedViews(name, ctx.identity, relations)));
    return s;
  };
  const model = await refusing(sql, () =>
    analyzeView(NAME, sql, syntax, (svc, table) =>
      Promise.resolve({ kind: 'view', info: relations.get(`${svc}.${table}` as ViewId)!.info }),
    ),
  );
  const relationOf = (r: Relation): SqlRelation => relations.get(`${r.source}.${r.table}` as ViewId)!;
  const accessOf = (r: Relation): ViewAccess => relationOf(r).access;
  // A subquery's columns are its outputs, never a masked column (guardMasked refuses that).
  const masked = (r: Relation, column: string): string | undefined => (r.query ? undefined : accessOf(r).schema.byName.get(column)?.mask);
  guardMasked(model, masked);
  const governed = governSqlAggregates(model, (rel) => {
    const r = model.relations[rel]!;
    return r.query ? undefined : relationOf(r);
  });

  const all = [...relations.values()];
  if (req.explain) {
    const refused = all.find((r) => !r.access.explain);
    if (refused) throw new ApiError('forbidden', `your role may not use explain on "${refused.view.id}"`, { view: refused.view.id });
  }
  for (const r of all) await ctx.admit(r.access);
  const cap = Math.min(...all.map((r) => r.access.schema.maxLimit));
  const limit = Math.min(req.limit ?? cap, cap);
  const binding = sqlCursorBinding(
    ctx.identity.identityKey,
    sql,
    req.limit,
    all.map((r) => r.access),
  );
  const start = req.cursor === undefined ? 0 : cursorOffset(ctx.cursors.open(req.cursor, binding));
  const paged = pagedStatement(governed.model, governed.sizes);
  const engine = ctx.config.engine;
  const run = (signal: Cancel | undefined): ReturnType<typeof runQuery> =>
    runQuery(
      paged.model,
      { columns: paged.model.outputs.map((o) => o.name), orderBy: [], limit: EVERY_ROW, offset: 0, count: false },
      {
        source,
        plan: {
          pushdown: true,
          // Each view's scan keeps to its own budget (relations.ts); this bounds the statement's total.
          rowBudget: all.reduce((n, r) => n + r.access.rowBudget, 0),
          batchSize: engine.batchSize,
          concurrency: engine.concurrency,
          joinCapable: () => false,
        },
        options: signal ? { signal } : {},
      },
    );
  // The strictest cost guard of the statement's grants applies to the whole statement.
  const guard = strictestGuard(all.map((r) => r.access.costGuard));
  const decisions = guard?.maxScanRows !== undefined ? await judgeScans(guard.maxScanRows, () => run(undefined)) : undefined;
  const costGuard = decisions ? { costGuard: decisions } : {};
  const maskedOut = maskedOutputs(model, masked);
  // A masked output has its column's type as the caller's schema gives it: text, or its own under a null mask.
  const outputType = (o: (typeof model.outputs)[number]): ColumnType => {
    const m = maskedOut.get(o.name);
    return m ? accessOf(m.relation).schema.byName.get(m.column)!.type : columnTypeOf(o.type);
  };
  const fields = model.outputs.map((o) => ({ name: o.name, type: outputType(o) }));
  const views = all.map((r) => r.view.id);
  if (decisions && req.explain && decisions.some((d) => d.decision === 'refused')) {
    const explain = { plan: { engine: 'sql' as const, text: '' }, queries: [], ...costGuard };
    return { rows: [], fields, truncated: false, cursorAfter: () => undefined, views, limit, explain };
  }
  if (decisions) refuseCostly(decisions, guard!.maxScanRows!, all[0]!.view.id);
  const { plan, result, stats, subplans } = await withTimeout(guard, ctx.signal, run);
  const masks = new Map([...maskedOut].map(([name, { relation, column }]) => [name, accessOf(relation).schema.masks.get(column)!]));
  const page = cutPage(paged, result.rows, masks, start, limit);
  const cursorAfter = (shown: number): string | undefined =>
    shown > 0 ? ctx.cursors.seal(binding, { values: [start + shown] }) : undefined;
  const next = page.more ? cursorAfter(page.rows.length) : undefined;
  return {
    rows: page.rows,
    fields,
    truncated: page.more,
    ...(next !== undefined ? { nextCursor: next } : {}),
    cursorAfter,
    ...(governed.sizes.length > 0 ? { suppressedGroups: page.suppressed } : {}),
    views,
    limit,
    ...(req.explain
      ? {
          explain: {
            plan: { engine: 'sql' as const, text: renderStatementPlan(plan, stats, subplans) },
            queries: result.queries,
            ...costGuard,
          },
        }
      : {}),
  };
}

/** Each `service.view` the statement reads (subqueries included), through the caller's policy. */
async function resolveRelations(sql: string, syntax: SyntaxView, ctx: SqlContext): Promise<Map<ViewId, SqlRelation>> {
  const out = new Map<ViewId, SqlRelation>();
  // Aggregate rights are checked on the outermost SELECT only (aggregate-policy.ts): a view they
  // restrict may not be read inside a subquery or WITH query, where rows could leave them.
  const nested = syntax.sublinks.size > 0 || [syntax.from, ...syntax.joins.map((j) => j.relation)].some((r) => r.query !== undefined);
  for (const raw of viewReferences(syntax)) {
    const name = `${raw.source}.${raw.table}`;
    const id = parseViewId(name);
    const found = id ? (out.get(id) ?? (await ctx.resolve(id))) : undefined;
    // Unreadable and nonexistent are worded the same.
    if (!id || !found) throw sqlError(sql, `no such relation "${name}"`, raw.location);
    const { view, access } = found;
    if (!access.grant.sql) {
      throw new ApiError('forbidden', `your grant on "${id}" does not allow SQL: it needs \`sql: true\``, { view: id });
    }
    if (nested && (!access.read || access.minGroupSize)) {
      throw new ApiError(
        'forbidden',
        `your grant on "${id}" is ${access.read ? 'limited by minGroupSize' : 'aggregate-only (read: false)'}: read it in a statement without subqueries or WITH, aggregating in the outermost SELECT`,
        { view: id },
      );
    }
    out.set(id, { view, access, info: relationInfo(view, access) });
  }
  return out;
}

/** The engine's refusal of a construct, as a 400 naming it and its position. */
async function refusing<T>(sql: string, step: () => T | Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (err) {
    throw err instanceof Refusal ? sqlError(sql, err.message.replace(/ in embedded views/g, ' in governed SQL'), err.location) : err;
  }
}
