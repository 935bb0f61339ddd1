// CORS from server.cors.origins (docs/operations.md, "CORS"), for the plugins registered in the
// scope it is registered in. @fastify/cors answers every preflight through one `OPTIONS *` route
// of its own, so it is registered once per server, in the scope of the plugins browsers may read.
import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyInstance } from 'fastify';

export async function registerCors(scope: FastifyInstance, origins: string[]): Promise<void> {
  if (origins.length === 0) return;
  const options: FastifyCorsOptions = {
    origin: origins.includes('*') ? '*' : origins,
    methods: ['GET', 'HEAD'],
    allowedHeaders: ['Authorization', 'X-API-Key', 'X-DreamFactory-API-Key', 'If-None-Match', 'X-Request-Id'],
    exposedHeaders: [
      'Allow',
      'ETag',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'RateLimit-Policy',
      'WWW-Authenticate',
      'X-Request-Id',
    ],
    maxAge: 600,
  };
  // Given per request (the same each time), so responses vary on Origin even for `*`.
  await scope.register(cors, { delegator: (_req, cb) => cb(null, options) });
}
