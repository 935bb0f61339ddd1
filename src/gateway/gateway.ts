// The one pipeline both surfaces call (docs/architecture.md, "The pipeline"): `handle` runs
// credentials -> identity -> authorize -> rate limit -> govern -> response cache (grants with
// cacheTtl) -> engine -> mask -> present -> audit -> metrics for one request and answers an
// Outcome with a frozen Trace. REST and MCP only translate their protocol to requests; no surface
// authenticates, builds a query, caches, rate-limits, audits or counts on its own
// (docs/operations.md). A request whose client leaves (GatewayRequest.signal) has its store
// queries stopped and ends 499.
import { isTableService, type Config } from '../config/schema.js';
import { parseViewId, type ViewId } from '../config/view-id.js';
import type { Catalog } from './catalog.js';
import { groupOrder } from '../engine/aggregate/types.js';
import type { EngineQuery, View } from '../engine/view.js';
import { METRIC_FNS } from '../query/aggregate-query.js';
import type { ClientQuery } from '../query/client-query.js';
import { toolQuery } from '../query/tool-query.js';
import type { CuratedTool } from '../policy/curated-tools.js';
import { formatFilter } from '../query/filter-format.js';
import type { FilterAst } from '../query/ast.js';
import type { ViewAccess } from '../policy/access.js';
import { govern, type GovernedQuery } from '../policy/govern.js';
import { applyMasks } from '../policy/mask.js';
import { CursorCodec, grantFingerprint, queryFingerprint, type CursorBinding, type CursorPosition } from '../policy/cursor.js';
import { opaqueOrderSecret, opaqueTag, orderOpaquely, type OpaqueOrder } from '../policy/opaque-order.js';
import { Policy } from '../policy/policy.js';
import { forbidden, IdentifiedRefusal, type Authenticator, type Credentials, type Identity } from '../policy/identity.js';
import { ApiError, badRequest, notFound, requestCancelled } from '../errors.js';
import { runSql, type SqlRequest, type SqlResult } from './sql/run.js';
import { formatRows, ROW_FORMATS, type RowFormat } from '../row-formats.js';
import { ExportStore, type ExportEntry } from '../ops/export-store.js';
import type { Row, Value } from '../values.js';
import type { DecidingGrant } from '../policy/grants.js';
import { runWrite, type WriteResult } from './write/run.js';
import type { Audit } from '../ops/audit.js';
import type { ResponseCache } from '../ops/cache.js';
import { CacheGenerations } from '../ops/cache-generations.js';
import { IdempotencyStore } from '../ops/idempotency.js';
import { idempotently } from './write/idempotent.js';
import { CacheKeys } from '../ops/cache-key.js';
import type { Logger } from '../ops/logger.js';
import { bucketKey, rateLimited, type RateLimiter } from '../ops/rate-limit.js';
import type { Metrics } from '../ops/metrics.js';
import type { Telemetry } from '../ops/telemetry.js';
import { toApiError } from './failure.js';
import { countAtLeastK, explainGroups, runGroups } from './groups.js';
import type { Authenticated, GatewayRequest, Operation, Outcome, Present, ResultOf, Trace, UnhandledRequest } from './request.js';
import type { ExportResult, QueryResult, ViewDescription, ViewSummary } from './results.js';
import { auditEntryOf, traceOf, type TraceNotes } from './trace.js';
import { deprecationNotice, refuseAfterSunset, type DeprecationNotice } from './deprecation.js';
import { judgeScans, refuseCostly, withTimeout, type ScanDecision } from './cost-guard.js';
import { withReadContext } from '../sources/read-context.js';
import { QueryPlans, type Plan } from './query-plans.js';
import type { Cancel } from '../cancellation.js';

/**
 * The rows of one governed query, as the engine and masks give them (and the cache keeps them),
 * with each row's position in the order (unmasked, never sent: a cursor seals one).
 */
type Page = Pick<QueryResult, 'rows' | 'fields' | 'count' | 'next' | 'suppressedGroups' | 'countOnly'> & { positions: CursorPosition[] };

/** The row with only these columns, in this order. */
function pick(row: Row, columns: readonly string[]): Row {
  return Object.fromEntries(columns.map((c) => [c, row[c] ?? null]));
}

/** The view a caller names as `service.view`; a name that cannot be one is the 404 of a view that does not exist. */
export function namedView(name: string): ViewId {
  const id = parseViewId(name);
  if (!id) throw viewNotFound(name);
  return id;
}

/** The query of one row by its key value, with the fields `q` asks for. */
function rowQuery(key: string, q: ClientQuery): ClientQuery {
  return { ...q, ids: [key], limit: 1, offset: 0, includeCount: false };
}

/** The row a query by key found; 404 when it does not exist or the row filter hides it. */
function onlyRow(result: QueryResult, key: string, view: string): Row {
  const row = result.rows[0];
  if (!row) throw notFound(`no row with key "${key}" in "${view}"`, { view });
  return row;
}

/** What the response cache keys a governed query by: aggregates and count_only answer differently from rows under the same engine query. */
function cacheKeyed(governed: GovernedQuery): EngineQuery {
  const agg = governed.aggregate;
  return { ...governed.engine, ...(agg ? { aggregate: agg } : {}), ...(governed.countOnly ? { countOnly: true } : {}) };
}

