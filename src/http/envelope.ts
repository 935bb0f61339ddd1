// The DreamFactory-style error envelope both HTTP surfaces answer with; never a stack trace.
import type { FastifyReply } from 'fastify';
import type { ApiError } from '../errors.js';
import { toJson } from '../values.js';

export { toApiError } from '../gateway/index.js';

export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).header('content-type', 'application/json; charset=utf-8').send(toJson(body));
}

export function sendError(reply: FastifyReply, err: ApiError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return sendJson(reply, err.status, errorBody(err));
}

/** `{"error":{"code","message","context"}}` */
export function errorBody(err: ApiError): { error: { code: number; message: string; context: Record<string, unknown> } } {
  return { error: { code: err.envelopeCode, message: err.message, context: err.context } };
}
