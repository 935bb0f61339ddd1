// An MCP client for viewgate's Streamable HTTP endpoint, with a bearer token.
//
//   TOKEN=$(node bin/viewgate.js token --config examples/reference/viewgate.yaml --role external --claim tenant_id=t2)
//   VIEWGATE_URL=http://127.0.0.1:8080 VIEWGATE_TOKEN=$TOKEN node examples/mcp/http-client.mjs
//
// Uses the v2 client (@modelcontextprotocol/client); the 1.x @modelcontextprotocol/sdk client works
// the same way with StreamableHTTPClientTransport from '@modelcontextprotocol/sdk/client/streamableHttp.js'.
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';

const url = new URL('/mcp', process.env.VIEWGATE_URL ?? 'http://127.0.0.1:8080');
const token = process.env.VIEWGATE_TOKEN;
if (!token) {
  console.error('set VIEWGATE_TOKEN to a JWT (node bin/viewgate.js token --config ... --role external --claim tenant_id=t2)');
  process.exit(1);
}

const client = new Client({ name: 'viewgate-example', version: '1.0.0' }, { versionNegotiation: { mode: 'auto' } });
await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { Authorization: `Bearer ${token}` } } }));

const views = await client.callTool({ name: 'list_views', arguments: {} });
console.log(views.content[0].text);

const first = views.structuredContent.views[0]?.name;
if (first) {
  const described = await client.callTool({ name: 'describe_view', arguments: { view: first } });
  console.log('\n' + described.content[0].text);
  const rows = await client.callTool({ name: 'query_view', arguments: { view: first, limit: 5 } });
  console.log('\n' + rows.content[0].text);
  console.log('\nstructuredContent:', JSON.stringify(rows.structuredContent, null, 2));
}
await client.close();
