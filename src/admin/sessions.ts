// The console's server-side sessions (docs/console.md, "Security"): a session is a random id the
// browser holds in an HttpOnly cookie, signed with `admin.sessionSecret`, naming a record kept
// here for at most 8 hours. Logging out deletes the record, so the old cookie no longer works.
// Pending logins (state, nonce and PKCE verifier between /admin/login and /admin/callback) are
// kept the same way for 10 minutes and used once. In Redis when `redis.url` is set (every instance
// knows every session), else in the process's memory.
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { REDIS_PREFIX } from '../ops/redis.js';

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

/** Where sessions and pending logins are kept, each until its time is up. */
interface Backend {
  get<T>(kind: Kind, id: string): Promise<T | undefined>;
  set(kind: Kind, id: string, value: unknown, ttlMs: number): Promise<void>;
  /** Reads and deletes in one step (a pending login is used once). */
  take<T>(kind: Kind, id: string): Promise<T | undefined>;
  delete(kind: Kind, id: string): Promise<void>;
}

type Kind = 'session' | 'login';

class MemoryBackend implements Backend {
  private readonly entries = {
    session: new LRUCache<string, object>({ max: MAX_SESSIONS }),
    login: new LRUCache<string, object>({ max: MAX_SESSIONS }),
  };

  async get<T>(kind: Kind, id: string): Promise<T | undefined> {
    return this.entries[kind].get(id) as T | undefined;
  }

  async set(kind: Kind, id: string, value: unknown, ttlMs: number): Promise<void> {
    this.entries[kind].set(id, value as object, { ttl: ttlMs });
  }

  async take<T>(kind: Kind, id: string): Promise<T | undefined> {
    const v = this.entries[kind].get(id) as T | undefined;
    this.entries[kind].delete(id);
    return v;
  }

  async delete(kind: Kind, id: string): Promise<void> {
    this.entries[kind].delete(id);
  }
}

/** Shared by every instance on one Redis; keys hold a hash of the id, so reading Redis gives no cookie. */
class RedisBackend implements Backend {
  constructor(private readonly redis: Redis) {}

  private key(kind: Kind, id: string): string {
    return `${REDIS_PREFIX}admin:${kind}:${createHash('sha256').update(id).digest('hex')}`;
  }

  async get<T>(kind: Kind, id: string): Promise<T | undefined> {
    const text = await this.redis.get(this.key(kind, id));
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  async set(kind: Kind, id: string, value: unknown, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(kind, id), JSON.stringify(value), 'PX', Math.max(1, Math.ceil(ttlMs)));
  }

  async take<T>(kind: Kind, id: string): Promise<T | undefined> {
    const text = await this.redis.getdel(this.key(kind, id));
    return text === null ? undefined : (JSON.parse(text) as T);
  }

  async delete(kind: Kind, id: string): Promise<void> {
    await this.redis.del(this.key(kind, id));
  }
}

export class SessionStore {
  private readonly backend: Backend;

  /** In Redis when the server has one (`redis.url`), so every instance knows every session; else in memory. */
  constructor(redis?: Redis) {
    this.backend = redis ? new RedisBackend(redis) : new MemoryBackend();
  }

  /** A new session with a fresh id: a value the browser held before login is never promoted. */
  async create(person: Person): Promise<AdminSession> {
    const stored = { ...person, expiresAt: Date.now() + SESSION_MAX_AGE_MS };
    const id = randomId();
    // The id is the key's secret part: it is not stored in the value.
    await this.backend.set('session', id, stored, SESSION_MAX_AGE_MS);
    return { ...stored, id };
  }

  /** The live session of that id; an expired one is dropped. */
  async get(id: string): Promise<AdminSession | undefined> {
    const s = await this.backend.get<Omit<AdminSession, 'id'>>('session', id);
    if (!s) return undefined;
    if (Date.now() >= s.expiresAt) {
      await this.backend.delete('session', id);
      return undefined;
    }
    return { ...s, id };
  }

  revoke(id: string): Promise<void> {
    return this.backend.delete('session', id);
  }

  async startLogin(login: PendingLogin): Promise<string> {
    const id = randomId();
    await this.backend.set('login', id, login, LOGIN_MAX_AGE_MS);
    return id;
  }

  /** The pending login of that id, once. */
  takeLogin(id: string): Promise<PendingLogin | undefined> {
    return this.backend.take<PendingLogin>('login', id);
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
