// The HTTP server: REST routes, health endpoints and (later) MCP, on one Fastify instance.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Runtime } from './runtime.js';
import { registerRestRoutes, newRequestId } from './rest/routes.js';
import { registerHealthRoutes } from './rest/health.js';
import { registerMcpRoutes } from './mcp/http.js';
import { sendError, toApiError } from './rest/envelope.js';
import { ApiError } from './errors.js';

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
  });
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, new ApiError(404, `no route ${req.method} ${req.url.split('?')[0]}; the REST API lives under /api/v2/{service}/_table`)),
  );
  app.setErrorHandler((err, req, reply) => sendError(reply, toApiError(err, rt.log, String(req.id))));
  registerHealthRoutes(app, rt);
  registerRestRoutes(app, rt);
  registerMcpRoutes(app, rt);
  return app;
}
