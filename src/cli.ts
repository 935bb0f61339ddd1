// viewgate serve | mcp | check | explain | token | demo | hub | contract ... (README.md, "CLI")
import './v8-settings.js';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { configPath, loadConfigFile, ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { createRuntime, warmViews } from './runtime.js';
import { buildServer } from './server.js';
import { capYoungGeneration } from './young-generation.js';
import { runCheck } from './commands/check.js';
import { runStdio } from './commands/mcp.js';
import { parseDuration } from './config/schema.js';
import { parseClaimFlags } from './commands/flags.js';
import { onSignals } from './shutdown.js';
import { ConfigReloader, reloadOnSighup } from './reload.js';

const HELP = `viewgate: governed, read-only views over MySQL/MariaDB, PostgreSQL and MongoDB,
for LLM agents (MCP) and applications (REST).

Usage:
  viewgate serve   --config FILE [--port N] [--host H]
                                            REST API (/api/v2/...), MCP over HTTP (/mcp), health endpoints
  viewgate mcp     --config FILE            MCP over stdio for desktop assistants; the identity comes
                                            from VIEWGATE_API_KEY or VIEWGATE_TOKEN (logs go to stderr)
  viewgate mcp-config --config FILE [--client claude|cursor|vscode] [--api-key KEY | --token JWT] [--name N]
                                            print the entry a desktop assistant needs to start this
                                            installation's \`viewgate mcp\` (absolute paths, env block)
  viewgate check   --config FILE            validate the config, reach every store, build every view
  viewgate token   --config FILE --role R [--claim k=v ...] [--sub S] [--ttl 1h]
                                            sign a demo/test JWT with auth.jwt.secret (HS256)
  viewgate explain --config FILE service.view [--filter F] [--order O] [--limit N] [--json]
                                            the plan, every native query sent, rows fetched per store
  viewgate contract snapshot --config FILE [--out viewgate.contract.json]
                                            write what every view promises and every role sees of it
  viewgate contract check --config FILE [--contract viewgate.contract.json] [--format text|json]
                                            compare the config and stores now with that file: BREAKING
                                            or compatible per change; exit 1 on breaking, 2 store down
  viewgate hub plan|apply --config FILE     print / apply the PostgreSQL federation hub's DDL
  viewgate hub refresh --config FILE service.view
                                            refresh one materialized hub view
  viewgate demo    --config FILE [--port N] [--host H] [--load-only]
                                            load the reference scenario's demo data, then serve
  viewgate --help | --version | <command> --help

The config file may also come from VIEWGATE_CONFIG. --port and --host override server.port and
server.host (the reference config reads VIEWGATE_PORT and VIEWGATE_HOST). Docs: README.md and docs/.`;

const CONFIG_FLAG = '  --config FILE, -c FILE   the YAML config (default: $VIEWGATE_CONFIG)';
const LISTEN_FLAGS = `  --port N                 listen on port N instead of server.port (0: any free port)
  --host H                 listen on address H instead of server.host (0.0.0.0: every interface)`;

/** `viewgate <command> --help`: each command's own usage, printed to stdout with exit code 0. */
const COMMAND_HELP: Record<string, string> = {
  serve: `Usage: viewgate serve --config FILE [--port N] [--host H]

Serves the REST API (/api/v2/...), its OpenAPI document (/api/v2/openapi.json, /docs), MCP over
HTTP (/mcp) and /healthz, /readyz, /metrics, until SIGTERM or SIGINT. SIGHUP reads the config
file again and applies it without dropping requests (docs/operations.md, "Reloading the configuration").

${CONFIG_FLAG}
${LISTEN_FLAGS}`,
  mcp: `Usage: viewgate mcp --config FILE

MCP over stdio for desktop assistants. The caller's identity comes from VIEWGATE_API_KEY (an API
key) or VIEWGATE_TOKEN (a JWT); logs go to stderr.

${CONFIG_FLAG}`,
  'mcp-config': `Usage: viewgate mcp-config --config FILE [--client claude|cursor|vscode] [--api-key KEY | --token JWT] [--name N]

Prints a ready desktop-assistant entry (JSON) that starts \`viewgate mcp\` from this checkout by
absolute path, with the environment the config refers to; see docs/mcp.md.

${CONFIG_FLAG}
  --client C               claude (default), cursor or vscode
  --api-key KEY            the API key the assistant acts with (else a placeholder)
  --token JWT              or a JWT
  --name N                 the entry's name (default: viewgate)`,
  check: `Usage: viewgate check --config FILE

Validates the config, reaches every store and builds every view, one line each; exits 1 when any fails.

${CONFIG_FLAG}`,
  token: `Usage: viewgate token --config FILE --role R [--claim k=v ...] [--sub S] [--ttl 1h]

Signs a demo/test JWT with auth.jwt.secret (HS256) and prints it.

${CONFIG_FLAG}
  --role R                 the role the token names (one of the config's roles)
  --claim k=v              a claim to add (repeatable), e.g. --claim tenant_id=t2
  --sub S                  the subject (default: demo-<role>)
  --ttl D                  lifetime, e.g. 15m, 1h (default: 1h)`,
  explain: `Usage: viewgate explain --config FILE service.view [--filter F] [--order O] [--limit N] [--json] [--role R] [--claim k=v ...]

Prints the plan for a query on a view, every native query sent and the rows fetched per store.

${CONFIG_FLAG}`,
  hub: `Usage: viewgate hub plan|apply --config FILE
       viewgate hub refresh --config FILE service.view

plan prints the PostgreSQL federation hub's DDL, apply runs it, refresh refreshes one materialized
hub view (docs/hub.md).

${CONFIG_FLAG}`,
  contract: `Usage: viewgate contract snapshot --config FILE [--out viewgate.contract.json]
       viewgate contract check --config FILE [--contract viewgate.contract.json] [--format text|json]

snapshot writes what every view promises and what every role sees of it; check compares the config
plus the stores as they are now with that file, one line per change, BREAKING or compatible, and
exits 1 when anything is breaking, 2 when a store cannot be reached (docs/contracts.md).

${CONFIG_FLAG}
  --out FILE               where snapshot writes (default: viewgate.contract.json)
  --contract FILE          the file check compares with (default: viewgate.contract.json)
  --format text|json       check's report (default: text)`,
  demo: `Usage: viewgate demo --config FILE [--port N] [--host H] [--load-only]

Loads the reference scenario's demo data into its stores, then serves it (as viewgate serve).

${CONFIG_FLAG}
${LISTEN_FLAGS}
  --load-only              load the data and exit without serving`,
};

/** Thrown for a problem the user fixes outside the program (a busy port, a bad flag): one line, no stack. */
class UsageError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP + '\n');
    return command ? 0 : 2;
  }
  if (command === '--version' || command === '-v') {
    const { createRequire } = await import('node:module');
    process.stdout.write(String(createRequire(import.meta.url)('../package.json').version) + '\n');
    return 0;
  }
  if (Object.hasOwn(COMMAND_HELP, command) && rest.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write(COMMAND_HELP[command] + '\n');
    return 0;
  }
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'mcp':
        // A desktop host shows what the server says, not its exit code: even a bad flag or config
        // file is served as a failed start (src/mcp/failed-start.ts).
        return await runStdio(() => load(parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } }).values.config));
      case 'mcp-config':
        return await (await import('./commands/mcp-config.js')).mcpConfigCommand(rest);
      case 'check':
        return await check(rest);
      case 'token':
        return await token(rest);
      case 'explain':
        return await (await import('./commands/explain.js')).explainCommand(rest);
      case 'hub':
        return await (await import('./commands/hub.js')).hubCommand(rest);
      case 'contract':
        return await (await import('./commands/contract.js')).contractCommand(rest);
      case 'demo':
        return await demo(rest);
      default:
        process.stderr.write(`viewgate: unknown command "${command}"\n\n${HELP}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 1;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`viewgate ${command}: ${err.message}\n`);
      return err.exitCode;
    }
    if (err instanceof Error && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`viewgate ${command}: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

function load(flag: string | undefined): Config {
  return loadConfigFile(configPath(flag)).config;
}

const LISTEN_OPTIONS = { port: { type: 'string' }, host: { type: 'string' } } as const;

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, ...LISTEN_OPTIONS } });
  const reread = (): Config => {
    const config = load(values.config);
    applyListenFlags(config, values);
    return config;
  };
  await startServer(reread(), reread);
  return await new Promise<number>(() => {});
}

