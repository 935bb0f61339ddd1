// OpenAPI 3.1 for exactly what one caller may read (docs/rest.md): a typed row schema per view
// (masked columns noted), the query parameters with the filter grammar, the error envelope, the
// 304/429 behaviour and the security schemes. Served at GET /api/v2/openapi.json, rendered by
// /docs.
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../runtime.js';
import type { ViewDescription } from '../gateway/gateway.js';
import type { VisibleColumn } from '../policy/govern.js';
import type { Identity } from '../policy/identity.js';
import { grantFor } from '../policy/grants.js';
import type { ColumnType } from '../values.js';
import { handler } from './routes.js';
import { registerDocsPage } from './docs-page.js';

type Json = Record<string, unknown>;

export const OPENAPI_PATH = '/api/v2/openapi.json';

const VERSION = String((createRequire(import.meta.url)('../../package.json') as { version: string }).version);

const FILTER_GRAMMAR = `A filter in viewgate's grammar (DreamFactory-compatible, with a real parser):

    customer_id = 7 and (status in ('paid','shipped') or total_amount >= 100)

Comparisons \`= != <> > >= < <=\`; \`like\` / \`not like\` (\`%\` any run, \`_\` one character, case-sensitive);
\`contains\`, \`starts with\`, \`ends with\` (literal text) and their \`not\` forms; \`in (...)\` / \`not in (...)\`;
\`is null\` / \`is not null\`; \`between a and b\` / \`not between a and b\`; \`and\` binds tighter than \`or\`;
\`not\` and parentheses nest. Strings are in single quotes (\`''\` is a quote); numbers are exact;
\`true\`/\`false\`; field names may be double-quoted. Only filterable fields may be used; masked fields
cannot. Your role's row filter is always applied as well, and no filter widens it.`;

function columnSchema(c: VisibleColumn, mask: string | undefined): Json {
  const base = typeSchema(c.type);
  const schema: Json = c.nullable || c.masked ? nullable(base) : base;
  const notes: string[] = [];
  if (c.description) notes.push(c.description);
  if (c.masked) notes.push(`Masked for your role (${mask ?? 'masked'}): values are not the stored ones; not usable in filter, order or ids.`);
  else if (!c.filterable) notes.push('Not usable in filter or order.');
  if (notes.length) schema.description = notes.join(' ');
  if (c.masked) schema['x-viewgate-masked'] = mask ?? true;
  return schema;
}

function typeSchema(t: ColumnType): Json {
  switch (t) {
    case 'bool':
      return { type: 'boolean' };
    case 'int':
      return { type: 'integer', format: 'int64', description: 'Exact 64-bit integer (JSON digits, never rounded).' };
    case 'float':
      return { type: 'number', format: 'double' };
    case 'numeric':
      return { type: 'string', pattern: '^-?[0-9]+(\\.[0-9]+)?$', description: 'Exact decimal, as text.' };
    case 'text':
      return { type: 'string' };
    case 'timestamptz':
      return { type: 'string', format: 'date-time', description: 'UTC, six fraction digits.' };
    case 'date':
      return { type: 'string', format: 'date' };
    case 'jsonb':
      return { description: 'Any JSON value.' };
    case 'bytea':
      return { type: 'string', contentEncoding: 'base64' };
  }
}

function nullable(s: Json): Json {
  if (typeof s.type === 'string') return { ...s, type: [s.type, 'null'] };
  return s;
}

function rowSchema(d: ViewDescription, masks: Record<string, string>): Json {
  return {
    type: 'object',
    title: d.id,
    description: d.description || undefined,
    properties: Object.fromEntries(d.columns.map((c) => [c.name, columnSchema(c, masks[c.name])])),
    additionalProperties: false,
  };
}

const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

function errorResponses(extra: Record<string, Json> = {}): Record<string, Json> {
  return {
    '400': ref('responses', 'BadRequest'),
    '401': ref('responses', 'Unauthorized'),
    '403': ref('responses', 'Forbidden'),
    '404': ref('responses', 'NotFound'),
    ...extra,
    '429': ref('responses', 'TooManyRequests'),
    '503': ref('responses', 'Unavailable'),
    '504': ref('responses', 'Timeout'),
  };
}

function okHeaders(): Json {
  return { ETag: ref('headers', 'ETag'), 'Cache-Control': ref('headers', 'CacheControl'), Vary: ref('headers', 'Vary') };
}

