// Test helpers for identity: key pairs, a JWKS served over real HTTP on 127.0.0.1, token builders
// (good ones and every kind of bad one), and a config builder around the reference stores.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { createHmac } from 'node:crypto';

export interface TestKeyPair {
  alg: 'RS256' | 'ES256';
  kid: string;
  privateKey: CryptoKey;
  publicPem: string;
  publicJwk: JWK;
}

export async function keyPair(alg: 'RS256' | 'ES256', kid: string): Promise<TestKeyPair> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicPem: await exportSPKI(publicKey), publicJwk };
}

const ISSUER = 'https://idp.test/';
const AUDIENCE = 'viewgate';

export interface TokenOptions {
  iss?: string | null;
  aud?: string | string[] | null;
  /** null leaves sub out. */
  sub?: string | null;
  /** Seconds from now (default 0). */
  iatIn?: number;
  /** Seconds from now; null leaves exp out. */
  expIn?: number | null;
  /** Seconds from now. */
  nbfIn?: number;
  /** Header overrides (kid, alg, typ). */
  header?: Record<string, unknown>;
}

function claimsWith(claims: JWTPayload, o: TokenOptions): SignJWT {
  const now = Math.floor(Date.now() / 1000);
  const payload: JWTPayload = { ...claims };
  if (o.iss !== null) payload.iss = o.iss ?? ISSUER;
  if (o.aud !== null) payload.aud = o.aud ?? AUDIENCE;
  if (o.sub !== null) payload.sub = o.sub ?? 'user-1';
  payload.iat = now + (o.iatIn ?? 0);
  if (o.expIn !== null) payload.exp = now + (o.expIn ?? 600);
  if (o.nbfIn !== undefined) payload.nbf = now + o.nbfIn;
  return new SignJWT(payload);
}

/** A token signed with an asymmetric key pair (its kid in the header unless overridden). */
export function signWith(pair: TestKeyPair, claims: JWTPayload, o: TokenOptions = {}): Promise<string> {
  return claimsWith(claims, o)
    .setProtectedHeader({ alg: pair.alg, kid: pair.kid, typ: 'JWT', ...o.header })
    .sign(pair.privateKey);
}

/** An HS256 token; also how an attacker "signs" with a public key's PEM text as the HMAC secret. */
export function signHs256(secret: string, claims: JWTPayload, o: TokenOptions = {}): Promise<string> {
  return claimsWith(claims, o)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...o.header })
    .sign(new TextEncoder().encode(secret));
}

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** `alg: none`: header and payload, empty signature. */
export function unsignedToken(claims: JWTPayload, o: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 600, ...claims, ...(o.iss ? { iss: o.iss } : {}) })}.`;
}

/** Hand-built HS256 JWT with raw header/payload text, for malformed-but-signed cases. */
export function rawHs256(secret: string, headerText: string, payloadText: string): string {
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A JWKS over real HTTP on 127.0.0.1:0; `keys` can be replaced (rotation); `hits` counts fetches. */
export class JwksServer {
  hits = 0;
  keys: JWK[] = [];
  status = 200;
  private server?: Server;
  url = '';

  async start(keys: JWK[]): Promise<this> {
    this.keys = keys;
    this.server = createServer((req, res) => {
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      this.hits++;
      res.writeHead(this.status, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}/.well-known/jwks.json`;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}

/** The reference config's text with `auth:` and `roles:` replaced (they close the file). */
export function withAuthAndRoles(referenceYaml: string, authAndRoles: string): string {
  const at = referenceYaml.indexOf('\nauth:');
  if (at < 0) throw new Error('the reference config has no top-level auth: section');
  return `${referenceYaml.slice(0, at)}\n${authAndRoles.trim()}\n`;
}

/** YAML for a block scalar: indents a multi-line text (e.g. a PEM) under a key. */
export function indentBlock(text: string, spaces: number): string {
  return text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(spaces) + l)
    .join('\n');
}
