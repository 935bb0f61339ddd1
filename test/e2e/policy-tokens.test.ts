// Identity over real HTTP (issue 4 items 1, 5, 8): every token fault is a 401 with an RFC 6750
// challenge, clock skew is honoured, roles come from the configured claim, and no combination
// of credentials raises what a request may do. Verifiers: HS256 secret, RS256/ES256 public key,
// and a JWKS served by a local HTTP server (rotation, unknown kid, refetch rate limit).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../src/config/schema.js';
import { Authenticator } from '../../src/policy/identity.js';
import {
  createReferenceStores,
  get,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import {
  indentBlock,
  JwksServer,
  keyPair,
  rawHs256,
  signHs256,
  signWith,
  unsignedToken,
  withAuthAndRoles,
  type TestKeyPair,
} from '../support/jwt.js';

const SECRET = 'policy-tokens-secret-0123456789abcdef';
const sha = (k: string) => createHash('sha256').update(k).digest('hex');

let stores: ReferenceStores;
const servers: RunningServer[] = [];
let rsa: TestKeyPair;
let ec: TestKeyPair;
let jwksA: TestKeyPair;
let jwksB: TestKeyPair;
let jwks: JwksServer;

function config(jwtYaml: string): Config {
  return referenceConfig(stores.env, (y) =>
    withAuthAndRoles(
      y,
      `
auth:
  apiKeys:
    - { name: internal-tools, sha256: ${sha(KEYS.internal)}, role: internal }
    - { name: partner-t2, sha256: ${sha(KEYS.partner)}, role: external, claims: { tenant_id: t2 } }
  jwt:
    issuer: https://idp.test/
    audience: viewgate
    clockSkew: 30s
${jwtYaml}
roles:
  internal:
    grants: { "*": { read: true } }
  external:
    grants:
      crm.customers:
        read: true
        fields: [customer_id, tenant_id, email, full_name]
        masks: { email: email }
        rowFilter: "tenant_id = {claims.tenant_id}"
        maxLimit: 100
`,
    ),
  );
}

async function serve(jwtYaml: string): Promise<RunningServer> {
  const srv = await startServer(config(jwtYaml));
  servers.push(srv);
  return srv;
}

let hs: RunningServer; // secret, roleClaim: roles, no defaultRole
let pk: RunningServer; // RS256 public key PEM
let pkEc: RunningServer; // ES256 public key PEM
let nested: RunningServer; // secret, roleClaim: [realm_access, roles], defaultRole: external
let remote: RunningServer; // jwksUrl

beforeAll(async () => {
  stores = await createReferenceStores('policy_tokens');
  [rsa, ec, jwksA, jwksB] = await Promise.all([
    keyPair('RS256', 'rsa-1'),
    keyPair('ES256', 'ec-1'),
    keyPair('RS256', 'kid-a'),
    keyPair('RS256', 'kid-b'),
  ]);
  jwks = await new JwksServer().start([jwksA.publicJwk]);
  hs = await serve(`    secret: ${SECRET}\n    roleClaim: roles`);
  pk = await serve(`    publicKey: |\n${indentBlock(rsa.publicPem, 6)}`);
  pkEc = await serve(`    publicKey: |\n${indentBlock(ec.publicPem, 6)}\n    algorithms: [ES256]`);
  nested = await serve(`    secret: ${SECRET}\n    roleClaim: [realm_access, roles]\n    defaultRole: external`);
  remote = await serve(`    jwksUrl: ${jwks.url}`);
});

afterAll(async () => {
  for (const s of servers) await s.close();
  await jwks?.close();
  await stores?.drop();
});

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

/** Reads customers as the credential sees them: status, role and subject from the audit, tenants seen. */
async function whoami(srv: RunningServer, headers: Record<string, string>) {
  const r = await get(`${srv.url}/api/v2/crm/_table/customers?fields=customer_id,tenant_id&limit=100`, headers);
  const rec = srv.audit.records.at(-1)!;
  const tenants = r.status === 200 ? [...new Set(r.body.resource.map((row: any) => row.tenant_id))].sort() : [];
  return {
    status: r.status,
    body: r.body,
    headers: r.headers,
    role: rec.role,
    subject: rec.subject,
    keyName: rec.keyName,
    tenants,
    rows: r.status === 200 ? r.body.resource.length : 0,
  };
}

/** A 401 with `WWW-Authenticate: Bearer realm=..., error="invalid_token", error_description="..."`. */
async function expectInvalidToken(srv: RunningServer, token: string, description: RegExp): Promise<void> {
  const r = await whoami(srv, bearer(token));
  expect(r.status, `${description}`).toBe(401);
  expect(r.body.error.message).toMatch(description);
  const challenge = r.headers.get('www-authenticate') ?? '';
  expect(challenge).toMatch(/^Bearer realm="viewgate", error="invalid_token", error_description="[\x20\x21\x23-\x5b\x5d-\x7e]+"$/);
  expect(challenge).toContain(`error_description="${r.body.error.message}"`);
  expect(r.role).toBeUndefined();
  const rec = srv.audit.records.at(-1)!;
  expect(rec).toMatchObject({ status: 401, decision: 'deny' });
}

describe('HS256 secret: every token fault is a 401 with an RFC 6750 challenge', () => {
  const claims = { roles: ['internal'] };

  it('accepts a good token (control)', async () => {
    const r = await whoami(hs, bearer(await signHs256(SECRET, claims, { sub: 'alice' })));
    expect(r).toMatchObject({ status: 200, role: 'internal', subject: 'alice', rows: 16 });
  });

  it('expired, beyond the clock skew', async () => {
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { expIn: -120 }), /has expired/);
  });

  it('not valid yet (nbf in the future), beyond the clock skew', async () => {
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { nbfIn: 120 }), /not valid yet \(nbf\)/);
  });

  it('respects the 30 s clock skew on exp and nbf', async () => {
    expect((await whoami(hs, bearer(await signHs256(SECRET, claims, { expIn: -10 })))).status).toBe(200);
    expect((await whoami(hs, bearer(await signHs256(SECRET, claims, { nbfIn: 10 })))).status).toBe(200);
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { expIn: -45 }), /has expired/);
  });

  it('wrong issuer, missing issuer', async () => {
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { iss: 'https://evil.test/' }), /issuer/);
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { iss: null }), /iss/);
  });

  it('wrong audience, missing audience', async () => {
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { aud: 'another-api' }), /audience/);
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { aud: null }), /aud/);
    // An audience list that includes ours is fine.
    expect((await whoami(hs, bearer(await signHs256(SECRET, claims, { aud: ['other', 'viewgate'] })))).status).toBe(200);
  });

  it('a token without exp never expires, so it is refused', async () => {
    await expectInvalidToken(hs, await signHs256(SECRET, claims, { expIn: null }), /no expiry \(exp\)/);
  });

  it('bad signature: another secret, or a payload edited after signing', async () => {
    await expectInvalidToken(hs, await signHs256('not-the-secret-0123456789abcdef', claims), /signature is not valid/);
    const good = await signHs256(SECRET, { roles: ['external'], tenant_id: 't2' });
    const [h, , s] = good.split('.');
    const forged = Buffer.from(
      JSON.stringify({ iss: 'https://idp.test/', aud: 'viewgate', exp: 9999999999, roles: ['internal'] }),
    ).toString('base64url');
    await expectInvalidToken(hs, `${h}.${forged}.${s}`, /signature is not valid/);
    await expectInvalidToken(hs, `${good.slice(0, -4)}AAAA`, /signature is not valid/);
  });

  it('alg none, with or without a signature part', async () => {
    await expectInvalidToken(hs, unsignedToken(claims), /algorithm/);
    await expectInvalidToken(hs, unsignedToken(claims) + 'c2ln', /algorithm/);
    const noneUpper = rawHs256(
      SECRET,
      JSON.stringify({ alg: 'None' }),
      JSON.stringify({ iss: 'https://idp.test/', aud: 'viewgate', exp: 9999999999, roles: ['internal'] }),
    );
    await expectInvalidToken(hs, noneUpper, /algorithm/);
  });

  it('an RS256 or ES256 token against a secret config', async () => {
    await expectInvalidToken(hs, await signWith(rsa, claims), /algorithm/);
    await expectInvalidToken(hs, await signWith(ec, claims), /algorithm/);
  });

  it.each([
    ['garbage', 'not-a-token'],
    ['two parts', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0'],
    ['four parts', 'a.b.c.d'],
    ['empty parts', '..'],
    ['bad base64', 'eyJhbGciOiJIUzI1NiJ9.%%%%.sig'],
  ])('malformed: %s', async (_name, token) => {
    await expectInvalidToken(hs, token, /malformed|not valid/);
  });

  it('malformed but correctly signed: header or payload not JSON, claims of the wrong type', async () => {
    await expectInvalidToken(hs, rawHs256(SECRET, '{"alg":"HS256"', '{}'), /malformed|not valid/);
    await expectInvalidToken(hs, rawHs256(SECRET, '{"alg":"HS256"}', 'not json'), /malformed|not valid/);
    await expectInvalidToken(hs, rawHs256(SECRET, '{"alg":"HS256"}', '[1,2]'), /malformed|not valid/);
    const p = { iss: 'https://idp.test/', aud: 'viewgate', roles: ['internal'] };
    await expectInvalidToken(hs, rawHs256(SECRET, '{"alg":"HS256"}', JSON.stringify({ ...p, exp: 'tomorrow' })), /exp claim is not valid/);
    await expectInvalidToken(
      hs,
      rawHs256(SECRET, '{"alg":"HS256"}', JSON.stringify({ ...p, exp: 9999999999, nbf: 'now' })),
      /nbf claim is not valid/,
    );
  });

  it('an Authorization header that is not a bearer token is a 401 invalid_request', async () => {
    for (const value of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer a b', 'Token abc']) {
      const r = await whoami(hs, { Authorization: value });
      expect(r.status, value).toBe(401);
      expect(r.headers.get('www-authenticate'), value).toMatch(
        /^Bearer realm="viewgate", error="invalid_request", error_description="[^"]+"$/,
      );
    }
  });

  it('no credential at all: 401 with a bare Bearer challenge (no error code, RFC 6750 3.1)', async () => {
    const r = await whoami(hs, {});
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toBe('Bearer realm="viewgate"');
    expect(r.body.error.message).toMatch(/X-API-Key or Authorization: Bearer/);
  });
});