function queryOperation(d: ViewDescription, explain: boolean): Json {
  const filterable = d.columns.filter((c) => c.filterable).map((c) => c.name);
  const masked = d.columns.filter((c) => c.masked).map((c) => c.name);
  const names = d.columns.map((c) => c.name);
  const params: Json[] = [
    {
      name: 'fields',
      in: 'query',
      description: `Comma-separated columns to return; \`*\` or absent: all of ${names.join(', ')}.`,
      schema: { type: 'string' },
    },
    {
      name: 'filter',
      in: 'query',
      description: `${FILTER_GRAMMAR}\n\nFilterable here: ${filterable.join(', ') || '(none)'}.${masked.length ? ` Masked (not filterable): ${masked.join(', ')}.` : ''}`,
      schema: { type: 'string' },
    },
    {
      name: 'order',
      in: 'query',
      description: `Comma-separated \`field [asc|desc]\`; ${
        d.opaqueOrder
          ? 'ties are broken by an opaque stable order (the view key is not readable for your role)'
          : `the key (${d.key.join(', ')}) is appended`
      } so paging is stable. Sortable: ${filterable.join(', ') || '(none)'}.`,
      schema: { type: 'string' },
    },
    {
      name: 'limit',
      in: 'query',
      description: `Rows per page; values above ${d.maxLimit} are clamped to it.`,
      schema: { type: 'integer', minimum: 1, default: d.maxLimit },
    },
    ref('parameters', 'offset'),
    ref('parameters', 'include_count'),
  ];
  if (byIds(d)) {
    params.push({ name: 'ids', in: 'query', description: `Comma-separated values of ${d.key[0]}.`, schema: { type: 'string' } });
  }
  if (explain) params.push(ref('parameters', 'explain'));
  const page: Json = {
    type: 'object',
    required: ['resource', 'meta'],
    properties: { resource: { type: 'array', items: ref('schemas', d.id) }, meta: ref('schemas', 'Meta') },
    additionalProperties: false,
  };
  return {
    tags: [d.service],
    operationId: `query_${d.service}_${d.name}`,
    summary: `Rows of ${d.id}`,
    description: `${d.description ? `${d.description}\n\n` : ''}Only rows your role may read are returned.`,
    parameters: [...params, ref('parameters', 'If-None-Match')],
    responses: {
      '200': {
        description:
          'A page of rows. `meta.count` only with include_count=true; `meta.next` only when more rows exist.' +
          (explain ? ' With explain=true, `{"explain": plan}` instead: the plan and every native query, no rows.' : ''),
        headers: okHeaders(),
        content: { 'application/json': { schema: explain ? { oneOf: [page, ref('schemas', 'Explain')] } : page } },
      },
      '304': ref('responses', 'NotModified'),
      ...errorResponses({ '422': ref('responses', 'RowBudget') }),
    },
  };
}

function rowOperation(d: ViewDescription): Json {
  return {
    tags: [d.service],
    operationId: `get_${d.service}_${d.name}`,
    summary: `One row of ${d.id} by ${d.key[0]}`,
    description: '404 when the row does not exist or your row filter excludes it.',
    parameters: [
      { name: 'id', in: 'path', required: true, description: `The row's ${d.key[0]}.`, schema: { type: 'string' } },
      { name: 'fields', in: 'query', description: 'Comma-separated columns to return.', schema: { type: 'string' } },
      ref('parameters', 'If-None-Match'),
    ],
    responses: {
      '200': { description: 'The row as a bare object.', headers: okHeaders(), content: { 'application/json': { schema: ref('schemas', d.id) } } },
      '304': ref('responses', 'NotModified'),
      ...errorResponses(),
    },
  };
}

/** POST/PUT/PATCH/DELETE: every view is read-only, so a reader gets 405 (docs/decisions.md). */
function writeOperations(d: ViewDescription, row: boolean): Json {
  const ops: Json = {};
  for (const method of ['post', 'put', 'patch', 'delete']) {
    ops[method] = {
      tags: [d.service],
      operationId: `${method}_${d.service}_${d.name}${row ? '_row' : ''}`,
      summary: `Not available: ${d.id} is read-only`,
      description: 'viewgate serves this view for reading only; this method always answers 405 with `Allow`.',
      ...(row ? { parameters: [{ name: 'id', in: 'path', required: true, description: `The row's ${d.key[0]}.`, schema: { type: 'string' } }] } : {}),
      responses: {
        '401': ref('responses', 'Unauthorized'),
        '404': ref('responses', 'NotFound'),
        '405': ref('responses', 'ReadOnly'),
      },
    };
  }
  return ops;
}

