// The console's JSON API routes (docs/console.md, "JSON API"); each answer is built by its own module.
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import { sendJson } from '../http/envelope.js';
import { describeForAudit } from '../http/request-audit.js';
import type { AdminGuard } from './caller.js';
import { overview } from './overview.js';
import { views } from './views.js';
import { roles } from './roles.js';
import { checks } from './check.js';
import { parseSimulation, simulate, simulatedIdentity } from './simulate.js';
import { ApiError } from '../errors.js';
import { AuditSearch } from './audit-search.js';

export function apiRoutes(app: FastifyInstance, rt: Runtime, guard: AdminGuard): void {
  const audit = new AuditSearch();
  app.addHook('onClose', () => audit.close());
  app.get('/admin/api/audit', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await audit.search(rt.config, req.query as Record<string, unknown>));
  });
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
  app.post('/admin/api/simulate', async (req, reply) => {
    const caller = await guard(req);
    if (caller.kind !== 'person') {
      throw new ApiError('forbidden', 'the simulator is for a signed-in person (it is audited under their name); sign in at /admin/login');
    }
    const body = parseSimulation(req.body);
    const identity = await simulatedIdentity(rt, body, caller.identity, String(req.id));
    // The request's own record names the simulated caller and the person who ran it, also when
    // the simulation reads no rows (the read, when there is one, writes its own such record).
    describeForAudit(req, {
      surface: 'rest',
      action: 'admin POST /admin/api/simulate',
      identity,
      simulatedBy: caller.identity.identityKey,
    });
    return sendJson(reply, 200, await simulate(rt, body, identity, caller.identity, String(req.id)));
  });
  app.get('/admin/api/check', async (req, reply) => {
    await guard(req);
    return sendJson(reply, 200, await checks(rt.config));
  });
}
