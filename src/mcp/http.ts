// MCP over Streamable HTTP at /mcp on the serve process (docs/mcp.md), stateless:
//
//   onRequest (before the body is read): Origin check (403), then the gateway verifies the
//     credentials as for REST (401 with WWW-Authenticate naming the resource metadata; 403 for a
//     valid credential whose role is unknown);
//   body: refused with 400 when it nests too deeply (src/server.ts), before it is parsed;
//   audit: the gateway writes each tool call's record; a request with none (refused, not a tool
//     call, failed) gets one through src/http/request-audit.ts, which this plugin tells what it was;
//   handler: a plain tools/call (one well-formed request for a tool the caller has, with valid
//     arguments) is answered by src/mcp/direct-call.ts, without a per-request McpServer. Every
//     other message goes to the SDK's createMcpHandler (2026-07-28 per-request serving, plus the
//     stateless fallback for 2025-era clients): it gets a web Request built from Fastify's request
//     (method, URL, headers) together with the parsed body, and builds a fresh McpServer for the
//     caller's identity. Either answer goes back through reply.send, so Fastify's hooks (request
//     id, logging) still apply.
//
// The credential itself is never handed to the SDK or anything else: the server factory receives
// only the verified identity (AuthInfo.token is left empty).
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { createMcpHandler, type AuthInfo, type McpHttpHandler } from '@modelcontextprotocol/server';
import type { Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import type { Gateway } from '../gateway/index.js';
import { clientGone } from '../http/client-gone.js';
import { credentialsFrom } from '../http/credentials.js';
import { sendError, sendJson } from '../http/envelope.js';
import { describeForAudit, markAudited } from '../http/request-audit.js';
import type { McpCaller } from './caller.js';
import { traceparentOf } from '../http/trace-context.js';
import { loadPrompts, type PromptTemplate } from './prompts.js';
import { answerToolCall, plainToolCall } from './direct-call.js';
import { createMcpServer, offerFor } from './server.js';
import { wholeBody } from './whole-body.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified MCP caller (the /mcp guard); null elsewhere. */
    mcpCaller: McpCaller | null;
  }
}

const MCP_PATH = '/mcp';
const RESOURCE_METADATA_PATH = '/.well-known/oauth-protected-resource';

const CORS_ALLOW_HEADERS = 'Authorization, Content-Type, Accept, X-API-Key, Mcp-Protocol-Version, Mcp-Session-Id, Last-Event-ID';
const CORS_EXPOSE_HEADERS = 'WWW-Authenticate, Mcp-Session-Id, Mcp-Protocol-Version, X-Request-Id';