function schemaOperation(d: ViewDescription): Json {
  return {
    tags: [d.service],
    operationId: `describe_${d.service}_${d.name}`,
    summary: `Schema of ${d.id} as you see it`,
    responses: {
      '200': { description: 'The view as you see it.', headers: okHeaders(), content: { 'application/json': { schema: ref('schemas', 'ViewSchema') } } },
      '304': ref('responses', 'NotModified'),
      ...errorResponses(),
    },
  };
}

function listOperation(service: string, kind: '_table' | '_schema'): Json {
  return {
    tags: [service],
    operationId: `list_${service}${kind}`,
    summary: `Views of ${service} you may read`,
    responses: {
      '200': { description: 'Names and descriptions.', headers: okHeaders(), content: { 'application/json': { schema: ref('schemas', 'ViewList') } } },
      '304': ref('responses', 'NotModified'),
      ...errorResponses(),
    },
  };
}

function errorResponse(description: string, headers?: Json): Json {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ref('schemas', 'Error') } } };
}

function components(config: Runtime['config']): Json {
  const integerHeader = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });
  const securitySchemes: Json = {
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (X-DreamFactory-API-Key is accepted too).' },
  };
  if (config.auth.jwt) securitySchemes.bearer = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT from your identity provider.' };
  return {
    securitySchemes,
    parameters: {
      offset: { name: 'offset', in: 'query', description: 'Rows to skip; use meta.next from the previous page.', schema: { type: 'integer', minimum: 0, default: 0 } },
      include_count: { name: 'include_count', in: 'query', description: 'Also return meta.count, the number of matching rows.', schema: { type: 'boolean', default: false } },
      explain: { name: 'explain', in: 'query', description: 'Return the plan and every native query instead of rows.', schema: { type: 'boolean', default: false } },
      'If-None-Match': { name: 'If-None-Match', in: 'header', description: 'An ETag from an earlier response: 304 when unchanged.', schema: { type: 'string' } },
    },
    headers: {
      ETag: { description: 'Strong validator of the body.', schema: { type: 'string' } },
      CacheControl: { description: '`private, max-age=N` when the view is cached for your role (N: seconds left), else `private, no-cache`.', schema: { type: 'string' } },
      Vary: { description: 'Authorization, X-API-Key, X-DreamFactory-API-Key: responses depend on the credential.', schema: { type: 'string' } },
      'Retry-After': integerHeader('Seconds to wait before retrying.'),
      'RateLimit-Limit': integerHeader('Requests allowed per period.'),
      'RateLimit-Remaining': integerHeader('Requests left now.'),
      'RateLimit-Reset': integerHeader('Seconds until the full allowance is back.'),
    },
    responses: {
      NotModified: { description: 'Unchanged since the ETag in If-None-Match.', headers: okHeaders() },
      BadRequest: errorResponse('The query is wrong; context names the parameter (and the position in a filter).'),
      Unauthorized: errorResponse('No credential, or an invalid one.', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
      Forbidden: errorResponse('The credential is valid but a claim the role needs is missing, or the role is unknown.'),
      NotFound: errorResponse('No such view for you, or no such row.'),
      ReadOnly: errorResponse('The view is read-only; `Allow` lists the methods it takes.', {
        Allow: { description: 'The methods the view takes, e.g. `GET, HEAD`.', schema: { type: 'string' } },
      }),
      RowBudget: errorResponse('The query would read more rows than the row budget; narrow it.'),
      TooManyRequests: errorResponse('Rate limited.', {
        'Retry-After': ref('headers', 'Retry-After'),
        'RateLimit-Limit': ref('headers', 'RateLimit-Limit'),
        'RateLimit-Remaining': ref('headers', 'RateLimit-Remaining'),
        'RateLimit-Reset': ref('headers', 'RateLimit-Reset'),
      }),
      Unavailable: errorResponse('A store is down or its circuit is open (context.source names it).', { 'Retry-After': ref('headers', 'Retry-After') }),
      Timeout: errorResponse('A store timed out (context.source names it).'),
    },
    schemas: {
      Error: {
        type: 'object',
        required: ['error'],
        properties: {
          error: {
            type: 'object',
            required: ['code', 'message'],
            properties: { code: { type: 'integer' }, message: { type: 'string' }, context: { type: 'object' } },
          },
        },
      },
      Explain: {
        type: 'object',
        required: ['explain'],
        properties: { explain: { description: 'The plan: every native query sent and the rows fetched per store (its shape may change between versions).' } },
        additionalProperties: false,
      },
      Meta: {
        type: 'object',
        properties: {
          count: { type: 'integer', description: 'Matching rows (with include_count=true).' },
          next: { type: 'integer', description: 'Offset of the next page, when more rows exist.' },
        },
      },
      ViewList: {
        type: 'object',
        required: ['resource'],
        properties: {
          resource: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, description: { type: 'string' } } } },
        },
      },
      ViewSchema: {
        type: 'object',
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          key: { type: 'array', items: { type: 'string' } },
          fields: {
            type: 'array',
            items: {
              type: 'object',
              properties: {
                name: { type: 'string' },
                type: { type: 'string' },
                masked: { type: 'boolean' },
                filterable: { type: 'boolean' },
                description: { type: 'string' },
              },
            },
          },
        },
      },
    },
  };
}

