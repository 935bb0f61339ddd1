// REST surface (docs/rest.md): DreamFactory-compatible URLs and envelope over the one gateway.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.js';
import type { RequestContext } from '../gateway/gateway.js';
import { unauthorized, type Credentials, type Identity } from '../policy/identity.js';
import { parseRestQuery, ROW_PARAMS } from '../query/client-query.js';
import { ApiError, notFound } from '../errors.js';
import { toJson } from '../values.js';
import { rateLimitHeaders } from '../ops/rate-limit.js';
import { sendError, toApiError } from './envelope.js';
import { markAudited } from '../ops/request-audit.js';

type Params = { service: string; view?: string; id?: string };

export function credentialsFrom(headers: FastifyRequest['headers']): Credentials {
  const key = headers['x-api-key'] ?? headers['x-dreamfactory-api-key'];
  if (typeof key === 'string' && key !== '') return { apiKey: key };
  const authz = headers.authorization;
  if (typeof authz === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authz);
    if (m) return { bearer: m[1]! };
    return { bearer: '' };
  }
  return {};
}

/**
 * Credentials in the URL are refused, whatever else the request carries: URLs end up in access
 * logs, proxies and browser history (DreamFactory accepted `?api_key=`; docs/security.md).
 */
export function refuseUrlCredentials(query: unknown): void {
  if (!query || typeof query !== 'object') return;
  if (Object.hasOwn(query, 'api_key')) {
    throw unauthorized('an API key is not accepted in the URL (?api_key=), as URLs end up in logs; send it in the X-API-Key header instead', 'invalid_request');
  }
  for (const name of ['access_token', 'session_token']) {
    if (Object.hasOwn(query, name)) {
      throw unauthorized(`a token is not accepted in the URL (?${name}=), as URLs end up in logs; send it in the Authorization: Bearer header instead`, 'invalid_request');
    }
  }
}

/** Responses depend on the credential, so shared caches must key on these request headers. */
export const CREDENTIAL_HEADERS = ['Authorization', 'X-API-Key', 'X-DreamFactory-API-Key'];

/** Adds names to Vary without dropping what is there (CORS adds Origin). */
function addVary(reply: FastifyReply, names: string[]): void {
  const prev = reply.getHeader('vary');
  const have = String(prev ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  for (const n of names) if (!have.some((h) => h.toLowerCase() === n.toLowerCase())) have.push(n);
  reply.header('vary', have.join(', '));
}

/**
 * Cache-Control for a successful response: `private` always (it is one caller's view); with the
 * grant's cacheTtl, the cached entry's remaining lifetime, so no client keeps rows longer than the
 * server would; without one, `no-cache` (keep it, but revalidate with the ETag).
 */
function successHeaders(reply: FastifyReply, ctx: RequestContext): void {
  const maxAge = ctx.cache ? Math.floor(ctx.cache.maxAgeMs / 1000) : 0;
  reply.header('cache-control', maxAge > 0 ? `private, max-age=${maxAge}` : 'private, no-cache');
  if (ctx.rateLimit) reply.headers(rateLimitHeaders(ctx.rateLimit.decision, ctx.rateLimit.rate));
}

/** Runs one API request: authenticate, handle, audit (failing closed if configured), reply. */
export function handler<P = Params>(
  rt: Runtime,
  action: string,
  fn: (identity: Identity, req: FastifyRequest<{ Params: P }>, ctx: RequestContext) => Promise<unknown>,
) {
  return async (req: FastifyRequest<{ Params: P }>, reply: FastifyReply) => {
    const started = performance.now();
    const ctx: RequestContext = { requestId: String(req.id), surface: 'rest', action };
    let status = 200;
    let body: unknown;
    let error: ApiError | undefined;
    try {
      refuseUrlCredentials(req.query);
      ctx.identity = await rt.auth.authenticate(credentialsFrom(req.headers));
      body = await fn(ctx.identity, req, ctx);
    } catch (err) {
      error = toApiError(err, rt.log, ctx.requestId);
      status = error.status;
    }
    const refused = await rt.audit.recordCall(ctx, status, started);
    markAudited(req);
    if (refused) error = refused;
    addVary(reply, CREDENTIAL_HEADERS);
    if (error) {
      reply.header('cache-control', 'no-store');
      sendError(reply, error);
    } else {
      successHeaders(reply, ctx);
      sendWithEtag(req, reply, toJson(body));
    }
    const view = ctx.view !== undefined && rt.catalog.has(ctx.view) ? ctx.view : undefined;
    rt.metrics.observeRequest('rest', action, view, reply.statusCode, (performance.now() - started) / 1000);
    return reply;
  };
}

function sendWithEtag(req: FastifyRequest, reply: FastifyReply, text: string): FastifyReply {
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
  reply.header('etag', etag);
  const inm = req.headers['if-none-match'];
  // If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim().replace(/^W\//, '') === etag || t.trim() === '*')) {
    return reply.code(304).send();
  }
  return reply.code(200).header('content-type', 'application/json; charset=utf-8').send(text);
}

