// The DreamFactory-style error envelope and status mapping; never a stack trace.
import type { FastifyReply } from 'fastify';
import { ApiError, frameworkErrorKind, StoreError } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import { toJson } from '../values.js';

export function toApiError(err: unknown, log: Logger, requestId: string): ApiError {
  // The caller is told the store's name; the log gets what the driver said (docs/security.md).
  if (err instanceof StoreError) log.warn({ requestId, store: err.source, reason: err.reason, detail: err.detail }, err.message);
  else if (err instanceof ApiError && err.status >= 500 && err.cause !== undefined) log.warn({ requestId, detail: String(err.cause) }, err.message);
  if (err instanceof ApiError) return err;
  const e = err as { statusCode?: number; message?: string; code?: string };
  // Fastify's own client errors (body too large, bad content type, ...).
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new ApiError(frameworkErrorKind(e.statusCode), e.message ?? 'bad request');
  }
  log.error({ err, requestId }, 'unexpected error');
  return new ApiError('internal', `internal error; the server log has details under request id ${requestId}`, { requestId });
}

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(toJson(body));
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return sendJson(reply, err.status, { error: { code: err.envelopeCode, message: err.message, context: err.context } });
}
