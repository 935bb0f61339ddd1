// JWT verification (`auth.jwt`, docs/security.md "JWT") with jose: one verifier per config.
//
// - `secret` verifies HS* only; `publicKey` (PEM) and `jwksUrl` verify RS*/PS*/ES*/EdDSA only.
//   The allow-list is cut to the key's family, so an HS256 token "signed" with the public key's
//   PEM text is refused before any key is used (no algorithm confusion); `none` is never accepted.
// - A JWKS is cached (cacheMaxAge) and refetched when a token names an unknown `kid`, at most once
//   per cooldown, so a flood of made-up kids cannot turn into a flood of fetches.
// - iss, aud, exp (required) and nbf are checked with the configured clock skew, and so is iat:
//   a token issued later than now + skew is refused (jose checks iat only with maxTokenAge).
// A bad token is a 401 (InvalidToken with a description for WWW-Authenticate); a key set that
// cannot be fetched is a 503: the credential was not judged, and retrying later may succeed.
// - A verified token is remembered (VERIFIED_TTL_MS at most, never past its exp, a bounded number of
//   tokens), so an agent sending the same token on every call pays for one signature check, not one
//   per call. Only successes are remembered; every hit gets the same payload, frozen.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { JwtConfig } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { deepFreeze } from '../values.js';

export interface JwksOptions {
  /** Minimum time between two fetches caused by unknown kids (default 30 s). */
  cooldownMs?: number;
  /** How long a fetched key set is trusted without refetching (default 10 min). */
  cacheMaxAgeMs?: number;
  /** Fetch timeout (default 5 s). */
  timeoutMs?: number;
}

const JWKS_DEFAULTS = { cooldownMs: 30_000, cacheMaxAgeMs: 600_000, timeoutMs: 5_000 } as const;

const MIN_SECRET_BYTES = 32;

/** How long a verified token is taken without checking its signature again. */
const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX_TOKENS = 10_000;

const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/;
const SYMMETRIC = /^HS(256|384|512)$/;

/** The token itself is wrong: expired, not yet valid, wrong issuer/audience/signature, malformed. */
export class InvalidToken extends Error {
  constructor(readonly description: string) {
    super(description);
    this.name = 'InvalidToken';
  }
}

type VerifyKey = Uint8Array | KeyObject | JWTVerifyGetKey;

export class JwtVerifier {
  readonly algorithms: string[];
  private readonly key: VerifyKey;
  /** Verified tokens and their payloads, until min(exp, VERIFIED_TTL_MS from the check). */
  private readonly verified = new LRUCache<string, { payload: JWTPayload; until: number }>({ max: VERIFIED_MAX_TOKENS });

  constructor(
    private readonly cfg: JwtConfig,
    jwks: JwksOptions = {},
  ) {
    const symmetric = Boolean(cfg.secret);
    const family = symmetric ? SYMMETRIC : ASYMMETRIC;
    const defaults = symmetric ? ['HS256'] : ['RS256', 'ES256'];
    const asked = cfg.algorithms ?? defaults;
    this.algorithms = asked.filter((a) => family.test(a));
    const refused = asked.filter((a) => !family.test(a));
    if (refused.length > 0) {
      throw new Error(
        `auth.jwt.algorithms: ${refused.map((a) => `"${a}"`).join(', ')} cannot be used with ${symmetric ? 'a secret (HS256/384/512 only)' : 'a public key or JWKS (RS*, PS*, ES*, EdDSA only)'}`,
      );
    }
    if (cfg.secret) {
      this.key = new TextEncoder().encode(cfg.secret);
      // RFC 7518 3.2: an HMAC key at least as long as the hash; a short secret can be guessed offline
      // from any one token.
      if (this.key.length < MIN_SECRET_BYTES) {
        throw new Error(`auth.jwt.secret is ${this.key.length} bytes; use at least ${MIN_SECRET_BYTES} (e.g. openssl rand -base64 48)`);
      }
    } else if (cfg.publicKey) {
      this.key = parsePublicKey(cfg.publicKey);
    } else if (cfg.jwksUrl) {
      this.key = remoteKeySet(cfg.jwksUrl, jwks);
    } else {
      throw new Error('auth.jwt needs one of secret, publicKey or jwksUrl');
    }
  }

