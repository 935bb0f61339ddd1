// A plain tools/call is answered without the SDK's per-request server (src/mcp/direct-call.ts).
// Differential: the same request, from the same caller, through the SDK's handler (as /mcp used it
// for every message) and through the direct answer, against the reference stores, must give the
// same status, media type and JSON-RPC message, for both protocol eras, every kind of tool, tool
// errors and masked columns. What the direct answer declines (odd headers, extra envelope keys, a
// batch, an unknown tool, invalid arguments) runs nothing: no audit record, the SDK answers it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyInboundRequest, SUPPORTED_PROTOCOL_VERSIONS, type McpHttpHandler } from '@modelcontextprotocol/server';
import { answerToolCall, plainToolCall } from '../../src/mcp/direct-call.js';
import { sdkMcpHandler } from '../../src/mcp/http.js';
import { loadPrompts } from '../../src/mcp/prompts.js';
import type { McpCaller } from '../../src/mcp/caller.js';
import { KEYS } from '../support/reference.js';
import { referenceServer } from '../support/reference-server.js';

const ref = referenceServer('mcpdirect');
let sdk: McpHttpHandler;

beforeAll(() => {
  sdk = sdkMcpHandler(ref.srv.rt.gateway, loadPrompts(), () => {});
});

afterAll(async () => {
  await sdk?.close();
});

type Era = 'legacy' | 'modern';
const MODERN = '2026-07-28';
const ENVELOPE = {
  'io.modelcontextprotocol/protocolVersion': MODERN,
  'io.modelcontextprotocol/clientInfo': { name: 'direct-call-test', version: '1.0.0' },
  'io.modelcontextprotocol/clientCapabilities': {},
};

/** The headers and body a conforming client of `era` sends for one tools/call. */
function message(era: Era, name: string, args: Record<string, unknown>, id: string | number = 11) {
  const headers: Record<string, string> = { accept: 'application/json, text/event-stream', 'content-type': 'application/json' };
  if (era === 'legacy') {
    headers['mcp-protocol-version'] = '2025-06-18';
    return { headers, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } } };
  }
  Object.assign(headers, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/call', 'mcp-name': name });
  return { headers, body: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: ENVELOPE } } };
}

async function callerFor(apiKey: string): Promise<McpCaller> {
  const who = await ref.srv.rt.gateway.authenticate({ apiKey, origin: { peer: '127.0.0.1' } }, 'direct-call-test');
  if (!who.ok) throw new Error(who.error.message);
  return { identity: who.identity, requestId: 'direct-call-test' };
}

/** The JSON-RPC message of an answer: the JSON body, or the one event of an event stream. */
function rpcMessage(contentType: string, text: string): unknown {
  if (contentType.startsWith('text/event-stream')) {
    const m = /^event: message\ndata: (.*)\n\n$/s.exec(text);
    if (!m) throw new Error(`not one message event: ${text.slice(0, 200)}`);
    return JSON.parse(m[1]!);
  }
  return JSON.parse(text);
}

async function viaSdk(caller: McpCaller, m: ReturnType<typeof message>) {
  const request = new Request('http://127.0.0.1/mcp', { method: 'POST', headers: m.headers });
  const authInfo = {
    token: '',
    clientId: caller.identity.subject,
    scopes: [],
    extra: { caller, method: 'tools/call', tool: m.body.params.name },
  };
  const res = await sdk.fetch(request, { authInfo, parsedBody: m.body });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, type, message: rpcMessage(type, await res.text()) };
}

async function viaDirect(caller: McpCaller, m: ReturnType<typeof message>) {
  const plain = plainToolCall(m.headers, m.body);
  if (!plain) return undefined;
  const answer = await answerToolCall(ref.srv.rt.gateway, caller, plain, new AbortController().signal);
  if (!answer) return undefined;
  const type = answer.headers['content-type']!;
  return { status: 200, type, message: rpcMessage(type, answer.body) };
}

