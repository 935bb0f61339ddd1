// viewgate serve | mcp | check | explain | token | demo | hub ... (SPEC 1)
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { configPath, loadConfigFile, ConfigError } from './config/load.js';
import type { Config } from './config/schema.js';
import { createRuntime, warmViews } from './runtime.js';
import { buildServer } from './server.js';
import { runCheck } from './check.js';
import { runStdio } from './mcp/stdio.js';
import { parseDuration } from './config/schema.js';
import { parseClaimFlags } from './cli-flags.js';
import { onSignals } from './ops/shutdown.js';

const HELP = `viewgate: governed, read-only views over MySQL/MariaDB, PostgreSQL and MongoDB,
for LLM agents (MCP) and applications (REST).

Usage:
  viewgate serve   --config FILE            REST API (/api/v2/...), MCP over HTTP (/mcp), health endpoints
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
  viewgate hub plan|apply --config FILE     print / apply the PostgreSQL federation hub's DDL
  viewgate hub refresh --config FILE service.view
                                            refresh one materialized hub view
  viewgate demo    --config FILE            load the reference scenario's demo data, then serve
  viewgate --help | --version

The config file may also come from VIEWGATE_CONFIG. Docs: README.md and docs/.`;

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
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'mcp':
        // A desktop host shows what the server says, not its exit code: even a bad flag or config
        // file is served as a failed start (src/mcp/failed-start.ts).
        return await runStdio(() => load(parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' } } }).values.config));
      case 'mcp-config':
        return await (await import('./mcp/config-cli.js')).mcpConfigCommand(rest);
      case 'check':
        return await check(rest);
      case 'token':
        return await token(rest);
      case 'explain':
        return await (await import('./engine/explain-cli.js')).explainCommand(rest);
      case 'hub':
        return await (await import('./hub/cli.js')).hubCommand(rest);
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

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, port: { type: 'string' }, host: { type: 'string' } } });
  const config = load(values.config);
  if (values.port) config.server.port = Number(values.port);
  if (values.host) config.server.host = values.host;
  await startServer(config);
  return await new Promise<number>(() => {});
}

async function startServer(config: Config): Promise<string> {
  const rt = await createRuntime(config);
  const app = await buildServer(rt);
  (await import('./hub/scheduler.js')).startHubRefresh(app, rt);
  const address = await app.listen({ host: config.server.host, port: config.server.port });
  rt.log.info({ address }, 'viewgate listening');
  // SIGTERM: stop accepting, finish in-flight requests, flush audit, close pools (src/ops/shutdown.ts).
  onSignals(app, rt);
  const refused = await warmViews(rt);
  if (refused) {
    await app.close();
    await rt.close();
    throw new Error(refused);
  }
  return address;
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
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, 'load-only': { type: 'boolean' } } });
  const config = load(values.config);
  const { loadDemoData, DEMO_KEYS } = await import('./demo.js');
  await loadDemoData(config, (msg) => process.stderr.write(msg + '\n'));
  if (values['load-only']) return 0;
  const address = await startServer(config);
  process.stderr.write(
    `\nviewgate is serving the reference scenario at ${address}\nTry:\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/crm/_table/customers?limit=3'\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/federation/_table/unified_customer_activity?filter=customer_id%20%3D%204'\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.partner}' '${address}/api/v2/federation/_table/unified_customer_activity'   # tenant t2 only, e-mails masked\n` +
      `  curl -s -H 'X-API-Key: ${DEMO_KEYS.internal}' '${address}/api/v2/app/_table/orders?filter=total_amount%20%3E%3D%20100&order=total_amount%20desc&limit=5&include_count=true'\n\n`,
  );
  return await new Promise<number>(() => {});
}
