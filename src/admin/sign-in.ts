// /admin/login, /admin/callback and /admin/logout (docs/console.md, "Single sign-on").
// - login: a pending login (state, nonce, PKCE verifier, where to land) is kept server-side under a
//   signed single-use cookie, and the browser goes to the provider.
// - callback: the pending login is taken (once), the code exchanged and checked; a person with an
//   admin role gets a NEW session id (whatever cookie came in), others a 403 page and no session.
// - logout: POST with the session's X-CSRF-Token; the session is deleted and the cookie cleared.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AdminConfig } from '../config/schema.js';
import { ApiError, operatorDetail } from '../errors.js';
import type { Logger } from '../ops/logger.js';
import { adminRolesOf } from './caller.js';
import { LOGIN_COOKIE, readCookie, SESSION_COOKIE, setCookie } from './cookies.js';
import { safeNext } from './next-path.js';
import { refusedPage } from './pages.js';
import { SESSION_MAX_AGE_MS, sign, unsign, type SessionStore } from './sessions.js';
import type { OidcLogin } from './oidc.js';

export interface SignInDeps {
  admin: () => AdminConfig;
  sessions: SessionStore;
  oidc: OidcLogin;
  log: Logger;
}

/**
 * Cookies are Secure when the request came over TLS, or when the console's public address (the
 * redirect URL) is https: behind a proxy that ends TLS, the request itself arrives as http.
 */
const secure = (req: FastifyRequest, admin: AdminConfig) =>
  req.protocol === 'https' || admin.oidc?.redirectUrl.startsWith('https:') === true;

function oidcOf(admin: AdminConfig): NonNullable<AdminConfig['oidc']> {
  if (!admin.oidc)
    throw new ApiError('not_found', 'single sign-on is not configured (admin.oidc); use an API key of an admin role with /admin/api/');
  return admin.oidc;
}

export function signInRoutes(app: FastifyInstance, deps: SignInDeps): void {
  app.get('/admin/login', async (req, reply) => {
    const admin = deps.admin();
    const oidc = oidcOf(admin);
    const { url, login } = await deps.oidc.start(oidc, safeNext((req.query as Record<string, unknown>).next)).catch((err: unknown) => {
      throw providerDown(deps.log, String(req.id), err);
    });
    const id = await deps.sessions.startLogin(login);
    return reply
      .header('set-cookie', setCookie(LOGIN_COOKIE, sign(id, admin.sessionSecret), 600, secure(req, admin)))
      .redirect(url.href, 302);
  });

  app.get('/admin/callback', async (req, reply) => {
    const admin = deps.admin();
    const oidc = oidcOf(admin);
    const clear = setCookie(LOGIN_COOKIE, '', 0, secure(req, admin));
    const id = unsign(readCookie(req.headers.cookie, LOGIN_COOKIE), admin.sessionSecret);
    const login = id === undefined ? undefined : await deps.sessions.takeLogin(id);
    if (!login) {
      reply.header('set-cookie', clear);
      throw new ApiError('bad_request', 'this sign-in was not started here or has expired (10 minutes); start again at /admin/login');
    }
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    const person = await deps.oidc.finish(oidc, query, login).catch((err: unknown) => {
      reply.header('set-cookie', clear);
      deps.log.warn({ requestId: req.id, err: operatorDetail(err) }, 'console sign-in failed');
      throw new ApiError('bad_request', 'the identity provider did not confirm this sign-in; start again at /admin/login');
    });
    if (adminRolesOf(person.claims, admin).length === 0) {
      return reply
        .code(403)
        .header('set-cookie', clear)
        .type('text/html; charset=utf-8')
        .send(refusedPage(`You are signed in as ${person.name ?? person.subject}, but none of your roles may open the console.`));
    }
    // The session this browser had (another person, or an older sign-in) ends here.
    const previous = unsign(readCookie(req.headers.cookie, SESSION_COOKIE), admin.sessionSecret);
    if (previous !== undefined) await deps.sessions.revoke(previous);
    const session = await deps.sessions.create(person);
    return reply
      .header('set-cookie', [
        clear,
        setCookie(SESSION_COOKIE, sign(session.id, admin.sessionSecret), SESSION_MAX_AGE_MS / 1000, secure(req, admin)),
      ])
      .redirect(login.next, 302);
  });
}

/** Ends a person's session: the caller checked the session and its CSRF token. */
export async function logout(
  req: FastifyRequest,
  reply: FastifyReply,
  admin: AdminConfig,
  sessions: SessionStore,
  sessionId: string,
): Promise<FastifyReply> {
  await sessions.revoke(sessionId);
  return reply
    .code(204)
    .header('set-cookie', setCookie(SESSION_COOKIE, '', 0, secure(req, admin)))
    .send();
}

function providerDown(log: Logger, requestId: string, err: unknown): ApiError {
  log.warn({ requestId, err: operatorDetail(err) }, 'console sign-in: the identity provider cannot be reached');
  return new ApiError(
    'identity_provider_unavailable',
    'the identity provider cannot be reached; try again shortly or ask an operator to check admin.oidc.issuer',
  );
}