/** --port / --host over server.port / server.host. */
function applyListenFlags(config: Config, values: { port?: string; host?: string }): void {
  if (values.port !== undefined) {
    const port = /^\d{1,5}$/.test(values.port.trim()) ? Number(values.port) : NaN;
    if (!(port >= 0 && port <= 65535)) throw new UsageError(`--port "${values.port}" is not a port number (0 to 65535)`, 2);
    config.server.port = port;
  }
  if (values.host !== undefined) {
    if (values.host.trim() === '') throw new UsageError('--host is empty; give an address such as 127.0.0.1 or 0.0.0.0', 2);
    config.server.host = values.host;
  }
}

/** `reread`: the config file read again, for SIGHUP (src/reload.ts). */
async function startServer(config: Config, reread: () => Config): Promise<string> {
  const rt = await createRuntime(config);
  const app = await buildServer(rt);
  const { startHubRefresh, startHubScheduler } = await import('./hub/scheduler.js');
  // The hub's refresh scheduler belongs to a state's sources; a reload that replaces them restarts it.
  const reloader = new ConfigReloader(rt, {
    load: reread,
    timers: startHubRefresh(app, rt),
    startTimers: (state) => startHubScheduler({ config: state.config, sources: state.sources, log: rt.log }),
  });
  app.addHook('onClose', () => reloader.stop());
  // SIGHUP: read the config file again and swap it in (src/reload.ts).
  reloadOnSighup(rt, reloader);
  let address: string;
  try {
    address = await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await app.close();
    await rt.close();
    throw listenProblem(err, config) ?? err;
  }
  rt.log.info({ address }, 'viewgate listening');
  // SIGTERM: stop accepting, finish in-flight requests, flush audit, close pools (src/shutdown.ts).
  onSignals(app, rt);
  const refused = await warmViews(rt);
  if (refused) {
    await app.close();
    await rt.close();
    throw new Error(refused);
  }
  rt.drift.start(config.contract.checkInterval);
  capYoungGeneration();
  return address;
}

