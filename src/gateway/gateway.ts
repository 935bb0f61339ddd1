// The one pipeline both surfaces call (docs/architecture.md): authorize -> rate limit -> govern ->
// response cache (grants with cacheTtl) -> engine -> mask; the surfaces audit and time each
// request. REST and MCP only translate their protocol to these calls; no surface builds a query
// itself, caches or rate-limits on its own (docs/operations.md).
import type { Config } from '../config/schema.js';
import type { Catalog } from '../engine/catalog.js';
import type { View } from '../engine/view.js';
import type { ClientQuery } from '../query/client-query.js';
import { formatFilter } from '../query/filter-format.js';
import { grantFor } from '../policy/grants.js';
import { callerSchema, govern, type VisibleColumn } from '../policy/govern.js';
import { applyMasks } from '../policy/mask.js';
import { needsOpaqueOrder, opaqueOrderSecret, orderOpaquely, type OpaqueOrder } from '../policy/opaque-order.js';
import type { Identity } from '../policy/identity.js';
import { ApiError, notFound } from '../errors.js';
import type { Row } from '../values.js';
import type { GrantConfig, Rate } from '../config/schema.js';
import type { GovernedQuery } from '../policy/govern.js';
import { MemoryCacheStore, ResponseCache } from '../ops/cache.js';
import { CacheKeys } from '../ops/cache-key.js';
import { bucketKey, MemoryRateLimiter, rateLimited, type RateDecision, type RateLimiter } from '../ops/rate-limit.js';
import type { Metrics } from '../ops/metrics.js';

/** What one request tells the audit record; filled in as the pipeline runs. */
export interface RequestContext {
  requestId: string;
  surface: 'rest' | 'mcp';
  action: string;
  identity?: Identity;
  view?: string;
  fields?: string[];
  filter?: string;
  rowCount?: number;
  args?: unknown;
  /** Set when the grant has a cacheTtl: whether the cache answered, and how long a client may keep it. */
  cache?: { hit: boolean; maxAgeMs: number };
  /** Set when the grant has a rateLimit: the caller's bucket after this request. */
  rateLimit?: { rate: Rate; decision: RateDecision };
}

export interface ViewSummary {
  id: string;
  service: string;
  name: string;
  description: string;
}

export interface ViewDescription extends ViewSummary {
  /** The view's key; empty when a key column is hidden from the caller (its name is not leaked). */
  key: string[];
  /** The key columns the caller may read, in key order (what a row can be cited by). */
  readableKey: string[];
  /** Ties are broken by an opaque keyed hash: a key column is hidden or masked for the caller. */
  opaqueOrder: boolean;
  columns: VisibleColumn[];
  maxLimit: number;
  /** Engine-specific state, e.g. a materialized hub view's last refresh. */
  status?: Record<string, unknown>;
}

export interface QueryResult {
  rows: Row[];
  fields: string[];
  count?: number;
  /** Offset of the next page, when more rows exist. */
  next?: number;
  explain?: unknown;
}

/** The response cache and rate limiter (in memory unless the runtime passes Redis-backed ones). */
export interface GatewayOps {
  cache?: ResponseCache;
  limiter?: RateLimiter;
  metrics?: Metrics;
}

export class Gateway {
  private readonly cache: ResponseCache;
  private readonly limiter: RateLimiter;
  private readonly cacheKeys: CacheKeys;
  private readonly orderSecret: Buffer;

  constructor(
    readonly config: Config,
    readonly catalog: Catalog,
    private readonly ops: GatewayOps = {},
  ) {
    this.cache = ops.cache ?? new ResponseCache(new MemoryCacheStore(), ops.metrics);
    this.limiter = ops.limiter ?? new MemoryRateLimiter();
    this.cacheKeys = new CacheKeys(config);
    this.orderSecret = opaqueOrderSecret(config);
  }

