// REST surface (docs/rest.md): DreamFactory-compatible URLs and envelope over the one gateway. Each
// route only translates: the URL and query string into a gateway request (with a signal that aborts
// when the client disconnects), the outcome into a response; the gateway authenticates, reads,
// audits and counts.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import {
  deprecationHeaders,
  rateLimitHeaders,
  type Gateway,
  type Identity,
  type Operation,
  type Presented,
  type QueryResult,
  type ResultOf,
  type ToolCall,
  type Trace,
} from '../gateway/index.js';
import { parseRestQuery, ROW_PARAMS } from '../query/client-query.js';
import { etagOf, toJson } from '../values.js';
import { ApiError } from '../errors.js';
import { formatRows, ROW_FORMATS } from '../row-formats.js';
import { negotiateRows } from './accept.js';
import { clientGone } from '../http/client-gone.js';
import { credentialsFrom, refuseUrlCredentials } from '../http/credentials.js';
import { sendError } from '../http/envelope.js';
import { markAudited } from '../http/request-audit.js';
import { traceparentOf } from '../http/trace-context.js';
import { parseSqlRequest } from '../gateway/sql/request.js';
import { registerWriteRoutes } from './write-routes.js';

type Params = { service: string; view?: string; id?: string };
type Request<P> = FastifyRequest<{ Params: P }>;

/** Request headers a response varies on: their names, and the names as Vary lists them. */
interface Vary {
  names: string[];
  text: string;
}

const varyOn = (names: string[]): Vary => ({ names, text: names.join(', ') });

/** Responses depend on the credential, so shared caches must key on these request headers. */
const CREDENTIAL_VARY = varyOn(['Authorization', 'X-API-Key', 'X-DreamFactory-API-Key']);
/** ... and on Accept where the rows may come in another format. */
const FORMAT_VARY = varyOn([...CREDENTIAL_VARY.names, 'Accept']);

/** Adds names to Vary without dropping what is there (CORS adds Origin). */
function addVary(reply: FastifyReply, vary: Vary): void {
  const prev = reply.getHeader('vary');
  if (prev === undefined) {
    reply.header('vary', vary.text);
    return;
  }
  const have = String(prev)
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const n of vary.names) if (!have.some((h) => h.toLowerCase() === n.toLowerCase())) have.push(n);
  reply.header('vary', have.join(', '));
}

/**
 * Cache-Control for a successful response: `private` always (it is one caller's view); with the
 * grant's cacheTtl, the cached entry's remaining lifetime, so no client keeps rows longer than the
 * server would; without one, `no-cache` (keep it, but revalidate with the ETag).
 */
function successHeaders(reply: FastifyReply, trace: Trace): void {
  const maxAge = trace.cache ? Math.floor(trace.cache.maxAgeMs / 1000) : 0;
  reply.header('cache-control', maxAge > 0 ? `private, max-age=${maxAge}` : 'private, no-cache');
  if (trace.rateLimit) reply.headers(rateLimitHeaders(trace.rateLimit.decision, trace.rateLimit.rate));
}

/** A success as sent: its JSON text and ETag, and whether the client's copy is current (304). */
interface Body {
  text: string;
  /** None for CSV and NDJSON bodies. */
  etag?: string;
  current: boolean;
  /** Default: JSON. */
  contentType?: string;
  headers?: Record<string, string>;
}

/**
 * JSON text and ETag of responses shaped from one cached page, by the page's rows (the same array
 * on every hit of an in-process cache entry): a hit is serialized once, not once per request.
 */
const serialized = new WeakMap<object, { variant?: string; text: string; etag: string }>();

/**
 * The rows as the memo's key when they can come again: the in-process cache keeps a page frozen
 * and answers every hit with it. Rows read for one request are not kept (an entry per request in
 * a weak map costs every request and every young-generation collection).
 */
const cachedRows = (r: QueryResult): object | undefined => (r.explain === undefined && Object.isFrozen(r.rows) ? r.rows : undefined);

/** `variant`: what else the body holds besides the memo's page (a caller's own next_cursor). */
function bodyOf(req: FastifyRequest, value: unknown, memo?: object, variant?: string): Presented<Body> {
  let done = memo && serialized.get(memo);
  if (done && done.variant !== variant) done = undefined;
  if (!done) {
    const text = toJson(value);
    done = { variant, text, etag: etagOf(text) };
    if (memo) serialized.set(memo, done);
  }
  const { text, etag } = done;
  const inm = req.headers['if-none-match'];
  // If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
  const current = typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*');
  return { value: { text, etag, current }, ...(current ? { status: 304 } : {}) };
}

