// `viewgate mcp --config FILE`: MCP over stdio for desktop assistants (docs/mcp.md). The identity
// comes from VIEWGATE_API_KEY or VIEWGATE_TOKEN, checked once at start by the same Authenticator as
// REST; stdout carries only the protocol, logs and audit go to stderr. When start-up fails, the
// reason is written to stderr and also served over the protocol (src/mcp/failed-start.ts), because
// desktop hosts show what a server says, rarely its stderr; the process then exits 1 when stdin closes.
import type { Config } from '../config/schema.js';
import { ApiError } from '../errors.js';
import { OUTPUT_FLUSH_MS } from '../ops/output.js';
import { Authenticator } from '../policy/identity.js';
import { capYoungGeneration } from '../young-generation.js';
import { createRuntime, warmViews, type Runtime } from '../runtime.js';
import { loadPrompts } from '../mcp/prompts.js';
import { credentialsFromEnv, serveFailedStart, serveSession, type StdioSession } from '../mcp/stdio.js';

interface Started {
  rt: Runtime;
  session: StdioSession;
}

/**
 * Serves until stdin closes or a signal arrives; resolves with the exit code (1 when it could not
 * start). `config` may be a loader, so that a config file that does not load is reported the same way.
 */
export async function runStdio(config: Config | (() => Config), env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let started: Started | undefined;
  let reason = '';
  try {
    started = await start(typeof config === 'function' ? config() : config, env);
  } catch (err) {
    reason = err instanceof Error ? err.message : String(err);
  }
  if (!started) {
    process.stderr.write(`viewgate mcp: ${reason}\n`);
    await serveFailedStart(reason);
    return 1;
  }
  const { rt, session } = started;
  capYoungGeneration();
  await serveSession(session);
  await rt.close();
  // Logs and audit records a stalled stderr reader never took would keep the process alive for
  // ever: give them a bounded time, then exit without them (docs/operations.md, "Slow or stalled
  // log consumers").
  if (!(await rt.output.flush(OUTPUT_FLUSH_MS))) process.exit(0);
  return 0;
}

async function start(config: Config, env: NodeJS.ProcessEnv): Promise<Started> {
  const creds = credentialsFromEnv(env);
  if (!creds) throw new Error('set VIEWGATE_API_KEY (an API key) or VIEWGATE_TOKEN (a JWT) to say who this assistant acts as');
  let identity;
  try {
    // Checked before any store is touched, so a wrong credential fails fast and clearly.
    identity = await new Authenticator(config).authenticate(creds);
  } catch (err) {
    const what = creds.apiKey !== undefined ? 'VIEWGATE_API_KEY' : 'VIEWGATE_TOKEN';
    throw new Error(`${what} was refused: ${err instanceof ApiError ? err.message : String(err)}`);
  }
  const prompts = loadPrompts();
  const rt = await createRuntime(config, { stdio: true });

  // As `serve` does: build every view now and refuse a config whose grants do not fit them.
  const refused = await warmViews(rt).catch((err: Error) => err.message);
  if (refused) {
    await rt.close();
    throw new Error(refused);
  }
  // A session in which no view of the caller's can be built (its stores are down or unreachable)
  // could only answer errors: say why instead. When some can, serve them; the others are retried
  // on use and their tool calls name the problem.
  const readable = rt.gateway.listViews(identity).map((v) => v.id);
  const unbuilt = (
    await Promise.all(
      readable.map((id) =>
        rt.catalog.get(id).then(
          () => '',
          (err: Error) => `  - ${id}: ${err.message}`,
        ),
      ),
    )
  ).filter(Boolean);
  if (readable.length > 0 && unbuilt.length === readable.length) {
    await rt.close();
    throw new Error(`none of the views this identity may read can be built:\n${unbuilt.join('\n')}`);
  }
  rt.log.info({ subject: identity.subject, role: identity.role }, 'mcp over stdio: serving');
  return { rt, session: { gateway: rt.gateway, identity, prompts, onError: (err) => rt.log.warn({ err }, 'mcp stdio error') } };
}
