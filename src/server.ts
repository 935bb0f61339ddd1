// The HTTP server: one Fastify instance with the surfaces as encapsulated plugins, each with its own
// hooks: REST (src/rest/routes.ts), OpenAPI and /docs (src/rest/openapi.ts), health and metrics
// (src/rest/health.ts), MCP (src/mcp/http.ts), the console (src/admin/plugin.ts). Global to every plugin: request bounds, checked
// before anything parses or recurses: body size (server.bodyLimit), JSON nesting (MAX_JSON_DEPTH),
// URL (MAX_URL_LENGTH), path parameters (500); the request id; the audit of every request
// (src/http/request-audit.ts); the 404 and error handlers. CORS from server.cors.origins for REST,
// the API description and the probes (MCP checks Origin itself).
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Runtime } from './runtime.js';
import { storesDown } from './runtime.js';
import { restPlugin } from './rest/routes.js';
import { healthPlugin } from './rest/health.js';
import { mcpPlugin } from './mcp/http.js';
import { adminPlugin } from './admin/plugin.js';
import { docsPlugin } from './rest/openapi.js';
import { registerCors } from './http/cors.js';
import { sendError, toApiError } from './http/envelope.js';
import { clientErrorHandler, registerAuditGuarantee } from './http/request-audit.js';
import { requestLogger } from './http/request-logger.js';
import { ApiError } from './errors.js';
import { jsonNestsDeeperThan, tooDeep } from './ops/json-depth.js';

export async function buildServer(rt: Runtime): Promise<FastifyInstance> {
  const tls = rt.config.server.tls;
  const app = Fastify({
    ...(tls ? { https: { cert: tls.cert.pem, key: tls.key.pem } } : {}),
    loggerInstance: rt.log as FastifyBaseLogger,
    childLoggerFactory: requestLogger,
    bodyLimit: rt.config.server.bodyLimit,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Path parameters are short names and keys; a huge one is refused rather than routed.
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    clientErrorHandler: clientErrorHandler(rt.gateway),
  });
  registerAuditGuarantee(app, rt.gateway);
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
  // The global hooks take Fastify's callback: every request runs them, and an async hook costs a
  // promise and a turn of the microtask queue each.
  app.addHook('onRequest', (req, reply, done) => {
    if (req.url.length <= MAX_URL_LENGTH) return done();
    // Answered here: the rest of the chain does not run.
    sendError(
      reply,
      new ApiError('uri_too_long', `the URL is longer than ${MAX_URL_LENGTH} characters; narrow the query (fewer ids or a shorter filter)`),
    );
  });
  // While shutting down, responses to in-flight requests close their connection, so close() does
  // not wait for kept-alive sockets to time out (src/shutdown.ts).
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', (req, reply, payload, done) => {
    reply.header('x-request-id', req.id);
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(
      reply,
      new ApiError('not_found', `no route ${req.method} ${req.url.split('?')[0]}; the REST API lives under /api/v2/{service}/_table`),
    ),
  );
  app.setErrorHandler((err, req, reply) => sendError(reply, toApiError(err, rt.log, String(req.id))));

  // What browsers may read, in one scope: CORS is registered once for all of it.
  await app.register(async (browsers) => {
    await registerCors(browsers, rt.config.server.cors.origins);
    await browsers.register(restPlugin, { gateway: rt.gateway });
    await browsers.register(docsPlugin, { gateway: rt.gateway });
    await browsers.register(healthPlugin, {
      gateway: rt.gateway,
      storesDown: (requestId) => storesDown(rt, requestId),
      viewsOutOfContract: () => rt.catalog.outOfContract().length,
      exposition: async () => ({ contentType: rt.metrics.contentType(), text: await rt.metrics.exposition() }),
    });
  });
  await app.register(mcpPlugin, { gateway: rt.gateway });
  // The console (same origin only, so outside the CORS scope); its routes answer 404 without `admin`.
  await app.register(adminPlugin, { rt });
  return app;
}

const MAX_URL_LENGTH = 8192;