function viewNotFound(name: string): ApiError {
  return notFound(`no view "${name}"`, { view: name });
}

/**
 * The audited text of filters that come again: a kept query (src/gateway/query-plans.ts) is frozen
 * and answers every request with the same filter object, so its text is printed once.
 */
const filterTexts = new WeakMap<FilterAst, string>();

function filterText(filter: FilterAst): string {
  if (!Object.isFrozen(filter)) return formatFilter(filter);
  let text = filterTexts.get(filter);
  if (text === undefined) filterTexts.set(filter, (text = formatFilter(filter)));
  return text;
}

/** What the trace says of a query: the view as the caller named it, and the filter asked. */
function noteQuery(notes: TraceNotes, view: string, q: ClientQuery): void {
  notes.view = view;
  if (q.filter) notes.filter = filterText(q.filter);
}

/** namedView() for a query: a name that cannot be a view's is traced, like any unknown view, with the query asked. */
function queriedView(name: string, q: ClientQuery, notes: TraceNotes): ViewId {
  const id = parseViewId(name);
  if (id) return id;
  noteQuery(notes, name, q);
  throw viewNotFound(name);
}

/** A view the caller may address, and the policy's record for the caller's role on it. */
interface Authorized {
  view: View;
  access: ViewAccess;
}

/** The grant right each write method needs. */
const WRITE_RIGHTS: Record<string, 'insert' | 'update' | 'delete'> = { POST: 'insert', PATCH: 'update', PUT: 'update', DELETE: 'delete' };

/** What the pipeline runs on besides the catalog. */
export interface GatewayServices {
  auth: Authenticator;
  cache: ResponseCache;
  limiter: RateLimiter;
  audit: Audit;
  metrics: Metrics;
  log: Logger;
  /** Where exports are kept (default: an ExportStore with its default bounds). */
  exports?: ExportStore;
  /** Generation tokens that writes replace, part of every response cache key (default: this process's own). */
  generations?: CacheGenerations;
  /** Idempotency keys of POST writes (default: a bounded in-memory store). */
  idempotency?: IdempotencyStore;
  /** Traces of requests (telemetry configured); absent, no span is made. */
  telemetry?: Telemetry;
}

export class Gateway {
  /** Verifies credentials; replaceable (e.g. with other JWKS timings) while the gateway runs. */
  auth: Authenticator;
  private readonly cacheKeys: CacheKeys;
  /** Parsed and governed reads, by query text and caller (query-plans.ts). */
  private readonly plans = new QueryPlans();
  private readonly orderSecret: Buffer;
  private readonly cursors: CursorCodec;
  /** The config's policy, built once: grants, per-role records, row filters parsed. */
  readonly policy: Policy;
  /** Exports (MCP export_view), bound to the identity key that made them. */
  readonly exports: ExportStore;
  private readonly generations: CacheGenerations;
  private readonly idempotency: IdempotencyStore;
  /** When this config was loaded: a deprecation's `since` when it names none. */
  private readonly loadedAt = Date.now();
  /** Whether some source takes the caller's identity (docs/security.md, "Identity passthrough"). */
  private readonly storesTakeIdentity: boolean;
  /** Per service, the one source its views read (table services); undefined: they may read any. */
  private readonly serviceSources = new Map<string, readonly string[] | undefined>();

  constructor(
    readonly config: Config,
    readonly catalog: Catalog,
    private readonly services: GatewayServices,
  ) {
    this.auth = services.auth;
    this.cacheKeys = new CacheKeys(config);
    this.orderSecret = opaqueOrderSecret(config);
    this.cursors = new CursorCodec(config.server.cursorSecret);
    this.policy = new Policy(config);
    this.exports = services.exports ?? new ExportStore();
    this.generations = services.generations ?? new CacheGenerations();
    this.idempotency = services.idempotency ?? new IdempotencyStore();
    this.storesTakeIdentity = Object.values(config.sources).some((s) => s.passthrough === true || s.roleUrls !== undefined);
    for (const [name, svc] of Object.entries(config.services))
      this.serviceSources.set(name, isTableService(svc) ? [svc.source] : undefined);
  }

  /** The sources a view reads, for the generation tokens of its cache key; undefined: it may read any. */
  private viewSources(view: View): readonly string[] | undefined {
    return this.serviceSources.get(view.service);
  }

  /** The response cache key of a plan under the current generation of its view's sources. */
  private cacheKeyOf(plan: Plan, view: View): string {
    const generation = this.generations.token(this.viewSources(view));
    // A cursor's tag (opaque order) cuts the page in the gateway, outside the engine query.
    const tag = plan.governed.opaqueOrder?.after?.tag;
    if (tag !== undefined) return `${plan.cacheKey!}:after:${tag}:gen:${generation}`;
    const keyed = plan.keyed;
    if (keyed?.generation === generation) return keyed.key;
    const key = `${plan.cacheKey!}:gen:${generation}`;
    plan.keyed = { generation, key };
    return key;
  }

