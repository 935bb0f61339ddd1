// Every request that reaches viewgate is audited exactly once, whatever its outcome (issue 11,
// docs/operations.md "What is audited"): refused by a limit (414, 431, 413), a body that does not
// parse, an unknown route, an MCP request turned away by the credential or Origin check, an MCP
// message that is not a tool call, a tool call or request that fails with 500 — and a request the
// pipeline audits itself gets no second record. Records go to the file sink and are read back.
import { mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import type { AuditRecord } from '../../src/ops/audit.js';
import { createLogger } from '../../src/ops/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { buildServer } from '../../src/server.js';
import { createReferenceStores, KEYS, referenceConfig, startServer, type ReferenceStores } from '../support/reference.js';
import { auditFileRecords } from '../support/audit-file.js';

let stores: ReferenceStores;
let dir: string;
let auditFile: string;
let rt: Runtime;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  stores = await createReferenceStores('audit_every');
  dir = mkdtempSync(join(tmpdir(), 'vg-audit-every-'));
  auditFile = join(dir, 'audit.log');
  const config = referenceConfig(stores.env, (y) => y.replace('audit:\n  sink: stdout', `audit:\n  sink: file\n  path: ${auditFile}`));
  rt = await createRuntime(config, { logger: createLogger('silent') });
  app = await buildServer(rt);
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  await app?.close();
  await rt?.close();
  await stores?.drop();
  rmSync(dir, { recursive: true, force: true });
});

function records(): AuditRecord[] {
  return auditFileRecords<AuditRecord>(auditFile);
}

/**
 * The records of one request, once its first record is there (a streamed MCP response is audited
 * when it has ended), after every pending write has finished.
 */
async function recordsOf(requestId: string): Promise<AuditRecord[]> {
  const deadline = Date.now() + 10_000;
  while (!records().some((r) => r.requestId === requestId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await rt.audit.flush();
  return records().filter((r) => r.requestId === requestId);
}

const internal = { 'X-API-Key': KEYS.internal };
const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
};
const TOOLS_LIST = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} });

function send(path: string, requestId: string, init: RequestInit = {}) {
  const headers = { ...(init.headers as Record<string, string>), 'x-request-id': requestId };
  return fetch(`${url}${path}`, { ...init, headers });
}

function mcp(requestId: string, body: string, headers: Record<string, string> = internal) {
  return send('/mcp', requestId, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });
}

