// Every HTTP request that reaches viewgate is audited exactly once, whatever its outcome
// (docs/operations.md, "What is audited"). The gateway writes the detailed record of a request it
// ran (a REST request, each MCP tool call) and the surface marks the request; a request that no
// one marked gets one record here, through the gateway, just before its answer is sent: refused by a limit
// (414, 413), a body that does not parse (400), an unknown route (404), an MCP request turned away
// by the Origin or credential check, an MCP message that is not a tool call, a 500. Only the health
// and metrics probes are left out, unless they were refused (4xx).
import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiError } from '../errors.js';
import type { Gateway, Identity, Surface } from '../gateway/index.js';
import { toJson } from '../values.js';
import { errorBody } from './envelope.js';

/** What the record of an otherwise unaudited request says it was; the default is its route. */
export interface AuditFallback {
  surface: Surface;
  action: string;
  identity?: Identity;
  /** The console's simulator: the identity key of the person who ran the request as `identity`. */
  simulatedBy?: string;
  /** Tool calls inside the streamed response (MCP over SSE) write records: decide once it has ended. */
  streams?: boolean;
}

const UNAUDITED_PROBES = new Set(['/healthz', '/readyz', '/metrics']);

declare module 'fastify' {
  interface FastifyRequest {
    /** The pipeline wrote this request's record (markAudited). */
    auditWritten: boolean;
    /** What the record of this request says it was, if the pipeline writes none (describeForAudit). */
    auditAs: AuditFallback | null;
  }
}

/** The pipeline wrote this request's record (or records) itself. */
export function markAudited(req: FastifyRequest): void {
  req.auditWritten = true;
}

/** Says what an unaudited request was, for its fallback record (e.g. MCP `connect`, `tools/list`). */
export function describeForAudit(req: FastifyRequest, fallback: AuditFallback): void {
  req.auditAs = fallback;
}

/** The longest request path an audit record keeps (a 414's URL can be kilobytes). */
const MAX_PATH_IN_RECORD = 256;

export function registerAuditGuarantee(app: FastifyInstance, gateway: Gateway): void {
  // Fields of every request (set in its constructor, so every request has one shape), not weak
  // collections keyed by the request: an entry added per request costs a microsecond, and more in
  // every young-generation collection while the request lives.
  app.decorateRequest('auditWritten', false);
  app.decorateRequest('auditAs', null);
  // Both hooks run on every request, most of them audited already by the pipeline: those pass
  // through Fastify's callback without a promise.
  // Written before the answer leaves, so the record exists when the client has it, and a success
  // that cannot be audited becomes a 503 when the server fails closed ...
  app.addHook('onSend', (req, reply, payload, done) => {
    if (req.auditWritten || req.auditAs?.streams) return done(null, payload);
    fallbackRecord(gateway, req, reply)
      .then((refused) => {
        if (!refused || reply.statusCode >= 400) return payload;
        discard(payload);
        reply.code(refused.status).header('content-type', 'application/json; charset=utf-8').removeHeader('etag');
        return toJson(errorBody(refused));
      })
      .then((sent) => done(null, sent), done);
  });
  // ... except for a streamed MCP response, whose tool calls write their records while it streams.
  app.addHook('onResponse', (req, reply, done) => {
    if (req.auditWritten) return done();
    fallbackRecord(gateway, req, reply).then(() => done(), done);
  });
}

/** Releases a stream body that will not be sent. */
function discard(payload: unknown): void {
  const p = (payload instanceof Response ? payload.body : payload) as { cancel?: () => Promise<void>; destroy?: () => void } | null;
  if (typeof p?.cancel === 'function') void p.cancel().catch(() => {});
  else if (typeof p?.destroy === 'function') p.destroy();
}

/** Writes the record of an unmarked request; the 503 to answer instead when it could not be written and the server fails closed. */
async function fallbackRecord(gateway: Gateway, req: FastifyRequest, reply: FastifyReply): Promise<ApiError | undefined> {
  if (req.auditWritten) return undefined;
  const route = req.routeOptions.url;
  const status = reply.statusCode;
  if (route !== undefined && UNAUDITED_PROBES.has(route) && !(status >= 400 && status < 500)) return undefined;
  req.auditWritten = true;
  const d = req.auditAs;
  const params = (req.params ?? {}) as Record<string, unknown>;
  const view = typeof params.service === 'string' && typeof params.view === 'string' ? `${params.service}.${params.view}` : undefined;
  // The path without its query string: a query can carry a credential (api_key=...).
  const path = req.url.split('?')[0]!.slice(0, MAX_PATH_IN_RECORD);
  return gateway.record({
    requestId: String(req.id),
    surface: d?.surface ?? 'rest',
    action: d?.action ?? (route !== undefined ? `${req.method} ${route}` : 'no_route'),
    ...(d?.identity ? { identity: d.identity } : {}),
    ...(d?.simulatedBy !== undefined ? { simulatedBy: d.simulatedBy } : {}),
    ...(view !== undefined ? { view } : {}),
    status,
    latencyMs: reply.elapsedTime,
    args: { method: req.method, path },
  });
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (headers or URL beyond 16 KB: 431,
 * a malformed request line: 400, a request that never finished arriving: 408) are answered here
 * in viewgate's error envelope and audited with action `client_error`. A connection that was
 * reset carries no request and is only closed.
 */
export function clientErrorHandler(gateway: Gateway) {
  return (err: Error & { code?: string }, socket: Socket): void => {
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const [status, message] =
      err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request did not arrive in time; send it again']
        : err.code === 'HPE_HEADER_OVERFLOW'
          ? [
              431,
              'the request line and headers are larger than the server accepts (16 KB); shorten the URL (fewer ids or a shorter filter) or the headers',
            ]
          : [400, `the request is not valid HTTP (${err.code ?? 'parse error'})`];
    const requestId = randomUUID();
    const body = JSON.stringify({ error: { code: status, message, context: { requestId } } });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${reason(status)}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json; charset=utf-8\r\nX-Request-Id: ${requestId}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
    void gateway.record({ requestId, surface: 'rest', action: 'client_error', status, latencyMs: 0 });
  };
}

function reason(status: number): string {
  return status === 408 ? 'Request Timeout' : status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
}
