// Who an MCP server acts for, and how its tool calls and resource reads reach the gateway: one
// gateway request each, with surface 'mcp', the tool name as action and the tool arguments, so
// each gets its own audit record (docs/mcp.md, "Audit").
import { randomUUID } from 'node:crypto';
import type { Gateway, Identity, Operation, Outcome, Present, ResultOf } from '../gateway/index.js';
import type { Cancel } from '../cancellation.js';

/** Who is calling and, over HTTP, the request id of the POST that carries the call. */
export interface McpCaller {
  identity: Identity;
  requestId?: string;
  /** The W3C `traceparent` of the HTTP request that carries the calls (docs/operations.md, "Traces"). */
  traceparent?: string;
  /**
   * Told when a call's record was written, with the call's JSON-RPC id, so the message gets no second
   * one (over HTTP src/http/request-audit.ts, over stdio src/mcp/stdio-audit.ts).
   */
  onAudited?: (rpcId?: string | number) => void;
}

export interface McpCall<O extends Operation> {
  action: string;
  args: unknown;
  operation: O;
  /** The view the arguments name, recorded even when they are refused. */
  view?: string;
  rpcId?: string | number;
  /**
   * The SDK's signal for the call: aborted by `notifications/cancelled` (stdio) or when the HTTP
   * request carrying it is closed.
   */
  signal?: Cancel;
}

export async function handleCall<O extends Operation, V = ResultOf<O>>(
  gateway: Gateway,
  caller: McpCaller,
  call: McpCall<O>,
  present?: Present<ResultOf<O>, V>,
): Promise<Outcome<V>> {
  const outcome = await gateway.handle(
    {
      requestId: caller.requestId ?? randomUUID(),
      surface: 'mcp',
      action: call.action,
      caller: { identity: caller.identity },
      operation: call.operation,
      args: call.args,
      ...(call.view !== undefined ? { view: call.view } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(caller.traceparent !== undefined ? { traceparent: caller.traceparent } : {}),
    },
    present,
  );
  caller.onAudited?.(call.rpcId);
  return outcome;
}