describe('REST requests refused before any route runs', () => {
  it('audits a URL over the length limit (414) once', async () => {
    const res = await send(`/api/v2/crm/_table/customers?filter=${'a'.repeat(9000)}`, 'ae-414', { headers: internal });
    expect(res.status).toBe(414);
    const recs = await recordsOf('ae-414');
    expect(recs).toHaveLength(1);
    expect(recs[0]).toMatchObject({
      surface: 'rest',
      status: 414,
      decision: 'error',
      view: 'crm.customers',
      args: { method: 'GET', path: '/api/v2/crm/_table/customers' },
    });
  });

  it('audits a request whose headers Node refuses (431) once, answering in the error envelope', async () => {
    const before = records().filter((r) => r.action === 'client_error').length;
    const { status, body } = await rawGet(`/api/v2/crm/_table/customers?filter=${'a'.repeat(20_000)}`);
    expect(status).toBe(431);
    expect(JSON.parse(body).error).toMatchObject({ code: 431, message: expect.stringContaining('shorten the URL') });
    await rt.audit.flush();
    const recs = records().filter((r) => r.action === 'client_error');
    expect(recs).toHaveLength(before + 1);
    expect(recs.at(-1)).toMatchObject({ surface: 'rest', status: 431, decision: 'error' });
    expect(recs.at(-1)!.requestId).toBe(JSON.parse(body).error.context.requestId);
  });

  it('audits an unknown route (404) once, with its path but never its query string', async () => {
    const res = await send('/no/such/route?api_key=secret-in-url', 'ae-404');
    expect(res.status).toBe(404);
    const recs = await recordsOf('ae-404');
    expect(recs).toEqual([
      expect.objectContaining({
        surface: 'rest',
        action: 'no_route',
        status: 404,
        decision: 'deny',
        args: { method: 'GET', path: '/no/such/route' },
      }),
    ]);
    expect(JSON.stringify(recs)).not.toContain('secret-in-url');
  });

  it('audits an API request that the pipeline audits itself exactly once (allowed and denied)', async () => {
    expect((await send('/api/v2/crm/_table/customers?limit=1', 'ae-rest-ok', { headers: internal })).status).toBe(200);
    expect((await send('/api/v2/crm/_table/customers?limit=1', 'ae-rest-401')).status).toBe(401);
    expect(await recordsOf('ae-rest-ok')).toEqual([
      expect.objectContaining({ action: 'query', status: 200, rowCount: 1, keyName: 'internal-tools' }),
    ]);
    expect(await recordsOf('ae-rest-401')).toEqual([expect.objectContaining({ action: 'query', status: 401, decision: 'deny' })]);
  });

  it('records the filter of a query asked again (its kept plan) as it records the first', async () => {
    const path = `/api/v2/crm/_table/customers?filter=${encodeURIComponent("customer_id in (1, 2) and full_name like 'A%'")}`;
    for (const id of ['ae-filter-1', 'ae-filter-2', 'ae-filter-3']) expect((await send(path, id, { headers: internal })).status).toBe(200);
    const other = `/api/v2/crm/_table/customers?filter=${encodeURIComponent('not (customer_id = 3)')}`;
    expect((await send(other, 'ae-filter-other', { headers: internal })).status).toBe(200);
    for (const id of ['ae-filter-1', 'ae-filter-2', 'ae-filter-3'])
      expect(await recordsOf(id)).toEqual([expect.objectContaining({ filter: "customer_id in (1, 2) and full_name like 'A%'" })]);
    expect(await recordsOf('ae-filter-other')).toEqual([expect.objectContaining({ filter: 'not customer_id = 3' })]);
  });

  it('audits the API description and docs, but not the health and metrics probes', async () => {
    expect((await send('/healthz', 'ae-healthz')).status).toBe(200);
    // /metrics answers roles with `metrics: true` (the reference config's internal role).
    expect((await send('/metrics', 'ae-metrics', { headers: internal })).status).toBe(200);
    expect((await send('/docs', 'ae-docs')).status).toBe(200);
    expect(await recordsOf('ae-docs')).toEqual([expect.objectContaining({ action: 'GET /docs', status: 200, decision: 'allow' })]);
    expect(records().filter((r) => r.requestId === 'ae-healthz' || r.requestId === 'ae-metrics')).toEqual([]);
  });
});

