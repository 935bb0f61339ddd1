// Deep nesting is refused with a clear 4xx naming the limit on every surface, never a 500 or a
// stack overflow (issue 11, docs/security.md "Deep nesting"): structured filters 10,000 levels
// deep ({"not":...} and nested "and") in MCP bodies over HTTP and in MCP stdio lines, and the
// text filter grammar with thousands of nested parentheses or `not not not ...` on REST and MCP.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH } from '../../src/ops/json-depth.js';
import { MAX_DEPTH } from '../../src/query/filter-parser.js';
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
import { auditFileRecords } from '../support/audit-file.js';

const BIN = new URL('../../bin/viewgate.js', import.meta.url).pathname;
const LEAF = { field: 'customer_id', op: 'eq', value: 1 };
const DEEP = 10_000;

let stores: ReferenceStores;
let srv: RunningServer;

beforeAll(async () => {
  stores = await createReferenceStores('bounds');
  srv = await startServer(referenceConfig(stores.env));
});

afterAll(async () => {
  await srv?.close();
  await stores?.drop();
});

/** Nested filters as JSON text (building them as objects and stringifying would itself overflow). */
const nestedNot = (depth: number) => '{"not":'.repeat(depth) + JSON.stringify(LEAF) + '}'.repeat(depth);
const nestedAnd = (depth: number) => '{"and":['.repeat(depth) + JSON.stringify(LEAF) + ']}'.repeat(depth);
const parens = (depth: number) => '('.repeat(depth) + 'customer_id = 1' + ')'.repeat(depth);
const nots = (depth: number) => 'not '.repeat(depth) + 'customer_id = 1';

/** A tools/call of query_view with the filter given as raw JSON text (or a JSON string). */
function queryViewCall(id: number, filterJson: string): string {
  return `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"query_view","arguments":{"view":"crm.customers","filter":${filterJson}}}}`;
}

const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': '2025-06-18',
  'x-api-key': KEYS.internal,
};