const CASES: { label: string; key: string; name: string; args: Record<string, unknown> }[] = [
  { label: 'query_view, one order', key: KEYS.internal, name: 'query_view', args: { view: 'app.orders', filter: 'order_id = 1001' } },
  {
    label: 'query_view, fields, order and a page',
    key: KEYS.internal,
    name: 'query_view',
    args: { view: 'crm.customers', fields: ['customer_id', 'email'], order: 'customer_id desc', offset: 1, limit: 500 },
  },
  { label: 'query_view, masked columns for a tenant', key: KEYS.partner, name: 'query_view', args: { view: 'crm.customers', limit: 500 } },
  { label: 'query_view, an unknown view (tool error)', key: KEYS.internal, name: 'query_view', args: { view: 'app.nope' } },
  {
    label: 'query_view, a masked column in a filter (tool error)',
    key: KEYS.partner,
    name: 'query_view',
    args: { view: 'crm.customers', filter: "email = 'x@y.z'" },
  },
  { label: 'list_views', key: KEYS.llm, name: 'list_views', args: {} },
  { label: 'describe_view', key: KEYS.partner, name: 'describe_view', args: { view: 'crm.customers' } },
  {
    label: 'aggregate_view',
    key: KEYS.internal,
    name: 'aggregate_view',
    args: { view: 'app.orders', group_by: ['status'], metrics: [{ fn: 'count' }, { fn: 'sum', field: 'total_amount', as: 'revenue' }] },
  },
  {
    label: 'query_sql',
    key: KEYS.internal,
    name: 'query_sql',
    args: { sql: 'SELECT status, count(*) AS n FROM app.orders GROUP BY status ORDER BY status' },
  },
  { label: 'a curated aggregate tool', key: KEYS.internal, name: 'activity_by_event_type', args: {} },
  { label: 'a curated rows tool', key: KEYS.internal, name: 'customer_activity_by_email', args: { email: 'ada.lovelace@example.org' } },
];

describe.each(['legacy', 'modern'] as const)('a plain tools/call, %s era', (era) => {
  it.each(CASES)('$label: the same answer as the SDK', async ({ key, name, args }) => {
    const caller = await callerFor(key);
    const m = message(era, name, args);
    const direct = await viaDirect(caller, m);
    expect(direct, 'the direct answer takes the call').toBeDefined();
    const expected = await viaSdk(caller, m);
    expect(expected.status).toBe(200);
    expect(direct!.status).toBe(expected.status);
    expect(direct!.type.split(';')[0]).toBe(expected.type.split(';')[0]);
    expect(direct!.message).toEqual(expected.message);
  });

  it('keeps the request id as given, string or number', async () => {
    const caller = await callerFor(KEYS.internal);
    for (const id of ['call-7', 0, 9007199254740991]) {
      const direct = await viaDirect(caller, message(era, 'list_views', {}, id));
      expect((direct!.message as { id: unknown }).id).toBe(id);
    }
  });

  it('runs nothing for an unknown tool or invalid arguments, and the SDK answers them', async () => {
    const caller = await callerFor(KEYS.partner);
    const before = ref.srv.audit.records.length;
    // aggregate_view and query_sql are not offered to this role; the others have bad arguments.
    const declined = [
      message(era, 'no_such_tool', {}),
      message(era, 'query_sql', { sql: 'SELECT 1' }),
      message(era, 'query_view', { view: 5 }),
      message(era, 'query_view', { view: 'app.orders', limit: 0 }),
      message(era, 'query_view', { view: 'app.orders', surprise: true }),
    ];
    for (const m of declined) expect(await viaDirect(caller, m)).toBeUndefined();
    expect(ref.srv.audit.records.length).toBe(before);
    const invalid = await viaSdk(caller, message(era, 'query_view', { view: 5 }));
    expect(JSON.stringify(invalid.message)).toContain('Input validation error');
  });
});

