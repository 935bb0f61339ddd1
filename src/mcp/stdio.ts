// MCP over stdio (docs/mcp.md): one session serves one identity, verified once at start
// (src/commands/mcp.ts). stdout carries only the protocol. Each stdin line is checked against the
// size and nesting bounds before the SDK parses it (src/mcp/stdio-bounds.ts), and every message is
// audited once (src/mcp/stdio-audit.ts). When start-up fails, the reason is served over the
// protocol (src/mcp/failed-start.ts), because desktop hosts show what a server says, rarely its stderr.
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import { LOOPBACK, type Credentials, type Gateway, type Identity } from '../gateway/index.js';
import { boundedLines, type RefusedLine } from './stdio-bounds.js';
import { StdioAudit } from './stdio-audit.js';
import type { PromptTemplate } from './prompts.js';
import { createMcpServer } from './server.js';
import { createFailedStartServer } from './failed-start.js';

export interface StdioSession {
  gateway: Gateway;
  identity: Identity;
  prompts: PromptTemplate[];
  /** Told of transport errors (the server's log). */
  onError: (err: Error) => void;
}

/** Serves the session until stdin closes or a signal arrives. */
export async function serveSession({ gateway, identity, prompts, onError }: StdioSession): Promise<void> {
  const auditor = new StdioAudit(gateway, identity);
  const caller = { identity, onAudited: (rpcId?: string | number) => auditor.audited(rpcId) };
  const input = process.stdin.pipe(boundedLines(gateway.config.server.bodyLimit, (r) => refuseLine(auditor, r))).pipe(auditor.inboundTap());
  const handle = serveStdio(() => createMcpServer(gateway, caller, prompts), {
    transport: new StdioServerTransport(input, auditor.outbound(process.stdout)),
    onerror: onError,
  });
  await untilStopped();
  await handle.close().catch(() => undefined);
}

/** Serves only the reason start-up failed, until stdin closes or a signal arrives. */
export async function serveFailedStart(reason: string): Promise<void> {
  const handle = serveStdio(() => createFailedStartServer(reason));
  await untilStopped();
  await handle.close().catch(() => undefined);
}

/**
 * The assistant's identity from VIEWGATE_API_KEY or VIEWGATE_TOKEN; undefined when neither is set.
 * It runs on this machine, so it comes from the loopback address (for `allowFrom`).
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials | undefined {
  const origin = { peer: LOOPBACK };
  const key = env.VIEWGATE_API_KEY?.trim();
  if (key) return { apiKey: key, origin };
  const token = env.VIEWGATE_TOKEN?.trim();
  if (token) return { bearer: token.replace(/^Bearer\s+/i, ''), origin };
  return undefined;
}

function untilStopped(): Promise<void> {
  return new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
}

/** Answers a refused line with a JSON-RPC error (none for a notification); it is audited like any message. */
function refuseLine(auditor: StdioAudit, r: RefusedLine): void {
  const notification = r.id === null && r.method !== undefined;
  if (!notification) {
    process.stdout.write(
      JSON.stringify({ jsonrpc: '2.0', id: r.id, error: { code: -32600, message: r.message, data: { status: r.status } } }) + '\n',
    );
  }
  auditor.record(r.method ?? 'message', r.status, 0);
}