describe('public key (PEM): RS256 and ES256, no HS/RS confusion', () => {
  const claims = { roles: ['internal'] };

  it('accepts tokens signed with the matching private key (control)', async () => {
    expect((await whoami(pk, bearer(await signWith(rsa, claims)))).status).toBe(200);
    expect((await whoami(pkEc, bearer(await signWith(ec, claims)))).status).toBe(200);
  });

  it('HS256 signed with the public key PEM as the HMAC secret is refused', async () => {
    await expectInvalidToken(pk, await signHs256(rsa.publicPem, claims), /algorithm/);
    await expectInvalidToken(pk, await signHs256(rsa.publicPem.trim(), claims), /algorithm/);
    await expectInvalidToken(pkEc, await signHs256(ec.publicPem, claims), /algorithm/);
  });

  it('a token signed by another key pair, or with an algorithm outside the allow-list', async () => {
    const other = await keyPair('RS256', 'rsa-1');
    await expectInvalidToken(pk, await signWith(other, claims), /signature is not valid/);
    // pkEc allows only ES256: an RS256 token is refused before any key is tried.
    await expectInvalidToken(pkEc, await signWith(rsa, claims), /algorithm/);
    await expectInvalidToken(pk, unsignedToken(claims), /algorithm/);
  });

  it('expired and wrong-audience tokens fail here too', async () => {
    await expectInvalidToken(pk, await signWith(rsa, claims, { expIn: -300 }), /expired/);
    await expectInvalidToken(pk, await signWith(rsa, claims, { aud: 'nope' }), /audience/);
  });
});