describe('MCP over HTTP', () => {
  it('audits a request without a credential (401) once, as connect', async () => {
    const res = await mcp('ae-mcp-401', TOOLS_LIST, {});
    expect(res.status).toBe(401);
    expect(await recordsOf('ae-mcp-401')).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'connect', status: 401, decision: 'deny' }),
    ]);
  });

  it('audits a request from a refused Origin (403) once', async () => {
    const res = await mcp('ae-mcp-origin', TOOLS_LIST, { ...internal, origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await recordsOf('ae-mcp-origin')).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'connect', status: 403, decision: 'deny' }),
    ]);
  });

  it('audits a body over the size limit (413) once', async () => {
    const res = await mcp('ae-mcp-413', JSON.stringify({ pad: 'x'.repeat(rt.config.server.bodyLimit + 10) }));
    expect(res.status).toBe(413);
    expect(await recordsOf('ae-mcp-413')).toEqual([
      expect.objectContaining({ surface: 'mcp', status: 413, decision: 'error', keyName: 'internal-tools' }),
    ]);
  });

  it('audits a body that is not JSON, and JSON that is not JSON-RPC, once each', async () => {
    const bad = await mcp('ae-mcp-badjson', '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(bad.status).toBe(400);
    expect(await recordsOf('ae-mcp-badjson')).toEqual([expect.objectContaining({ surface: 'mcp', status: 400, decision: 'error' })]);
    const notRpc = await mcp('ae-mcp-notrpc', '{"hello":"world"}');
    expect(notRpc.status).toBe(400);
    expect(await recordsOf('ae-mcp-notrpc')).toEqual([
      expect.objectContaining({ surface: 'mcp', status: 400, decision: 'error', keyName: 'internal-tools' }),
    ]);
  });

  it('audits a body that nests too deeply once', async () => {
    const res = await mcp('ae-mcp-deep', '['.repeat(10_000) + ']'.repeat(10_000));
    expect(res.status).toBe(400);
    expect(await recordsOf('ae-mcp-deep')).toEqual([expect.objectContaining({ surface: 'mcp', status: 400, decision: 'error' })]);
  });

  it('audits a message that is not a tool call once, under its method', async () => {
    const res = await mcp('ae-mcp-list', TOOLS_LIST);
    expect(res.status).toBe(200);
    await res.text();
    expect(await recordsOf('ae-mcp-list')).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'tools/list', status: 200, keyName: 'internal-tools' }),
    ]);
  });

  it('audits a tool call once (its own record, no second one for the request)', async () => {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'query_view', arguments: { view: 'crm.customers', limit: 2 } },
    });
    const res = await mcp('ae-mcp-call', body);
    expect(await res.text()).toContain('"result"');
    expect(await recordsOf('ae-mcp-call')).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'query_view', status: 200, rowCount: 2 }),
    ]);
  });

  it('audits a tool call that fails with 500 once', async () => {
    const original = rt.gateway.queryView;
    rt.gateway.queryView = async () => {
      throw new Error('injected fault');
    };
    try {
      const body = JSON.stringify({
        jsonrpc: '2.0',
        id: 3,
        method: 'tools/call',
        params: { name: 'query_view', arguments: { view: 'crm.customers' } },
      });
      const res = await mcp('ae-mcp-500', body);
      expect(await res.text()).toContain('Error 500');
    } finally {
      rt.gateway.queryView = original;
    }
    expect(await recordsOf('ae-mcp-500')).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'query_view', status: 500, decision: 'error' }),
    ]);
  });

  it('audits a request that fails with 500 before any tool runs once', async () => {
    const original = rt.auth.authenticate;
    rt.auth.authenticate = async () => {
      throw new Error('injected fault');
    };
    try {
      const res = await mcp('ae-mcp-500-early', TOOLS_LIST);
      expect(res.status).toBe(500);
    } finally {
      rt.auth.authenticate = original;
    }
    expect(await recordsOf('ae-mcp-500-early')).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'connect', status: 500, decision: 'error' }),
    ]);
  });

  it('gives each request of an SDK client session exactly one record', async () => {
    const before = new Set(records().map((r) => r.requestId));
    const client = new Client({ name: 'audit-every', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: internal } }));
    await client.listTools();
    await client.callTool({ name: 'list_views', arguments: {} });
    await client.close();
    const deadline = Date.now() + 10_000;
    while (!records().some((r) => !before.has(r.requestId) && r.action === 'list_views') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    await rt.audit.flush();
    const fresh = records().filter((r) => !before.has(r.requestId));
    const perRequest = new Map<string, number>();
    for (const r of fresh) perRequest.set(r.requestId, (perRequest.get(r.requestId) ?? 0) + 1);
    expect([...perRequest.values()].every((n) => n === 1)).toBe(true);
    expect(fresh.map((r) => r.action)).toEqual(expect.arrayContaining(['initialize', 'tools/list', 'list_views']));
  });
});

describe('with audit.failClosed, when the sink fails', () => {
  it('answers 503 instead of a success it could not audit; refusals stay what they are', async () => {
    const strict = await startServer(
      referenceConfig(stores.env, (y) => y.replace('audit:\n  sink: stdout', 'audit:\n  sink: stdout\n  failClosed: true')),
    );
    try {
      strict.audit.fail = true;
      const docs = await fetch(`${strict.url}/docs`);
      expect(docs.status).toBe(503);
      expect(((await docs.json()) as any).error.message).toContain('audit log cannot be written');
      const list = await fetch(`${strict.url}/mcp`, { method: 'POST', headers: { ...MCP_HEADERS, ...internal }, body: TOOLS_LIST });
      expect(list.status).toBe(503);
      await list.text();
      expect((await fetch(`${strict.url}/no/such/route`)).status).toBe(404);
      strict.audit.fail = false;
      expect((await fetch(`${strict.url}/docs`)).status).toBe(200);
      expect(strict.audit.records.map((r) => r.action)).toEqual(['GET /docs']);
    } finally {
      await strict.close();
    }
  });
});

/** A GET through node:http, which (unlike fetch) sends a request line longer than Node accepts. */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path, headers: internal }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}
