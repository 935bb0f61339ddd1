// export_view and the export resources (docs/mcp.md, "Exports"): the governed result of a query,
// written as CSV or JSON Lines to viewgate://exports/{id} for the caller's identity key, and a
// resource_link to it instead of the rows in the context window. Offered only to callers with a
// grant that has `export: true`; the gateway decides, runs, masks, stores and audits.
import { ResourceNotFoundError, ResourceTemplate, UriTemplate, type CallToolResult, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { Gateway } from '../gateway/index.js';
import { parseToolQuery } from '../query/client-query.js';
import { handleCall, type McpCaller } from './caller.js';
import { READ_ONLY, registerGatewayTool, type ToolRegistrar, type ToolWanted } from './gateway-tool.js';
import { withCachedJsonSchema } from './schema.js';

const EXPORT_URI_PREFIX = 'viewgate://exports/';
const EXPORT_URI_TEMPLATE = new UriTemplate(`${EXPORT_URI_PREFIX}{id}`);

const exportViewInput = z.strictObject({
  view: z.string().min(1).describe('The view, named service.view (see list_views).'),
  fields: z
    .union([z.array(z.string()), z.string()])
    .optional()
    .describe('Columns to export, as a list or a comma-separated string. Default: every column you may read.'),
  filter: z
    .union([z.string(), z.record(z.string(), z.unknown())])
    .optional()
    .describe('A filter, as for query_view (grammar string or structured form).'),
  order: z
    .union([z.array(z.string()), z.string()])
    .optional()
    .describe('Sort terms `column [asc|desc]`, as for query_view. The view key is appended.'),
  format: z.enum(['csv', 'jsonl']).describe('csv: RFC 4180 with a header row; jsonl: one JSON object per line.'),
});

const exportViewOutput = z.object({
  uri: z.string(),
  name: z.string(),
  mimeType: z.string(),
  rows: z.number().int().describe('Rows written to the export.'),
  bytes: z.number().int(),
  truncated: z.boolean().describe('More rows matched than one export holds (max_rows); narrow the filter to export the rest.'),
  max_rows: z.number().int(),
  expires_at: z.string().describe('When the export stops being readable (ISO 8601 UTC).'),
});

const EXPORT_VIEW_INPUT = withCachedJsonSchema(exportViewInput);
const EXPORT_VIEW_OUTPUT = withCachedJsonSchema(exportViewOutput);

function exportUri(id: string): string {
  return EXPORT_URI_PREFIX + id;
}

/** export_view, for a caller with at least one grant that has `export: true`. */
export function registerExportTool(tools: ToolRegistrar, gw: Gateway, caller: McpCaller, wanted: ToolWanted): void {
  if (!wanted('export_view') || gw.exportableViews(caller.identity).length === 0) return;
  const minutes = gw.exports.ttlMs / 60_000;
  registerGatewayTool(
    tools,
    gw,
    caller,
    'export_view',
    {
      title: 'Export a view',
      description:
        `Writes the rows of one view (optional fields, filter, order) as CSV or JSON Lines to a resource only you can read, for ${minutes} minutes, ` +
        'and returns a resource_link to it instead of the rows. Use it for results too large to read page by page; read the link with resources/read.',
      inputSchema: EXPORT_VIEW_INPUT,
      outputSchema: EXPORT_VIEW_OUTPUT,
      // Each call writes a new export.
      annotations: { ...READ_ONLY, idempotentHint: false },
    },
    (args) => {
      const { view, format, ...rest } = args;
      return { operation: { op: 'export' as const, view, format, parse: () => parseToolQuery(rest) }, view };
    },
    ({ entry, truncated, maxRows }, { view, format }): CallToolResult => {
      const uri = exportUri(entry.id);
      const expiresAt = new Date(entry.expiresAt).toISOString();
      const line =
        `Exported ${entry.rows} row${entry.rows === 1 ? '' : 's'} of ${view} as ${format === 'csv' ? 'CSV' : 'JSON Lines'} (${entry.bytes} bytes) to ${uri}; ` +
        `read it with resources/read until ${expiresAt}.` +
        (truncated ? ` More rows matched: an export holds at most ${maxRows} rows, so narrow the filter to export the rest.` : '');
      return {
        content: [
          { type: 'resource_link', uri, name: entry.name, mimeType: entry.mimeType, description: line },
          { type: 'text', text: line },
        ],
        structuredContent: {
          uri,
          name: entry.name,
          mimeType: entry.mimeType,
          rows: entry.rows,
          bytes: entry.bytes,
          truncated,
          max_rows: maxRows,
          expires_at: expiresAt,
        },
      };
    },
  );
}

/**
 * viewgate://exports/{id}: the caller's own exports, listed and readable. Another identity key's
 * export, an expired one and an id never issued are the same "resource not found".
 */
export function registerExportResources(server: McpServer, gw: Gateway, caller: McpCaller): void {
  if (gw.exportableViews(caller.identity).length === 0) return;
  const template = new ResourceTemplate(EXPORT_URI_TEMPLATE, {
    list: () => ({
      resources: gw.exports.list(caller.identity.identityKey).map((e) => ({
        uri: exportUri(e.id),
        name: e.name,
        description: `${e.rows} rows, readable until ${new Date(e.expiresAt).toISOString()}`,
        mimeType: e.mimeType,
      })),
    }),
  });
  server.registerResource(
    'export',
    template,
    { title: 'Export', description: 'The rows an export_view call wrote, readable only by you for a limited time.' },
    async (uri, variables, extra) => {
      const id = String(variables.id ?? '');
      const r = await handleCall(gw, caller, {
        action: 'read_resource',
        args: { uri: uri.href },
        operation: { op: 'read_export', id },
        rpcId: extra.mcpReq.id,
        signal: extra.mcpReq.signal,
      });
      if (!r.ok) {
        if (r.error.kind === 'not_found') throw new ResourceNotFoundError(uri.href, r.error.message);
        throw new Error(r.error.message);
      }
      return { contents: [{ uri: uri.href, mimeType: r.value.mimeType, text: r.value.text }] };
    },
  );
}