  /**
   * Runs one request: credentials -> identity -> the operation -> present -> audit -> metrics.
   * `present` shapes the result inside the audited span (and may say how many rows it showed).
   * Never throws: a failure is an outcome, and so is a success whose record could not be written
   * when the server fails closed (503).
   */
  handle<O extends Operation, V = ResultOf<O>>(request: GatewayRequest<O>, present?: Present<ResultOf<O>, V>): Promise<Outcome<V>> {
    const t = this.services.telemetry;
    if (!t) return this.serve(request, present);
    const attributes = { 'viewgate.surface': request.surface, 'viewgate.action': request.action, 'viewgate.request_id': request.requestId };
    return t.request(`${request.surface} ${request.action}`, attributes, request.traceparent, async (traceId) => {
      const outcome = await this.serve(request, present, traceId);
      const { trace } = outcome;
      const status = outcome.ok ? trace.status : outcome.error.status;
      return { result: outcome, end: { status, view: trace.view, role: trace.identity?.role, rowCount: trace.rowCount } };
    });
  }

  /** Runs `fn` as one stage of the request, in its own span when the request is traced. */
  private stage<T>(name: string, fn: () => T): T {
    const t = this.services.telemetry;
    return t ? t.stage(name, fn) : fn();
  }

  private async serve<O extends Operation, V>(
    request: GatewayRequest<O>,
    present: Present<ResultOf<O>, V> | undefined,
    traceId?: string,
  ): Promise<Outcome<V>> {
    const started = performance.now();
    const notes: TraceNotes = request.view !== undefined ? { view: request.view } : {};
    if (traceId !== undefined) notes.traceId = traceId;
    const caller = request.caller;
    let identity: Identity | undefined;
    let result: { ok: true; value: V } | { ok: false; error: ApiError };
    let answered: number | undefined;
    const { signal } = request;
    try {
      if ('identity' in caller) identity = caller.identity;
      else {
        const proving = this.stage('authenticate', () => this.auth.authenticate(caller.credentials()));
        identity = proving instanceof Promise ? await proving : proving;
      }
      // present() may read too (an MCP example row): as the same reader.
      const shown = await this.asReader(identity, traceId, async (who) => {
        const value = (await this.perform(who, request.operation, notes, signal)) as ResultOf<O>;
        return present ? this.stage('present', () => present(value)) : { value: value as unknown as V };
      });
      if (shown.rowCount !== undefined) notes.rowCount = shown.rowCount;
      answered = shown.status;
      // A success after the client left: nobody receives it.
      result = signal?.aborted ? { ok: false, error: requestCancelled() } : { ok: true, value: shown.value };
    } catch (err) {
      if (err instanceof IdentifiedRefusal) identity = err.identity;
      // A refusal stays what it was; whatever else ends a request whose client left ends it because it left.
      const cancelled = signal?.aborted && !(err instanceof ApiError && err.status < 500);
      const log = traceId !== undefined ? this.services.log.child({ traceId }) : this.services.log;
      result = { ok: false, error: cancelled ? requestCancelled() : toApiError(err, log, request.requestId) };
    }
    const status = result.ok ? 200 : result.error.status;
    const trace = traceOf(request, identity, notes, status, performance.now() - started);
    // Failing open, nothing waits for the record.
    const recording = this.stage('audit', () => this.services.audit.recordCall(auditEntryOf(trace)));
    const refused = recording === undefined ? undefined : await recording;
    if (refused) result = { ok: false, error: refused };
    const answeredStatus = result.ok ? (answered ?? status) : result.error.status;
    const label = this.viewLabel(trace);
    if (trace.deprecation && label !== undefined && identity) this.services.metrics.deprecatedViewCalled(label, identity.role);
    this.services.metrics.observeRequest(trace.surface, trace.action, label, answeredStatus, (performance.now() - started) / 1000);
    return result.ok ? { ok: true, value: result.value, trace } : { ok: false, error: result.error, trace };
  }

  /**
   * Runs `fn` with the read context the stores need (src/sources/read-context.ts): only when a
   * source takes the caller's identity (passthrough, roleUrls) or the request has a trace id.
   */
  private asReader<T>(identity: Identity, traceId: string | undefined, fn: (identity: Identity) => Promise<T>): Promise<T> {
    if (!this.storesTakeIdentity && traceId === undefined) return fn(identity);
    const context = { ...(this.storesTakeIdentity ? { identity: { role: identity.role, claims: identity.claims } } : {}) };
    return withReadContext(traceId === undefined ? context : { ...context, traceId }, () => fn(identity));
  }

