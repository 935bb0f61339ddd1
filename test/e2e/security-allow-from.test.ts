// Client addresses (docs/security.md, "Client addresses") over real HTTP and the real MCP client:
// `allowFrom` on an API key and on a role, IPv4 and IPv6 (the server listens on `::`, so IPv4
// clients arrive as ::ffff:a.b.c.d), `server.trustProxy` and X-Forwarded-For, and the audit
// record of a refusal. Clients leave from chosen loopback addresses (127.0.0.2, ::1).
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseDocument } from 'yaml';
import { KEYS, referenceConfig, startServer, type RunningServer } from '../support/reference.js';
import { referenceStores } from '../support/reference-server.js';
import { fetchFrom, requestFrom } from '../support/local-address.js';

const QUERY = '/api/v2/crm/_table/customers?fields=customer_id&limit=1';
const sha256 = (k: string) => createHash('sha256').update(k).digest('hex');
const ref = referenceStores('allowfrom');
let srv: RunningServer;

/** Keys of role internal: `office` only from 127.0.0.1, `v6only` only from ::1; role llm only from 127.0.0.0/31. */
beforeAll(async () => {
  const config = referenceConfig(ref.stores.env, (y) => {
    const doc = parseDocument(y);
    doc.setIn(['server', 'trustProxy'], ['127.0.0.3']);
    const keys = doc.getIn(['auth', 'apiKeys']) as { add(v: unknown): void };
    keys.add(doc.createNode({ name: 'office', sha256: sha256('key-office'), role: 'internal', allowFrom: ['127.0.0.1/32'] }));
    keys.add(doc.createNode({ name: 'v6only', sha256: sha256('key-v6only'), role: 'internal', allowFrom: ['::1/128'] }));
    doc.setIn(['roles', 'llm', 'allowFrom'], ['127.0.0.0/31']);
    return doc.toString();
  });
  srv = await startServer(config, {}, '::');
});

afterAll(async () => {
  await srv?.close();
});

const key = (k: string) => ({ 'X-API-Key': k });
const recordOf = (requestId: string | null) => srv.audit.records.find((r) => r.requestId === requestId);

describe('allowFrom on an API key', () => {
  it('accepts the listed address (an IPv4-mapped peer) and refuses another with a 403 that names no address', async () => {
    const ok = await requestFrom('127.0.0.1', srv.url + QUERY, key('key-office'));
    expect(ok.status).toBe(200);
    expect(ok.body.resource).toHaveLength(1);

    const refused = await requestFrom('127.0.0.2', srv.url + QUERY, key('key-office'));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('requests from this client address are not allowed for this API key');
    expect(JSON.stringify(refused.body)).not.toContain('127.0.0');
  });

  it('audits the refusal as a denial of that key', async () => {
    const refused = await requestFrom('127.0.0.2', srv.url + QUERY, key('key-office'));
    const rec = recordOf(refused.headers.get('x-request-id'));
    expect(rec).toMatchObject({ surface: 'rest', action: 'query', decision: 'deny', status: 403, keyName: 'office', role: 'internal' });
  });

  it('IPv6: ::1 is accepted where only ::1 is listed, 127.0.0.1 is not', async () => {
    const url = srv.url.replace('127.0.0.1', '[::1]') + QUERY;
    expect((await requestFrom('::1', url, key('key-v6only'))).status).toBe(200);
    expect((await requestFrom('127.0.0.1', srv.url + QUERY, key('key-v6only'))).status).toBe(403);
  });

  it('governed SQL is refused alike', async () => {
    const body = JSON.stringify({ sql: 'SELECT customer_id FROM crm.customers LIMIT 1' });
    const headers = { ...key('key-office'), 'content-type': 'application/json' };
    expect((await requestFrom('127.0.0.1', `${srv.url}/api/v2/_sql`, headers, { method: 'POST', body })).status).toBe(200);
    const refused = await requestFrom('127.0.0.2', `${srv.url}/api/v2/_sql`, headers, { method: 'POST', body });
    expect(refused.status).toBe(403);
    expect(recordOf(refused.headers.get('x-request-id'))).toMatchObject({ action: 'query_sql', decision: 'deny', keyName: 'office' });
  });
});

describe('allowFrom on a role', () => {
  it('applies to every key of the role', async () => {
    expect((await requestFrom('127.0.0.1', srv.url + QUERY, key(KEYS.llm))).status).toBe(200);
    const refused = await requestFrom('127.0.0.2', srv.url + QUERY, key(KEYS.llm));
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toBe('requests from this client address are not allowed for role "llm"');
    // Roles without allowFrom are not limited.
    expect((await requestFrom('127.0.0.2', srv.url + QUERY, key(KEYS.partner))).status).toBe(200);
  });
});

describe('MCP over Streamable HTTP', () => {
  const open = async (from: string, apiKey: string) => {
    const c = new Client({ name: 'allow-from', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    const transport = new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
      requestInit: { headers: key(apiKey) },
      fetch: fetchFrom(from),
    });
    await c.connect(transport);
    return c;
  };

  it('serves the listed address and refuses another, audited with the key', async () => {
    const c = await open('127.0.0.1', 'key-office');
    try {
      const r: any = await c.callTool({ name: 'query_view', arguments: { view: 'crm.customers', limit: 1 } });
      expect(r.isError).toBeFalsy();
    } finally {
      await c.close();
    }
    const before = srv.audit.records.length;
    await expect(open('127.0.0.2', 'key-office')).rejects.toThrow(/403|not allowed/);
    const denied = srv.audit.records.slice(before).find((r) => r.surface === 'mcp' && r.status === 403);
    expect(denied).toMatchObject({ action: 'connect', decision: 'deny', keyName: 'office' });
  });
});

describe('server.trustProxy', () => {
  const fwd = (xff: string) => ({ ...key('key-office'), 'X-Forwarded-For': xff });

  it('believes X-Forwarded-For from a trusted peer', async () => {
    expect((await requestFrom('127.0.0.3', srv.url + QUERY, fwd('127.0.0.1'))).status).toBe(200);
    expect((await requestFrom('127.0.0.3', srv.url + QUERY, fwd('127.0.0.2'))).status).toBe(403);
    // The peer itself is a proxy, not the client: without the header it is the client address.
    expect((await requestFrom('127.0.0.3', srv.url + QUERY, key('key-office'))).status).toBe(403);
  });

  it('takes the right-most address that is not a trusted proxy', async () => {
    // The client wrote 127.0.0.1 itself; the proxy appended the address it saw, 127.0.0.2.
    expect((await requestFrom('127.0.0.3', srv.url + QUERY, fwd('127.0.0.1, 127.0.0.2'))).status).toBe(403);
    // A trusted proxy in the chain (127.0.0.3) is skipped.
    expect((await requestFrom('127.0.0.3', srv.url + QUERY, fwd('127.0.0.1, 127.0.0.3'))).status).toBe(200);
  });

  it('ignores X-Forwarded-For from a peer that is not trusted', async () => {
    expect((await requestFrom('127.0.0.2', srv.url + QUERY, fwd('127.0.0.1'))).status).toBe(403);
  });
});