/**
 * One API route: `operation` says what the request asks the gateway for, `shape` turns the result
 * into the response body. A refusal is answered in the error envelope, never cached.
 */
function route<O extends Operation, P = Params>(
  gateway: Gateway,
  action: string,
  operation: (req: Request<P>) => O,
  shape: (result: ResultOf<O>) => unknown,
  /** An object whose identity stands for the shaped result (see `serialized`). */
  memo?: (result: ResultOf<O>) => object | undefined,
  /** What the shaped result holds besides the memo's object. */
  variant?: (result: ResultOf<O>) => string | undefined,
  /** A body in another format than JSON, when the request asks for one (Accept). */
  otherFormat?: (req: Request<P>, result: ResultOf<O>) => Presented<Body> | undefined,
) {
  return async (req: Request<P>, reply: FastifyReply) => {
    const outcome = await gateway.handle(
      {
        requestId: String(req.id),
        surface: 'rest',
        action,
        caller: {
          credentials: () => {
            refuseUrlCredentials(req.query);
            return credentialsFrom(req);
          },
        },
        operation: operation(req),
        signal: clientGone(reply),
        ...traceparentOf(req.headers),
      },
      (result) => otherFormat?.(req, result) ?? bodyOf(req, shape(result), memo?.(result), variant?.(result)),
    );
    markAudited(req);
    addVary(reply, otherFormat ? FORMAT_VARY : CREDENTIAL_VARY);
    const { deprecation } = outcome.trace;
    if (deprecation) reply.headers(deprecationHeaders(deprecation, gateway.config.server.publicUrl ?? `${req.protocol}://${req.host}`));
    if (!outcome.ok) {
      reply.header('cache-control', 'no-store');
      return sendError(reply, outcome.error);
    }
    successHeaders(reply, outcome.trace);
    const { text, etag, current, contentType, headers } = outcome.value;
    if (etag !== undefined) reply.header('etag', etag);
    if (headers) reply.headers(headers);
    if (current) return reply.code(304).send();
    return reply
      .code(200)
      .header('content-type', contentType ?? 'application/json; charset=utf-8')
      .send(text);
  };
}

/** A route whose answer is any read as the caller (the OpenAPI document): `fn` runs with the verified identity. */
export function handler<P = Params>(
  deps: { gateway: Gateway },
  action: string,
  fn: (identity: Identity, req: Request<P>) => Promise<unknown>,
) {
  return route(
    deps.gateway,
    action,
    (req: Request<P>) => ({ op: 'read' as const, run: (identity: Identity) => fn(identity, req) }),
    (body) => body,
  );
}

const viewId = (req: Request<Params>): string => `${req.params.service}.${req.params.view}`;

const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8; header=present', jsonl: `${ROW_FORMATS.jsonl.mimeType}; charset=utf-8` };

/**
 * Rows as CSV or NDJSON when Accept asks for them (docs/rest.md, "Formats"): the same page as the
 * JSON body, rendered once the gateway has answered, so every refusal is still the JSON envelope.
 * No ETag; count and next travel in X-Total-Count and X-Next-Offset.
 */
function rowsInFormat(req: Pick<FastifyRequest, 'headers'>, r: QueryResult, offsets = true): Presented<Body> | undefined {
  const format = negotiateRows(req.headers.accept);
  if (format === 'json') return undefined;
  if (r.explain !== undefined)
    throw new ApiError('bad_request', 'explain is answered as JSON; ask with Accept: application/json', { param: 'explain' });
  const headers: Record<string, string> = {};
  if (r.count !== undefined) headers['x-total-count'] = String(r.count);
  if (offsets && r.next !== undefined) headers['x-next-offset'] = String(r.next);
  if (r.nextCursor !== undefined) headers['x-next-cursor'] = r.nextCursor;
  return { value: { text: formatRows(format, r.fields, r.rows), current: false, contentType: CONTENT_TYPES[format], headers } };
}

/** A governed SQL answer: `{resource, meta}` or explain's plan (docs/sql.md). */
export function sqlBody(r: ResultOf<Extract<Operation, { op: 'sql' }>>): unknown {
  if (r.explain) return { explain: r.explain };
  return {
    resource: r.rows,
    meta: {
      fields: r.fields,
      ...(r.truncated ? { truncated: true } : {}),
      ...(r.nextCursor !== undefined ? { next_cursor: r.nextCursor } : {}),
      ...(r.suppressedGroups !== undefined ? { suppressed_groups: r.suppressedGroups } : {}),
    },
  };
}