describe('what the direct answer leaves to the SDK', () => {
  const declines = (headers: Record<string, string>, body: unknown) => expect(plainToolCall(headers, body)).toBeUndefined();

  it('a message that is not one plain request', () => {
    const { headers, body } = message('legacy', 'list_views', {});
    declines(headers, [body]);
    declines(headers, { ...body, method: 'tools/list' });
    declines(headers, { ...body, jsonrpc: '1.0' });
    declines(headers, { ...body, id: null });
    declines(headers, { ...body, id: 1.5 });
    declines(headers, { ...body, extra: 1 });
    declines(headers, { ...body, params: { ...body.params, arguments: [] } });
    declines(headers, { ...body, params: { ...body.params, name: 7 } });
    declines(headers, { ...body, params: { ...body.params, _meta: { progressToken: 1 } } });
  });

  it('headers the SDK would refuse or read differently', () => {
    const legacy = message('legacy', 'list_views', {});
    declines({ ...legacy.headers, accept: 'application/json' }, legacy.body);
    declines({ ...legacy.headers, 'content-type': 'text/plain' }, legacy.body);
    declines({ ...legacy.headers, 'mcp-protocol-version': '1999-01-01' }, legacy.body);
    declines({ ...legacy.headers, 'mcp-protocol-version': MODERN }, legacy.body);
    declines({ ...legacy.headers, 'mcp-method': 'tools/call' }, legacy.body);
    const modern = message('modern', 'list_views', {});
    declines({ ...modern.headers, 'mcp-name': 'query_view' }, modern.body);
    declines({ ...modern.headers, 'mcp-method': 'tools/list' }, modern.body);
    declines({ ...modern.headers, 'mcp-protocol-version': '2025-06-18' }, modern.body);
    const badEnvelope = {
      ...modern.body,
      params: { ...modern.body.params, _meta: { ...ENVELOPE, 'io.modelcontextprotocol/clientInfo': 'x' } },
    };
    declines(modern.headers, badEnvelope);
  });

  it('takes the plain case of each era', () => {
    expect(plainToolCall(message('legacy', 'list_views', {}).headers, message('legacy', 'list_views', {}).body)?.era).toBe('legacy');
    expect(plainToolCall(message('modern', 'list_views', {}).headers, message('modern', 'list_views', {}).body)?.era).toBe('modern');
    const noVersion = message('legacy', 'list_views', {});
    delete noVersion.headers['mcp-protocol-version'];
    expect(plainToolCall(noVersion.headers, noVersion.body)?.era).toBe('legacy');
  });

  it('a 2026-07-28 request is taken exactly when the SDK routes it to that era, also when its envelope was seen before', () => {
    const withEnvelope = (
      meta: Record<string, unknown>,
      name = 'list_views',
      args: Record<string, unknown> = {},
      id: string | number = 11,
    ) => {
      const m = message('modern', name, args, id);
      return { headers: m.headers, body: { ...m.body, params: { ...m.body.params, _meta: meta } } };
    };
    const info = 'io.modelcontextprotocol/clientInfo';
    const caps = 'io.modelcontextprotocol/clientCapabilities';
    const cases = [
      withEnvelope(ENVELOPE),
      withEnvelope({ ...ENVELOPE, [info]: { name: 'other-client', version: '2.0.0', title: 'Other' } }),
      withEnvelope({ ...ENVELOPE, [caps]: { sampling: {}, roots: { listChanged: true } } }),
      withEnvelope({ ...ENVELOPE, [info]: 'x' }),
      withEnvelope({ ...ENVELOPE, [info]: { name: 7, version: '1' } }),
      withEnvelope({ ...ENVELOPE, [caps]: 'none' }),
      withEnvelope({ 'io.modelcontextprotocol/protocolVersion': MODERN }),
      withEnvelope({ 'io.modelcontextprotocol/protocolVersion': MODERN, [info]: ENVELOPE[info] }),
      // The same envelopes again, on other tools, ids and arguments: the decision seen before must still be the SDK's.
      withEnvelope(ENVELOPE, 'query_view', { view: 'app.orders', limit: 1 }, 'again'),
      withEnvelope({ ...ENVELOPE, [info]: 'x' }, 'query_view', { view: 'app.orders' }, 12),
      withEnvelope({ ...ENVELOPE, [caps]: 'none' }, 'describe_view', { view: 'app.orders' }, 13),
    ];
    const taken = cases.map(({ headers, body }) => {
      const routed = classifyInboundRequest({
        httpMethod: 'POST',
        body,
        protocolVersionHeader: headers['mcp-protocol-version'],
        mcpMethodHeader: headers['mcp-method'],
        mcpNameHeader: headers['mcp-name'],
      });
      expect(plainToolCall(headers, body)?.era, JSON.stringify(body.params._meta)).toBe(routed.kind === 'modern' ? 'modern' : undefined);
      return routed.kind === 'modern';
    });
    // Both outcomes occur: the cases tell the memo's answers apart.
    expect(taken).toContain(true);
    expect(taken).toContain(false);
  });

  it('a 2025-era request it takes without asking the SDK is one the SDK routes to its 2025 era too', () => {
    const taken = [
      message('legacy', 'list_views', {}),
      message('legacy', 'query_view', { view: 'app.orders', limit: 1 }),
      ...SUPPORTED_PROTOCOL_VERSIONS.map((v) => {
        const m = message('legacy', 'list_views', {});
        return { ...m, headers: { ...m.headers, 'mcp-protocol-version': v } };
      }),
      (() => {
        const m = message('legacy', 'list_views', {});
        delete m.headers['mcp-protocol-version'];
        return m;
      })(),
      message('legacy', 'list_views', {}, 'a-string-id'),
    ];
    for (const { headers, body } of taken) {
      expect(plainToolCall(headers, body)?.era).toBe('legacy');
      const version = headers['mcp-protocol-version'];
      const routed = classifyInboundRequest({
        httpMethod: 'POST',
        body,
        ...(version !== undefined ? { protocolVersionHeader: version } : {}),
      });
      expect(routed.kind).toBe('legacy');
    }
  });
});