  /** The operation itself, as the verified identity; what it learns goes into the notes. */
  private async perform(identity: Identity, operation: Operation, notes: TraceNotes, signal?: Cancel): Promise<unknown> {
    switch (operation.op) {
      case 'list_views': {
        const { service } = operation;
        if (service !== undefined && !this.hasService(identity, service)) throw notFound(`no service "${service}"`, { service });
        return this.listViews(identity, service);
      }
      case 'describe':
        notes.view = operation.view;
        return this.describeView(identity, namedView(operation.view), notes);
      case 'query': {
        const { view, text } = operation;
        const q = this.stage('parse', () => this.plans.query(text && `query\n${view}\n${text}`, () => operation.parse()));
        return this.queryView(identity, queriedView(view, q, notes), q, notes, signal);
      }
      case 'get_row': {
        const { view, key, text } = operation;
        const q = this.stage('parse', () =>
          this.plans.query(text && `get_row\n${view}\n${key}\n${text}`, () => rowQuery(key, { fields: operation.parse().fields })),
        );
        const id = queriedView(view, q, notes);
        return onlyRow(await this.queryView(identity, id, q, notes, signal), key, id);
      }
      case 'write':
        notes.view = operation.view;
        return this.write(identity, namedView(operation.view), operation, notes);
      case 'sql':
        return this.querySql(
          identity,
          this.stage('parse', () => operation.parse()),
          notes,
          signal,
        );
      case 'export': {
        const q = this.stage('parse', () => operation.parse());
        return this.exportView(identity, queriedView(operation.view, q, notes), operation.format, q, notes, signal);
      }
      case 'read_export':
        return this.readExport(identity, operation.id, notes);
      case 'tool': {
        const tool = this.policy.tools.find(identity.role, operation.tool);
        if (!tool) throw notFound(`no tool "${operation.tool}"`, { tool: operation.tool });
        notes.view = tool.view;
        const { args, cursor } = this.stage('parse', () => operation.parse());
        const q = toolQuery(tool, args, cursor);
        return this.queryView(identity, tool.view, q, notes, signal);
      }
      case 'read':
        return operation.run(identity);
    }
  }

  /** Metrics name configured views only, so a client cannot grow the label set. */
  private viewLabel(trace: Trace): string | undefined {
    return trace.view !== undefined && this.catalog.has(trace.view) ? trace.view : undefined;
  }

  /** Verifies credentials on their own (the MCP HTTP guard); a refusal is the error to answer. */
  async authenticate(credentials: Credentials, requestId: string): Promise<Authenticated> {
    try {
      return { ok: true, identity: await this.auth.authenticate(credentials) };
    } catch (err) {
      const error = toApiError(err, this.services.log, requestId);
      return err instanceof IdentifiedRefusal ? { ok: false, error, identity: err.identity } : { ok: false, error };
    }
  }

  /** /metrics: whether these credentials name a role with `metrics: true` (docs/security.md "/metrics"). */
  async authorizeMetrics(credentials: Credentials, requestId: string): Promise<Authenticated> {
    const who = await this.authenticate(credentials, requestId);
    if (!who.ok) return who;
    const role = Object.hasOwn(this.config.roles, who.identity.role) ? this.config.roles[who.identity.role] : undefined;
    if (role?.metrics) return who;
    const refusal = forbidden(`role "${who.identity.role}" may not read /metrics; give the role \`metrics: true\` in the configuration`);
    return { ok: false, error: refusal };
  }

  /**
   * The one record of a request the pipeline did not run (refused on the way in, an MCP message
   * that is not a read). Returns the 503 to answer instead when it could not be written and the
   * server fails closed.
   */
  async record(request: UnhandledRequest): Promise<ApiError | undefined> {
    return this.services.audit.recordCall(request);
  }

  /** Views this identity may read, optionally in one service. Existence of others is not leaked. */
  listViews(identity: Identity, service?: string): ViewSummary[] {
    return this.catalog
      .ids()
      .filter((id) => (service === undefined || id.startsWith(`${service}.`)) && this.policy.grant(identity.role, id))
      .map((id) => {
        const [svc, name] = [id.slice(0, id.indexOf('.')), id.slice(id.indexOf('.') + 1)];
        const deprecated = this.deprecation(id);
        return {
          id,
          service: svc,
          name,
          description: this.catalog.description(id),
          ...(deprecated ? { deprecated } : {}),
          ...(this.catalog.drift(id) !== undefined ? { unavailable: true as const } : {}),
        };
      });
  }

  /** Whether the service exists and the caller may read at least one of its views. */
  hasService(identity: Identity, service: string): boolean {
    return service in this.config.services && this.listViews(identity, service).length > 0;
  }

  /** The view's deprecation as callers are told it, when it is deprecated. */
  deprecation(id: ViewId): DeprecationNotice | undefined {
    const d = this.catalog.deprecation(id);
    return d ? deprecationNotice(d, this.loadedAt) : undefined;
  }

  async describeView(identity: Identity, id: ViewId, notes: TraceNotes = {}): Promise<ViewDescription> {
    const { view, access } = await this.authorize(identity, id, notes);
    const deprecated = this.deprecation(id);
    return {
      id,
      service: view.service,
      name: view.name,
      description: view.description,
      ...(deprecated ? { deprecated } : {}),
      key: [...access.key],
      readableKey: [...access.readableKey],
      opaqueOrder: access.opaqueOrder,
      columns: access.schema.columns,
      maxLimit: access.schema.maxLimit,
      explain: access.explain,
      ...(view.status ? { status: view.status() } : {}),
      read: access.read,
      writable: view.write !== undefined,
      ...(view.write && access.write && (access.write.insert || access.write.update || access.write.delete)
        ? {
            write: {
              insert: access.write.insert,
              update: access.write.update,
              delete: access.write.delete,
              bulk: access.write.bulk,
              maxBulkRows: access.write.maxBulkRows,
              fields: [...access.write.fields],
              insertKey: [...access.write.insertKey],
            },
          }
        : {}),
      aggregate: {
        allowed: access.aggregate,
        functions: !access.aggregate ? [] : access.read ? [...METRIC_FNS] : ['count', 'count_distinct', 'sum', 'avg'],
        ...(access.minGroupSize ? { minGroupSize: access.minGroupSize.k } : {}),
      },
    };
  }

