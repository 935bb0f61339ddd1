// What an outside caller learns when a store is down (docs/security.md "Store outages"): the
// store's name, never its host, port or the driver's words, over REST, MCP (Streamable HTTP and
// stdio) and the unauthenticated /readyz; the server log and `viewgate check` keep the detail.
// And /metrics (docs/security.md "/metrics"): only roles with `metrics: true`, unless public.
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { createLogger } from '../../src/ops/logger.js';
import { runCheck } from '../../src/commands/check.js';
import {
  createReferenceStores,
  get,
  KEYS,
  REFERENCE_CONFIG,
  referenceConfig,
  startServer,
  type ReferenceStores,
  type RunningServer,
} from '../support/reference.js';
import { signHs256 } from '../support/jwt.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const ROOT = new URL('../..', import.meta.url).pathname;
const internal = { 'X-API-Key': KEYS.internal };

let stores: ReferenceStores;
/** A port nothing listens on: the "app" store is down from the start. */
let closedPort: number;
let downEnv: Record<string, string>;
let srv: RunningServer;
let log = '';

/** Everything that would tell a caller where the store lives or what its driver said. */
function leaks(text: string): RegExpMatchArray | null {
  return text.match(new RegExp(`127\\.0\\.0\\.1|localhost|:${closedPort}\\b|\\b${closedPort}\\b|ECONN|connect |s3cr3t|postgres://`, 'i'));
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function toolText(result: any): string {
  return result.content.map((c: any) => c.text).join('\n');
}

beforeAll(async () => {
  stores = await createReferenceStores('opsleaks');
  closedPort = await freePort();
  downEnv = { ...stores.env, APP_PG_URL: `postgres://viewgate:s3cr3t@127.0.0.1:${closedPort}/app` };
  srv = await startServer(referenceConfig(downEnv), {
    logger: createLogger('info', { write: (line: string) => void (log += line) }),
    breaker: { failures: 3, cooldownMs: 600_000 },
  });
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

describe('a store that is down', () => {
  it('REST names the store only; the log has the driver detail under the request id', async () => {
    for (const path of ['/api/v2/app/_table/orders?limit=1', '/api/v2/federation/_table/unified_customer_activity?limit=1']) {
      const r = await get(srv.url + path, internal);
      expect(r.status, path).toBe(503);
      expect(r.body.error.message, path).toMatch(/^store "app" is unavailable: /);
      expect(r.body.error.context).toEqual({ source: 'app' });
      expect(leaks(r.text), path).toBeNull();
      const requestId = r.headers.get('x-request-id')!;
      const entry = log
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l))
        .find((e) => e.requestId === requestId && e.store === 'app');
      expect(entry, path).toBeDefined();
      expect(entry.detail).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`));
    }
    // The password in the store URL reaches neither the caller nor the log.
    expect(log).not.toContain('s3cr3t');
  });

  it('/readyz says which store is down and nothing more', async () => {
    const r = await get(`${srv.url}/readyz`);
    expect(r.status).toBe(503);
    expect(r.body).toEqual({ status: 'not ready', down: ['app'] });
    expect(leaks(r.text)).toBeNull();
    expect(log).toMatch(/readyz: source is down/);
  });

  it('MCP over HTTP: the tool error names the store only', async () => {
    const client = new Client({ name: 'leaks', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${srv.url}/mcp`), { requestInit: { headers: internal } }));
    try {
      for (const view of ['app.orders', 'federation.unified_customer_activity']) {
        const result: any = await client.callTool({ name: 'query_view', arguments: { view, limit: 1 } });
        expect(result.isError, view).toBe(true);
        expect(toolText(result), view).toMatch(/^Error 503: store "app" is unavailable: /);
        expect(leaks(JSON.stringify(result)), view).toBeNull();
      }
    } finally {
      await client.close();
    }
  });

  it('MCP over stdio: the tool error names the store only; stderr (the log) has the detail', async () => {
    let stderr = '';
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [BIN, 'mcp', '--config', REFERENCE_CONFIG],
      cwd: ROOT,
      env: { ...(process.env as Record<string, string>), ...downEnv, VIEWGATE_API_KEY: KEYS.internal },
      stderr: 'pipe',
    });
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'leaks', version: '1.0.0' });
    await client.connect(transport);
    try {
      const result: any = await client.callTool({ name: 'query_view', arguments: { view: 'app.orders', limit: 1 } });
      expect(result.isError).toBe(true);
      expect(toolText(result)).toMatch(/^Error 503: store "app" is unavailable: /);
      expect(leaks(JSON.stringify(result))).toBeNull();
    } finally {
      await client.close();
    }
    expect(stderr).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`));
    expect(stderr).not.toContain('s3cr3t');
  });

  it('an open circuit names the store only (the last failure stays in the log)', async () => {
    let last: Awaited<ReturnType<typeof get>> | undefined;
    for (let i = 0; i < 5 && !last?.body.error.message.includes('circuit open'); i++)
      last = await get(`${srv.url}/api/v2/app/_table/orders?limit=1`, internal);
    expect(last!.status).toBe(503);
    expect(last!.body.error.message).toMatch(
      /^store "app" is unavailable: circuit open after 3 consecutive failures; the next probe is in \d+s$/,
    );
    expect(leaks(last!.text)).toBeNull();
    expect(log).toMatch(
      new RegExp(
        `circuit open after 3 consecutive failures; the next probe is in \\d+s \\(last: [^)]*ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`,
      ),
    );
  });

  it('viewgate check keeps the detail: it is the operator tool', async () => {
    const report = await runCheck(referenceConfig(downEnv));
    expect(report.ok).toBe(false);
    const line = report.lines.find((l) => l.startsWith('source  FAIL  app'));
    expect(line).toMatch(new RegExp(`ECONNREFUSED 127\\.0\\.0\\.1:${closedPort}`));
    expect(report.lines.join('\n')).not.toContain('s3cr3t');
  });
});

describe('/metrics', () => {
  it('401 without a credential, 403 for a role without metrics: true, 200 for one with it', async () => {
    const none = await fetch(`${srv.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const body = await none.text();
    expect(body).not.toMatch(/viewgate_|crm\.customers/);

    const wrong = await get(`${srv.url}/metrics`, { 'X-API-Key': 'not-a-key' });
    expect(wrong.status).toBe(401);

    for (const key of [KEYS.partner, KEYS.llm]) {
      const r = await get(`${srv.url}/metrics`, { 'X-API-Key': key });
      expect(r.status).toBe(403);
      expect(r.body.error.message).toMatch(/may not read \/metrics; give the role `metrics: true`/);
      expect(r.text).not.toMatch(/viewgate_/);
    }

    const ok = await fetch(`${srv.url}/metrics`, { headers: internal });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^viewgate_request_duration_seconds_count\{/m);

    // A token whose role has metrics: true is as good as the key.
    const token = await signHs256(srv.rt.config.auth.jwt!.secret!, { roles: ['internal'] }, { iss: 'viewgate-demo' });
    expect((await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    const external = await signHs256(srv.rt.config.auth.jwt!.secret!, { roles: ['external'], tenant_id: 't1' }, { iss: 'viewgate-demo' });
    expect((await fetch(`${srv.url}/metrics`, { headers: { Authorization: `Bearer ${external}` } })).status).toBe(403);
  });

  it('server.metrics.public: true serves it to anyone', async () => {
    const open = await startServer(referenceConfig(stores.env, (y) => y.replace(/^server:\n/m, 'server:\n  metrics: { public: true }\n')));
    try {
      expect(open.rt.config.server.metrics.public).toBe(true);
      const r = await fetch(`${open.url}/metrics`);
      expect(r.status).toBe(200);
      expect(await r.text()).toMatch(/^# HELP viewgate_/m);
    } finally {
      await open.close();
    }
  });
});
