// Tool errors the model can act on: the gateway's message plus what to do next (which views exist,
// which fields can be filtered or sorted, what the limit is, when to retry). Which hint follows is
// the error kind's (ERROR_KINDS in src/errors.ts).
import type { CallToolResult } from '@modelcontextprotocol/server';
import { namedView, type Gateway, type Identity } from '../gateway/index.js';
import type { ApiError } from '../errors.js';

export async function toolError(gw: Gateway, identity: Identity, err: ApiError, view?: string): Promise<CallToolResult> {
  const lines = [`Error ${err.status}: ${err.message}`];
  const hint = await hintFor(gw, identity, err, view).catch(() => undefined);
  if (hint) lines.push(hint);
  return { isError: true, content: [{ type: 'text', text: lines.join('\n') }] };
}

async function hintFor(gw: Gateway, identity: Identity, err: ApiError, view?: string): Promise<string | undefined> {
  const param = typeof err.context.param === 'string' ? err.context.param : undefined;
  const hint = err.mcpHint;
  if (hint === 'views' && err.context.view !== undefined) {
    const ids = gw.listViews(identity).map((v) => v.id);
    return ids.length > 0 ? `Views you can read: ${ids.join(', ')}. Name them as service.view.` : 'You cannot read any views.';
  }
  if (hint === 'retry') {
    const after = err.headers['Retry-After'] ?? err.headers['retry-after'];
    return after ? `Retry after ${after} seconds.` : 'Retry later.';
  }
  if (hint !== 'query' || !view) return undefined;
  const d = await gw.describeView(identity, namedView(view));
  if (param === 'filter' || param === 'order' || param === 'ids') {
    const usable = d.columns.filter((c) => c.filterable).map((c) => c.name);
    const masked = d.columns.filter((c) => c.masked).map((c) => c.name);
    const what = param === 'order' ? 'Sortable' : 'Filterable';
    return `${what} fields of ${view}: ${usable.join(', ') || '(none)'}.${masked.length ? ` Masked for your role (not usable in filter or order): ${masked.join(', ')}.` : ''} Call describe_view for types.`;
  }
  if (param === 'fields') return `Fields of ${view}: ${d.columns.map((c) => c.name).join(', ')}.`;
  if (param === 'limit' || param === 'offset')
    return `limit is 1 to ${d.maxLimit} rows per call for ${view}; offset is 0 or more (use next_offset from the previous page).`;
  return undefined;
}
