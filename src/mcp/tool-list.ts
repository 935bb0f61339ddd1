// The MCP tools one identity sees, exactly as tools/list answers it: the server the transports
// build for that identity, asked over an in-memory transport (viewgate contract, the console's
// simulator; no tool runs).
import { InMemoryTransport, type JSONRPCMessage } from '@modelcontextprotocol/server';
import type { Gateway, Identity } from '../gateway/index.js';
import { createMcpServer } from './server.js';

/** One tool as tools/list describes it. */
export interface ListedTool {
  name: string;
  [key: string]: unknown;
}

interface Reply {
  result?: { tools?: ListedTool[]; nextCursor?: string };
  error?: { message: string };
}

/** The names of the tools tools/list gives this identity, sorted. */
export async function toolNames(gateway: Gateway, identity: Identity): Promise<string[]> {
  return (await toolList(gateway, identity)).map((t) => t.name).sort();
}

/** The tools tools/list gives this identity, as the MCP server sends them, in its order. */
export async function toolList(gateway: Gateway, identity: Identity): Promise<ListedTool[]> {
  const server = createMcpServer(gateway, { identity }, [], { tools: true, resources: false, prompts: false });
  const [client, serverSide] = InMemoryTransport.createLinkedPair();
  const waiting = new Map<number, (reply: Reply) => void>();
  client.onmessage = (m: JSONRPCMessage) => {
    if ('id' in m && typeof m.id === 'number') waiting.get(m.id)?.(m as Reply);
  };
  let nextId = 0;
  const ask = (method: string, params: Record<string, unknown>) =>
    new Promise<Reply>((resolve) => {
      const id = ++nextId;
      waiting.set(id, resolve);
      void client.send({ jsonrpc: '2.0', id, method, params });
    });
  await server.connect(serverSide);
  try {
    const init = await ask('initialize', {
      protocolVersion: '2025-06-18',
      capabilities: {},
      clientInfo: { name: 'viewgate-contract', version: '1' },
    });
    if (init.error) throw new Error(`MCP initialize failed: ${init.error.message}`);
    await client.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    do {
      const r = await ask('tools/list', cursor ? { cursor } : {});
      if (r.error) throw new Error(`MCP tools/list failed: ${r.error.message}`);
      tools.push(...(r.result?.tools ?? []));
      cursor = r.result?.nextCursor;
    } while (cursor);
    return tools;
  } finally {
    await server.close();
  }
}