  /**
   * The views this identity may query with SQL, with the columns it sees where the view is built
   * already (the MCP query_sql description; no store is asked).
   */
  sqlViews(
    identity: Identity,
  ): { id: ViewId; aggregateOnly: boolean; columns?: readonly { name: string; type: string; masked: boolean }[] }[] {
    return this.catalog.ids().flatMap((id) => {
      const grant = this.policy.grant(identity.role, id)?.grant;
      if (!grant?.sql || !(grant.read || grant.aggregate)) return [];
      const view = this.catalog.peek(id);
      const access = view ? this.policy.access(identity.role, view) : undefined;
      return [{ id, aggregateOnly: !grant.read, ...(access ? { columns: access.schema.columns } : {}) }];
    });
  }

  /** The curated tools this identity may use (docs/tools.md), the same list on every call. */
  curatedTools(identity: Identity): readonly CuratedTool[] {
    return this.policy.tools.usableBy(identity.role);
  }

  /** Whether some grant of the identity's role allows aggregates (MCP lists aggregate_view only then). */
  mayAggregate(identity: Identity): boolean {
    const role = Object.hasOwn(this.config.roles, identity.role) ? this.config.roles[identity.role] : undefined;
    return Object.values(role?.grants ?? {}).some((g) => g.aggregate);
  }

  /**
   * `signal`: aborts when nobody waits for the answer any more (GatewayRequest.signal); a
   * Cancellation's signal is made only when a store is asked (a cached answer makes none).
   */
  async queryView(identity: Identity, id: ViewId, q: ClientQuery, notes: TraceNotes = {}, signal?: Cancel): Promise<QueryResult> {
    noteQuery(notes, id, q);
    // Most reads find their view built and have no rate limit or scan cap: they wait for neither.
    const authorizing = this.stage('authorize', () => this.authorized(identity, id, notes));
    const { view, access } = authorizing instanceof Promise ? await authorizing : authorizing;
    // Rate limits count every query the caller may address, cached or not, before any work.
    if (access.rateLimit) notes.rateLimit = await this.admit(identity, access);
    // Printed only when a cursor is opened or sealed: most reads do neither.
    let bound: CursorBinding | undefined;
    const binding = (): CursorBinding =>
      (bound ??= { identityKey: identity.identityKey, view: id, query: queryFingerprint(q), grant: grantFingerprint(access) });
    const after = q.cursor !== undefined ? this.cursors.open(q.cursor, binding()) : undefined;
    const plan = (): Plan => {
      const governed = govern(access, identity, view, q, after);
      return { governed, ...(access.cacheTtl ? { cacheKey: this.cacheKeys.key(identity, access, cacheKeyed(governed)) } : {}) };
    };
    // Only a query without a cursor is the same query every time its text comes again.
    const planned = this.stage('govern', () => (after ? plan() : this.plans.plan(q, identity, access, plan)));
    const { governed } = planned;
    notes.fields = governed.fields;
    const agg = governed.aggregate;
    const paging = agg
      ? { offset: agg.offset, limit: agg.limit, maxLimit: access.schema.maxLimit }
      : { offset: governed.engine.offset, limit: governed.engine.limit, maxLimit: access.schema.maxLimit };
    if (q.explain) {
      if (!access.explain) throw new ApiError('forbidden', 'your role may not use explain on this view', { param: 'explain' });
      const decisions = await this.judgeCost(view, governed, access);
      const costGuard = decisions ? { costGuard: decisions } : {};
      if (decisions?.some((d) => d.decision === 'refused')) {
        return { rows: [], fields: governed.fields, explain: { plan: { refusedBy: 'maxScanRows' }, queries: [], ...costGuard }, ...paging };
      }
      if (agg || governed.countOnly) {
        const plan = await withTimeout(access.costGuard, signal, (s) => explainGroups(view, governed, access.rowBudget, s));
        return { rows: [], fields: governed.fields, explain: { ...plan, ...costGuard }, ...paging };
      }
      const o = governed.opaqueOrder;
      // What runs: with an opaque order, every matching row (the page is cut by the gateway).
      const explained = o ? { ...governed.engine, offset: 0, limit: o.maxRows + 1 } : governed.engine;
      // The embedded engine's explain runs the query: under the grant's timeout too.
      const plan = await withTimeout(access.costGuard, signal, (s) => view.engine.explain(explained, { signal: s }));
      return { rows: [], fields: governed.fields, explain: { ...plan, ...costGuard }, ...paging };
    }
    if (access.costGuard?.maxScanRows !== undefined) await this.refuseCostly(view, governed, access);
    let page: Page;
    if (access.cacheTtl) {
      const key = this.cacheKeyOf(planned, view);
      // A hit in this process is answered at once; the load may serve other requests too: the
      // cache stops it once none of them waits.
      const cache = this.services.cache;
      const found = this.stage(
        'cache',
        () =>
          cache.hitNow<Page>(id, key) ??
          cache.getOrLoad(id, key, access.cacheTtl!, (load) => this.runTimed(view, governed, access, load), signal),
      );
      const out = found instanceof Promise ? await found : found;
      page = out.value;
      notes.cache = { hit: out.hit, maxAgeMs: out.maxAgeMs };
    } else {
      page = await this.runTimed(view, governed, access, signal);
    }
    notes.rowCount = page.rows.length;
    const { positions, next } = page;
    const cursorAfter = (shown: number): string | undefined => {
      const at = shown > 0 ? positions[shown - 1] : undefined;
      return at ? this.cursors.seal(binding(), at) : after && shown === 0 ? q.cursor : undefined;
    };
    // Built field by field: copying the page with spreads costs every request a few microseconds.
    const result: QueryResult = {
      rows: page.rows,
      fields: page.fields,
      cursorAfter,
      offset: paging.offset,
      limit: paging.limit,
      maxLimit: paging.maxLimit,
    };
    if (page.count !== undefined) result.count = page.count;
    if (page.suppressedGroups !== undefined) result.suppressedGroups = page.suppressedGroups;
    if (page.countOnly) result.countOnly = page.countOnly;
    if (next !== undefined) {
      // An offset says nothing about a page a cursor started.
      if (q.cursor === undefined) result.next = next;
      result.nextCursor = cursorAfter(page.rows.length);
    }
    return result;
  }

