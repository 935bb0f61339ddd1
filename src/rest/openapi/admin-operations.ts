// The console's JSON API under /admin/api (docs/console.md, "JSON API") in the OpenAPI document:
// listed only for callers whose role is in `admin.roles`. Session cookies are not described as a
// security scheme here: API keys of an admin role are what non-browser clients use.
import type { Config } from '../../config/schema.js';
import { ref, type Json } from './components.js';

const anyObject: Json = { type: 'object', additionalProperties: true };

const SERIES_POINT: Json = {
  type: 'object',
  required: ['t', 'requests', 'errors', 'p50', 'p95', 'p99'],
  properties: {
    t: { type: 'string', format: 'date-time', description: 'The start of the minute.' },
    requests: { type: 'integer' },
    errors: { type: 'integer', description: 'Answers with status 500 or above.' },
    p50: { type: ['number', 'null'], description: 'Latency in milliseconds; null in a minute without requests.' },
    p95: { type: ['number', 'null'] },
    p99: { type: ['number', 'null'] },
  },
};

const OVERVIEW: Json = {
  type: 'object',
  required: ['stores', 'requestRate', 'errorRate', 'cacheHitRatio', 'refreshes', 'outOfContract', 'series'],
  properties: {
    stores: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'kind', 'status', 'latencyMs'],
        properties: {
          name: { type: 'string' },
          kind: { type: 'string' },
          status: { type: 'string', enum: ['up', 'down'] },
          latencyMs: { type: 'number', description: 'How long one ping took.' },
        },
      },
    },
    requestRate: { type: 'number', description: 'Requests per minute, averaged over the last hour.' },
    errorRate: { type: 'number', description: 'Share of the last hour’s requests answered with 500 or above.' },
    cacheHitRatio: { type: ['number', 'null'], description: 'Hits / (hits + misses) since start; null before any lookup.' },
    refreshes: { type: 'array', items: anyObject, description: 'Materialized views: view, ok, lastSuccess.' },
    outOfContract: { type: 'array', items: { type: 'string' }, description: 'Views whose sources no longer fit them.' },
    series: { type: 'array', items: SERIES_POINT, description: 'The last hour, one point per minute, oldest first.' },
  },
};

const SIMULATE_REQUEST: Json = {
  type: 'object',
  properties: {
    role: { type: 'string', description: 'The role to simulate (with claims); or give token.' },
    claims: { type: 'object', additionalProperties: true, description: 'The simulated caller’s claims, e.g. {"tenant_id": "t2"}.' },
    token: { type: 'string', description: 'A JWT as a caller would send it: the identity the server would give it.' },
    view: { type: 'string', description: 'service.view to read as that caller.' },
    query: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'REST query parameters (filter, fields, order, limit, ...).',
    },
    sql: { type: 'string', description: 'A governed SQL query to run as that caller, instead of view.' },
  },
  additionalProperties: false,
};

const SIMULATION: Json = {
  type: 'object',
  required: ['identity', 'schema', 'tools', 'toolsTokens', 'rows'],
  properties: {
    identity: anyObject,
    schema: { type: 'array', items: anyObject, description: 'describe_view of every view the caller may read.' },
    tools: { type: 'array', items: anyObject, description: 'The MCP tools/list the caller would receive.' },
    toolsTokens: { type: 'integer', description: 'Estimated tokens of the tools list: ceil(characters / 4) of its JSON.' },
    rows: {
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          required: ['status', 'body'],
          properties: { status: { type: 'integer' }, body: { description: 'The REST answer ({resource, meta}) or error envelope.' } },
        },
      ],
    },
  },
};

const AUDIT_PARAMS: Json[] = [
  ['from', 'Records at or after this timestamp (ISO 8601).'],
  ['to', 'Records before this timestamp (ISO 8601).'],
  ['subject', 'The caller’s subject, exactly.'],
  ['role', 'The caller’s role.'],
  ['view', 'service.view.'],
  ['decision', 'allow, deny or error.'],
  ['status', 'The HTTP status.'],
  ['limit', 'Most records (default 100, at most 1000).'],
  ['after', 'Only records with a larger id, oldest first (a live tail).'],
].map(([name, description]) => ({ name, in: 'query', required: false, description, schema: { type: 'string' } }));

function get(operationId: string, summary: string, schema: Json, extra: Json = {}, moreResponses: Json = {}): Json {
  return {
    get: {
      tags: ['admin'],
      operationId,
      summary,
      ...extra,
      responses: {
        '200': { description: summary, content: { 'application/json': { schema } } },
        '400': ref('responses', 'BadRequest'),
        '401': ref('responses', 'Unauthorized'),
        '403': ref('responses', 'Forbidden'),
        ...moreResponses,
      },
    },
  };
}

/** The /admin/api paths for a caller of `role`; none unless the role is an admin role. */
export function adminPaths(config: Config, role: string): Json {
  if (!config.admin?.roles.includes(role)) return {};
  return {
    '/admin/api/overview': get(
      'admin_overview',
      'Stores’ health, request and error rates, cache, refreshes, drift and the last hour',
      OVERVIEW,
    ),
    '/admin/api/views': get(
      'admin_views',
      'Every view: engine, key, columns with lineage, SQL, deprecation and a sample explain',
      anyObject,
    ),
    '/admin/api/roles': get('admin_roles', 'The role x view matrix: rights, fields, masks, row filters and limits', anyObject),
    '/admin/api/check': get('admin_check', 'viewgate check and contract check results', anyObject),
    '/admin/api/audit': get(
      'admin_audit',
      'Search the PostgreSQL audit sink, newest first',
      anyObject,
      { parameters: AUDIT_PARAMS },
      { '409': ref('responses', 'NoAuditSearch') },
    ),
    '/admin/api/session': get(
      'admin_session',
      'The signed-in person: subject, name, roles, csrfToken, expiresAt (cookie sessions only)',
      anyObject,
    ),
    '/admin/api/simulate': {
      post: {
        tags: ['admin'],
        operationId: 'admin_simulate',
        summary: 'What a caller sees: schema, MCP tools/list with its size, and rows, as the gateway answers it',
        description: 'Only for a signed-in person (session cookie and X-CSRF-Token); an API key gets 403. Audited with both identities.',
        requestBody: { required: true, content: { 'application/json': { schema: SIMULATE_REQUEST } } },
        responses: {
          '200': { description: 'The simulation.', content: { 'application/json': { schema: SIMULATION } } },
          '400': ref('responses', 'BadRequest'),
          '401': ref('responses', 'Unauthorized'),
          '403': ref('responses', 'Forbidden'),
        },
      },
    },
  };
}
