// `viewgate mcp-config --config FILE [--client claude|cursor|vscode] [--api-key KEY | --token JWT]
//  [--name NAME]`: prints the desktop-assistant entry that starts `viewgate mcp` from this
// installation (src/mcp/client-config.ts), after checking that the config loads and the credential
// is accepted, so what it prints starts first time. The JSON goes to stdout, notes to stderr.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { configPath, envReferences, parseConfig, type EnvReference } from '../config/load.js';
import { Authenticator } from '../policy/identity.js';
import { ApiError } from '../errors.js';
import { buildClientConfig, MCP_CLIENTS, type IdentityVariable, type McpClient } from '../mcp/client-config.js';

export async function mcpConfigCommand(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const say = (msg: string) => process.stderr.write(`viewgate mcp-config: ${msg}\n`);
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      client: { type: 'string', default: 'claude' },
      'api-key': { type: 'string' },
      token: { type: 'string' },
      name: { type: 'string', default: 'viewgate' },
    },
  });
  const client = values.client as McpClient;
  if (!MCP_CLIENTS.includes(client)) {
    say(`--client "${values.client}" is not one of ${MCP_CLIENTS.join(', ')}`);
    return 2;
  }
  if (values['api-key'] !== undefined && values.token !== undefined) {
    say('give either --api-key or --token, not both');
    return 2;
  }
  const identity: { variable: IdentityVariable; value?: string } =
    values.token !== undefined
      ? { variable: 'VIEWGATE_TOKEN', value: values.token.replace(/^Bearer\s+/i, '') }
      : { variable: 'VIEWGATE_API_KEY', ...(values['api-key'] !== undefined ? { value: values['api-key'] } : {}) };

  const file = configPath(values.config, env);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    say(`cannot read ${file}: ${(err as Error).message}`);
    return 1;
  }
  let references: EnvReference[] = [];
  try {
    references = envReferences(text);
  } catch {
    // Malformed YAML: parseConfig below reports it with its line.
  }
  const missing = references.filter((r) => !r.hasDefault && !env[r.name]);
  // With a variable missing here the file cannot be checked now; the printed entry says what to fill in.
  if (missing.length === 0) {
    // Throws ConfigError, which the CLI prints: a config that does not load here will not load for the assistant.
    const config = parseConfig(text, file, env);
    if (identity.value) {
      try {
        await new Authenticator(config).authenticate(
          identity.variable === 'VIEWGATE_API_KEY' ? { apiKey: identity.value } : { bearer: identity.value },
        );
      } catch (err) {
        say(
          `${identity.variable === 'VIEWGATE_API_KEY' ? '--api-key' : '--token'} is refused by ${file}: ${err instanceof ApiError ? err.message : String(err)}`,
        );
        return 1;
      }
    }
  }

  const out = buildClientConfig({ client, name: values.name!, configFile: file, identity, references, env });
  process.stdout.write(JSON.stringify(out.json, null, 2) + '\n');
  say(out.where);
  for (const line of out.todo) say(`to do: ${line}`);
  if (missing.length === 0) say(`check it any time with: viewgate check --config ${file}`);
  return 0;
}