async function mcpPost(body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${srv.url}/mcp`, { method: 'POST', headers: MCP_HEADERS, body });
  return { status: res.status, text: await res.text() };
}

/** The JSON-RPC message of an SSE or JSON response body. */
function rpc(text: string): any {
  const data = text.split('\n').find((l) => l.startsWith('data: '));
  return JSON.parse(data ? data.slice(6) : text);
}

describe('REST: the text filter grammar', () => {
  const api = (filter: string) => `${srv.url}/api/v2/crm/_table/customers?filter=${encodeURIComponent(filter)}`;
  const internal = { 'X-API-Key': KEYS.internal };

  it.each([
    ['3,000 nested parentheses', parens(3000)],
    ['1,000 times not', nots(1000)],
  ])('refuses %s with 400 naming the nesting limit', async (_what, filter) => {
    const r = await get(api(filter), internal);
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(`nests more than ${MAX_DEPTH} levels deep`);
  });

  it('refuses deeper filters by the URL length limits (414, then 431 from the HTTP parser), never a 500', async () => {
    const long = await get(api(parens(4500)), internal);
    expect(long.status).toBe(414);
    expect(long.body.error.message).toMatch(/URL is longer than \d+ characters/);
    for (const filter of [parens(DEEP), nots(DEEP)]) {
      const r = await get(api(filter), internal);
      expect(r.status).toBe(431);
      expect(r.body.error.message).toContain('shorten the URL');
    }
  });

  it('still answers a filter at the nesting limit', async () => {
    const r = await get(api(parens(MAX_DEPTH - 1)), internal);
    expect(r.status).toBe(200);
    expect(r.body.resource.map((c: any) => c.customer_id)).toEqual([1]);
  });
});

describe('MCP over HTTP', () => {
  it.each([
    ['{"not":...}', nestedNot(DEEP)],
    ['nested "and"', nestedAnd(DEEP)],
  ])('refuses a structured filter nesting %s 10,000 levels deep with 400 naming the limit', async (_what, filter) => {
    const r = await mcpPost(queryViewCall(1, filter));
    expect(r.status).toBe(400);
    const err = JSON.parse(r.text).error;
    expect(err).toMatchObject({ code: 400, context: { limit: MAX_JSON_DEPTH } });
    expect(err.message).toContain(`more than ${MAX_JSON_DEPTH} levels deep`);
  });

  it('leaves room for the filter limit: 101 levels of "and" get the filter\'s own message as a tool error', async () => {
    const r = await mcpPost(queryViewCall(2, nestedAnd(MAX_DEPTH + 1)));
    expect(r.status).toBe(200);
    const result = rpc(r.text).result;
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toContain(`nests more than ${MAX_DEPTH} levels deep`);
  });

  it('answers a structured filter nested within the limit', async () => {
    const r = await mcpPost(queryViewCall(3, nestedAnd(60)));
    const result = rpc(r.text).result;
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent.rows.map((c: any) => c.customer_id)).toEqual([1]);
  });

  it.each([
    ['10,000 nested parentheses', parens(DEEP)],
    ['10,000 times not', nots(DEEP)],
    ['a JSON filter string 10,000 levels deep', nestedNot(DEEP)],
  ])('answers %s in a filter string with a tool error naming the limit', async (_what, filter) => {
    const r = await mcpPost(queryViewCall(4, JSON.stringify(filter)));
    expect(r.status).toBe(200);
    const result = rpc(r.text).result;
    expect(result.isError).toBe(true);
    expect(result.content[0].text).toMatch(new RegExp(`^Error 400: .*nests more than ${MAX_DEPTH} levels deep`));
  });
});

describe('MCP over stdio', () => {
  let dir: string;
  let auditFile: string;
  let child: ChildProcessWithoutNullStreams;
  let out = '';
  let err = '';

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vg-bounds-'));
    auditFile = join(dir, 'audit.log');
    const yaml = readFileSync(REFERENCE_CONFIG, 'utf8').replace('audit:\n  sink: stdout', `audit:\n  sink: file\n  path: ${auditFile}`);
    const config = join(dir, 'viewgate.yaml');
    writeFileSync(config, yaml);
    child = spawn(process.execPath, [BIN, 'mcp', '--config', config], {
      env: { ...process.env, ...stores.env, VIEWGATE_API_KEY: KEYS.internal },
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    send({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'bounds', version: '1' } },
    });
    await reply(0);
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.stdin.end();
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  function send(msg: unknown): void {
    child.stdin.write((typeof msg === 'string' ? msg : JSON.stringify(msg)) + '\n');
  }

  /** The server's answer to request `id`, waiting for it with a generous deadline. */
  async function reply(id: number | null): Promise<any> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const found = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .find((m) => m.id === id && ('result' in m || 'error' in m));
      if (found) return found;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`no answer to ${id}; stderr: ${err}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it.each([
    [11, '{"not":...}', nestedNot(DEEP)],
    [12, 'nested "and"', nestedAnd(DEEP)],
  ])('answers a structured filter (id %i, %s) 10,000 levels deep with a JSON-RPC error naming the limit', async (id, _what, filter) => {
    send(queryViewCall(id, filter));
    const m = await reply(id);
    expect(m.error).toMatchObject({ code: -32600, data: { status: 400 } });
    expect(m.error.message).toContain(`more than ${MAX_JSON_DEPTH} levels deep`);
  });

  it('answers the text grammar 10,000 levels deep with a tool error naming the filter limit', async () => {
    send(queryViewCall(13, JSON.stringify(parens(DEEP))));
    send(queryViewCall(14, JSON.stringify(nots(DEEP))));
    for (const id of [13, 14]) {
      const m = await reply(id);
      expect(m.result.isError).toBe(true);
      expect(m.result.content[0].text).toContain(`nests more than ${MAX_DEPTH} levels deep`);
    }
  });

  it('answers a message over the size limit with a JSON-RPC error, and keeps serving', async () => {
    send(`{"jsonrpc":"2.0","id":15,"method":"ping","params":{"pad":"${'x'.repeat(1_100_000)}"}}`);
    const m = await reply(null);
    expect(m.error).toMatchObject({ code: -32600, data: { status: 413 } });
    expect(m.error.message).toContain('server.bodyLimit');
    send(queryViewCall(16, JSON.stringify(nestedAnd(3))));
    const ok = await reply(16);
    expect(ok.result.isError).toBeFalsy();
    expect(ok.result.structuredContent.rows.map((c: any) => c.customer_id)).toEqual([1]);
  });

  it('audits the refused messages', async () => {
    const deadline = Date.now() + 10_000;
    const recs = () => auditFileRecords<{ action?: string; status?: number }>(auditFile);
    const refused = () => recs().filter((r) => r.action === 'tools/call' || r.status === 413);
    while (refused().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(refused()).toEqual([
      expect.objectContaining({ surface: 'mcp', action: 'tools/call', status: 400, decision: 'error', keyName: 'internal-tools' }),
      expect.objectContaining({ surface: 'mcp', action: 'tools/call', status: 400, decision: 'error' }),
      expect.objectContaining({ surface: 'mcp', action: 'message', status: 413, decision: 'error' }),
    ]);
  });
});