describe('JWKS from a local HTTP server', () => {
  const claims = { roles: ['internal'] };

  it('verifies with the fetched key set and caches it', async () => {
    const before = jwks.hits;
    expect((await whoami(remote, bearer(await signWith(jwksA, claims)))).status).toBe(200);
    expect((await whoami(remote, bearer(await signWith(jwksA, claims)))).status).toBe(200);
    expect(jwks.hits - before).toBeLessThanOrEqual(1);
  });

  it('unknown kid: 401; a flood of unknown kids does not become a flood of fetches', async () => {
    await expectInvalidToken(remote, await signWith(jwksB, claims), /no signing key matches/);
    const before = jwks.hits;
    for (let i = 0; i < 15; i++) {
      await expectInvalidToken(remote, await signWith(jwksB, claims, { header: { kid: `made-up-${i}` } }), /no signing key matches/);
    }
    // The server's default cooldown (30 s) allows at most one refetch in this burst.
    expect(jwks.hits - before).toBeLessThanOrEqual(1);
  });

  it('HS256 signed with a JWK-looking secret, alg none and a forged kid are refused', async () => {
    await expectInvalidToken(remote, await signHs256(JSON.stringify(jwksA.publicJwk), claims, { header: { kid: 'kid-a' } }), /algorithm/);
    await expectInvalidToken(remote, unsignedToken(claims), /algorithm/);
  });

  it('key rotation: a new kid is accepted once it is published and the cooldown allows a refetch', async () => {
    const rotating = new JwksServer();
    await rotating.start([jwksA.publicJwk]);
    const srv = await startServer(config(`    jwksUrl: ${rotating.url}`));
    servers.push(srv);
    // Short cooldown so the test need not wait 30 s; the production default is tested above.
    srv.rt.auth = new Authenticator(srv.rt.config, { jwks: { cooldownMs: 1500 } });
    // The cooldown is measured on the wall clock (Date): the test stops that clock and moves it on
    // past the cooldown, so a slow machine can neither end the cooldown early nor make the test wait.
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      expect((await whoami(srv, bearer(await signWith(jwksA, claims)))).status).toBe(200);
      expect(rotating.hits).toBe(1);
      // The IdP starts signing with kid-b before publishing it: refused, and no refetch inside the cooldown.
      await expectInvalidToken(srv, await signWith(jwksB, claims), /no signing key matches/);
      rotating.keys = [jwksA.publicJwk, jwksB.publicJwk];
      await expectInvalidToken(srv, await signWith(jwksB, claims), /no signing key matches/);
      expect(rotating.hits).toBe(1);
      // After the cooldown, the unknown kid triggers one refetch and the new key verifies.
      vi.setSystemTime(Date.now() + 1600);
      expect((await whoami(srv, bearer(await signWith(jwksB, claims)))).status).toBe(200);
      expect(rotating.hits).toBe(2);
      expect((await whoami(srv, bearer(await signWith(jwksA, claims)))).status).toBe(200);
      // A token without kid while two keys are published: each usable key is tried.
      expect((await whoami(srv, bearer(await signWith(jwksB, claims, { header: { kid: undefined } })))).status).toBe(200);
      // kid-a is withdrawn: cached keys stay valid until the cache expires (10 min), which is
      // what every JWKS client does; a withdrawn key is not a revocation mechanism.
      expect(rotating.hits).toBe(2);
    } finally {
      vi.useRealTimers();
      await rotating.close();
    }
  });

  it('a key set that cannot be fetched is a 503, not a 401', async () => {
    const down = new JwksServer();
    await down.start([jwksA.publicJwk]);
    down.status = 500;
    const srv = await startServer(config(`    jwksUrl: ${down.url}`));
    servers.push(srv);
    try {
      const r = await whoami(srv, bearer(await signWith(jwksA, claims)));
      expect(r.status).toBe(503);
      expect(r.body.error.message).toMatch(/key set .* cannot be fetched/);
      // What the fetch said (it may name internal hosts) is for the log only (docs/security.md "Store outages").
      expect(r.body.error.message).toBe("the identity provider's key set (auth.jwt.jwksUrl) cannot be fetched; try again later");
      expect(JSON.stringify(r.body)).not.toMatch(/127\.0\.0\.1|Expected 200/);
    } finally {
      await down.close();
    }
  });
});

