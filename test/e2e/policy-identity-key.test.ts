// The identity key (docs/security.md "Identity key") over real HTTP and MCP: tokens without a
// subject get a key from their claims, so two tenants never share a rate-limit bucket while two
// tokens of one principal do; auth.jwt.requireSub refuses them; auth.jwt.subjectClaim names the
// principal by another claim; audit records carry the key. And token times: a token issued in the
// future (iat beyond the clock skew) or not valid yet (nbf) is a 401 saying so.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseDocument } from 'yaml';
import { get, referenceConfig, startServer, type RunningServer } from '../support/reference.js';
import { referenceStores } from '../support/reference-server.js';
import { signHs256, type TokenOptions } from '../support/jwt.js';
import { externalGrant } from './ops-helpers.js';
import { canonicalJson } from '../../src/policy/identity.js';

const QUERY = '/api/v2/crm/_table/customers?fields=customer_id&limit=1';
const ISS = 'viewgate-demo';
const ref = referenceStores('idkey');
const servers: RunningServer[] = [];

afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
});

/** The reference config with a 2/minute limit on the external grant and `jwt` settings added. */
async function serve(jwt: Record<string, unknown> = {}): Promise<RunningServer> {
  const config = referenceConfig(ref.stores.env, (y) => {
    const doc = parseDocument(externalGrant(y, { rateLimit: '2/minute' }));
    for (const [k, v] of Object.entries(jwt)) doc.setIn(['auth', 'jwt', k], v);
    return doc.toString();
  });
  const srv = await startServer(config);
  servers.push(srv);
  return srv;
}

function token(srv: RunningServer, claims: Record<string, unknown>, o: TokenOptions = {}): Promise<string> {
  return signHs256(srv.rt.config.auth.jwt!.secret!, { roles: ['external'], ...claims }, { iss: ISS, ...o });
}

const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });
const statuses = async (srv: RunningServer, t: string, n: number) => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(srv.url + QUERY, bearer(t))).status);
  return out;
};

describe('tokens without a subject', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await serve();
  });

  it('REST: two tenants get two buckets; two tokens of one tenant share one', async () => {
    const t1 = await token(srv, { tenant_id: 't1', org: 'rest' }, { sub: null });
    const t1Again = await token(srv, { tenant_id: 't1', org: 'rest' }, { sub: null, expIn: 900 });
    const t2 = await token(srv, { tenant_id: 't2', org: 'rest' }, { sub: null });
    expect(t1Again).not.toBe(t1);
    expect(await statuses(srv, t1, 3)).toEqual([200, 200, 429]);
    // Another token with the same claims (a new exp) is the same principal: no fresh bucket.
    expect(await statuses(srv, t1Again, 1)).toEqual([429]);
    // Tenant t2 is untouched by t1 using up its bucket.
    expect(await statuses(srv, t2, 3)).toEqual([200, 200, 429]);
  });

  it('the audit record carries jwt:<iss>|#<sha256 of the claims minus exp, iat, nbf, jti>', async () => {
    const claims = { tenant_id: 't1', org: 'audit', roles: ['external'] };
    const t = await token(srv, claims, { sub: null, nbfIn: -5 });
    const r = await get(srv.url + QUERY, bearer(t));
    expect(r.status).toBe(200);
    const rec = srv.audit.records.find((x) => x.requestId === r.headers.get('x-request-id'))!;
    const fingerprint = createHash('sha256')
      .update(canonicalJson({ ...claims, iss: ISS, aud: 'viewgate' }))
      .digest('hex');
    expect(rec).toMatchObject({ subject: '', identityKey: `jwt:${ISS}|#${fingerprint}`, role: 'external' });
  });

  it('MCP over HTTP: the same separation', async () => {
    const open = async (t: string) => {
      const c = new Client({ name: 'idkey', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
      await c.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: bearer(t) } }));
      return c;
    };
    const [a, b] = await Promise.all([
      open(await token(srv, { tenant_id: 't1', org: 'mcp' }, { sub: null })),
      open(await token(srv, { tenant_id: 't2', org: 'mcp' }, { sub: null })),
    ]);
    try {
      const call = async (c: Client) => {
        const r: any = await c.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 1 } });
        return r.isError ? r.content[0].text.slice(0, 9) : 'ok';
      };
      expect([await call(a), await call(a), await call(a)]).toEqual(['ok', 'ok', 'Error 429']);
      expect([await call(b), await call(b), await call(b)]).toEqual(['ok', 'ok', 'Error 429']);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

describe('auth.jwt.requireSub', () => {
  it('refuses a token without a subject with a 401 saying so, on REST and MCP', async () => {
    const srv = await serve({ requireSub: true });
    const none = await token(srv, { tenant_id: 't1' }, { sub: null });
    const r = await get(srv.url + QUERY, bearer(none));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('the token has no subject claim "sub"; this server requires one (auth.jwt.requireSub)');
    expect(r.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);

    const mcp = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: { ...bearer(none), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(mcp.status).toBe(401);
    expect(((await mcp.json()) as any).error.message).toContain('no subject claim "sub"');

    expect((await get(srv.url + QUERY, bearer(await token(srv, { tenant_id: 't1' }, { sub: 'u-1' })))).status).toBe(200);
  });
});

describe('auth.jwt.subjectClaim', () => {
  it('names the principal by another claim: its own bucket and identity key', async () => {
    const srv = await serve({ subjectClaim: 'client_id' });
    // One sub, two clients: two principals. Two subs, one client: one principal.
    const a = await token(srv, { tenant_id: 't1', client_id: 'app-a' }, { sub: 'shared' });
    const b = await token(srv, { tenant_id: 't1', client_id: 'app-b' }, { sub: 'shared' });
    const a2 = await token(srv, { tenant_id: 't1', client_id: 'app-a' }, { sub: 'other' });
    expect(await statuses(srv, a, 2)).toEqual([200, 200]);
    expect(await statuses(srv, a2, 1)).toEqual([429]);
    expect(await statuses(srv, b, 1)).toEqual([200]);
    const rec = srv.audit.records.at(-1)!;
    expect(rec).toMatchObject({ subject: 'app-b', identityKey: `jwt:${ISS}|app-b` });
  });
});

describe('token times', () => {
  let srv: RunningServer;
  beforeAll(async () => {
    srv = await serve(); // clockSkew: the default 30 s
  });

  it('a token issued in the future beyond the clock skew is a 401 naming iat', async () => {
    const r = await get(srv.url + QUERY, bearer(await token(srv, { tenant_id: 't1' }, { iatIn: 300 })));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('the token is issued in the future (iat); check the identity provider clock');
    expect(r.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="the token is issued in the future/);
    // Within the skew, a clock slightly ahead is tolerated.
    expect((await get(srv.url + QUERY, bearer(await token(srv, { tenant_id: 't1' }, { sub: 'iat-ok', iatIn: 10 })))).status).toBe(200);
  });

  it('nbf: not valid yet beyond the skew is a 401; within it, accepted', async () => {
    const r = await get(srv.url + QUERY, bearer(await token(srv, { tenant_id: 't1' }, { nbfIn: 300 })));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('the token is not valid yet (nbf)');
    expect((await get(srv.url + QUERY, bearer(await token(srv, { tenant_id: 't1' }, { sub: 'nbf-ok', nbfIn: 10 })))).status).toBe(200);
  });
});