export function registerRestRoutes(app: FastifyInstance, rt: Runtime): void {
  const gw = rt.gateway;

  const listing = async (identity: Identity, req: FastifyRequest<{ Params: Params }>) => {
    const { service } = req.params;
    if (!gw.hasService(identity, service)) throw notFound(`no service "${service}"`, { service });
    return { resource: gw.listViews(identity, service).map((v) => ({ name: v.name, description: v.description })) };
  };

  app.get('/api/v2/:service/_table', handler(rt, 'list_tables', listing));
  app.get('/api/v2/:service/_schema', handler(rt, 'list_schemas', listing));

  app.get(
    '/api/v2/:service/_schema/:view',
    handler(rt, 'describe', async (identity, req, ctx) => {
      const id = `${req.params.service}.${req.params.view}`;
      ctx.view = id;
      const d = await gw.describeView(identity, id);
      return {
        name: d.name,
        description: d.description,
        key: d.key,
        fields: d.columns.map((c) => ({
          name: c.name,
          type: c.type,
          masked: c.masked,
          filterable: c.filterable,
          description: c.description ?? '',
        })),
        ...(d.status ? { status: d.status } : {}),
      };
    }),
  );

  app.get(
    '/api/v2/:service/_table/:view',
    handler(rt, 'query', async (identity, req, ctx) => {
      const id = `${req.params.service}.${req.params.view}`;
      const q = parseRestQuery(req.query as Record<string, unknown>);
      const r = await gw.queryView(identity, id, q, ctx);
      if (r.explain !== undefined) return { explain: r.explain };
      const meta: Record<string, number> = {};
      if (r.count !== undefined) meta.count = r.count;
      if (r.next !== undefined) meta.next = r.next;
      return { resource: r.rows, meta };
    }),
  );

  app.get(
    '/api/v2/:service/_table/:view/:id',
    handler(rt, 'get_row', async (identity, req, ctx) => {
      const id = `${req.params.service}.${req.params.view}`;
      const q = parseRestQuery(req.query as Record<string, unknown>, ROW_PARAMS);
      return gw.getRow(identity, id, req.params.id!, { fields: q.fields }, ctx);
    }),
  );

  // Writes: every view is read-only for now; the gateway decides between 405 and 404.
  const write = handler(rt, 'write', async (identity, req, ctx) => {
    await gw.authorizeWrite(identity, `${req.params.service}.${req.params.view}`, req.method, ctx);
  });
  // In their own scope, the bodies are read (bodyLimit still applies) but never parsed: whatever
  // the content type or JSON, the answer is the gateway's 405 or 404.
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, _body, done) => done(null, undefined));
    for (const url of ['/api/v2/:service/_table/:view', '/api/v2/:service/_table/:view/:id']) {
      scope.route({ method: [...WRITE_METHODS], url, handler: write });
    }
  });
}

export const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;

export function newRequestId(): string {
  return randomUUID();
}
