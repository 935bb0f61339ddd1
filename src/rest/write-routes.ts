// Writes over REST (docs/writes.md): POST, PATCH, PUT and DELETE on /_table/{table} and
// /_table/{table}/{id}, translated into one gateway request each. The body is read as bytes and
// parsed inside the pipeline, after the gateway has decided 404, 405 or 403 from the grant alone,
// so those answers never depend on the body; the audit action names what the request does.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { jsonNestsDeeperThan, tooDeep, type Gateway } from '../gateway/index.js';
import { parseWriteRequest } from '../gateway/write/request.js';
import { ApiError, badRequest } from '../errors.js';
import { toJson } from '../values.js';
import { clientGone } from '../http/client-gone.js';
import { credentialsFrom, refuseUrlCredentials } from '../http/credentials.js';
import { sendError } from '../http/envelope.js';
import { traceparentOf } from '../http/trace-context.js';
import { markAudited } from '../http/request-audit.js';

type Params = { service: string; view: string; id?: string };

const WRITE_METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
const AUDIT_ACTIONS: Record<string, string> = { POST: 'insert', PATCH: 'update', PUT: 'update', DELETE: 'delete' };

/** The JSON body, or undefined when there is none; anything but JSON is a 415. */
function bodyOf(req: FastifyRequest): unknown {
  const raw = req.body as Buffer | undefined;
  if (!raw || raw.length === 0) return undefined;
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/([a-z0-9.+-]*\+)?json\s*(;|$)/i.test(type)) {
    throw new ApiError('unsupported_media_type', 'a write body is JSON: send Content-Type: application/json', { param: 'resource' });
  }
  const text = raw.toString('utf8');
  if (jsonNestsDeeperThan(text)) throw tooDeep('the request body');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('the body is not valid JSON', { param: 'resource' });
  }
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** Registers the write routes in their own scope (bodies read as bytes, whatever their content type). */
export async function registerWriteRoutes(app: FastifyInstance, gateway: Gateway): Promise<void> {
  const handler = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
    const outcome = await gateway.handle({
      requestId: String(req.id),
      surface: 'rest',
      action: AUDIT_ACTIONS[req.method] ?? 'write',
      caller: {
        credentials: () => {
          refuseUrlCredentials(req.query);
          return credentialsFrom(req);
        },
      },
      operation: {
        op: 'write',
        view: `${req.params.service}.${req.params.view}`,
        method: req.method,
        parse: () =>
          parseWriteRequest({
            method: req.method,
            ...(req.params.id !== undefined ? { id: req.params.id } : {}),
            query: req.query as Record<string, unknown>,
            body: bodyOf(req),
            headers: { ifMatch: header(req, 'if-match'), idempotencyKey: header(req, 'idempotency-key') },
          }),
      },
      signal: clientGone(reply),
      ...traceparentOf(req.headers),
    });
    markAudited(req);
    reply.header('cache-control', 'no-store');
    if (!outcome.ok) return sendError(reply, outcome.error);
    return reply.code(outcome.value.status).header('content-type', 'application/json; charset=utf-8').send(toJson(outcome.value.body));
  };
  await app.register(async (scope: FastifyInstance) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    for (const url of ['/api/v2/:service/_table/:view', '/api/v2/:service/_table/:view/:id']) {
      scope.route<{ Params: Params }>({ method: [...WRITE_METHODS], url, handler });
    }
  });
}