  /** The grant's maxScanRows decision on each read the query would send (cost-guard.ts); undefined without one. */
  private async judgeCost(view: View, governed: GovernedQuery, access: ViewAccess): Promise<ScanDecision[] | undefined> {
    const max = access.costGuard?.maxScanRows;
    return max === undefined ? undefined : judgeScans(max, () => this.run(view, governed, access, undefined));
  }

  /** The 422 of the grant's maxScanRows, before anything runs (cost-guard.ts). */
  private async refuseCostly(view: View, governed: GovernedQuery, access: ViewAccess): Promise<void> {
    const decisions = await this.judgeCost(view, governed, access);
    if (decisions) refuseCostly(decisions, access.costGuard!.maxScanRows!, view.id);
  }

  /** run() under the grant's statement timeout (cost-guard.ts). */
  private runTimed(view: View, governed: GovernedQuery, access: ViewAccess, signal: Cancel | undefined): Promise<Page> {
    return withTimeout(access.costGuard, signal, (s) => this.run(view, governed, access, s));
  }

  /** Steps 3 and 4: the engine, then the masks. */
  private run(view: View, governed: GovernedQuery, access: ViewAccess, signal: Cancel | undefined): Promise<Page> {
    return this.stage('engine', () => this.runEngine(view, governed, access, signal));
  }

  private async runEngine(view: View, governed: GovernedQuery, access: ViewAccess, signal: Cancel | undefined): Promise<Page> {
    if (governed.aggregate || governed.countOnly) {
      const groups = await runGroups(view, governed, access, signal);
      // A group's position is its values in the groups' total order (groupOrder).
      const order = governed.aggregate ? groupOrder(governed.aggregate) : [];
      return { ...groups, positions: groups.rows.map((r) => ({ values: order.map((t) => r[t.column] ?? null) })) };
    }
    if (governed.engine.count && access.minGroupSize) await countAtLeastK(view, governed.engine, access, 'include_count', signal);
    if (governed.opaqueOrder) return this.runOpaque(view, governed, governed.opaqueOrder, signal);
    const q = governed.engine;
    // The order's columns come along for the cursor, and are cut off again.
    const columns = q.orderBy.length === 0 ? q.columns : [...new Set([...q.columns, ...q.orderBy.map((t) => t.column)])];
    const extra = columns.length > q.columns.length;
    const result = await view.engine.execute(extra ? { ...q, columns, requested: q.columns } : q, { signal });
    const positions = result.rows.map((r) => ({ values: q.orderBy.map((t) => r[t.column] ?? null) }));
    const rows = this.stage('mask', () => applyMasks(extra ? result.rows.map((r) => pick(r, q.columns)) : result.rows, governed.masks));
    return {
      rows,
      positions,
      fields: governed.fields,
      ...(result.count !== undefined ? { count: result.count } : {}),
      ...(result.hasMore ? { next: governed.engine.offset + governed.engine.limit } : {}),
    };
  }

  /**
   * A key column is hidden or masked for the caller: every matching row is fetched in the client's
   * order, ties are broken by HMAC(key), and the page is cut here (docs/security.md, "Row order").
   */
  private async runOpaque(view: View, governed: GovernedQuery, order: OpaqueOrder, signal: Cancel | undefined): Promise<Page> {
    const q = governed.engine;
    const columns = [...new Set([...q.columns, ...order.key, ...order.clientTerms.map((t) => t.column)])];
    const tooMany = (): ApiError =>
      new ApiError(
        'row_budget_exceeded',
        `more than ${order.maxRows} rows of "${view.id}" match, and your role orders them by an opaque key (the view's key is hidden or masked for it), ` +
          'which needs every matching row at once. Narrow the query with a filter.',
        { view: view.id, rowBudget: order.maxRows },
      );
    // The engine's own 422 would suggest a column to filter on, maybe the hidden key itself.
    const result = await view.engine.execute({ ...q, columns, offset: 0, limit: order.maxRows + 1 }, { signal }).catch((err: unknown) => {
      throw err instanceof ApiError && err.status === 422 ? tooMany() : err;
    });
    if (result.rows.length > order.maxRows) throw tooMany();
    const ordered = orderOpaquely(result.rows, order, view.id, this.orderSecret);
    const cut = ordered.slice(q.offset, q.offset + q.limit);
    const page = cut.map((r) => pick(r, q.columns));
    const positions = cut.map((r) => ({
      values: order.clientTerms.map((t) => r[t.column] ?? null),
      tag: opaqueTag(r, order, view.id, this.orderSecret),
    }));
    return {
      rows: applyMasks(page, governed.masks),
      positions,
      fields: governed.fields,
      ...(result.count !== undefined ? { count: result.count } : {}),
      ...(ordered.length > q.offset + q.limit ? { next: q.offset + q.limit } : {}),
    };
  }

