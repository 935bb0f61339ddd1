// Registers one MCP tool whose call is one gateway request (src/mcp/caller.ts): the tool name is
// the request's action, the arguments are recorded with it, a refusal becomes an isError result the
// model can act on (src/mcp/errors.ts), and a success is answered as text plus structuredContent.
import type {
  CallToolResult,
  McpServer,
  ServerContext,
  StandardSchemaWithJSON,
  ToolAnnotations,
  ToolCallback,
} from '@modelcontextprotocol/server';
import type { Gateway, Operation, Present, ResultOf } from '../gateway/index.js';
import { toPlain, type Row } from '../values.js';
import { handleCall, type McpCaller } from './caller.js';
import { toolError } from './errors.js';
import type { PlainRow } from './render.js';
import type { Cancel } from '../cancellation.js';

/** Every viewgate tool reads; none changes anything or reaches outside the configured stores. */
export const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

/** Which tool names a server registers: every one, or the one its tools/call names (src/mcp/server.ts). */
export type ToolWanted = (name: string) => boolean;

/**
 * What a tool's handler reads of the SDK's call context: the call's JSON-RPC id and its abort
 * signal (a call answered without the SDK, src/mcp/direct-call.ts, hands a Cancellation instead).
 */
interface ToolContext {
  mcpReq: Pick<ServerContext['mcpReq'], 'id'> & { signal: Cancel };
}

/** A registered tool as its registration gives it: schemas, annotations and the handler. */
export interface ToolDefinition {
  title: string;
  description: string;
  inputSchema: StandardSchemaWithJSON;
  outputSchema: StandardSchemaWithJSON;
  annotations: ToolAnnotations;
  handler: (args: unknown, ctx: ToolContext) => Promise<CallToolResult>;
}

/**
 * Where tools are registered: an McpServer (toolsOf), or a lookup of one tool that answers a
 * tools/call without one (src/mcp/direct-call.ts).
 */
export interface ToolRegistrar {
  register(name: string, tool: ToolDefinition): void;
}

/** Registers tools on an SDK server. */
export function toolsOf(server: McpServer): ToolRegistrar {
  return {
    register(name, { handler, ...config }) {
      // The SDK types the callback by the schema; for a generic schema that type stays unresolved.
      server.registerTool(name, config, handler as unknown as ToolCallback<StandardSchemaWithJSON>);
    },
  };
}

/** What most tools answer: a text rendering and the structured result. */
export interface ToolAnswer {
  text: string;
  structured: Record<string, unknown>;
}

export interface GatewayToolSpec<S extends StandardSchemaWithJSON> {
  title: string;
  description: string;
  inputSchema: S;
  outputSchema: StandardSchemaWithJSON;
  /** Default: READ_ONLY. */
  annotations?: ToolAnnotations;
}

/** The gateway request one call makes. */
export interface ToolRequest<O extends Operation, V> {
  operation: O;
  /** The view the arguments name, recorded even when they are refused; also the error hints' view. */
  view?: string;
  /** Shapes the result inside the audited span (and may say how many rows it showed). */
  present?: Present<ResultOf<O>, V>;
}

/** The usual answer: the text part, and the structured result. */
export function textAnswer(value: ToolAnswer): CallToolResult {
  return { content: [{ type: 'text', text: value.text }], structuredContent: value.structured };
}

/**
 * `request` turns the validated arguments into the gateway request; `answer` the presented value
 * (with the arguments) into the tool result (textAnswer for a ToolAnswer).
 */
export function registerGatewayTool<S extends StandardSchemaWithJSON, O extends Operation, V = ResultOf<O>>(
  tools: ToolRegistrar,
  gw: Gateway,
  caller: McpCaller,
  name: string,
  spec: GatewayToolSpec<S>,
  request: (args: StandardSchemaWithJSON.InferOutput<S>) => ToolRequest<O, V>,
  answer: (value: V, args: StandardSchemaWithJSON.InferOutput<S>) => CallToolResult | Promise<CallToolResult>,
): void {
  const handler = async (input: unknown, extra: ToolContext): Promise<CallToolResult> => {
    // The arguments were validated against spec.inputSchema before the handler runs.
    const args = input as StandardSchemaWithJSON.InferOutput<S>;
    const { operation, view, present } = request(args);
    const call = {
      action: name,
      args,
      operation,
      ...(view !== undefined ? { view } : {}),
      rpcId: extra.mcpReq.id,
      signal: extra.mcpReq.signal,
    };
    const r = await handleCall<O, V>(gw, caller, call, present);
    if (!r.ok) return toolError(gw, caller.identity, r.error, view);
    return answer(r.value, args);
  };
  tools.register(name, {
    title: spec.title,
    description: spec.description,
    inputSchema: spec.inputSchema,
    outputSchema: spec.outputSchema,
    annotations: spec.annotations ?? READ_ONLY,
    handler,
  });
}

/** JSON-safe values for structuredContent: integers beyond 2^53 become strings of digits. */
export function plainRow(row: Row): PlainRow {
  const out: PlainRow = {};
  for (const [k, v] of Object.entries(row)) out[k] = toPlain(v);
  return out;
}
