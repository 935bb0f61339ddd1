// `viewgate mcp-config`: the entry a desktop assistant (Claude Desktop, Cursor, VS Code) needs to
// start `viewgate mcp` from this installation. Desktop hosts start servers with no working
// directory and no shell, so everything is absolute: node, bin/viewgate.js, the config file, and
// the environment the config reads. Never `npx viewgate`: on a host without this checkout as its
// working directory, npx asks the npm registry for a package of that name (docs/mcp.md).
import { fileURLToPath } from 'node:url';
import type { EnvReference } from '../config/load.js';

export const MCP_CLIENTS = ['claude', 'cursor', 'vscode'] as const;
export type McpClient = (typeof MCP_CLIENTS)[number];

export type IdentityVariable = 'VIEWGATE_API_KEY' | 'VIEWGATE_TOKEN';

export interface ClientConfigInput {
  client: McpClient;
  /** The server's name in the host's list (the key under mcpServers / servers). */
  name: string;
  /** Absolute path of the config file. */
  configFile: string;
  /** Which variable carries the identity, and its value when known. */
  identity: { variable: IdentityVariable; value?: string };
  /** The variables the config file references, from `envReferences`. */
  references: EnvReference[];
  /** Where values for those variables come from (normally process.env). */
  env: NodeJS.ProcessEnv;
  /** Absolute path of node; default process.execPath. */
  nodePath?: string;
  /** Absolute path of bin/viewgate.js; default this installation's. */
  binPath?: string;
}

export interface ClientConfig {
  /** The JSON to put in the host's config file. */
  json: Record<string, unknown>;
  /** What the user still has to do (placeholders to fill in), one line each; empty when it works as is. */
  todo: string[];
  /** Where the host keeps its config file. */
  where: string;
}

/** The bin of this installation (a checkout, or an installed package), as an absolute path. */
export function viewgateBin(): string {
  // dist/mcp/client-config.js and src/mcp/client-config.ts are both two levels below the root.
  return fileURLToPath(new URL('../../bin/viewgate.js', import.meta.url));
}

export const API_KEY_PLACEHOLDER = 'REPLACE_WITH_YOUR_VIEWGATE_API_KEY';
const TOKEN_PLACEHOLDER = 'REPLACE_WITH_YOUR_VIEWGATE_JWT';
const VSCODE_INPUT_ID = 'viewgate-credential';

export function buildClientConfig(input: ClientConfigInput): ClientConfig {
  const todo: string[] = [];
  const env: Record<string, string> = {};
  const { variable, value } = input.identity;
  let inputs: unknown[] | undefined;
  if (value) env[variable] = value;
  else if (input.client === 'vscode') {
    // VS Code prompts for the secret on first start and stores it, so it never sits in the file.
    env[variable] = `\${input:${VSCODE_INPUT_ID}}`;
    inputs = [
      {
        type: 'promptString',
        id: VSCODE_INPUT_ID,
        description: variable === 'VIEWGATE_API_KEY' ? 'viewgate API key (VIEWGATE_API_KEY)' : 'viewgate JWT (VIEWGATE_TOKEN)',
        password: true,
      },
    ];
  } else {
    env[variable] = variable === 'VIEWGATE_API_KEY' ? API_KEY_PLACEHOLDER : TOKEN_PLACEHOLDER;
    todo.push(
      `${variable} is a placeholder: replace it with the ${variable === 'VIEWGATE_API_KEY' ? 'API key' : 'JWT'} this assistant acts as ` +
        `(or run mcp-config again with ${variable === 'VIEWGATE_API_KEY' ? '--api-key KEY' : '--token JWT'}).`,
    );
  }
  for (const ref of input.references) {
    if (ref.name === 'VIEWGATE_API_KEY' || ref.name === 'VIEWGATE_TOKEN') continue;
    const current = input.env[ref.name];
    if (current !== undefined && current !== '') env[ref.name] = current;
    else if (!ref.hasDefault) {
      env[ref.name] = `REPLACE_WITH_${ref.name}`;
      todo.push(
        `${ref.name} is not set here and ${input.configFile} needs it: replace its placeholder (or set it and run mcp-config again).`,
      );
    }
    // Unset with a default in the file: left out, so the file's default applies as it does here.
  }
  const server: Record<string, unknown> = {
    ...(input.client === 'vscode' ? { type: 'stdio' } : {}),
    command: input.nodePath ?? process.execPath,
    args: [input.binPath ?? viewgateBin(), 'mcp', '--config', input.configFile],
    env,
  };
  const json: Record<string, unknown> =
    input.client === 'vscode'
      ? { ...(inputs ? { inputs } : {}), servers: { [input.name]: server } }
      : { mcpServers: { [input.name]: server } };
  return { json, todo, where: WHERE[input.client] };
}

const WHERE: Record<McpClient, string> = {
  claude:
    'Claude Desktop: merge into claude_desktop_config.json (Settings > Developer > Edit Config; macOS ~/Library/Application Support/Claude/, ' +
    'Windows %APPDATA%\\Claude\\), then restart Claude Desktop.',
  cursor: 'Cursor: merge into ~/.cursor/mcp.json (all projects) or .cursor/mcp.json in a project.',
  vscode: 'VS Code: merge into .vscode/mcp.json in a workspace, or the user mcp.json (command "MCP: Open User Configuration").',
};
