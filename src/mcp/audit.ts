// One audit record per MCP tool call (docs/mcp.md, "Audit"), written exactly as the REST surface writes its
// records (src/rest/routes.ts), with surface 'mcp', the tool name as action and the tool arguments.
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../gateway/gateway.js';
import type { Identity } from '../policy/identity.js';
import type { Runtime } from '../runtime.js';
import { ApiError } from '../errors.js';
import { toApiError } from '../rest/envelope.js';

export type CallOutcome<T> = { ok: true; value: T } | { ok: false; error: ApiError };

/** Who is calling and, over HTTP, the request id of the POST that carries the call. */
export interface McpCaller {
  identity: Identity;
  requestId?: string;
  /**
   * Told when a call's record was written, with the call's JSON-RPC id, so the message gets no second
   * one (over HTTP src/ops/request-audit.ts, over stdio src/mcp/stdio-audit.ts).
   */
  onAudited?: (rpcId?: string | number) => void;
}

/** Runs `fn` for one tool call and audits it; a failed audit write fails the call when failClosed. */
export async function audited<T>(
  rt: Runtime,
  caller: McpCaller,
  action: string,
  args: unknown,
  fn: (ctx: RequestContext) => Promise<T>,
  rpcId?: string | number,
): Promise<CallOutcome<T>> {
  const started = performance.now();
  const ctx: RequestContext = { requestId: caller.requestId ?? randomUUID(), surface: 'mcp', action, identity: caller.identity, args };
  let outcome: CallOutcome<T>;
  try {
    outcome = { ok: true, value: await fn(ctx) };
  } catch (err) {
    outcome = { ok: false, error: toApiError(err, rt.log, ctx.requestId) };
  }
  const refused = await rt.audit.recordCall(ctx, outcome.ok ? 200 : outcome.error.status, started);
  caller.onAudited?.(rpcId);
  if (refused) outcome = { ok: false, error: refused };
  const view = ctx.view !== undefined && rt.catalog.has(ctx.view) ? ctx.view : undefined;
  rt.metrics.observeRequest('mcp', action, view, outcome.ok ? 200 : outcome.error.status, (performance.now() - started) / 1000);
  return outcome;
}
