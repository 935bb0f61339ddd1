// The MCP server `viewgate mcp` serves when it cannot start (no or refused credential, a config that
// does not load, views that cannot be built, grants that do not fit them). Desktop hosts show what
// the server says over the protocol, rarely its stderr, so the reason travels in the protocol: in
// the `initialize` result's instructions, as the JSON-RPC error of every list request, and as an
// isError result of any tool call. It offers nothing else.
import { createRequire } from 'node:module';
import { McpServer, ProtocolError, ProtocolErrorCode } from '@modelcontextprotocol/server';

const VERSION = String(createRequire(import.meta.url)('../../package.json').version);

const NEXT_STEP =
  "Fix the cause (this MCP server's entry in the assistant's settings: command, args, env; the config file; or the stores it names), " +
  'then restart the server. `viewgate mcp-config --config FILE` prints a working entry; `viewgate check --config FILE` checks the config and every store.';

/** The text a client shows: what went wrong, then what to do about it. */
function failedStartMessage(reason: string): string {
  return `viewgate could not start: ${reason}\n${NEXT_STEP}`;
}

export function createFailedStartServer(reason: string): McpServer {
  const message = failedStartMessage(reason);
  const server = new McpServer(
    { name: 'viewgate', version: VERSION },
    {
      capabilities: { tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } },
      instructions: `${message}\nUntil then this server offers no tools, resources or prompts.`,
    },
  );
  const refuse = () => {
    throw new ProtocolError(ProtocolErrorCode.InternalError, message);
  };
  const low = server.server;
  low.setRequestHandler('tools/list', refuse);
  low.setRequestHandler('resources/list', refuse);
  low.setRequestHandler('resources/templates/list', refuse);
  low.setRequestHandler('resources/read', refuse);
  low.setRequestHandler('prompts/list', refuse);
  low.setRequestHandler('prompts/get', refuse);
  // A host that remembers tools from an earlier start may call one anyway: the model reads the reason.
  low.setRequestHandler('tools/call', () => ({ content: [{ type: 'text' as const, text: message }], isError: true }));
  return server;
}
