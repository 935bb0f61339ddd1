// The console's server-side sessions (docs/console.md, "Security"): a session is a random id the
// browser holds in an HttpOnly cookie, signed with `admin.sessionSecret`, naming a record kept
// here for at most 8 hours. Logging out deletes the record, so the old cookie no longer works.
// Pending logins (state, nonce and PKCE verifier between /admin/login and /admin/callback) are
// kept the same way for 10 minutes and used once. Memory only: sessions belong to one process.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LRUCache } from 'lru-cache';

export const SESSION_MAX_AGE_MS = 8 * 60 * 60 * 1000;
const LOGIN_MAX_AGE_MS = 10 * 60 * 1000;
const MAX_SESSIONS = 10_000;

/** A signed-in person. `claims` are the ID token's (with userinfo's); roles are read from them on every request. */
export interface AdminSession {
  readonly id: string;
  readonly subject: string;
  readonly issuer: string;
  readonly name?: string;
  readonly claims: Readonly<Record<string, unknown>>;
  readonly expiresAt: number;
}

/** What /admin/callback needs to finish the login /admin/login started. */
export interface PendingLogin {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
  /** A same-origin path under /admin to land on afterwards. */
  readonly next: string;
}

export type Person = Omit<AdminSession, 'id' | 'expiresAt'>;

export class SessionStore {
  private readonly sessions = new LRUCache<string, AdminSession>({ max: MAX_SESSIONS });
  private readonly logins = new LRUCache<string, PendingLogin>({ max: MAX_SESSIONS, ttl: LOGIN_MAX_AGE_MS });

  /** A new session with a fresh id: a value the browser held before login is never promoted. */
  create(person: Person): AdminSession {
    const session = { ...person, id: randomId(), expiresAt: Date.now() + SESSION_MAX_AGE_MS };
    this.sessions.set(session.id, session);
    return session;
  }

  /** The live session of that id; an expired one is dropped. */
  get(id: string): AdminSession | undefined {
    const s = this.sessions.get(id);
    if (s && Date.now() >= s.expiresAt) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  revoke(id: string): void {
    this.sessions.delete(id);
  }

  startLogin(login: PendingLogin): string {
    const id = randomId();
    this.logins.set(id, login);
    return id;
  }

  /** The pending login of that id, once. */
  takeLogin(id: string): PendingLogin | undefined {
    const login = this.logins.get(id);
    this.logins.delete(id);
    return login;
  }
}

function randomId(): string {
  return randomBytes(32).toString('base64url');
}

/** `value.mac`: what the cookie carries, so a value not made here is refused before any lookup. */
export function sign(value: string, secret: string): string {
  return `${value}.${mac(value, secret)}`;
}

export function unsign(signed: string | undefined, secret: string): string | undefined {
  if (signed === undefined) return undefined;
  const dot = signed.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const value = signed.slice(0, dot);
  const given = Buffer.from(signed.slice(dot + 1));
  const expected = Buffer.from(mac(value, secret));
  return given.length === expected.length && timingSafeEqual(given, expected) ? value : undefined;
}

/** The CSRF token of a session: derived from its id, so it needs no storage and dies with it. */
export function csrfToken(sessionId: string, secret: string): string {
  return mac(`csrf:${sessionId}`, secret);
}

export function sameToken(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function mac(value: string, secret: string): string {
  return createHmac('sha256', secret).update(value).digest('base64url');
}
