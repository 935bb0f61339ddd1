// The document's shared components: security schemes, common parameters and headers, the error
// responses (with the envelope schema) and the schemas every operation refers to.
import type { Config } from '../../config/schema.js';

export type Json = Record<string, unknown>;

export const ref = (kind: string, name: string) => ({ $ref: `#/components/${kind}/${name}` });

export function okHeaders(): Json {
  return { ETag: ref('headers', 'ETag'), 'Cache-Control': ref('headers', 'CacheControl'), Vary: ref('headers', 'Vary') };
}

function errorResponse(description: string, headers?: Json): Json {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ref('schemas', 'Error') } } };
}

export function components(config: Config): Json {
  const integerHeader = (description: string) => ({ description, schema: { type: 'integer', minimum: 0 } });
  const securitySchemes: Json = {
    apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key', description: 'An API key (X-DreamFactory-API-Key is accepted too).' },
  };
  if (config.auth.jwt)
    securitySchemes.bearer = { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A JWT from your identity provider.' };
  return {
    securitySchemes,
    parameters: {
      offset: {
        name: 'offset',
        in: 'query',
        description: 'Rows to skip; use meta.next from the previous page.',
        schema: { type: 'integer', minimum: 0, default: 0 },
      },
      cursor: {
        name: 'cursor',
        in: 'query',
        description:
          'meta.next_cursor from the previous page: continues the same query (same fields, group, having, filter, order and limit) ' +
          'after its last row or group. Opaque and bound to your credentials; not with offset, include_count or count_only.',
        schema: { type: 'string' },
      },
      include_count: {
        name: 'include_count',
        in: 'query',
        description: 'Also return meta.count, the number of matching rows.',
        schema: { type: 'boolean', default: false },
      },
      explain: {
        name: 'explain',
        in: 'query',
        description: 'Return the plan and every native query instead of rows.',
        schema: { type: 'boolean', default: false },
      },
      'If-None-Match': {
        name: 'If-None-Match',
        in: 'header',
        description: 'An ETag from an earlier response: 304 when unchanged.',
        schema: { type: 'string' },
      },
    },
    headers: {
      ETag: { description: 'Strong validator of the body.', schema: { type: 'string' } },
      CacheControl: {
        description: '`private, max-age=N` when the view is cached for your role (N: seconds left), else `private, no-cache`.',
        schema: { type: 'string' },
      },
      Vary: {
        description: 'Authorization, X-API-Key, X-DreamFactory-API-Key: responses depend on the credential.',
        schema: { type: 'string' },
      },
      'Retry-After': integerHeader('Seconds to wait before retrying.'),
      'RateLimit-Limit': integerHeader('Requests allowed per period.'),
      'RateLimit-Remaining': integerHeader('Requests left now.'),
      'RateLimit-Reset': integerHeader('Seconds until the full allowance is back.'),
    },
    responses: {
      NotModified: { description: 'Unchanged since the ETag in If-None-Match.', headers: okHeaders() },
      BadRequest: errorResponse('The query is wrong; context names the parameter (and the position in a filter).'),
      Unauthorized: errorResponse('No credential, or an invalid one.', { 'WWW-Authenticate': { schema: { type: 'string' } } }),
      Forbidden: errorResponse(
        'The credential is valid but a claim the role needs is missing, or the role is unknown; or the grant does not allow what was ' +
          'asked (aggregates without `aggregate: true`; rows, min or max under an aggregate-only grant; a count from fewer entities than minGroupSize).',
      ),
      NotFound: errorResponse('No such view for you, or no such row.'),
      ReadOnly: errorResponse('The view is read-only; `Allow` lists the methods it takes.', {
        Allow: { description: 'The methods the view takes, e.g. `GET, HEAD`.', schema: { type: 'string' } },
      }),
      NoAuditSearch: errorResponse('The audit sink is not postgres (audit.sink), so there is no audit log to search.'),
      WriteConflict: errorResponse('Another row already holds a value of a unique column; context names the column (and the record).'),
      WriteRefused: errorResponse(
        'The store refused a value (not null, check, foreign key, too long), or the write would reach more than maxBulkRows rows; context names the column and the record.',
      ),
      RowBudget: errorResponse('The query would read more rows than the row budget; narrow it.'),
      NotAcceptable: errorResponse('The Accept header allows none of application/json, text/csv and application/x-ndjson.'),
      TooManyRequests: errorResponse('Rate limited.', {
        'Retry-After': ref('headers', 'Retry-After'),
        'RateLimit-Limit': ref('headers', 'RateLimit-Limit'),
        'RateLimit-Remaining': ref('headers', 'RateLimit-Remaining'),
        'RateLimit-Reset': ref('headers', 'RateLimit-Reset'),
      }),
      Unavailable: errorResponse('A store is down or its circuit is open (context.source names it).', {
        'Retry-After': ref('headers', 'Retry-After'),
      }),
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
        properties: {
          explain: {
            description: 'The plan: every native query sent and the rows fetched per store (its shape may change between versions).',
          },
        },
        additionalProperties: false,
      },
      Meta: {
        type: 'object',
        properties: {
          count: { type: 'integer', description: 'Matching rows (with include_count=true).' },
          next: { type: 'integer', description: 'Offset of the next page, when more rows exist.' },
          next_cursor: { type: 'string', description: 'The cursor of the next page, when more rows (or groups) exist.' },
          suppressed_groups: {
            type: 'integer',
            description:
              'Aggregates under minGroupSize: groups left out because they were built from fewer entities than the grant allows.',
          },
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
                lineage: {
                  type: 'array',
                  items: { type: 'string' },
                  description: 'The source columns (source.table.column) this column is derived from, for views over other tables.',
                },
              },
            },
          },
        },
      },
    },
  };
}