  /** The verified payload; throws InvalidToken (401) or an ApiError 503 when the key set is unreachable. */
  async verify(token: string): Promise<JWTPayload> {
    const known = this.verified.get(token);
    if (known) {
      if (Date.now() < known.until) return known.payload;
      this.verified.delete(token);
    }
    // Frozen: every request with this token is handed the same payload.
    const payload = deepFreeze(await this.check(token));
    // exp is required; the clock skew that let it pass is not extended to the remembered copy.
    const until = Math.min(Date.now() + VERIFIED_TTL_MS, (payload.exp as number) * 1000);
    if (until > Date.now()) this.verified.set(token, { payload, until });
    return payload;
  }

  private async check(token: string): Promise<JWTPayload> {
    const options: JWTVerifyOptions = {
      algorithms: this.algorithms,
      requiredClaims: ['exp'],
      clockTolerance: Math.ceil(this.cfg.clockSkew / 1000),
      ...(this.cfg.issuer !== undefined ? { issuer: this.cfg.issuer } : {}),
      ...(this.cfg.audience !== undefined ? { audience: this.cfg.audience } : {}),
    };
    let payload: JWTPayload;
    try {
      payload = (await jwtVerify(token, this.key as Uint8Array, options)).payload;
    } catch (err) {
      if (err instanceof joseErrors.JWKSMultipleMatchingKeys) payload = await this.tryEach(token, err, options);
      else throw translate(err);
    }
    return notIssuedInFuture(payload, options.clockTolerance as number);
  }

  /** A token without `kid` while the key set holds several usable keys: try each of them. */
  private async tryEach(token: string, keys: joseErrors.JWKSMultipleMatchingKeys, options: JWTVerifyOptions): Promise<JWTPayload> {
    for await (const key of keys) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (err) {
        if (!(err instanceof joseErrors.JWSSignatureVerificationFailed)) throw translate(err);
      }
    }
    throw new InvalidToken('the token signature is not valid');
  }
}

/** A token "issued" later than now + skew was minted by a wrong clock or to outlive its exp. */
function notIssuedInFuture(payload: JWTPayload, toleranceSeconds: number): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  if (typeof payload.iat === 'number' && payload.iat > now + toleranceSeconds) {
    throw new InvalidToken('the token is issued in the future (iat); check the identity provider clock');
  }
  return payload;
}

function parsePublicKey(pem: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch (err) {
    throw new Error(`auth.jwt.publicKey is not a PEM public key: ${(err as Error).message}`);
  }
}

class KeySetUnavailable extends Error {}

function remoteKeySet(url: string, o: JwksOptions): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), {
    cooldownDuration: o.cooldownMs ?? JWKS_DEFAULTS.cooldownMs,
    cacheMaxAge: o.cacheMaxAgeMs ?? JWKS_DEFAULTS.cacheMaxAgeMs,
    timeoutDuration: o.timeoutMs ?? JWKS_DEFAULTS.timeoutMs,
  });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (err) {
      // These are answers about the token; anything else means the key set could not be had.
      if (
        err instanceof joseErrors.JWKSNoMatchingKey ||
        err instanceof joseErrors.JWKSMultipleMatchingKeys ||
        err instanceof joseErrors.JOSENotSupported
      ) {
        throw err;
      }
      throw new KeySetUnavailable((err as Error).message);
    }
  };
}

function translate(err: unknown): Error {
  if (err instanceof KeySetUnavailable) {
    // The fetch error may name internal hosts: it goes to the log (as the cause), not to the caller.
    const unavailable = new ApiError(
      'identity_provider_unavailable',
      "the identity provider's key set (auth.jwt.jwksUrl) cannot be fetched; try again later",
      {},
    );
    unavailable.cause = err.message;
    return unavailable;
  }
  return new InvalidToken(describe(err));
}

function describe(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'the token has expired';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.reason === 'invalid') return `the token's ${err.claim} claim is not valid (wrong type)`;
    if (err.claim === 'nbf') return 'the token is not valid yet (nbf)';
    if (err.claim === 'iss') return 'the token was issued by an issuer this server does not trust';
    if (err.claim === 'aud') return 'the token is not meant for this server (audience)';
    if (err.claim === 'exp' && err.reason === 'missing') return 'the token has no expiry (exp)';
    return `the token's ${err.claim} claim is not valid`;
  }
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm this server does not accept';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'the token signature is not valid';
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no signing key matches the token (kid)';
  if (err instanceof joseErrors.JWSInvalid || err instanceof joseErrors.JWTInvalid) return 'the token is malformed';
  return 'the token is not valid';
}
