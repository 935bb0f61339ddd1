// viewgate served over HTTPS (server.tls): REST and MCP over HTTP answer a client that trusts the
// CA which signed the server's certificate; a client trusting another CA refuses the server, and a
// plain HTTP request to the port gets no answer. A missing certificate file is a config problem.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { parseDocument } from 'yaml';
import { ConfigError } from '../../src/config/load.js';
import {
  createReferenceStores,
  KEYS,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { fetchTrusting, type Fetch } from '../support/https-fetch.js';
import { makeTestCa, type TestCa } from '../support/test-ca.js';

let stores: ReferenceStores;
let srv: RunningServer;
let ca: TestCa;
let trusting: Fetch;

function withServerTls(tls: Record<string, string>): (yaml: string) => string {
  return (yaml) => {
    const doc = parseDocument(yaml);
    doc.setIn(['server', 'tls'], tls);
    return doc.toString();
  };
}

beforeAll(async () => {
  ca = makeTestCa();
  trusting = fetchTrusting(ca.read(ca.caFile));
  stores = await createReferenceStores('tlsserver');
  srv = await startServer(referenceConfig(stores.env, withServerTls({ cert: ca.serverCertFile, key: ca.serverKeyFile })));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
  ca?.remove();
});

describe('server.tls', () => {
  it('serves REST over HTTPS to a client that trusts the CA', async () => {
    expect(srv.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await trusting(`${srv.url}/api/v2/crm/_table/customers?fields=customer_id&order=customer_id&limit=2`, {
      headers: { 'X-API-Key': KEYS.internal },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { resource: unknown[] }).resource).toEqual([{ customer_id: 1 }, { customer_id: 2 }]);
    // The OpenAPI document points clients at the https URL they came to.
    const doc = await trusting(`${srv.url}/api/v2/openapi.json`, { headers: { 'X-API-Key': KEYS.internal } });
    expect(((await doc.json()) as { servers: unknown }).servers).toEqual([{ url: srv.url }]);
  });

  it('serves MCP over HTTPS to a client that trusts the CA', async () => {
    const client = new Client({ name: 'viewgate-test', version: '1.0.0' });
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), {
        fetch: trusting,
        requestInit: { headers: { 'X-API-Key': KEYS.internal } },
      }),
    );
    try {
      const r = await client.callTool({
        name: 'query_view',
        arguments: { view: 'crm.customers', fields: ['customer_id'], order: 'customer_id', limit: 1 },
      });
      expect(r.isError).toBeFalsy();
      expect((r.structuredContent as { rows: unknown[] }).rows).toEqual([{ customer_id: 1 }]);
    } finally {
      await client.close();
    }
  });

  it('a client trusting another CA refuses the server; plain HTTP gets no answer', async () => {
    await expect(fetchTrusting(ca.read(ca.otherCaFile))(`${srv.url}/healthz`)).rejects.toMatchObject({
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    await expect(fetch(`${srv.url.replace('https:', 'http:')}/healthz`)).rejects.toThrow();
  });

  it('a missing certificate or key file is a config problem naming the key', () => {
    let problem: unknown;
    try {
      referenceConfig(stores.env, withServerTls({ cert: ca.serverCertFile, key: `${ca.dir}/missing.key` }));
    } catch (err) {
      problem = err;
    }
    expect(problem).toBeInstanceOf(ConfigError);
    expect((problem as Error).message).toMatch(/server\.tls\.key.*cannot read the file ".*missing\.key" \(ENOENT\)/);
    expect(() => referenceConfig(stores.env, withServerTls({ cert: ca.serverCertFile }))).toThrow(/server\.tls\.key/);
  });
});
