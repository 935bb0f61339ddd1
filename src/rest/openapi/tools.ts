// The REST path of each curated tool one caller may use (docs/tools.md): GET /api/v2/_tool/{name}
// with the tool's parameters as query parameters, typed as the MCP input schema types them.
import { z } from 'zod';
import type { CuratedTool } from '../../gateway/index.js';
import { paramSchema } from '../../query/tool-schema.js';
import { errorResponses } from './operations.js';
import { okHeaders, ref, type Json } from './components.js';

function parameter(name: string, spec: CuratedTool['params'][string]): Json {
  const { $schema: _s, description, ...schema } = z.toJSONSchema(paramSchema({ ...spec, optional: false }), { io: 'input' }) as Json;
  return {
    name,
    in: 'query',
    required: !spec.optional,
    ...(typeof description === 'string' ? { description } : {}),
    schema,
  };
}

export function toolOperation(tool: CuratedTool): Json {
  return {
    tags: ['tools'],
    operationId: `tool_${tool.name}`,
    summary: tool.description,
    description:
      `A curated question over ${tool.view}, answered within your role's row filter, masks and limits. ` +
      (tool.aggregate ? 'The rows are groups.' : 'The next page is meta.next_cursor, passed as cursor with the same parameters.'),
    parameters: [
      ...Object.entries(tool.params).map(([name, spec]) => parameter(name, spec)),
      ref('parameters', 'cursor'),
      ref('parameters', 'If-None-Match'),
    ],
    responses: {
      '200': {
        description: 'The answer: `resource` holds the rows (or groups); `meta.next_cursor` only when more exist.',
        headers: okHeaders(),
        content: {
          'application/json': {
            schema: {
              type: 'object',
              required: ['resource', 'meta'],
              properties: { resource: { type: 'array', items: { type: 'object' } }, meta: ref('schemas', 'Meta') },
              additionalProperties: false,
            },
          },
          'text/csv': { schema: { type: 'string' } },
          'application/x-ndjson': { schema: { type: 'string' } },
        },
      },
      '304': ref('responses', 'NotModified'),
      ...errorResponses({ '406': ref('responses', 'NotAcceptable'), '422': ref('responses', 'RowBudget') }),
    },
  };
}