  /** Views this identity may read, optionally in one service. Existence of others is not leaked. */
  listViews(identity: Identity, service?: string): ViewSummary[] {
    return this.catalog
      .ids()
      .filter((id) => (service === undefined || id.startsWith(`${service}.`)) && grantFor(this.config, identity.role, id))
      .map((id) => {
        const [svc, name] = [id.slice(0, id.indexOf('.')), id.slice(id.indexOf('.') + 1)];
        return { id, service: svc, name, description: this.catalog.description(id) };
      });
  }

  /** Whether the service exists and the caller may read at least one of its views. */
  hasService(identity: Identity, service: string): boolean {
    return service in this.config.services && this.listViews(identity, service).length > 0;
  }

  async describeView(identity: Identity, id: string): Promise<ViewDescription> {
    const { view, grant } = await this.authorize(identity, id);
    const schema = callerSchema(this.config, view, grant);
    const keyHidden = view.key.some((k) => !schema.byName.has(k));
    return {
      id,
      service: view.service,
      name: view.name,
      description: view.description,
      key: keyHidden ? [] : view.key,
      readableKey: view.key.filter((k) => schema.byName.has(k)),
      opaqueOrder: needsOpaqueOrder(view.key, schema),
      columns: schema.columns,
      maxLimit: schema.maxLimit,
      ...(view.status ? { status: view.status() } : {}),
    };
  }

  async queryView(identity: Identity, id: string, q: ClientQuery, ctx?: RequestContext): Promise<QueryResult> {
    if (ctx) {
      ctx.view = id;
      if (q.filter) ctx.filter = formatFilter(q.filter);
    }
    const { view, grant } = await this.authorize(identity, id);
    // Rate limits count every query the caller may address, cached or not, before any work.
    const limited = await this.admit(identity, id, grant);
    if (ctx && limited) ctx.rateLimit = limited;
    const governed = govern(this.config, identity, view, grant, q);
    if (ctx) ctx.fields = governed.fields;
    if (q.explain) {
      if (!grant.explain) throw new ApiError(403, 'your role may not use explain on this view', { param: 'explain' });
      const o = governed.opaqueOrder;
      // What runs: with an opaque order, every matching row (the page is cut by the gateway).
      const plan = await view.engine.explain(o ? { ...governed.engine, offset: 0, limit: o.maxRows + 1 } : governed.engine);
      return { rows: [], fields: governed.fields, explain: plan };
    }
    let result: QueryResult;
    if (grant.cacheTtl) {
      const key = this.cacheKeys.key(identity, id, grant, governed.engine);
      const out = await this.cache.getOrLoad(id, key, grant.cacheTtl, () => this.run(view, governed));
      result = out.value;
      if (ctx) ctx.cache = { hit: out.hit, maxAgeMs: out.maxAgeMs };
    } else {
      result = await this.run(view, governed);
    }
    if (ctx) ctx.rowCount = result.rows.length;
    return result;
  }

  /** Steps 3 and 4: the engine, then the masks. */
  private async run(view: View, governed: GovernedQuery): Promise<QueryResult> {
    if (governed.opaqueOrder) return this.runOpaque(view, governed, governed.opaqueOrder);
    const result = await view.engine.execute(governed.engine);
    const rows = applyMasks(result.rows, governed.schema.masks);
    return {
      rows,
      fields: governed.fields,
      ...(result.count !== undefined ? { count: result.count } : {}),
      ...(result.hasMore ? { next: governed.engine.offset + governed.engine.limit } : {}),
    };
  }

