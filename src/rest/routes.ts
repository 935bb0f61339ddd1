// REST surface (SPEC 6): DreamFactory-compatible URLs and envelope over the one gateway.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.js';
import type { RequestContext } from '../gateway.js';
import type { Credentials, Identity } from '../policy/identity.js';
import { parseRestQuery } from '../query/client-query.js';
import { ApiError, notFound } from '../errors.js';
import { toJson } from '../values.js';
import { sendError, toApiError } from './envelope.js';

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

/** Runs one API request: authenticate, handle, audit (failing closed if configured), reply. */
function handler(rt: Runtime, action: string, fn: (identity: Identity, req: FastifyRequest<{ Params: Params }>, ctx: RequestContext) => Promise<unknown>) {
  return async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const started = performance.now();
    const ctx: RequestContext = { requestId: String(req.id), surface: 'rest', action };
    let status = 200;
    let body: unknown;
    let error: ApiError | undefined;
    try {
      ctx.identity = await rt.auth.authenticate(credentialsFrom(req.headers));
      body = await fn(ctx.identity, req, ctx);
    } catch (err) {
      error = toApiError(err, rt.log, ctx.requestId);
      status = error.status;
    }
    const ok = await rt.audit.record({
      time: new Date().toISOString(),
      requestId: ctx.requestId,
      surface: 'rest',
      action,
      subject: ctx.identity?.subject,
      role: ctx.identity?.role,
      keyName: ctx.identity?.keyName,
      view: ctx.view,
      fields: ctx.fields,
      filter: ctx.filter,
      rowCount: ctx.rowCount,
      decision: status < 400 ? 'allow' : status === 401 || status === 403 || status === 404 ? 'deny' : 'error',
      status,
      latencyMs: Math.round((performance.now() - started) * 100) / 100,
    });
    if (!ok && rt.audit.failClosed) {
      error = new ApiError(503, 'the audit log cannot be written, and this server refuses requests it cannot audit', {});
    }
    if (error) return sendError(reply, error);
    return sendWithEtag(req, reply, toJson(body));
  };
}

function sendWithEtag(req: FastifyRequest, reply: FastifyReply, text: string): FastifyReply {
  const etag = `"${createHash('sha256').update(text).digest('base64url').slice(0, 27)}"`;
  reply.header('etag', etag);
  const inm = req.headers['if-none-match'];
  if (typeof inm === 'string' && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
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
      const q = parseRestQuery(req.query as Record<string, unknown>);
      return gw.getRow(identity, id, req.params.id!, { fields: q.fields }, ctx);
    }),
  );
}

export function newRequestId(): string {
  return randomUUID();
}
