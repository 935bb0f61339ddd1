// Each view the caller may read, as a resource: viewgate://views/{service}.{view} -> its schema as
// JSON (the structuredContent of describe_view). Views the caller may not read are neither listed
// nor readable (the same "not found" as an unknown view).
import { ResourceNotFoundError, ResourceTemplate, UriTemplate, type McpServer } from '@modelcontextprotocol/server';
import type { Gateway, Identity } from '../gateway/index.js';
import { handleCall, type McpCaller } from './caller.js';
import { exampleArguments } from './example.js';
import { viewSchema } from './tools.js';

const VIEW_URI_PREFIX = 'viewgate://views/';
/** Parsed once: a UriTemplate does not change after it is built. */
const VIEW_URI_TEMPLATE = new UriTemplate(`${VIEW_URI_PREFIX}{view}`);

/** The names of the caller's readable views that start with `prefix` (completion). */
export function readableViewsStartingWith(gw: Gateway, identity: Identity, prefix: string): string[] {
  return gw
    .listViews(identity)
    .map((v) => v.id)
    .filter((id) => id.startsWith(prefix));
}

function viewUri(id: string): string {
  return VIEW_URI_PREFIX + id;
}

export function registerViewResources(server: McpServer, gw: Gateway, caller: McpCaller): void {
  const template = new ResourceTemplate(VIEW_URI_TEMPLATE, {
    // completion/complete: only the views this caller may read.
    complete: { view: (value) => readableViewsStartingWith(gw, caller.identity, value) },
    list: () => ({
      resources: gw.listViews(caller.identity).map((v) => ({
        uri: viewUri(v.id),
        name: v.id,
        title: `Schema of ${v.id}`,
        description: v.description,
        mimeType: 'application/json',
      })),
    }),
  });
  server.registerResource(
    'view-schema',
    template,
    { title: 'View schema', description: 'Columns, key and row limit of a view, as you may see it.', mimeType: 'application/json' },
    async (uri, variables, extra) => {
      const id = String(variables.view ?? '');
      const call = {
        action: 'read_resource',
        args: { uri: uri.href },
        view: id,
        operation: { op: 'describe' as const, view: id },
        rpcId: extra.mcpReq.id,
        signal: extra.mcpReq.signal,
      };
      const r = await handleCall(gw, caller, call, async (d) => ({
        value: { d, example: await exampleArguments(gw, caller.identity, d) },
      }));
      if (!r.ok) {
        if (r.error.kind === 'not_found')
          throw new ResourceNotFoundError(uri.href, `no view "${id}" (resources/list shows the views you may read)`);
        // Audit down, a store failing: the gateway's message, never a stack.
        throw new Error(r.error.message);
      }
      return {
        contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(viewSchema(r.value.d, r.value.example), null, 2) }],
      };
    },
  );
}
