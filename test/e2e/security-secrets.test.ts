// Secrets and key rotation over real HTTP and the real MCP client (docs/security.md, "Key
// rotation"; docs/configuration.md, "Secrets"): the JWT secret and a key hash read from files
// written with a trailing newline, two keys of one name that both work as one principal, and an
// expired key refused with a 401 that says so and is audited as a denial.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { get, referenceConfig, startServer, type RunningServer } from '../support/reference.js';
import { referenceStores } from '../support/reference-server.js';
import { signHs256 } from '../support/jwt.js';

const QUERY = '/api/v2/crm/_table/customers?fields=customer_id&limit=1';
const JWT_SECRET = 'jwt-secret-from-a-file-0123456789abcdef';
const sha256 = (k: string) => createHash('sha256').update(k).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'vg-secrets-e2e-'));
const ref = referenceStores('secrets');
let srv: RunningServer;

beforeAll(async () => {
  // As `echo "$SECRET" > file` and `sha256sum | cut -d' ' -f1 > file` write them: with a newline.
  writeFileSync(join(dir, 'jwt-secret'), `${JWT_SECRET}\n`);
  writeFileSync(join(dir, 'old-key.sha256'), `${sha256('key-rotating-old')}\n`);
  const config = referenceConfig(ref.stores.env, (y) => {
    const doc = parseDocument(y);
    doc.setIn(['auth', 'jwt', 'secret'], `\${file:${join(dir, 'jwt-secret')}}`);
    const keys = doc.getIn(['auth', 'apiKeys']) as { add(v: unknown): void };
    const partner = { role: 'external', claims: { tenant_id: 't2' } };
    keys.add(doc.createNode({ name: 'rotating', sha256: `\${file:${join(dir, 'old-key.sha256')}}`, expires: '2999-01-01', ...partner }));
    keys.add(doc.createNode({ name: 'rotating', sha256: sha256('key-rotating-new'), expires: '2999-06-01T00:00:00Z', ...partner }));
    keys.add(doc.createNode({ name: 'retired', sha256: sha256('key-retired'), expires: '2020-01-01', ...partner }));
    return doc.toString();
  });
  srv = await startServer(config);
});

afterAll(async () => {
  await srv?.close();
  rmSync(dir, { recursive: true, force: true });
});

const key = (k: string) => ({ 'X-API-Key': k });
const recordOf = (requestId: string | null) => srv.audit.records.find((r) => r.requestId === requestId);

describe('${file:} secrets', () => {
  it('the JWT secret is the file without its trailing newline', async () => {
    const claims = { roles: ['external'], tenant_id: 't2' };
    const good = await signHs256(JWT_SECRET, claims, { iss: 'viewgate-demo' });
    expect((await get(srv.url + QUERY, { Authorization: `Bearer ${good}` })).status).toBe(200);
    const withNewline = await signHs256(`${JWT_SECRET}\n`, claims, { iss: 'viewgate-demo' });
    expect((await get(srv.url + QUERY, { Authorization: `Bearer ${withNewline}` })).status).toBe(401);
  });
});

describe('key rotation', () => {
  it('two keys of one name both work, as one principal', async () => {
    const old = await get(srv.url + QUERY, key('key-rotating-old'));
    const fresh = await get(srv.url + QUERY, key('key-rotating-new'));
    expect([old.status, fresh.status]).toEqual([200, 200]);
    for (const r of [old, fresh]) {
      expect(recordOf(r.headers.get('x-request-id'))).toMatchObject({
        keyName: 'rotating',
        identityKey: 'key:rotating',
        decision: 'allow',
      });
    }
  });

  it('an expired key is a 401 saying so, naming nothing secret, audited as a denial', async () => {
    const r = await get(srv.url + QUERY, key('key-retired'));
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe('the API key has expired; ask for a new one');
    expect(r.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(r.text).not.toContain('key-retired');
    expect(r.text).not.toContain(sha256('key-retired'));
    expect(recordOf(r.headers.get('x-request-id'))).toMatchObject({ action: 'query', status: 401, decision: 'deny', keyName: 'retired' });
  });

  it('an expired key is refused on MCP alike', async () => {
    const r = await fetch(`${srv.url}/mcp`, {
      method: 'POST',
      headers: { ...key('key-retired'), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
    expect(r.status).toBe(401);
    expect(((await r.json()) as any).error.message).toBe('the API key has expired; ask for a new one');
    expect(r.headers.get('www-authenticate')).toMatch(/resource_metadata=/);
  });
});
