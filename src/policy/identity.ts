// Who is calling (`auth`, docs/security.md "Identity"): API keys (only their sha256 is stored,
// compared in constant time) and JWT bearer tokens (src/policy/jwt.ts). The result is an Identity:
// subject, one role, claims.
//
// Decisions (docs/security.md):
// - When a request carries an API key and a bearer token, the API key decides and the token is
//   ignored entirely: its claims are never merged, and a wrong key is a 401 even when the token
//   is valid (no fallback), so adding a credential can never raise what a request may do.
// - The role comes from `roleClaim` (a name or a path). A string names one role; a list names
//   several and the first one (in token order) that the config knows is used; unknown names are
//   ignored. A token whose role claim names no known role is a 403; `defaultRole` applies only
//   when the claim is absent (or null), never in place of roles the token did name.
// - The identity key names one principal wherever something is bound to a caller (rate-limit
//   buckets, audit): `key:<name>`, `jwt:<iss>|<subject>`, or for a token without a subject
//   `jwt:<iss>|#<sha256 of its canonical claims minus exp, iat, nbf, jti>`, so two tenants whose
//   tokens carry no subject never share one (docs/security.md "Identity key").
// - An API key past its `expires` is a 401 saying it expired. `allowFrom` on the key and on the
//   role both apply: a client address outside either is a 403, and so is a request whose address
//   is unknown (src/policy/client-address.ts). Both refusals name the identity for the audit record.
// - One Identity object stands for one API key, and one for one verified token while the verifier
//   remembers it, frozen: what is worked out per caller (src/gateway/query-plans.ts) is kept by it.
import { createHash, hash as sha256Of } from 'node:crypto';
import type { JWTPayload } from 'jose';
import type { ApiKeyConfig, Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { deepFreeze } from '../values.js';
import { InvalidToken, JwtVerifier, type JwksOptions } from './jwt.js';
import { AddressList, clientAddress, type Origin } from './client-address.js';

export type Claims = Record<string, unknown>;

export interface Identity {
  /** `key:<name>` for API keys, the token's subject claim for JWTs ('' when it has none). */
  subject: string;
  /** The one name of this principal wherever state is bound to a caller (see identityKeyOf). */
  identityKey: string;
  role: string;
  method: 'api-key' | 'jwt';
  keyName?: string;
  /** Verified token claims, or an API key's static claims. */
  claims: Claims;
}

export interface Credentials {
  apiKey?: string;
  bearer?: string;
  /** Where the request comes from; checked against `allowFrom` lists. */
  origin?: Origin;
}

export interface AuthenticatorOptions {
  jwks?: JwksOptions;
}

/** RFC 6750 allows only printable ASCII without `"` and `\` inside a quoted parameter. */
function quotable(text: string): string {
  return text.replace(/["\\]/g, "'").replace(/[^\x20-\x7e]/g, '?');
}

/** 401 with `WWW-Authenticate: Bearer`; `error` is left out when no credential was sent (RFC 6750 3.1). */
export function unauthorized(description: string, error: 'invalid_token' | 'invalid_request' | '' = 'invalid_token'): ApiError {
  const challenge = error
    ? `Bearer realm="viewgate", error="${error}", error_description="${quotable(description)}"`
    : 'Bearer realm="viewgate"';
  return new ApiError('unauthorized', description, {}, { 'WWW-Authenticate': challenge });
}

export function forbidden(message: string, context: Record<string, unknown> = {}): ApiError {
  return new ApiError('forbidden', message, context);
}

/** A refusal of a credential that was recognised: the audit record names whose it was. */
export class IdentifiedRefusal extends ApiError {
  constructor(
    error: ApiError,
    readonly identity: Identity,
  ) {
    super(error.kind, error.message, error.context, error.headers);
  }
}

interface KnownKey {
  cfg: ApiKeyConfig;
  identity: Identity;
  allowFrom?: AddressList;
}

export class Authenticator {
  /** The configured keys by the hex SHA-256 of the key (lower case). */
  private readonly keys = new Map<string, KnownKey>();
  private readonly roleAllowFrom: Map<string, AddressList>;
  private readonly trustProxy?: AddressList;
  private readonly roles: Set<string>;
  private readonly jwt?: JwtVerifier;
  private readonly rolePath: string[];
  private readonly defaultRole?: string;
  private readonly subjectClaim: string;
  private readonly requireSub: boolean;
  /** The identity of each remembered token's payload (the verifier hands out one frozen payload per token). */
  private readonly tokenIdentities = new WeakMap<JWTPayload, Identity>();

  constructor(config: Config, opts: AuthenticatorOptions = {}) {
    for (const k of config.auth.apiKeys) {
      const digest = k.sha256.toLowerCase();
      // Two entries with one hash: the first one is the key, as listed.
      if (this.keys.has(digest)) continue;
      this.keys.set(digest, { cfg: k, identity: keyIdentity(k), ...(k.allowFrom ? { allowFrom: new AddressList(k.allowFrom) } : {}) });
    }
    this.roleAllowFrom = new Map(
      Object.entries(config.roles).flatMap(([r, c]) => (c.allowFrom ? [[r, new AddressList(c.allowFrom)]] : [])),
    );
    if (config.server.trustProxy) this.trustProxy = new AddressList(config.server.trustProxy);
    this.roles = new Set(Object.keys(config.roles));
    const j = config.auth.jwt;
    this.rolePath = j ? rolePathOf(j.roleClaim) : [];
    this.defaultRole = j?.defaultRole;
    this.subjectClaim = j?.subjectClaim ?? 'sub';
    this.requireSub = j?.requireSub ?? false;
    if (j) this.jwt = new JwtVerifier(j, opts.jwks);
  }

  /**
   * The identity these credentials prove, or a rejected promise with the refusal. An API key's
   * identity is answered as it is, not in a promise: most requests carry one, and a promise costs
   * each a turn of the microtask queue.
   */
  authenticate(creds: Credentials): Identity | Promise<Identity> {
    if (creds.apiKey !== undefined) {
      try {
        return this.fromKnownKey(creds.apiKey, creds.origin);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (creds.bearer !== undefined) {
      return this.fromToken(creds.bearer).then((identity) => {
        this.admit(identity, creds.origin);
        return identity;
      });
    }
    return Promise.reject(unauthorized('a credential is required: send X-API-Key or Authorization: Bearer <token>', ''));
  }

  private fromKnownKey(apiKey: string, origin: Origin | undefined): Identity {
    const { identity, key } = this.fromApiKey(apiKey);
    if (key.cfg.expires !== undefined && Date.now() >= key.cfg.expires) {
      throw new IdentifiedRefusal(unauthorized('the API key has expired; ask for a new one'), identity);
    }
    this.admit(identity, origin, key.allowFrom);
    return identity;
  }

  /** 403 when the client address is outside the key's or the role's `allowFrom` (docs/security.md, "Client addresses"). */
  private admit(identity: Identity, origin: Origin | undefined, keyList?: AddressList): void {
    const roleList = this.roleAllowFrom.get(identity.role);
    if (!keyList && !roleList) return;
    const address = origin ? clientAddress(origin, this.trustProxy) : undefined;
    const refused =
      keyList && !keyList.has(address) ? 'this API key' : roleList && !roleList.has(address) ? `role "${identity.role}"` : undefined;
    if (refused === undefined) return;
    throw new IdentifiedRefusal(forbidden(`requests from this client address are not allowed for ${refused}`), identity);
  }

  private fromApiKey(key: string): { identity: Identity; key: KnownKey } {
    // Looked up by the digest of the presented key, never by the key: however long a lookup takes
    // tells at most how much of SHA-256(guess) matches a stored digest, which leads to no key.
    const found = this.keys.get(sha256Of('sha256', key, 'hex'));
    if (!found) throw unauthorized('the API key is not valid');
    return { identity: found.identity, key: found };
  }

  private async fromToken(token: string): Promise<Identity> {
    if (!this.jwt) throw unauthorized('bearer tokens are not accepted here (no auth.jwt is configured); use X-API-Key');
    if (token === '') throw unauthorized('the Authorization header must be "Bearer <token>"', 'invalid_request');
    if (!token.includes('.')) {
      throw unauthorized(
        'the bearer token is malformed: a JWT has three dot-separated parts. If this is an API key, send it in the X-API-Key header, not in Authorization: Bearer',
      );
    }
    let payload: JWTPayload;
    try {
      payload = await this.jwt.verify(token);
    } catch (err) {
      if (err instanceof InvalidToken) throw unauthorized(err.description);
      throw err;
    }
    const known = this.tokenIdentities.get(payload);
    if (known) return known;
    const identity = this.tokenIdentity(payload);
    if (Object.isFrozen(payload)) this.tokenIdentities.set(payload, identity);
    return identity;
  }

  private tokenIdentity(payload: JWTPayload): Identity {
    const subject = subjectOf(payload, this.subjectClaim);
    if (subject === undefined && this.requireSub) {
      throw unauthorized(`the token has no subject claim "${this.subjectClaim}"; this server requires one (auth.jwt.requireSub)`);
    }
    return Object.freeze({
      subject: subject ?? '',
      identityKey: tokenIdentityKey(payload, subject),
      role: this.roleOf(payload),
      method: 'jwt',
      claims: payload as Claims,
    });
  }

  private roleOf(payload: JWTPayload): string {
    const named = rolesNamed(payload, this.rolePath);
    const claimName = this.rolePath.join('.');
    if (named === undefined) {
      if (this.defaultRole) return this.defaultRole;
      throw forbidden(`the token has no role claim "${claimName}" and no default role is configured`, { claim: claimName });
    }
    const known = named.find((r): r is string => typeof r === 'string' && this.roles.has(r));
    if (known) return known;
    // Echo at most a few names, shortened: the token's content is not ours to reflect at length.
    const shown =
      named
        .slice(0, 5)
        .map((r) => JSON.stringify(r)?.slice(0, 40) ?? String(r))
        .join(', ') + (named.length > 5 ? ', ...' : '');
    throw forbidden(
      named.length === 0
        ? `the token's role claim "${claimName}" names no role`
        : `the token's role claim "${claimName}" names no role configured here (${shown})`,
      { claim: claimName },
    );
  }
}

/** The identity an API key names: `key:<name>`, shared by keys of one name (rotation). */
function keyIdentity(cfg: ApiKeyConfig): Identity {
  const principal = `key:${cfg.name}`;
  const claims = deepFreeze(structuredClone(cfg.claims));
  return Object.freeze({ subject: principal, identityKey: principal, role: cfg.role, method: 'api-key', keyName: cfg.name, claims });
}

/** The token's subject: a non-empty string (or a number, as text) in `claim`; undefined otherwise. */
function subjectOf(payload: JWTPayload, claim: string): string | undefined {
  const v = claimAt(payload, [claim]);
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Claims that differ between two tokens of one principal; left out of the fingerprint. */
const PER_TOKEN_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti']);

/**
 * `jwt:<iss>|<subject>`, or `jwt:<iss>|#<sha256>` of the canonical claims without per-token ones
 * when the token has no subject. `|` and `%` in the issuer are percent-encoded so the issuer and
 * the subject can never be re-split differently.
 */
export function tokenIdentityKey(payload: JWTPayload, subject: string | undefined): string {
  const iss = (typeof payload.iss === 'string' ? payload.iss : '').replace(/[%|]/g, (c) => encodeURIComponent(c));
  if (subject !== undefined) return `jwt:${iss}|${subject}`;
  const rest = Object.fromEntries(Object.entries(payload).filter(([k]) => !PER_TOKEN_CLAIMS.has(k)));
  return `jwt:${iss}|#${createHash('sha256').update(canonicalJson(rest), 'utf8').digest('hex')}`;
}

/** JSON with object keys sorted at every depth, so equal claims always hash alike. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** `roleClaim` as a path of segments (a name is a path of one). */
export function rolePathOf(roleClaim: string | readonly string[]): string[] {
  return typeof roleClaim === 'string' ? [roleClaim] : [...roleClaim];
}

/**
 * What the role claim at `path` names, in claim order: a string names one role, a list several
 * (entries that are not strings stay in the list; callers match names). Undefined when the claim is
 * absent or null, which is not the same as naming no role.
 */
export function rolesNamed(claims: unknown, path: readonly string[]): unknown[] | undefined {
  const v = claimAt(claims, path);
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v : [v];
}

/** The value at a path of own properties (never inherited ones such as `constructor`). */
export function claimAt(claims: unknown, path: readonly string[]): unknown {
  let v: unknown = claims;
  for (const seg of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v) || !Object.hasOwn(v, seg)) return undefined;
    v = (v as Record<string, unknown>)[seg];
  }
  return v;
}
