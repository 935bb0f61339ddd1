// OpenAPI 3.1 for exactly what one caller may read (docs/rest.md): a typed row schema per view
// (masked columns noted), the query parameters with the filter grammar, the error envelope, the
// 304/429 behaviour and the security schemes. Pure: built from the views as described for the
// caller.
import type { Config } from '../../config/schema.js';
import type { ViewDescription } from '../../gateway/index.js';
import { components, type Json } from './components.js';
import { byIds, listOperation, queryOperation, rowOperation, schemaOperation } from './operations.js';
import { writeOperations } from './write-operations.js';
import { rowSchema } from './row-schema.js';
import { sqlOperation } from './sql-operation.js';
import { toolOperation } from './tools.js';
import { adminPaths } from './admin-operations.js';
import type { CuratedTool } from '../../gateway/index.js';

/** A view as the caller sees it, with what its grant adds: the masks' names and whether it may explain. */
export interface DescribedView {
  description: ViewDescription;
  masks: Record<string, string>;
  explain: boolean;
}

export interface OpenApiInput {
  config: Config;
  role: string;
  /** viewgate's version. */
  version: string;
  serverUrl: string;
  /** The views the caller may read, in listing order. */
  views: DescribedView[];
  /** Ids of views the caller may read that cannot be described right now (their stores are down). */
  unavailable: string[];
  /** Whether the caller may use governed SQL (POST /api/v2/_sql). */
  sql?: boolean;
  /** The curated tools the caller may use (docs/tools.md). */
  tools?: readonly CuratedTool[];
}

/** The document for one caller; views that cannot be built right now are listed, not described. */
export function openApiDocument(input: OpenApiInput): Json {
  const { config } = input;
  const paths: Json = {};
  const comps = components(config);
  const schemas = comps.schemas as Json;
  const services = new Set<string>();
  for (const { description: d, masks, explain } of input.views) {
    services.add(d.service);
    schemas[d.id] = rowSchema(d, masks);
    const base = `/api/v2/${d.service}`;
    // A deprecated view's operations say so (docs/contracts.md, "Deprecation").
    const ops = (o: Json): Json =>
      d.deprecated ? Object.fromEntries(Object.entries(o).map(([m, op]) => [m, { ...(op as object), deprecated: true }])) : o;
    paths[`${base}/_table/${d.name}`] = ops({ get: queryOperation(d, explain), ...writeOperations(d, false) });
    if (byIds(d)) paths[`${base}/_table/${d.name}/{id}`] = ops({ get: rowOperation(d), ...writeOperations(d, true) });
    paths[`${base}/_schema/${d.name}`] = ops({ get: schemaOperation(d) });
  }
  for (const s of [...services].sort()) {
    paths[`/api/v2/${s}/_table`] = { get: listOperation(s, '_table') };
    paths[`/api/v2/${s}/_schema`] = { get: listOperation(s, '_schema') };
  }
  if (input.sql) paths['/api/v2/_sql'] = { post: sqlOperation() };
  for (const tool of input.tools ?? []) paths[`/api/v2/_tool/${tool.name}`] = { get: toolOperation(tool) };
  const admin = adminPaths(config, input.role);
  Object.assign(paths, admin);
  const security: Json[] = [{ apiKey: [] }];
  if (config.auth.jwt) security.push({ bearer: [] });
  return {
    openapi: '3.1.0',
    info: {
      title: 'viewgate',
      version: input.version,
      description:
        `Governed views, as role "${input.role}" sees them: only the views, columns and rows this role may read (and the writes its grants allow, docs/writes.md); masked columns are marked \`x-viewgate-masked\`.` +
        (input.unavailable.length
          ? `\n\nNot described because their stores are unavailable right now: ${input.unavailable.join(', ')}.`
          : ''),
    },
    servers: [{ url: input.serverUrl }],
    security,
    tags: [
      ...[...services]
        .sort()
        .map((name) => ({ name, ...(config.services[name]?.description ? { description: config.services[name]!.description } : {}) })),
      ...(input.tools?.length
        ? [{ name: 'tools', description: 'Curated tools: questions the data owner published, with typed parameters.' }]
        : []),
      ...(Object.keys(admin).length ? [{ name: 'admin', description: 'The console’s JSON API (docs/console.md).' }] : []),
    ],
    paths,
    components: comps,
  };
}