  /**
   * A key column is hidden or masked for the caller: every matching row is fetched in the client's
   * order, ties are broken by HMAC(key), and the page is cut here (docs/security.md, "Row order").
   */
  private async runOpaque(view: View, governed: GovernedQuery, order: OpaqueOrder): Promise<QueryResult> {
    const q = governed.engine;
    const columns = [...new Set([...q.columns, ...order.key, ...order.clientTerms.map((t) => t.column)])];
    const tooMany = (): ApiError =>
      new ApiError(
        422,
        `more than ${order.maxRows} rows of "${view.id}" match, and your role orders them by an opaque key (the view's key is hidden or masked for it), ` +
          'which needs every matching row at once. Narrow the query with a filter.',
        { view: view.id, rowBudget: order.maxRows },
      );
    // The engine's own 422 would suggest a column to filter on, maybe the hidden key itself.
    const result = await view.engine.execute({ ...q, columns, offset: 0, limit: order.maxRows + 1 }).catch((err: unknown) => {
      throw err instanceof ApiError && err.status === 422 ? tooMany() : err;
    });
    if (result.rows.length > order.maxRows) throw tooMany();
    const ordered = orderOpaquely(result.rows, order, view.id, this.orderSecret);
    const page = ordered.slice(q.offset, q.offset + q.limit).map((r) => Object.fromEntries(q.columns.map((c) => [c, r[c] ?? null])));
    return {
      rows: applyMasks(page, governed.schema.masks),
      fields: governed.fields,
      ...(result.count !== undefined ? { count: result.count } : {}),
      ...(ordered.length > q.offset + q.limit ? { next: q.offset + q.limit } : {}),
    };
  }

  /** Takes a token from the caller's bucket for this grant; 429 when it is empty. */
  private async admit(identity: Identity, id: string, grant: GrantConfig): Promise<RequestContext['rateLimit']> {
    const rate = grant.rateLimit;
    if (!rate) return undefined;
    const grants = Object.hasOwn(this.config.roles, identity.role) ? this.config.roles[identity.role]!.grants : {};
    // The bucket belongs to the grant that applied (`crm.*` is one bucket for the whole service).
    const grantKey = Object.entries(grants).find(([, g]) => g === grant)?.[0] ?? id;
    const decision = await this.limiter.take(bucketKey(identity, grantKey), rate);
    if (!decision.allowed) {
      this.ops.metrics?.rateLimitRejected(id, identity.role);
      throw rateLimited(id, rate, decision);
    }
    return { rate, decision };
  }

  /** One row by its key value; 404 when it does not exist or the row filter hides it. */
  async getRow(identity: Identity, id: string, key: string, q: ClientQuery, ctx?: RequestContext): Promise<Row> {
    const result = await this.queryView(identity, id, { ...q, ids: [key], limit: 1, offset: 0, includeCount: false }, ctx);
    const row = result.rows[0];
    if (!row) throw notFound(`no row with key "${key}" in "${id}"`, { view: id });
    return row;
  }

  /**
   * A write (POST/PUT/PATCH/DELETE) to a view. Every view is read-only for now (docs/decisions.md):
   * a caller who may read the view learns that with a 405 and the methods it does take; anyone
   * else gets the same 404 as for a read, so writes reveal no more than reads do.
   */
  async authorizeWrite(identity: Identity, id: string, method: string, ctx?: RequestContext): Promise<never> {
    if (ctx) ctx.view = id;
    // Only the grant decides: the answer does not need the view built (or its store up).
    this.readGrant(identity, id);
    throw new ApiError(
      405,
      `"${id}" is read-only: viewgate serves views for reading, so ${method} is not allowed; read it with GET`,
      { view: id, method },
      { Allow: this.readMethods.join(', ') },
    );
  }

  /** The methods a view answers; OPTIONS only when CORS answers preflights (server.cors). */
  get readMethods(): string[] {
    return this.config.server.cors.origins.length > 0 ? ['GET', 'HEAD', 'OPTIONS'] : ['GET', 'HEAD'];
  }

  /** Step 1: not granted and not existing look the same (404). */
  private async authorize(identity: Identity, id: string): Promise<{ view: View; grant: GrantConfig }> {
    const grant = this.readGrant(identity, id);
    return { view: await this.catalog.get(id), grant };
  }

  private readGrant(identity: Identity, id: string): GrantConfig {
    const grant = this.catalog.has(id) ? grantFor(this.config, identity.role, id) : undefined;
    if (!grant) throw notFound(`no view "${id}"`, { view: id });
    return grant;
  }
}
