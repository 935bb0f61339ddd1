// The console's JSON API routes (docs/console.md, "JSON API"); each answer is built by its own module.
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { sendJson } from '../http/envelope.js';
import type { AdminGuard } from './caller.js';
import { overview } from './overview.js';

export function apiRoutes(app: FastifyInstance, rt: Runtime, guard: AdminGuard): void {
  app.get('/admin/api/overview', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await overview(rt, String(req.id)));
  });
}
