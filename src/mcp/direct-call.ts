// A plain stateless tools/call answered without the SDK's per-request machinery (a new McpServer,
// transport and web Request per POST, and the message validated several times over), which was
// about a third of an MCP call's CPU (bench/RESULTS.md). The tool is the same one the SDK would
// run: registered by the same code (src/mcp/server.ts registerCallerTools), its arguments
// validated against the same schema, and the answer shaped as the SDK shapes it for the request's
// protocol era. The SDK also checks each result against the tool's output schema; the results are
// viewgate's own (built to the schemas' types), so here the check is the differential test's
// (test/e2e/mcp-direct-call.test.ts: every kind of tool, through both paths), not every call's.
//
// Only the plain, well-formed case is taken: one JSON-RPC request, a tool this caller has, valid
// arguments, the headers a conforming client sends. Anything else (a batch, other `_meta`, a
// header the SDK would refuse, an unknown tool, invalid arguments) returns undefined and the SDK
// answers it, with its own errors, before any tool has run.
import type { IncomingHttpHeaders } from 'node:http';
import {
  classifyInboundRequest,
  isJsonContentType,
  SERVER_INFO_META_KEY,
  SUPPORTED_PROTOCOL_VERSIONS,
  type CallToolResult,
} from '@modelcontextprotocol/server';
import type { Gateway } from '../gateway/index.js';
import type { McpCaller } from './caller.js';
import type { ToolDefinition } from './gateway-tool.js';
import { registerCallerTools, SERVER_INFO } from './server.js';
import type { Cancel } from '../cancellation.js';

/** The per-request (2026-07-28) revision; earlier revisions are the 2025 era's stateless POSTs. */
const MODERN_REVISION = '2026-07-28';
const ENVELOPE_KEYS = new Set([
  'io.modelcontextprotocol/protocolVersion',
  'io.modelcontextprotocol/clientInfo',
  'io.modelcontextprotocol/clientCapabilities',
]);

/** The one tools/call a POST carries, when it is the plain case this module answers. */
export interface PlainToolCall {
  era: 'legacy' | 'modern';
  id: string | number;
  name: string;
  args: Record<string, unknown> | undefined;
}

/** The answer as the SDK would give it: status 200, these headers, this body. */
export interface DirectAnswer {
  headers: Record<string, string>;
  body: string;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  'x-accel-buffering': 'no',
};
const JSON_HEADERS = { 'content-type': 'application/json' };

/** The tools/call a request carries, if it is one this module answers (see the top of the file). */
export function plainToolCall(headers: IncomingHttpHeaders, body: unknown): PlainToolCall | undefined {
  if (!isPlainObject(body) || !hasOnlyKeys(body, ['jsonrpc', 'id', 'method', 'params'])) return undefined;
  if (body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  const { id, params } = body;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  if (!isPlainObject(params) || !hasOnlyKeys(params, ['name', 'arguments', '_meta'])) return undefined;
  const { name, arguments: args, _meta: meta } = params;
  if (typeof name !== 'string' || (args !== undefined && !isPlainObject(args))) return undefined;
  const accept = header(headers, 'accept') ?? '';
  if (
    !isJsonContentType(header(headers, 'content-type')) ||
    !accept.includes('application/json') ||
    !accept.includes('text/event-stream')
  ) {
    return undefined;
  }
  const version = header(headers, 'mcp-protocol-version');
  const methodHeader = header(headers, 'mcp-method');
  const nameHeader = header(headers, 'mcp-name');
  let era: PlainToolCall['era'];
  if (meta === undefined) {
    if (methodHeader !== undefined || nameHeader !== undefined) return undefined;
    if (version !== undefined && !SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return undefined;
    era = 'legacy';
  } else {
    if (!isPlainObject(meta) || !Object.keys(meta).every((k) => ENVELOPE_KEYS.has(k))) return undefined;
    if (meta['io.modelcontextprotocol/protocolVersion'] !== MODERN_REVISION || version !== MODERN_REVISION) return undefined;
    if (methodHeader !== 'tools/call' || nameHeader !== name) return undefined;
    era = 'modern';
  }
  // A 2025-era request is the plain case by the checks above: one request, no envelope, no header
  // of the per-request era. A 2026-07-28 one has an envelope whose contents the SDK checks too: its
  // routing decision must agree.
  if (era === 'legacy') return { era, id, name, args };
  return routedModern(body, meta as Record<string, unknown>, name) ? { era, id, name, args } : undefined;
}

/**
 * The SDK's routing decisions for 2026-07-28 requests, by envelope text. Past the checks of
 * plainToolCall (one request, no response keys, the version and method headers equal to the
 * envelope's and the body's), the SDK's decision depends on the envelope alone, and a client sends
 * the same envelope with every call; asking the SDK costs four zod checks of the whole message.
 */
const modernRouting = new Map<string, boolean>();
const MAX_ROUTINGS = 256;
/** A longer envelope is not kept: asked about every time. */
const MAX_ENVELOPE_CHARS = 2048;

function routedModern(body: Record<string, unknown>, meta: Record<string, unknown>, name: string): boolean {
  const envelope = JSON.stringify(meta);
  const known = modernRouting.get(envelope);
  if (known !== undefined) return known;
  const routed =
    classifyInboundRequest({
      httpMethod: 'POST',
      body,
      protocolVersionHeader: MODERN_REVISION,
      mcpMethodHeader: 'tools/call',
      mcpNameHeader: name,
    }).kind === 'modern';
  if (envelope.length <= MAX_ENVELOPE_CHARS) {
    if (modernRouting.size >= MAX_ROUTINGS) modernRouting.clear();
    modernRouting.set(envelope, routed);
  }
  return routed;
}

/**
 * Runs the call as `caller` and returns the SDK's answer, or undefined (nothing run) when the
 * caller has no such tool or the arguments do not fit its schema: the SDK answers those.
 */
export async function answerToolCall(
  gateway: Gateway,
  caller: McpCaller,
  call: PlainToolCall,
  signal: Cancel,
): Promise<DirectAnswer | undefined> {
  const tool = callerTool(gateway, caller, call.name);
  if (tool === undefined) return undefined;
  const input = await tool.inputSchema['~standard'].validate(call.args ?? {});
  if (input.issues !== undefined) return undefined;
  let result: CallToolResult;
  try {
    result = await tool.handler(input.value, { mcpReq: { id: call.id, signal } });
  } catch (err) {
    result = toolError(err instanceof Error ? err.message : String(err));
  }
  if (call.era === 'legacy') {
    return { headers: SSE_HEADERS, body: `event: message\ndata: ${JSON.stringify({ result, jsonrpc: '2.0', id: call.id })}\n\n` };
  }
  const stamped = { ...result, resultType: 'complete', _meta: { [SERVER_INFO_META_KEY]: SERVER_INFO } };
  return { headers: JSON_HEADERS, body: JSON.stringify({ result: stamped, jsonrpc: '2.0', id: call.id }) };
}

/** The tool named `name` as the caller's server would register it, if the caller has it. */
function callerTool(gateway: Gateway, caller: McpCaller, name: string): ToolDefinition | undefined {
  let found: ToolDefinition | undefined;
  registerCallerTools(
    {
      register: (registered, tool) => {
        if (registered === name) found = tool;
      },
    },
    gateway,
    caller,
    (wanted) => wanted === name,
  );
  return found;
}

function toolError(text: string): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value.trim() : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function hasOnlyKeys(value: Record<string, unknown>, allowed: string[]): boolean {
  for (const key in value) if (!allowed.includes(key)) return false;
  return true;
}
