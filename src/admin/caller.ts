// Who is calling the console or its JSON API, and whether they may (docs/console.md, "Security").
// A request with an API key or a bearer token is judged by those credentials alone (the gateway's
// authenticator; no cookie, so no CSRF token); otherwise the session cookie names a signed-in
// person. Either is admitted when a role is in `admin.roles` of the current config, checked on
// every request, so a reload that drops a role locks its sessions out at once.
import type { FastifyRequest } from 'fastify';
import type { AdminConfig } from '../config/schema.js';
import { type ApiError } from '../errors.js';
import type { Gateway, Identity } from '../gateway/index.js';
import { credentialsFrom } from '../http/credentials.js';
import { forbidden, rolePathOf, rolesNamed, tokenIdentityKey, unauthorized } from '../policy/identity.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';
import { unsign, type AdminSession, type SessionStore } from './sessions.js';

/** What the API routes call first: the caller, admitted (and CSRF-checked on POST). */
export type AdminGuard = (req: FastifyRequest) => Promise<AdminCaller>;

export type AdminCaller =
  | { readonly kind: 'person'; readonly session: AdminSession; readonly identity: Identity; readonly roles: readonly string[] }
  | { readonly kind: 'key'; readonly identity: Identity };

/** The live session the request's cookie names, if any (whatever its roles). */
export function sessionOf(req: FastifyRequest, admin: AdminConfig, sessions: SessionStore): AdminSession | undefined {
  const id = unsign(readCookie(req.headers.cookie, SESSION_COOKIE), admin.sessionSecret);
  return id === undefined ? undefined : sessions.get(id);
}

/** The person's roles that `admin.roles` lists, read from their claims with `admin.oidc.roleClaim`. */
export function adminRolesOf(claims: Readonly<Record<string, unknown>>, admin: AdminConfig): string[] {
  const named = rolesNamed(claims, rolePathOf(admin.oidc?.roleClaim ?? 'roles')) ?? [];
  return named.filter((r): r is string => typeof r === 'string' && admin.roles.includes(r));
}

/** The identity audit records give a signed-in person. */
function personIdentity(session: AdminSession, role: string): Identity {
  const payload = { iss: session.issuer, sub: session.subject };
  return {
    subject: session.subject,
    identityKey: tokenIdentityKey(payload, session.subject),
    role,
    method: 'jwt',
    claims: { ...session.claims },
  };
}

/** 401 without a session or credentials, 403 when none of the caller's roles is an admin role. */
export async function adminCaller(req: FastifyRequest, admin: AdminConfig, sessions: SessionStore, gateway: Gateway): Promise<AdminCaller> {
  const credentials = credentialsFrom(req);
  if (credentials.apiKey !== undefined || credentials.bearer !== undefined) {
    const who = await gateway.authenticate(credentials, String(req.id));
    if (!who.ok) throw who.error;
    if (!admin.roles.includes(who.identity.role)) throw notAdmin(`role "${who.identity.role}"`);
    return { kind: 'key', identity: who.identity };
  }
  const session = sessionOf(req, admin, sessions);
  if (!session) throw unauthorized('sign in at /admin/login, or send an API key of an admin role in X-API-Key', '');
  const roles = adminRolesOf(session.claims, admin);
  if (roles.length === 0) throw notAdmin('your roles');
  return { kind: 'person', session, identity: personIdentity(session, roles[0]!), roles };
}

function notAdmin(who: string): ApiError {
  return forbidden(`${who} may not use the console; an operator can add an admin role to admin.roles`);
}