describe('roles: roleClaim path, defaultRole, unknown roles', () => {
  it('reads the role from a nested claim path', async () => {
    const r = await whoami(nested, bearer(await signHs256(SECRET, { realm_access: { roles: ['internal'] } })));
    expect(r).toMatchObject({ status: 200, role: 'internal', rows: 16 });
  });

  it('no role claim at all: the default role, with its row filter', async () => {
    const r = await whoami(nested, bearer(await signHs256(SECRET, { tenant_id: 't1' })));
    expect(r).toMatchObject({ status: 200, role: 'external', tenants: ['t1'] });
    // A top-level `roles` claim is not the configured path: still the default role.
    const top = await whoami(nested, bearer(await signHs256(SECRET, { roles: ['internal'], tenant_id: 't1' })));
    expect(top).toMatchObject({ status: 200, role: 'external', tenants: ['t1'] });
  });

  it('no role claim and no default role: 403', async () => {
    const r = await whoami(hs, bearer(await signHs256(SECRET, { tenant_id: 't1' })));
    expect(r.status).toBe(403);
    expect(r.body.error.message).toMatch(/no role claim "roles"/);
  });

  it('only unknown roles: 403, and the default role never replaces a role the token named', async () => {
    for (const roles of [['admin'], 'superuser', [], [{ name: 'internal' }]]) {
      const r = await whoami(nested, bearer(await signHs256(SECRET, { realm_access: { roles }, tenant_id: 't1' })));
      expect(r.status, JSON.stringify(roles)).toBe(403);
      expect(r.headers.get('www-authenticate')).toBeNull();
      expect(srv403(nested)).toMatchObject({ status: 403, decision: 'deny' });
    }
  });

  it('an unknown role next to a known one gets only the known one', async () => {
    const r = await whoami(
      nested,
      bearer(await signHs256(SECRET, { realm_access: { roles: ['superadmin', 'external'] }, tenant_id: 't3' })),
    );
    expect(r).toMatchObject({ status: 200, role: 'external', tenants: ['t3'] });
    expect(
      (
        await get(
          `${nested.url}/api/v2/app/_table/orders`,
          bearer(await signHs256(SECRET, { realm_access: { roles: ['superadmin', 'external'] }, tenant_id: 't3' })),
        )
      ).status,
    ).toBe(404);
  });
});