  /** The views this identity may export (grants with `export: true`). */
  exportableViews(identity: Identity): ViewSummary[] {
    return this.listViews(identity).filter((v) => this.policy.grant(identity.role, v.id)?.grant.export === true);
  }

  /**
   * The governed result of `q` (no offset: from the first row), up to the grant's maxExportRows and
   * the row budget, rendered as `format` and kept in the export store for this identity key.
   * Policy, rate limit, masks and audit as for a query; never cached.
   */
  async exportView(
    identity: Identity,
    id: ViewId,
    format: RowFormat,
    q: ClientQuery,
    notes: TraceNotes = {},
    signal?: Cancel,
  ): Promise<ExportResult> {
    noteQuery(notes, id, q);
    const { view, access } = await this.authorize(identity, id, notes);
    if (!access.export) {
      throw new ApiError('forbidden', `your role may not export "${id}"; its grant needs \`export: true\``, { view: id });
    }
    const limited = await this.admit(identity, access);
    if (limited) notes.rateLimit = limited;
    const governed = this.stage('govern', () =>
      govern(access, identity, view, { ...q, offset: 0, includeCount: false }, undefined, access.maxExportRows),
    );
    notes.fields = governed.fields;
    await this.refuseCostly(view, governed, access);
    const page = await this.runTimed(view, governed, access, signal);
    notes.rowCount = page.rows.length;
    const { mimeType, extension } = ROW_FORMATS[format];
    const entry = this.exports.put({
      owner: identity.identityKey,
      view: id,
      grant: grantFingerprint(access),
      name: `${id}.${extension}`,
      mimeType,
      text: formatRows(format, page.fields, page.rows),
      rows: page.rows.length,
    });
    return { entry, truncated: page.next !== undefined, maxRows: access.maxExportRows };
  }

  /** One of this identity key's exports; another's, an expired one and an unknown id are the same 404. */
  readExport(identity: Identity, exportId: string, notes: TraceNotes = {}): ExportEntry {
    const entry = this.exports.get(exportId, identity.identityKey);
    if (!entry) throw notFound(`no export "${exportId}" (exports last ${this.exports.ttlMs / 60_000} minutes)`, {});
    notes.view = entry.view;
    const decided = this.catalog.has(entry.view) ? this.policy.grant(identity.role, entry.view) : undefined;
    if (!decided || grantFingerprint({ role: identity.role, grantKey: decided.key, grant: decided.grant }) !== entry.grant) {
      throw badRequest(`export "${exportId}" was made under a grant that has changed since; export the view again`, { view: entry.view });
    }
    notes.rowCount = entry.rows;
    return entry;
  }

  /** Takes a token from the caller's bucket for this grant; 429 when it is empty. */
  private async admit(identity: Identity, access: ViewAccess): Promise<TraceNotes['rateLimit']> {
    const rate = access.rateLimit;
    if (!rate) return undefined;
    // The bucket belongs to the grant that applied (`crm.*` is one bucket for the whole service).
    const decision = await this.stage('rate_limit', () => this.services.limiter.take(bucketKey(identity, access.grantKey), rate));
    if (!decision.allowed) {
      this.services.metrics.rateLimitRejected(access.viewId, identity.role);
      throw rateLimited(access.viewId, rate, decision);
    }
    return { rate, decision };
  }

  /**
   * Governed SQL (docs/sql.md): every view the statement names is resolved as any read resolves it
   * (unreadable and nonexistent alike), and rate-limited by its grant.
   */
  async querySql(identity: Identity, request: SqlRequest, notes: TraceNotes = {}, signal?: Cancel): Promise<SqlResult> {
    const result = await runSql(request, {
      config: this.config,
      identity,
      resolve: async (id) => {
        if (!this.catalog.has(id) || !this.policy.grant(identity.role, id)) return undefined;
        return this.authorize(identity, id, notes);
      },
      admit: async (access) => {
        const limited = await this.admit(identity, access);
        if (limited) notes.rateLimit = limited;
      },
      cursors: this.cursors,
      ...(signal ? { signal } : {}),
    });
    notes.view = result.views[0];
    notes.fields = result.fields.map((f) => f.name);
    notes.rowCount = result.rows.length;
    return result;
  }

  /** One row by its key value; 404 when it does not exist or the row filter hides it. */
  async getRow(identity: Identity, id: ViewId, key: string, q: ClientQuery, notes: TraceNotes = {}, signal?: Cancel): Promise<Row> {
    return onlyRow(await this.queryView(identity, id, rowQuery(key, q), notes, signal), key, id);
  }

