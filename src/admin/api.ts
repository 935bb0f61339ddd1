// The console's JSON API routes (docs/console.md, "JSON API"); each answer is built by its own module.
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { sendJson } from '../http/envelope.js';
import type { AdminGuard } from './caller.js';
import { overview } from './overview.js';
import { views } from './views.js';
import { roles } from './roles.js';
import { checks } from './check.js';

export function apiRoutes(app: FastifyInstance, rt: Runtime, guard: AdminGuard): void {
  app.get('/admin/api/overview', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await overview(rt, String(req.id)));
  });
  app.get('/admin/api/views', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await views(rt));
  });
  app.get('/admin/api/roles', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await roles(rt));
  });
  app.get('/admin/api/check', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await checks(rt.config));
  });
}