/** Whether the caller may look rows up by key: a one-column key it can read unmasked. */
function byIds(d: ViewDescription): boolean {
  return d.key.length === 1 && !d.opaqueOrder;
}

/** The document for one caller; views that cannot be built right now are listed, not described. */
export async function openApiFor(rt: Runtime, identity: Identity, serverUrl: string): Promise<Json> {
  const gw = rt.gateway;
  const summaries = gw.listViews(identity);
  const described = await Promise.allSettled(summaries.map((v) => gw.describeView(identity, v.id)));
  const paths: Json = {};
  const comps = components(rt.config);
  const schemas = comps.schemas as Json;
  const unavailable: string[] = [];
  const services = new Set<string>();
  described.forEach((r, i) => {
    if (r.status === 'rejected') {
      unavailable.push(summaries[i]!.id);
      return;
    }
    const d = r.value;
    const grant = grantFor(rt.config, identity.role, d.id);
    services.add(d.service);
    schemas[d.id] = rowSchema(d, grant?.masks ?? {});
    const base = `/api/v2/${d.service}`;
    paths[`${base}/_table/${d.name}`] = { get: queryOperation(d, grant?.explain ?? false), ...writeOperations(d, false) };
    if (byIds(d)) paths[`${base}/_table/${d.name}/{id}`] = { get: rowOperation(d), ...writeOperations(d, true) };
    paths[`${base}/_schema/${d.name}`] = { get: schemaOperation(d) };
  });
  for (const s of [...services].sort()) {
    paths[`/api/v2/${s}/_table`] = { get: listOperation(s, '_table') };
    paths[`/api/v2/${s}/_schema`] = { get: listOperation(s, '_schema') };
  }
  const security: Json[] = [{ apiKey: [] }];
  if (rt.config.auth.jwt) security.push({ bearer: [] });
  return {
    openapi: '3.1.0',
    info: {
      title: 'viewgate',
      version: VERSION,
      description:
        `Governed, read-only views, as role "${identity.role}" sees them: only the views, columns and rows this role may read; masked columns are marked \`x-viewgate-masked\`.` +
        (unavailable.length ? `\n\nNot described because their stores are unavailable right now: ${unavailable.join(', ')}.` : ''),
    },
    servers: [{ url: serverUrl }],
    security,
    tags: [...services].sort().map((name) => ({ name, ...(rt.config.services[name]?.description ? { description: rt.config.services[name]!.description } : {}) })),
    paths,
    components: comps,
  };
}

export function registerOpenApiRoutes(app: FastifyInstance, rt: Runtime): void {
  app.get(
    OPENAPI_PATH,
    handler(rt, 'openapi', async (identity, req) => {
      const url = (rt.config.server.publicUrl ?? `${req.protocol}://${req.host}`).replace(/\/+$/, '');
      return openApiFor(rt, identity, url);
    }),
  );
  registerDocsPage(app);
}