  /**
   * A write (POST/PUT/PATCH/DELETE; docs/writes.md). Decided from the config before the body is
   * read: a caller who may not read the view gets the 404 of a read; one who may read a view that
   * cannot be written (federated, hub, SQLite) a 405 with the methods it takes; one whose grant
   * lacks the right a 403. Then the view is built, the request governed and run.
   */
  async write(
    identity: Identity,
    id: ViewId,
    operation: Extract<Operation, { op: 'write' }>,
    notes: TraceNotes = {},
  ): Promise<WriteResult> {
    notes.view = id;
    const { method } = operation;
    const grant = this.readGrant(identity, id);
    if (!this.catalog.writesTo(id))
      throw this.readOnly(id, method, 'only tables of a service bound to one PostgreSQL, MySQL or MongoDB source can be written');
    const right = WRITE_RIGHTS[method.toUpperCase()] ?? 'update';
    if (!grant.grant.write?.[right]) {
      throw forbidden(`your role may read "${id}" but not ${right} its rows (the grant's write.${right} is not true)`, {
        view: id,
        method,
      });
    }
    const request = this.stage('parse', () => operation.parse());
    const { view, access } = await this.authorize(identity, id);
    if (!view.write)
      throw this.readOnly(id, method, 'its key is not a primary or unique key of the table, so a row cannot be named safely');
    const limited = await this.admit(identity, access);
    if (limited) notes.rateLimit = limited;
    const rowFilter = govern(access, identity, view, {}).engine.rowFilter;
    const run = async (): Promise<WriteResult> => {
      // Whatever the outcome, rows may have changed (continue=true writes some and fails others).
      const source = this.viewSources(view)?.[0];
      const result = await runWrite({
        identity,
        view,
        access,
        write: access.write!,
        target: view.write!,
        request,
        ...(rowFilter ? { rowFilter } : {}),
        readableKeys: (ref, values) => this.readableKeys(identity, ref, values),
      }).finally(() => (source !== undefined ? this.generations.bump(source) : undefined));
      notes.fields = result.fields;
      notes.rowCount = result.keys.length;
      notes.args = { keys: result.keys };
      if (result.failure) throw result.failure;
      return result;
    };
    if (request.idempotencyKey === undefined) return run();
    return idempotently(this.idempotency, { identity, id, method, request, notes }, run);
  }

  /** Which of `values` are keys of rows the caller can read in view `ref` (write.references). */
  private async readableKeys(identity: Identity, ref: ViewId, values: Value[]): Promise<Set<string>> {
    const texts = [...new Set(values.map((v) => String(v)))];
    const found = new Set<string>();
    const { view, access } = await this.authorize(identity, ref).catch(() => ({ view: undefined, access: undefined }));
    if (!view || !access || view.key.length !== 1 || access.readableKey.length !== 1) return found;
    const key = view.key[0]!;
    const step = access.schema.maxLimit;
    for (let i = 0; i < texts.length; i += step) {
      const ids = texts.slice(i, i + step);
      // A value that is no key of the referenced view (a text for an int key) reaches no row there.
      const page = await this.queryView(identity, ref, { ids, fields: [key], limit: ids.length }).catch((err: unknown) => {
        if (err instanceof ApiError && err.status < 500) return { rows: [] };
        throw err;
      });
      for (const row of page.rows) found.add(String(row[key]));
    }
    return found;
  }

  private readOnly(id: ViewId, method: string, why: string): ApiError {
    return new ApiError(
      'method_not_allowed',
      `"${id}" is read-only: ${why}, so ${method} is not allowed; read it with GET`,
      { view: id, method },
      { Allow: this.readMethods.join(', ') },
    );
  }

  /** The methods a view answers; OPTIONS only when CORS answers preflights (server.cors). */
  get readMethods(): string[] {
    return this.config.server.cors.origins.length > 0 ? ['GET', 'HEAD', 'OPTIONS'] : ['GET', 'HEAD'];
  }

  /**
   * Step 1: not granted and not existing look the same (404); a deprecated view is noted (handle()
   * counts its callers per role) and gone after its sunset (410); a view whose sources no longer fit it is a
   * 503; one whose grants do not fit it is not served (500). The policy's record for the role on
   * the view comes with it.
   */
  private authorize(identity: Identity, id: ViewId, notes: TraceNotes = {}): Promise<Authorized> {
    return this.stage('authorize', async () => this.authorized(identity, id, notes));
  }

  /** authorize() answered at once when the view is built and its sources fit; a refusal is thrown. */
  private authorized(identity: Identity, id: ViewId, notes: TraceNotes): Authorized | Promise<Authorized> {
    this.readGrant(identity, id);
    const deprecated = this.deprecation(id);
    if (deprecated) {
      notes.deprecation = deprecated;
      refuseAfterSunset(id, deprecated);
    }
    const built = this.catalog.ready(id);
    return built ? this.accessTo(identity, built) : this.catalog.get(id).then((view) => this.accessTo(identity, view));
  }

  private accessTo(identity: Identity, view: View): Authorized {
    this.policy.refuseMisconfigured(view);
    return { view, access: this.policy.access(identity.role, view)! };
  }

  private readGrant(identity: Identity, id: ViewId): DecidingGrant {
    const grant = this.catalog.has(id) ? this.policy.grant(identity.role, id) : undefined;
    if (!grant) throw viewNotFound(id);
    return grant;
  }
}
