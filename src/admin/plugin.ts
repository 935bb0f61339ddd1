// The console under /admin (docs/console.md): sign-in, the pages, their assets and the JSON API.
// Every /admin response carries a strict Content-Security-Policy (no inline scripts, nothing from
// elsewhere), nosniff and no referrer. The API answers the error envelope: 401 without a session or
// credentials, 403 for other roles; every POST on a cookie session needs the session's
// X-CSRF-Token header. Requests are audited by the every-request hook, naming the caller.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Runtime } from '../runtime.js';
import type { AdminConfig } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { describeForAudit } from '../http/request-audit.js';
import { sendJson } from '../http/envelope.js';
import { adminCaller, adminRolesOf, personIdentity, sessionOf, type AdminGuard } from './caller.js';
import { consoleAsset, consoleIndex, NOT_BUILT, refusedPage } from './pages.js';
import { csrfToken, sameToken, SessionStore } from './sessions.js';
import { OidcLogin } from './oidc.js';
import { logout, signInRoutes } from './sign-in.js';
import { apiRoutes } from './api.js';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export async function adminPlugin(app: FastifyInstance, opts: { rt: Runtime }): Promise<void> {
  const { rt } = opts;
  const sessions = new SessionStore(rt.redis);
  const adminConfig = (): AdminConfig => {
    const admin = rt.config.admin;
    if (!admin) throw new ApiError('not_found', 'the console is not configured; add an `admin` section to the configuration');
    return admin;
  };

  app.addHook('onSend', async (_req, reply) => {
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
  });

  signInRoutes(app, { admin: adminConfig, sessions, oidc: new OidcLogin(), log: rt.log });

  const guard: AdminGuard = async (req) => {
    const admin = adminConfig();
    const caller = await adminCaller(req, admin, sessions, rt.gateway);
    describeForAudit(req, { surface: 'rest', action: `admin ${req.method} ${req.routeOptions.url ?? ''}`, identity: caller.identity });
    if (req.method === 'POST' && caller.kind === 'person') {
      const given = req.headers['x-csrf-token'];
      if (!sameToken(typeof given === 'string' ? given : undefined, csrfToken(caller.session.id, admin.sessionSecret))) {
        throw new ApiError(
          'forbidden',
          'this request needs the X-CSRF-Token header of your session (csrfToken from GET /admin/api/session)',
        );
      }
    }
    return caller;
  };

  app.post('/admin/logout', async (req, reply) => {
    const caller = await guard(req);
    if (caller.kind !== 'person') throw new ApiError('bad_request', 'only a signed-in person has a session to end');
    return logout(req, reply, adminConfig(), sessions, caller.session.id);
  });

  app.get('/admin/api/session', async (req, reply) => {
    const caller = await guard(req);
    if (caller.kind !== 'person') throw new ApiError('forbidden', 'this endpoint describes a signed-in person; API keys have no session');
    const { session, roles } = caller;
    return sendJson(reply, 200, {
      subject: session.subject,
      ...(session.name !== undefined ? { name: session.name } : {}),
      roles,
      csrfToken: csrfToken(session.id, adminConfig().sessionSecret),
      expiresAt: new Date(session.expiresAt).toISOString(),
    });
  });

  apiRoutes(app, rt, guard);

  // Anything else under /admin/api is an API route that does not exist, not a page.
  app.all('/admin/api/*', async (req) => {
    await guard(req);
    throw new ApiError('not_found', `no route ${req.method} ${req.url.split('?')[0]}; the console's API is described in /openapi.json`);
  });

  app.get('/admin/assets/*', async (req, reply) => {
    adminConfig();
    const file = await consoleAsset((req.params as { '*': string })['*']);
    if (!file) throw new ApiError('not_found', 'no such console asset');
    return reply.header('content-type', file.contentType).header('cache-control', file.cacheControl).send(file.body);
  });

  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const admin = adminConfig();
    const session = await sessionOf(req, admin, sessions);
    if (!session) return reply.redirect(`/admin/login?next=${encodeURIComponent(req.url)}`, 302);
    const role = adminRolesOf(session.claims, admin)[0];
    if (role === undefined) {
      return reply.code(403).type('text/html; charset=utf-8').send(refusedPage('None of your roles may open the console (admin.roles).'));
    }
    describeForAudit(req, { surface: 'rest', action: 'admin page', identity: personIdentity(session, role) });
    const index = await consoleIndex();
    if (!index) return reply.code(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return reply.type('text/html; charset=utf-8').send(index);
  };
  app.get('/admin', page);
  app.get('/admin/*', page);
}
