// Hub views (docs/hub.md): the view runs inside the PostgreSQL federation hub. viewgate reads the
// service schema's security-barrier view with one statement per request (bound parameters only),
// inside a transaction that carries the caller's identity; PostgreSQL enforces rowSecurity itself.
import { intWidthOf } from '../engine/aggregate/types.js';
import type { SqlViewSpec } from '../engine/embedded/index.js';
import type { EngineQuery, EngineResult, ExecuteOptions, ExplainResult, View, ViewEngine } from '../engine/view.js';
import { viewIdOf } from '../config/view-id.js';
import { pgDialect, decode } from '../sources/postgres/source.js';
import { buildCount, buildSelect, type SqlTable } from '../sources/sql/common.js';
import type { Row } from '../values.js';
import { ApiError, StoreError } from '../errors.js';
import type { Predicate } from '../query/predicate.js';
import type { NativeQuery } from '../sources/source.js';
import type { HubService } from './services.js';
import { introspectHubView } from './introspect.js';
import { hubSession, type HubSession } from './passthrough/session.js';
import { SET_IDENTITY_SQL } from '../sources/postgres/passthrough.js';
import { loadLastRefreshes, refreshState } from './refresh.js';
import { hubScanJudge, type HubScanJudge } from './scan-judge.js';
import { readRecorder } from '../sources/planned-reads.js';

class HubViewEngine implements ViewEngine {
  constructor(
    private readonly session: HubSession,
    private readonly table: SqlTable,
    private readonly judge: HubScanJudge,
  ) {}

  /**
   * The gateway's side of rowSecurity (the query carries it when it binds the caller): a missing
   * claim, or one that does not fit its column, is a 403 here, as for a grant's row filter. (Inside
   * PostgreSQL the first gives no rows and the second an error; neither ever gives rows.)
   */
  private checkClaims(q: EngineQuery): void {
    if (!q.storeRowSecurity) return;
    const bound = q.storeRowSecurity.bind(q.identity?.claims ?? {});
    for (const [column, value] of predicateValues(bound)) {
      const col = this.table.columns.get(column);
      const problem = col && misfit(col.nativeType, value);
      if (problem)
        throw new ApiError('forbidden', `a claim used by rowSecurity does not fit column ${column} (${col.nativeType}): it ${problem}`, {
          column,
        });
    }
  }

  private page(q: EngineQuery) {
    // One extra row tells whether a next page exists without a second query.
    const pushdown = { columns: q.columns, where: q.where, orderBy: q.orderBy, limit: q.limit + 1, offset: q.offset };
    return buildSelect(this.table, pushdown, pgDialect, 'dollar', this.session.name);
  }

  async execute(q: EngineQuery, options: ExecuteOptions = {}): Promise<EngineResult> {
    this.checkClaims(q);
    const page = this.page(q);
    const count = q.count ? buildCount(this.table, q.where, pgDialect, 'dollar', this.session.name) : undefined;
    // The cost guard's dry run (src/sources/planned-reads.ts): the statements are judged, not sent.
    const recorder = readRecorder();
    if (recorder) {
      const judged = (native: NativeQuery) => () => this.judge.accessPlan(native);
      recorder.push({ source: this.session.name, accessPlan: judged(page), rows: q.limit + 1 + q.offset });
      if (count) recorder.push({ source: this.session.name, accessPlan: judged(count) });
      return { rows: [], hasMore: false, queries: count ? [page, count] : [page], fetched: {} };
    }
    const [raw, counted] = await this.session.read(
      q.identity,
      async (run) => [await run(page), count ? await run(count) : undefined] as const,
      options.signal,
    );
    const cols = q.columns.map((c) => this.table.columns.get(c)!);
    const rows = raw.map((r) => {
      const row: Row = {};
      cols.forEach((c, i) => (row[c.name] = decode(c, r[i])));
      return row;
    });
    const hasMore = rows.length > q.limit;
    return {
      rows: hasMore ? rows.slice(0, q.limit) : rows,
      ...(counted ? { count: Number(counted[0]![0]) } : {}),
      hasMore,
      queries: count ? [page, count] : [page],
      fetched: { [this.session.name]: raw.length },
    };
  }