/** A query's answer: `{resource, meta}`; explain's plan; count_only's bare number (docs/query.md, "Aggregates"). */
export function pageBody(r: QueryResult, offsets = true): unknown {
  if (r.explain !== undefined) return { explain: r.explain };
  if (r.countOnly) return r.count;
  const meta: Record<string, number | string> = {};
  if (r.count !== undefined) meta.count = r.count;
  if (offsets && r.next !== undefined) meta.next = r.next;
  if (r.nextCursor !== undefined) meta.next_cursor = r.nextCursor;
  if (r.suppressedGroups !== undefined) meta.suppressed_groups = r.suppressedGroups;
  return { resource: r.rows, meta };
}

/** A curated tool's query string: every parameter once, and the cursor of the next page. */
function toolCall(query: Record<string, unknown>): ToolCall {
  const { cursor, ...args } = query;
  for (const [name, v] of Object.entries(args)) {
    if (Array.isArray(v)) throw new ApiError('bad_request', `parameter "${name}" is given more than once`, { param: name });
  }
  return { args, ...(cursor !== undefined ? { cursor } : {}) };
}

/** The REST API under /api/v2, as one plugin. */
export const restPlugin: FastifyPluginAsync<{ gateway: Gateway }> = async (app, { gateway: gw }) => {
  const listing = (action: string) =>
    route(
      gw,
      action,
      (req) => ({ op: 'list_views' as const, service: req.params.service }),
      (views) => ({ resource: views.map((v) => ({ name: v.name, description: v.description })) }),
    );
  app.get('/api/v2/:service/_table', listing('list_tables'));
  app.get('/api/v2/:service/_schema', listing('list_schemas'));

  app.get(
    '/api/v2/:service/_schema/:view',
    route(
      gw,
      'describe',
      (req) => ({ op: 'describe', view: viewId(req) }),
      (d) => ({
        name: d.name,
        description: d.description,
        key: d.key,
        fields: d.columns.map((c) => ({
          name: c.name,
          type: c.type,
          masked: c.masked,
          filterable: c.filterable,
          description: c.description ?? '',
          ...(c.lineage ? { lineage: c.lineage } : {}),
        })),
        ...(d.status ? { status: d.status } : {}),
        // Only for a caller who may write the view (docs/writes.md).
        ...(d.write ? { write: d.write } : {}),
      }),
    ),
  );

  app.get(
    '/api/v2/:service/_table/:view',
    route<Extract<Operation, { op: 'query' }>>(
      gw,
      'query',
      (req) => ({
        op: 'query' as const,
        view: viewId(req),
        parse: () => {
          // An Accept that allows no format is refused (406) before the view is read.
          negotiateRows(req.headers.accept);
          return parseRestQuery(req.query as Record<string, unknown>);
        },
        // What parse() reads: Accept and the query string.
        text: `${req.headers.accept ?? ''}\n${req.url}`,
      }),
      (r) => pageBody(r),
      // The body is rows, count and next: all of one page, which a cache hit returns as it was
      // stored; next_cursor is the caller's own.
      cachedRows,
      (r) => r.nextCursor,
      rowsInFormat,
    ),
  );

  app.get(
    '/api/v2/:service/_table/:view/:id',
    route(
      gw,
      'get_row',
      (req) => ({
        op: 'get_row',
        view: viewId(req),
        key: req.params.id!,
        parse: () => parseRestQuery(req.query as Record<string, unknown>, ROW_PARAMS),
        text: req.url,
      }),
      (row) => row,
    ),
  );

  // Curated tools (docs/tools.md): the tool's parameters in the query string; offsets are not
  // taken, so the next page is meta.next_cursor only.
  app.get(
    '/api/v2/_tool/:name',
    route<Extract<Operation, { op: 'tool' }>, { name: string }>(
      gw,
      'tool',
      (req) => ({
        op: 'tool' as const,
        tool: req.params.name,
        parse: () => {
          negotiateRows(req.headers.accept);
          return toolCall(req.query as Record<string, unknown>);
        },
      }),
      (r) => pageBody(r, false),
      cachedRows,
      // A cached page may also answer query_view, whose body differs (meta.next).
      (r) => `tool:${r.nextCursor ?? ''}`,
      (req, r) => rowsInFormat(req, r, false),
    ),
  );

  // Governed SQL (docs/sql.md): the body is {"sql": "...", "limit": N, "cursor": "..."}.
  app.post(
    '/api/v2/_sql',
    route<Extract<Operation, { op: 'sql' }>>(
      gw,
      'query_sql',
      (req) => ({ op: 'sql' as const, parse: () => parseSqlRequest(req.body) }),
      sqlBody,
    ),
  );

  // Writes (docs/writes.md): the gateway decides 404, 405 and 403 before the body is read.
  await registerWriteRoutes(app, gw);
};
