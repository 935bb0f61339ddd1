// The Authenticator without HTTP: configuration errors found at start, API keys, which credential
// decides, role resolution. Token faults over real HTTP: test/e2e/policy-tokens.test.ts.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { ApiError } from '../../src/errors.js';
import { Authenticator, claimAt, tokenIdentityKey, unauthorized } from '../../src/policy/identity.js';
import { keyPair, signHs256, indentBlock, type TestKeyPair } from '../support/jwt.js';

const SECRET = 'unit-secret-0123456789abcdef0123456789';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

function config(jwt: string, extra = ''): Config {
  return parseConfig(
    `
sources: { app: { kind: postgres, url: "postgres://x@127.0.0.1/x" } }
services: { app: { source: app, tables: [orders] } }
auth:
  apiKeys:
    - { name: ops, sha256: "${sha('ops-key').toUpperCase()}", role: internal }
    - { name: t2, sha256: ${sha('t2-key')}, role: external, claims: { tenant_id: t2, nested: { a: 1 } } }
${jwt ? `  jwt:\n    issuer: https://idp.test/\n    audience: viewgate\n${jwt}` : ''}
roles:
  internal: { grants: { "*": { read: true } } }
  external: { grants: { app.orders: { read: true } } }
${extra}
`,
    'unit.yaml',
    {},
  );
}

async function fails(p: unknown): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  throw new Error('expected an ApiError');
}

let rsa: TestKeyPair;
beforeAll(async () => {
  rsa = await keyPair('RS256', 'k1');
});

describe('configuration problems stop start-up instead of rejecting every token later', () => {
  it('an algorithm outside the key family', () => {
    expect(() => new Authenticator(config(`    secret: ${SECRET}\n    algorithms: [HS256, RS256]`))).toThrow(
      /"RS256" cannot be used with a secret/,
    );
    expect(() => new Authenticator(config(`    publicKey: |\n${indentBlock(rsa.publicPem, 6)}\n    algorithms: [HS256]`))).toThrow(
      /"HS256" cannot be used with a public key/,
    );
  });

  it('a publicKey that is not a PEM public key', () => {
    expect(() => new Authenticator(config('    publicKey: not-a-pem'))).toThrow(/auth.jwt.publicKey is not a PEM public key/);
  });

  it('defaults: HS256 for a secret, RS256/ES256 for keys', async () => {
    const hs = new Authenticator(config(`    secret: ${SECRET}`));
    const id = await hs.authenticate({ bearer: await signHs256(SECRET, { roles: ['internal'] }) });
    expect(id).toMatchObject({ role: 'internal', method: 'jwt', subject: 'user-1' });
  });
});

describe('API keys', () => {
  const auth = () => new Authenticator(config(''));

  it('match by sha256 (hex in any case), carry the name and the static claims, one frozen identity per key', async () => {
    const ops = await auth().authenticate({ apiKey: 'ops-key' });
    expect(ops).toEqual({ subject: 'key:ops', identityKey: 'key:ops', role: 'internal', method: 'api-key', keyName: 'ops', claims: {} });
    const a = auth();
    const t2 = await a.authenticate({ apiKey: 't2-key' });
    expect(t2.claims).toEqual({ tenant_id: 't2', nested: { a: 1 } });
    // Shared by every request with this key (src/gateway/query-plans.ts keeps plans by it): no request can change it.
    expect(await a.authenticate({ apiKey: 't2-key' })).toBe(t2);
    expect(() => {
      t2.claims.tenant_id = 't1';
    }).toThrow(TypeError);
    expect(() => {
      (t2.claims.nested as { a: number }).a = 2;
    }).toThrow(TypeError);
    expect(() => {
      (t2 as { role: string }).role = 'internal';
    }).toThrow(TypeError);
    expect((await a.authenticate({ apiKey: 't2-key' })).claims).toEqual({ tenant_id: 't2', nested: { a: 1 } });
  });

  it('a key listed twice (the same sha256 in another case) is the first entry', async () => {
    const cfg = config('');
    const twice = {
      ...cfg,
      auth: {
        ...cfg.auth,
        apiKeys: [...cfg.auth.apiKeys, { ...cfg.auth.apiKeys[1]!, name: 'again', sha256: sha('t2-key').toUpperCase(), role: 'internal' }],
      },
    };
    const identity = await new Authenticator(twice).authenticate({ apiKey: 't2-key' });
    expect(identity).toMatchObject({ keyName: 't2', role: 'external' });
  });

  it('a wrong key is a 401 with an invalid_token challenge; no credential is a bare challenge', async () => {
    for (const k of ['', 'ops-key ', 'OPS-KEY', sha('ops-key')]) {
      const e = await fails(auth().authenticate({ apiKey: k }));
      expect(e.status).toBe(401);
      expect(e.headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
    }
    const none = await fails(auth().authenticate({}));
    expect(none.headers['WWW-Authenticate']).toBe('Bearer realm="viewgate"');
  });

  it('the API key decides when both are sent; a wrong key never falls back to the token', async () => {
    const a = new Authenticator(config(`    secret: ${SECRET}`));
    const token = await signHs256(SECRET, { roles: ['internal'], tenant_id: 't9' });
    expect(await a.authenticate({ apiKey: 't2-key', bearer: token })).toMatchObject({ role: 'external', claims: { tenant_id: 't2' } });
    expect((await fails(a.authenticate({ apiKey: 'nope', bearer: token }))).status).toBe(401);
  });

  it('bearer tokens without auth.jwt are a 401 that says so', async () => {
    const e = await fails(auth().authenticate({ bearer: await signHs256(SECRET, { roles: ['internal'] }) }));
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/no auth.jwt is configured/);
  });
});

describe('roles from tokens', () => {
  const a = () => new Authenticator(config(`    secret: ${SECRET}\n    roleClaim: [realm_access, roles]`));
  const role = async (claims: Record<string, unknown>) => (await a().authenticate({ bearer: await signHs256(SECRET, claims) })).role;

  it('a nested path; a string or a list; the first known role in token order', async () => {
    expect(await role({ realm_access: { roles: 'external' } })).toBe('external');
    expect(await role({ realm_access: { roles: ['nobody', 'external', 'internal'] } })).toBe('external');
  });

  it('named roles that are all unknown, an empty list, or non-strings: 403', async () => {
    for (const roles of [['admin'], [], [42], [{ internal: true }], 'Internal']) {
      const e = await fails(role({ realm_access: { roles } }));
      expect(e.status, JSON.stringify(roles)).toBe(403);
    }
  });

  it('no role claim and no default role: 403; with a default role: that role', async () => {
    expect((await fails(role({ roles: ['internal'] }))).status).toBe(403);
    const withDefault = new Authenticator(config(`    secret: ${SECRET}\n    roleClaim: [realm_access, roles]\n    defaultRole: external`));
    const id = await withDefault.authenticate({ bearer: await signHs256(SECRET, { realm_access: {} }) });
    expect(id.role).toBe('external');
    const named = await fails(withDefault.authenticate({ bearer: await signHs256(SECRET, { realm_access: { roles: ['root'] } }) }));
    expect(named.status).toBe(403);
  });

  it('role and claim paths read own properties only', () => {
    expect(claimAt({}, ['constructor'])).toBeUndefined();
    expect(claimAt({ a: { b: 1 } }, ['a', 'b'])).toBe(1);
    expect(claimAt({ a: [{ b: 1 }] }, ['a', 'b'])).toBeUndefined();
    expect(claimAt(JSON.parse('{"__proto__": {"x": 1}}'), ['__proto__', 'x'])).toBe(1);
  });
});

describe('WWW-Authenticate', () => {
  it('keeps error_description within RFC 6750 characters', () => {
    const h = unauthorized('bad "token" \\ é').headers['WWW-Authenticate']!;
    expect(h).toBe('Bearer realm="viewgate", error="invalid_token", error_description="bad \'token\' \' ?"');
  });
});

describe('identity key', () => {
  it('a token without a subject: the sha256 of its sorted claims, per-token claims left out', () => {
    const a = tokenIdentityKey(
      { iss: 'https://idp/', tenant: 't1', roles: ['x'], nested: { b: 1, a: 2 }, exp: 1, iat: 2, nbf: 3, jti: 'j1' },
      undefined,
    );
    const b = tokenIdentityKey({ jti: 'j2', nested: { a: 2, b: 1 }, roles: ['x'], tenant: 't1', iss: 'https://idp/', exp: 9 }, undefined);
    expect(a).toBe(b);
    expect(a).toMatch(/^jwt:https:\/\/idp\/\|#[0-9a-f]{64}$/);
    expect(tokenIdentityKey({ iss: 'https://idp/', tenant: 't2', roles: ['x'], nested: { a: 2, b: 1 } }, undefined)).not.toBe(a);
  });

  it('a subject: jwt:<iss>|<subject>, the issuer escaped so the two can never be re-split', () => {
    expect(tokenIdentityKey({ iss: 'https://idp/' }, 'u1')).toBe('jwt:https://idp/|u1');
    expect(tokenIdentityKey({ iss: 'a|b' }, 'c')).not.toBe(tokenIdentityKey({ iss: 'a' }, 'b|c'));
    expect(tokenIdentityKey({}, 'u1')).toBe('jwt:|u1');
  });
});

describe('verified tokens are remembered (src/policy/jwt.ts)', () => {
  it('gives each call the same frozen identity, so one request cannot change what the next one sees', async () => {
    const a = new Authenticator(config(`    secret: ${SECRET}`));
    const token = await signHs256(SECRET, { roles: ['internal'], tenant: { id: 't1' } });
    const first = await a.authenticate({ bearer: token });
    expect(() => {
      (first.claims.tenant as { id: string }).id = 'changed';
    }).toThrow(TypeError);
    expect(() => {
      first.claims.extra = 'added';
    }).toThrow(TypeError);
    const second = await a.authenticate({ bearer: token });
    expect(second).toBe(first);
    expect(second.claims.tenant).toEqual({ id: 't1' });
    expect(second.claims.extra).toBeUndefined();
    // Another token of the same subject is another identity.
    const other = await a.authenticate({ bearer: await signHs256(SECRET, { roles: ['internal'], tenant: { id: 't2' } }) });
    expect(other).not.toBe(first);
    expect(other.claims.tenant).toEqual({ id: 't2' });
  });

  it('never past the token exp, even where the clock skew would have let it pass', async () => {
    // The exp boundary is checked by jose with the skew; a remembered token ends at exp itself.
    const a = new Authenticator(config(`    secret: ${SECRET}\n    clockSkew: 0`));
    // Claims are whole seconds: exp 2 s ahead is at least 1 s away when the token is first used.
    const token = await signHs256(SECRET, { roles: ['internal'] }, { expIn: 2 });
    expect((await a.authenticate({ bearer: token })).role).toBe('internal');
    await new Promise((r) => setTimeout(r, 3100));
    expect((await fails(a.authenticate({ bearer: token }))).status).toBe(401);
  });

  it('remembers only successes: a refused token is judged again each time', async () => {
    // Not yet valid (nbf, no clock skew): refused now, accepted once nbf has passed.
    const strict = new Authenticator(config(`    secret: ${SECRET}\n    clockSkew: 0`));
    // Claims are whole seconds: nbf 2 s ahead is at least 1 s away when the token is first used.
    const later = await signHs256(SECRET, { roles: ['internal'] }, { nbfIn: 2 });
    expect((await fails(strict.authenticate({ bearer: later }))).status).toBe(401);
    await new Promise((r) => setTimeout(r, 3100));
    expect((await strict.authenticate({ bearer: later })).role).toBe('internal');
  });
});