/** MCP over Streamable HTTP, its CORS preflight and the resource metadata, as one plugin. */
export const mcpPlugin: FastifyPluginAsync<{ gateway: Gateway }> = async (app, { gateway }) => {
  const config = gateway.config;
  // The verified caller, set by the guard: a field of this plugin's requests (see request-audit.ts).
  app.decorateRequest('mcpCaller', null);
  const prompts = loadPrompts();
  const handler = sdkMcpHandler(gateway, prompts, (err) => app.log.debug({ err }, 'mcp request rejected by the protocol layer'));
  app.addHook('onClose', async () => handler.close());

  const guard = async (req: FastifyRequest, reply: FastifyReply) => {
    // Until a tool call writes its own record, this request is audited as `connect`.
    describeForAudit(req, { surface: 'mcp', action: 'connect' });
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!originAllowed(origin, config.server.mcp.allowedOrigins)) {
        return sendError(
          reply,
          new ApiError(
            'forbidden',
            `Origin ${JSON.stringify(origin)} may not use ${MCP_PATH}; server.mcp.allowedOrigins lists the origins that may`,
            { origin },
          ),
        );
      }
      corsHeaders(reply, origin);
    }
    const who = await gateway.authenticate(credentialsFrom(req), String(req.id));
    if (who.ok) {
      const { identity } = who;
      req.mcpCaller = { identity, requestId: String(req.id), ...traceparentOf(req.headers), onAudited: () => markAudited(req) };
      describeForAudit(req, { surface: 'mcp', action: 'connect', identity });
      return;
    }
    const e = who.error;
    if (who.identity) describeForAudit(req, { surface: 'mcp', action: 'connect', identity: who.identity });
    if (e.status !== 401) return sendError(reply, e);
    // The authenticator's challenge (error, error_description) plus where to find the metadata.
    const challenge = (e.headers['WWW-Authenticate'] ?? 'Bearer').replace(/^Bearer\s*/, '').replace(/^realm="[^"]*",?\s*/, '');
    const params = [`resource_metadata="${publicUrl(config, req)}${RESOURCE_METADATA_PATH}"`, ...(challenge ? [challenge] : [])];
    return sendError(reply, new ApiError('unauthorized', e.message, e.context, { 'WWW-Authenticate': `Bearer ${params.join(', ')}` }));
  };

  app.route({
    method: ['GET', 'POST', 'DELETE'],
    url: MCP_PATH,
    onRequest: guard,
    handler: async (req, reply) => {
      const caller = req.mcpCaller!;
      // A message that is not a tool call (initialize, tools/list, a notification, a call the SDK
      // refuses before any tool runs) is audited under its JSON-RPC method.
      const method = rpcMethod(req.body);
      describeForAudit(req, { surface: 'mcp', action: method ?? 'connect', identity: caller.identity });
      // A client that disconnects aborts the exchange, and with it the tool call's signal (its store queries stop).
      const gone = clientGone(reply);
      const plain = method === 'tools/call' ? plainToolCall(req.headers, req.body) : undefined;
      const direct = plain && (await answerToolCall(gateway, caller, plain, gone));
      if (direct) {
        describeForAudit(req, { surface: 'mcp', action: 'tools/call', identity: caller.identity, streams: false });
        return reply.code(200).headers(direct.headers).send(direct.body);
      }
      // The server is built for this one message: its method says which tools, resources or prompts it needs.
      const tool = method === 'tools/call' ? rpcToolName(req.body) : undefined;
      const authInfo: AuthInfo = { token: '', clientId: caller.identity.subject, scopes: [], extra: { caller, method, tool } };
      const request = webRequest(req, gone.signal);
      const response = await handler.fetch(request, { authInfo, ...(req.body !== undefined ? { parsedBody: req.body } : {}) });
      const runsTools = method === 'tools/call' || method === 'resources/read' || method === 'batch';
      // An answer that is complete once it is here (JSON, or an event stream that ended with its
      // first event: a stateless exchange's one response) is sent as one string, so it leaves in
      // one socket write (headers and body together) instead of a piped stream's several.
      const whole = await wholeBody(response);
      describeForAudit(req, {
        surface: 'mcp',
        action: method ?? 'connect',
        identity: caller.identity,
        streams: runsTools && whole.stream !== null,
      });
      if (whole.text !== undefined) {
        response.headers.forEach((value, name) => void reply.header(name, value));
        return reply.code(response.status).send(whole.text);
      }
      if (whole.stream !== response.body) {
        response.headers.delete('content-length');
        return reply.code(response.status).send(new Response(whole.stream, response));
      }
      // The status now, not when Fastify unpacks the Response after the onSend hooks: the audit
      // record of a request that runs no tool is written in onSend (src/http/request-audit.ts).
      return reply.code(response.status).send(response);
    },
  });

  // CORS preflight for browser-based MCP clients on an allowed origin.
  app.options(MCP_PATH, async (req, reply) => {
    describeForAudit(req, { surface: 'mcp', action: 'preflight' });
    const origin = req.headers.origin;
    if (origin === undefined || !originAllowed(origin, config.server.mcp.allowedOrigins)) {
      return sendError(reply, new ApiError('forbidden', `Origin ${JSON.stringify(origin ?? '')} may not use ${MCP_PATH}`));
    }
    corsHeaders(reply, origin);
    return reply
      .code(204)
      .header('access-control-allow-methods', 'GET, POST, DELETE')
      .header('access-control-allow-headers', CORS_ALLOW_HEADERS)
      .header('access-control-max-age', '600')
      .send();
  });

  // RFC 9728 protected resource metadata, at the root and at the path-aware location for /mcp.
  const metadata = async (req: FastifyRequest, reply: FastifyReply) => {
    reply.header('access-control-allow-origin', '*').header('cache-control', 'public, max-age=300');
    return sendJson(reply, 200, resourceMetadata(config, req));
  };
  app.get(RESOURCE_METADATA_PATH, metadata);
  app.get(`${RESOURCE_METADATA_PATH}${MCP_PATH}`, metadata);
  // A GET of the metadata is a simple request: it answers no preflight, whatever CORS the REST
  // surface has (server.cors).
  app.options(`${RESOURCE_METADATA_PATH}*`, (_req, reply) => reply.callNotFound());
};

