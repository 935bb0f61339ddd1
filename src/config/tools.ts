// Load-time checks of `tools:` (docs/tools.md) that need only the file. Here: a tool's name is not a
// built-in tool's and its view exists. What needs the filter parser (the filter, order and
// aggregate parse; every \`{params.x}\` read is declared and every declared parameter is read; each
// parameter's enum, bounds, pattern and example fit its type) is registered by src/query/tool-query.ts,
// as store kinds register their schemas (src/config/stores.ts). What needs the built view (columns,
// their types) is checked with the grants (src/policy/curated-tools.ts).
import type { Config, CuratedToolConfig } from './schema.js';

/** The built-in MCP tools (docs/mcp.md); a curated tool cannot take one of these names. */
const BUILT_IN_TOOLS = ['list_views', 'describe_view', 'query_view', 'aggregate_view', 'query_sql', 'export_view'] as const;

export interface ToolProblem {
  path: string;
  message: string;
}

/** One tool's problems, each under the key it is about (`filter`, `params.since.pattern`, ...; '' for the tool). */
export type ToolCheck = (name: string, tool: CuratedToolConfig) => { key: string; message: string }[];

let toolCheck: ToolCheck | undefined;

export function registerToolCheck(check: ToolCheck): void {
  toolCheck = check;
}

/** `views`: the view names of each service, as the file declares them. */
export function toolProblems(config: Config, views: ReadonlyMap<string, ReadonlySet<string>>): ToolProblem[] {
  const out: ToolProblem[] = [];
  const tools = Object.entries(config.tools);
  if (tools.length > 0 && !toolCheck)
    throw new Error('no tool check is registered: import src/query/tool-query.ts before loading a configuration');
  for (const [name, tool] of tools) {
    const at = (key: string, message: string) =>
      out.push({ path: `tools.${name}${key ? `.${key}` : ''}`, message: `tool "${name}": ${message}` });
    if ((BUILT_IN_TOOLS as readonly string[]).includes(name)) {
      at('', `"${name}" is a built-in tool; name the tool otherwise (built-in: ${BUILT_IN_TOOLS.join(', ')})`);
    }
    const [svc, view, ...rest] = tool.view.split('.');
    const svcViews = svc !== undefined ? views.get(svc) : undefined;
    if (!svc || !view || rest.length > 0) at('view', `"${tool.view}" is not a view; name it service.view`);
    else if (!svcViews) at('view', `unknown service "${svc}"; services are: ${[...views.keys()].join(', ')}`);
    else if (!svcViews.has(view)) at('view', `service "${svc}" has no view "${view}"; it has: ${[...svcViews].join(', ')}`);
    for (const p of toolCheck!(name, tool)) at(p.key, p.message);
  }
  return out;
}
