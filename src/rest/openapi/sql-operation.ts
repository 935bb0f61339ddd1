// POST /api/v2/_sql in the OpenAPI document (docs/sql.md): listed only for callers with at least
// one grant that allows SQL; request and response bodies typed.
import { okHeaders, ref, type Json } from './components.js';

const REQUEST: Json = {
  type: 'object',
  required: ['sql'],
  properties: {
    sql: {
      type: 'string',
      maxLength: 20000,
      description: 'One SELECT statement (PostgreSQL dialect) over views named service.view; see docs/sql.md for what is allowed.',
    },
    limit: { type: 'integer', minimum: 1, description: 'Most rows returned; capped by the smallest maxLimit of the views read.' },
    cursor: { type: 'string', description: 'meta.next_cursor of an earlier page: continues the same sql and limit.' },
    explain: { type: 'boolean', description: 'true: the plan and every native query instead of rows (each view read needs explain).' },
  },
  additionalProperties: false,
};

const RESULT: Json = {
  type: 'object',
  required: ['resource', 'meta'],
  properties: {
    resource: { type: 'array', items: { type: 'object', additionalProperties: true }, description: 'The rows; masked columns masked.' },
    meta: {
      type: 'object',
      required: ['fields'],
      properties: {
        fields: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'type'],
            properties: { name: { type: 'string' }, type: { type: 'string' } },
          },
        },
        truncated: { type: 'boolean', description: 'More rows exist than were returned.' },
        next_cursor: { type: 'string', description: 'The cursor of the next page, when more rows exist.' },
        suppressed_groups: {
          type: 'integer',
          description:
            'Only when a view read has minGroupSize: groups left out because they were built from fewer entities than the grant allows.',
        },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
};

export function sqlOperation(): Json {
  return {
    tags: ['sql'],
    operationId: 'query_sql',
    summary: 'Governed SQL over the views you may read with SQL',
    description:
      'One SELECT over views named service.view, run by viewgate under your policy (granted columns, row filters, masks, ' +
      'aggregate-only grants and minGroupSize); the text never reaches a store.',
    requestBody: { required: true, content: { 'application/json': { schema: REQUEST } } },
    responses: {
      '200': {
        description: 'The rows, or with explain=true the plan.',
        headers: okHeaders(),
        content: { 'application/json': { schema: { oneOf: [RESULT, ref('schemas', 'Explain')] } } },
      },
      '400': ref('responses', 'BadRequest'),
      '401': ref('responses', 'Unauthorized'),
      '403': ref('responses', 'Forbidden'),
      '422': ref('responses', 'RowBudget'),
      '429': ref('responses', 'TooManyRequests'),
      '503': ref('responses', 'Unavailable'),
      '504': ref('responses', 'Timeout'),
    },
  };
}