/**
 * The SDK's handler: per request, a server for the caller that `authInfo.extra` carries (with the
 * message's method and tool, which say what the server registers).
 */
export function sdkMcpHandler(gateway: Gateway, prompts: PromptTemplate[], onerror: (err: Error) => void): McpHttpHandler {
  return createMcpHandler(
    (ctx) => {
      const caller = ctx.authInfo?.extra?.caller as McpCaller | undefined;
      if (!caller) throw new Error('an MCP request reached the server factory without an identity');
      const extra = ctx.authInfo?.extra;
      return createMcpServer(gateway, caller, prompts, offerFor(extra?.method as string | undefined, extra?.tool as string | undefined));
    },
    { onerror },
  );
}

/**
 * The protected resource is the whole server (`server.publicUrl`): one audience (`auth.jwt.audience`)
 * covers REST and MCP alike. Authorization servers: `server.mcp.authorizationServers`, or else the
 * JWT issuer when it is a URL.
 */
function resourceMetadata(config: Config, req: FastifyRequest): Record<string, unknown> {
  const configured = config.server.mcp.authorizationServers;
  const issuer = config.auth.jwt?.issuer;
  const servers = configured.length > 0 ? configured : issuer && URL.canParse(issuer) ? [issuer] : [];
  return {
    resource: publicUrl(config, req),
    authorization_servers: servers,
    bearer_methods_supported: ['header'],
    resource_name: 'viewgate',
  };
}

/** `server.publicUrl` without a trailing slash; without one configured, the URL the request came to. */
function publicUrl(config: Config, req: FastifyRequest): string {
  return (config.server.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
}

/**
 * Whether a request's Origin is listed. Entries are origins (`http://localhost`: any port of that
 * scheme and host; `http://localhost:3000`: that port only), bare host names (`localhost`: any
 * scheme and port) or `*`. An Origin that is not a URL (`null`) is never allowed unless `*` is.
 */
export function originAllowed(origin: string, allowed: string[]): boolean {
  if (allowed.includes('*')) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false;
  }
  return allowed.some((entry) => {
    if (!entry.includes('://')) return o.hostname === entry.toLowerCase();
    let e: URL;
    try {
      e = new URL(entry);
    } catch {
      return false;
    }
    return e.protocol === o.protocol && e.hostname === o.hostname && (e.port === '' || e.port === o.port);
  });
}

function corsHeaders(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin).header('vary', 'Origin').header('access-control-expose-headers', CORS_EXPOSE_HEADERS);
}

/**
 * Headers the web Request handed to the SDK does not carry: those describing a body's bytes (the
 * Request has none) and the credentials (the SDK gets the verified identity, never the credential).
 */
const DROPPED_HEADERS = new Set([
  'content-length',
  'content-encoding',
  'transfer-encoding',
  'authorization',
  'x-api-key',
  'x-dreamfactory-api-key',
]);

/**
 * The web Request handed to the SDK: method, URL, headers (what the SDK reads) and the abort
 * signal. The SDK reads a message from `parsedBody`, never from the Request, so the body is not
 * serialized again.
 */
function webRequest(req: FastifyRequest, signal: AbortSignal): Request {
  const raw = req.raw;
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw.headers)) {
    if (value === undefined || name.startsWith(':') || DROPPED_HEADERS.has(name)) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const host = raw.headers.host ?? raw.headers[':authority'] ?? 'localhost';
  return new Request(`http://${String(host)}${raw.url ?? '/'}`, { method: (raw.method ?? 'POST').toUpperCase(), headers, signal });
}

/** The JSON-RPC method of a message body (`batch` for a list), if it has one. */
function rpcMethod(body: unknown): string | undefined {
  if (Array.isArray(body)) return 'batch';
  const method = (body as { method?: unknown } | null | undefined)?.method;
  return typeof method === 'string' ? method.slice(0, 100) : undefined;
}

/** The tool a tools/call message names, if it names one as text. */
function rpcToolName(body: unknown): string | undefined {
  const name = (body as { params?: { name?: unknown } } | null | undefined)?.params?.name;
  return typeof name === 'string' ? name : undefined;
}