  /** The statement sent, and the hub's own plan for it: foreign scans show what each wrapper pushed down. */
  async explain(q: EngineQuery, options: ExecuteOptions = {}): Promise<ExplainResult> {
    this.checkClaims(q);
    const page = this.page(q);
    const lines = await this.session.read(q.identity, (run) => run({ ...page, text: `EXPLAIN (VERBOSE) ${page.text}` }), options.signal);
    return {
      plan: {
        engine: 'hub',
        hub: this.session.name,
        relation: this.table.info.name,
        passthrough: `READ ONLY transaction; ${SET_IDENTITY_SQL}`,
        hubPlan: lines.map((l) => String(l[0])),
      },
      queries: [page],
    };
  }
}

/** Why a value does not fit a column's declared type (varchar(n), smallint ...), or undefined. */
function misfit(nativeType: string, v: unknown): string | undefined {
  const len = /^(?:character varying|character)\((\d+)\)$/.exec(nativeType);
  if (len && typeof v === 'string' && [...v].length > Number(len[1])) return `is longer than ${len[1]} characters`;
  const range = nativeType === 'smallint' ? 32767n : nativeType === 'integer' ? 2147483647n : undefined;
  if (range !== undefined && typeof v === 'bigint' && (v > range || v < -range - 1n)) return `is out of range for ${nativeType}`;
  return undefined;
}

function predicateValues(p: Predicate, out: [string, unknown][] = []): [string, unknown][] {
  if (p.op === 'and' || p.op === 'or') p.args.forEach((a) => predicateValues(a, out));
  else if (p.op === 'not') predicateValues(p.arg, out);
  else if (p.op === 'cmp') out.push([p.column, p.value]);
  else if (p.op === 'in') for (const v of p.values) out.push([p.column, v]);
  return out;
}

export async function buildHubView(spec: SqlViewSpec): Promise<View> {
  const { service, name, view: cfg, config, sources } = spec;
  const id = viewIdOf(service, name);
  const svc = config.services[service] as HubService;
  const session = hubSession(sources, config, svc.source);
  const table = await introspectHubView(session, service, name);
  const key = cfg.key ?? [];
  const missing = key.filter((k) => !table.columns.has(k));
  if (missing.length > 0)
    throw new StoreError(session.name, 'failed', `view "${id}": its key names ${missing.join(', ')}, which the hub view does not have`);
  const state = cfg.materialize ? refreshState(sources, id) : undefined;
  if (state && state.lastRefresh === null) {
    // Best effort: the describe output shows the last refresh even before this process refreshed.
    await loadLastRefreshes(session, service, (v) => refreshState(sources, v)).catch(() => {});
  }
  return {
    id,
    service,
    name,
    description: cfg.description ?? '',
    key,
    columns: table.info.columns.map((c) => {
      const intWidth = intWidthOf(c);
      return {
        name: c.name,
        type: c.type,
        nullable: c.nullable,
        ...(cfg.columns?.[c.name] ? { description: cfg.columns[c.name]!.description } : {}),
        ...(intWidth ? { intWidth } : {}),
      };
    }),
    engine: new HubViewEngine(session, table, hubScanJudge(config, sources, svc.source)),
    status: () => ({
      engine: 'hub',
      materialized: Boolean(cfg.materialize),
      ...(state
        ? {
            refresh: cfg.materialize?.refresh ?? null,
            lastRefresh: state.lastRefresh,
            ...(state.lastError ? { lastRefreshError: state.lastError, lastRefreshErrorAt: state.lastErrorAt } : {}),
          }
        : {}),
    }),
  };
}
