// `viewgate mcp --config FILE`: MCP over stdio for desktop assistants (docs/mcp.md). The identity comes
// from VIEWGATE_API_KEY or VIEWGATE_TOKEN, checked once at start by the same Authenticator as REST;
// stdout carries only the protocol, logs and audit go to stderr.
import { randomUUID } from 'node:crypto';
import { serveStdio, StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import type { Config } from '../config/schema.js';
import { Authenticator, type Credentials, type Identity } from '../policy/identity.js';
import { createRuntime, warmViews, type Runtime } from '../runtime.js';
import { decisionFor } from '../ops/audit.js';
import { boundedLines, type RefusedLine } from './stdio-bounds.js';
import { ApiError } from '../errors.js';
import { loadPrompts } from './prompts.js';
import { createMcpServer } from './server.js';

/** Serves until stdin closes or a signal arrives; resolves with the exit code. */
export async function runStdio(config: Config, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const say = (msg: string) => process.stderr.write(`viewgate mcp: ${msg}\n`);
  const creds = credentialsFromEnv(env);
  if (!creds) {
    say('set VIEWGATE_API_KEY (an API key) or VIEWGATE_TOKEN (a JWT) to say who this assistant acts as');
    return 1;
  }
  let identity;
  try {
    // Checked before any store is touched, so a wrong credential fails fast and clearly.
    identity = await new Authenticator(config).authenticate(creds);
  } catch (err) {
    const what = creds.apiKey !== undefined ? 'VIEWGATE_API_KEY' : 'VIEWGATE_TOKEN';
    say(`${what} was refused: ${err instanceof ApiError ? err.message : String(err)}`);
    return 1;
  }
  const prompts = loadPrompts();
  const rt = await createRuntime(config, { stdio: true });

  // As `serve` does: build every view now and refuse a config whose grants do not fit them.
  const refused = await warmViews(rt);
  if (refused) {
    await rt.close();
    say(refused);
    return 1;
  }
  rt.log.info({ subject: identity.subject, role: identity.role }, 'mcp over stdio: serving');

  const caller = { identity };
  // Each stdin line is checked against the size and nesting bounds before the SDK parses it.
  const input = process.stdin.pipe(boundedLines(config.server.bodyLimit, (r) => refuseLine(rt, identity, r)));
  const handle = serveStdio(() => createMcpServer(rt, caller, prompts), {
    transport: new StdioServerTransport(input, process.stdout),
    onerror: (err) => rt.log.warn({ err }, 'mcp stdio error'),
  });
  await new Promise<void>((resolve) => {
    process.stdin.once('end', resolve);
    process.stdin.once('close', resolve);
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await handle.close().catch(() => undefined);
  await rt.close();
  rt.log.flush?.();
  return 0;
}

function credentialsFromEnv(env: NodeJS.ProcessEnv): Credentials | undefined {
  const key = env.VIEWGATE_API_KEY?.trim();
  if (key) return { apiKey: key };
  const token = env.VIEWGATE_TOKEN?.trim();
  if (token) return { bearer: token.replace(/^Bearer\s+/i, '') };
  return undefined;
}

/** Answers a refused line with a JSON-RPC error (none for a notification) and audits it. */
function refuseLine(rt: Runtime, identity: Identity, r: RefusedLine): void {
  const notification = r.id === null && r.method !== undefined;
  if (!notification) {
    process.stdout.write(JSON.stringify({ jsonrpc: '2.0', id: r.id, error: { code: -32600, message: r.message, data: { status: r.status } } }) + '\n');
  }
  void rt.audit.record({
    time: new Date().toISOString(),
    requestId: randomUUID(),
    surface: 'mcp',
    action: r.method ?? 'message',
    subject: identity.subject,
    role: identity.role,
    keyName: identity.keyName,
    decision: decisionFor(r.status),
    status: r.status,
    latencyMs: 0,
  });
}