function srv403(srv: RunningServer) {
  return srv.audit.records.at(-1)!;
}

describe('escalation attempts', () => {
  it('roles [internal] signed with the wrong key or no key is a 401, never internal', async () => {
    for (const token of [
      await signHs256('guessed-secret-0123456789abcdef0123', { roles: ['internal'] }),
      unsignedToken({ roles: ['internal'] }),
      await signWith(rsa, { roles: ['internal'] }),
    ]) {
      const r = await whoami(hs, bearer(token));
      expect(r.status).toBe(401);
      expect(r.rows).toBe(0);
    }
  });

  it('an API key and a bearer token together: the API key decides, the token adds nothing', async () => {
    const internalToken = await signHs256(SECRET, { roles: ['internal'], tenant_id: 't1' });
    const both = await whoami(hs, { 'X-API-Key': KEYS.partner, ...bearer(internalToken) });
    expect(both).toMatchObject({ status: 200, role: 'external', keyName: 'partner-t2', tenants: ['t2'] });
    // The token's tenant claim does not replace the key's static claim.
    expect(both.tenants).not.toContain('t1');
    // Views only internal may read stay hidden.
    const orders = await get(`${hs.url}/api/v2/app/_table/orders`, { 'X-API-Key': KEYS.partner, ...bearer(internalToken) });
    expect(orders.status).toBe(404);
  });

  it('a wrong API key next to a valid internal token is a 401: no fallback to the token', async () => {
    const internalToken = await signHs256(SECRET, { roles: ['internal'] });
    const r = await whoami(hs, { 'X-API-Key': 'guess', ...bearer(internalToken) });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toMatch(/API key is not valid/);
    const df = await whoami(hs, { 'X-DreamFactory-API-Key': 'guess', ...bearer(internalToken) });
    expect(df.status).toBe(401);
  });

  it('a claim carrying SQL is only a value: no rows, no error, nothing widened', async () => {
    const token = await signHs256(SECRET, { roles: ['external'], tenant_id: "t2' OR '1'='1" });
    const r = await whoami(hs, bearer(token));
    expect(r).toMatchObject({ status: 200, role: 'external', rows: 0 });
  });

  it('a claim of the wrong shape is a 403, never all rows', async () => {
    for (const tenant_id of [null, { $ne: 'x' }, ['t1', 't2']]) {
      const r = await whoami(hs, bearer(await signHs256(SECRET, { roles: ['external'], tenant_id })));
      expect(r.status, JSON.stringify(tenant_id)).toBe(403);
      expect(r.rows).toBe(0);
    }
  });
});