/** A user-facing message for a listen failure the user can fix (port taken, not permitted, bad host). */
function listenProblem(err: unknown, config: Config): UsageError | undefined {
  const code = (err as { code?: string }).code;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const where = `${host}:${config.server.port}`;
  const change = 'choose another with --port N (or VIEWGATE_PORT with the reference config, or server.port)';
  if (code === 'EADDRINUSE')
    return new UsageError(
      `cannot listen on ${where}: the address is already in use (another viewgate or program holds it); stop it, or ${change}`,
    );
  if (code === 'EACCES')
    return new UsageError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges); ${change}`);
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
    return new UsageError(
      `cannot listen on ${where}: no such local address; choose another with --host H (or server.host), e.g. 127.0.0.1`,
    );
  }
  return undefined;
}

async function check(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
  let config: Config;
  try {
    config = load(values.config);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stdout.write(`config  FAIL  ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const report = await runCheck(config);
  for (const line of report.lines) process.stdout.write(line + '\n');
  return report.ok ? 0 : 1;
}

async function token(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      role: { type: 'string' },
      claim: { type: 'string', multiple: true },
      sub: { type: 'string' },
      ttl: { type: 'string', default: '1h' },
    },
  });
  const config = load(values.config);
  const jwt = config.auth.jwt;
  if (!jwt?.secret) {
    process.stderr.write('viewgate token: auth.jwt.secret is not configured; this command only signs HS256 demo/test tokens\n');
    return 1;
  }
  if (!values.role) {
    process.stderr.write(`viewgate token: --role is required; roles are: ${Object.keys(config.roles).join(', ')}\n`);
    return 2;
  }
  if (!config.roles[values.role]) {
    process.stderr.write(`viewgate token: unknown role "${values.role}"; roles are: ${Object.keys(config.roles).join(', ')}\n`);
    return 2;
  }
  const ttlMs = parseDuration(values.ttl!);
  if (ttlMs === undefined) {
    process.stderr.write(`viewgate token: --ttl "${values.ttl}" is not a duration (e.g. 15m, 1h)\n`);
    return 2;
  }
  let claims: Record<string, unknown>;
  try {
    claims = parseClaimFlags(values.claim);
  } catch (err) {
    process.stderr.write(`viewgate token: ${(err as Error).message}\n`);
    return 2;
  }
  const rolePath = typeof jwt.roleClaim === 'string' ? [jwt.roleClaim] : jwt.roleClaim;
  let target = claims;
  for (const seg of rolePath.slice(0, -1)) target = (target[seg] ??= {}) as Record<string, unknown>;
  target[rolePath.at(-1)!] = [values.role];
  let builder = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setSubject(values.sub ?? `demo-${values.role}`)
    .setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000));
  if (jwt.issuer) builder = builder.setIssuer(jwt.issuer);
  if (jwt.audience) builder = builder.setAudience(jwt.audience);
  process.stdout.write((await builder.sign(new TextEncoder().encode(jwt.secret))) + '\n');
  return 0;
}

async function demo(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string', short: 'c' }, 'load-only': { type: 'boolean' }, ...LISTEN_OPTIONS },
  });
  const reread = (): Config => {
    const config = load(values.config);
    applyListenFlags(config, values);
    return config;
  };
  const config = reread();
  const { loadDemoData, DEMO_KEYS } = await import('./demo.js');
  await loadDemoData(config, (msg) => process.stderr.write(msg + '\n'));
  if (values['load-only']) return 0;
  const address = await startServer(config, reread);
  process.stderr.write(
    `\nviewgate is serving the reference scenario at ${address}\nTry:\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/crm/_table/customers?limit=3'\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/federation/_table/unified_customer_activity?filter=customer_id%20%3D%204'\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.partner}' '${address}/api/v2/federation/_table/unified_customer_activity'   # tenant t2 only, e-mails masked\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/app/_table/orders?filter=total_amount%20%3E%3D%20100&order=total_amount%20desc&limit=5&include_count=true'\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/app/_table/orders?fields=status,count(*),sum(total_amount)%20as%20revenue&group=status'   # aggregates\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' -H 'content-type: application/json' ${address}/api/v2/_sql -d '{"sql":"select tenant_id, count(*) as customers from crm.customers group by tenant_id"}'   # governed SQL\n\n`,
  );
  return await new Promise<number>(() => {});
}
