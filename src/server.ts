// The HTTP server: REST routes, OpenAPI and /docs, health and metrics endpoints and MCP, on one
// Fastify instance. Request bounds, checked before anything parses or recurses: body size
// (server.bodyLimit), JSON nesting (MAX_JSON_DEPTH), URL (MAX_URL_LENGTH), path parameters (500).
// Every request is audited exactly once (src/ops/request-audit.ts). CORS for the REST surface from
// server.cors.origins (MCP checks Origin itself).
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { Runtime } from './runtime.js';
import { registerRestRoutes, newRequestId } from './rest/routes.js';
import { registerHealthRoutes } from './rest/health.js';
import { registerMcpRoutes, MCP_PATH, RESOURCE_METADATA_PATH } from './mcp/http.js';
import { registerOpenApiRoutes } from './rest/openapi.js';
import { sendError, toApiError } from './rest/envelope.js';
import { ApiError } from './errors.js';
import { jsonNestsDeeperThan, tooDeep } from './ops/json-depth.js';
import { clientErrorHandler, registerAuditGuarantee } from './ops/request-audit.js';

export async function buildServer(rt: Runtime): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: rt.log as FastifyBaseLogger,
    bodyLimit: rt.config.server.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : newRequestId();
    },
    // Path parameters are short names and keys; a huge one is refused rather than routed.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    clientErrorHandler: clientErrorHandler(rt),
  });
  registerAuditGuarantee(app, rt);
  // JSON bodies (MCP messages): refused when they nest too deeply, before JSON.parse and before
  // the MCP SDK (which serializes and validates them recursively) sees them.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    if (jsonNestsDeeperThan(body as string)) {
      done(tooDeep('the request body'), undefined);
      return;
    }
    void parseJson(req, body as string, done);
  });
  app.addHook('onRequest', async (req, reply) => {
    if (req.url.length > MAX_URL_LENGTH) {
      return sendError(reply, new ApiError('uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters; narrow the query (fewer ids or a shorter filter)`));
    }
  });
  // While shutting down, responses to in-flight requests close their connection, so close() does
  // not wait for kept-alive sockets to time out (src/shutdown.ts).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (closing) reply.header('connection', 'close');
  });
  if (rt.config.server.cors.origins.length > 0) await app.register(cors, { delegator: corsFor(rt.config.server.cors.origins) });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ApiError('not_found', `no route ${req.method} ${req.url.split('?')[0]}; the REST API lives under /api/v2/{service}/_table`)),
  );
  app.setErrorHandler((err, req, reply) => sendError(reply, toApiError(err, rt.log, String(req.id))));
  registerHealthRoutes(app, rt);
  registerRestRoutes(app, rt);
  registerOpenApiRoutes(app, rt);
  registerMcpRoutes(app, rt);
  return app;
}

export const MAX_URL_LENGTH = 8192;

/** CORS for everything but /mcp and its metadata, which answer Origin themselves (src/mcp/http.ts). */
function corsFor(origins: string[]) {
  const options: FastifyCorsOptions = {
    origin: origins.includes('*') ? '*' : origins,
    methods: ['GET', 'HEAD'],
    allowedHeaders: ['Authorization', 'X-API-Key', 'X-DreamFactory-API-Key', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: ['Allow', 'ETag', 'Retry-After', 'RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset', 'RateLimit-Policy', 'WWW-Authenticate', 'X-Request-Id'],
    maxAge: 600,
  };
  return (req: { url: string }, cb: (err: Error | null, o: FastifyCorsOptions) => void) => {
    const path = req.url.split('?')[0]!;
    const own = path === MCP_PATH || path.startsWith(RESOURCE_METADATA_PATH);
    cb(null, own ? { origin: false } : options);
  };
}
