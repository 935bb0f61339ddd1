// The operations on one view's paths as one caller may use them: the query with its parameters
// (the filter grammar spelled out) and, where the grant allows, its aggregates; a row by key (the
// 403 of an aggregate-only grant), the schema, the service's lists, and the write methods every
// read-only view refuses.
import type { ViewDescription } from '../../gateway/index.js';
import { okHeaders, ref, type Json } from './components.js';

const FILTER_GRAMMAR = `A filter in viewgate's grammar (DreamFactory-compatible, with a real parser):

    customer_id = 7 and (status in ('paid','shipped') or total_amount >= 100)

Comparisons \`= != <> > >= < <=\`; \`like\` / \`not like\` (\`%\` any run, \`_\` one character, case-sensitive);
\`contains\`, \`starts with\`, \`ends with\` (literal text) and their \`not\` forms; \`in (...)\` / \`not in (...)\`;
\`is null\` / \`is not null\`; \`between a and b\` / \`not between a and b\`; \`and\` binds tighter than \`or\`;
\`not\` and parentheses nest. Strings are in single quotes (\`''\` is a quote); numbers are exact;
\`true\`/\`false\`; field names may be double-quoted. Only filterable fields may be used; masked fields
cannot. Your role's row filter is always applied as well, and no filter widens it.`;

export function errorResponses(extra: Record<string, Json> = {}): Record<string, Json> {
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

export function queryOperation(d: ViewDescription, explain: boolean): Json {
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
    ref('parameters', 'cursor'),
  ];
  if (byIds(d) && d.read !== false) {
    params.push({ name: 'ids', in: 'query', description: `Comma-separated values of ${d.key[0]}.`, schema: { type: 'string' } });
  }
  if (explain) params.push(ref('parameters', 'explain'));
  params.push(...aggregateParams(d));
  const aggregates = d.aggregate?.allowed === true;
  const page: Json = {
    type: 'object',
    required: ['resource', 'meta'],
    properties: { resource: { type: 'array', items: pageItems(d) }, meta: ref('schemas', 'Meta') },
    additionalProperties: false,
  };
  const countOnly: Json = { type: 'integer', minimum: 0, description: 'With count_only=true: the number of matching rows.' };
  return {
    tags: [d.service],
    operationId: `query_${d.service}_${d.name}`,
    summary: d.read === false ? `Aggregates of ${d.id}` : `Rows of ${d.id}`,
    description: `${d.description ? `${d.description}\n\n` : ''}Only rows your role may read are returned${aggregates ? ' or aggregated' : ''}.`,
    parameters: [...params, ref('parameters', 'If-None-Match')],
    responses: {
      '200': {
        description:
          `${d.read === false ? 'A page of groups' : 'A page of rows'}. \`meta.count\` only with include_count=true; \`meta.next\` and \`meta.next_cursor\` only when more rows exist.` +
          (aggregates
            ? ' With group or aggregates in fields, `resource` holds one object per group and `meta.suppressed_groups` counts the groups minGroupSize left out.'
            : '') +
          ' With count_only=true, the bare number of matching rows.' +
          (explain ? ' With explain=true, `{"explain": plan}` instead: the plan and every native query, no rows.' : ''),
        headers: okHeaders(),
        content: {
          'application/json': { schema: { oneOf: [page, countOnly, ...(explain ? [ref('schemas', 'Explain')] : [])] } },
          // Accept: the same rows as RFC 4180 CSV with a header row, or one JSON object per line (no ETag).
          'text/csv': { schema: { type: 'string' } },
          'application/x-ndjson': { schema: { type: 'string' } },
        },
      },
      '304': ref('responses', 'NotModified'),
      ...errorResponses({ '406': ref('responses', 'NotAcceptable'), '422': ref('responses', 'RowBudget') }),
    },
  };
}

/** What `resource` holds: rows of the view, groups (with aggregate: true), or groups only (aggregate-only grants). */
function pageItems(d: ViewDescription): Json {
  if (!d.aggregate?.allowed) return ref('schemas', d.id);
  const group: Json = {
    type: 'object',
    title: `A group of ${d.id}`,
    description:
      'One group: its group columns (typed as in the row) and each aggregate under its output name: count an integer; ' +
      'sum an integer (of int2/int4 columns) or an exact decimal as text; avg an exact decimal as text; min and max the type of their column.',
    additionalProperties: { type: ['number', 'string', 'boolean', 'null'] },
  };
  return d.read === false ? group : { anyOf: [ref('schemas', d.id), group] };
}

/** The REST spelling of each aggregate function a grant may allow (describeView's names are MCP's). */
const REST_AGGREGATES: Record<string, string> = {
  count: 'count(*), count(col)',
  count_distinct: 'count(distinct col)',
  sum: 'sum(col)',
  avg: 'avg(col)',
  min: 'min(col)',
  max: 'max(col)',
};

/** group, having and count_only; group and having only when the grant allows aggregates (docs/query.md, "Aggregates"). */
function aggregateParams(d: ViewDescription): Json[] {
  const countOnly: Json = {
    name: 'count_only',
    in: 'query',
    description: `true: the body is the bare number of matching rows${d.aggregate?.minGroupSize !== undefined ? ` (403 when they come from fewer than ${d.aggregate.minGroupSize} entities)` : ''}.`,
    schema: { type: 'boolean' },
  };
  const agg = d.aggregate;
  if (!agg?.allowed) return [countOnly];
  const masked = d.columns.filter((c) => c.masked);
  const countable = masked.filter((c) => c.mask !== 'null').map((c) => c.name);
  const uncountable = masked.filter((c) => c.mask === 'null').map((c) => c.name);
  const rules = [
    `Aggregates allowed in fields: ${agg.functions.map((f) => REST_AGGREGATES[f] ?? f).join(', ')}.`,
    'E.g. `status,count(*),sum(total) as revenue`; every plain field next to one must be in group.',
    ...(d.read === false ? ['Aggregate-only grant: rows cannot be read (403), only these aggregates.'] : []),
    ...(countable.length ? [`Masked fields may appear only inside count(col): ${countable.join(', ')}.`] : []),
    ...(uncountable.length ? [`Masked with null, not even counted: ${uncountable.join(', ')}.`] : []),
    ...(agg.minGroupSize !== undefined
      ? [`Groups built from fewer than ${agg.minGroupSize} entities are left out (meta.suppressed_groups).`]
      : []),
    `At most ${d.maxLimit} groups per response.`,
  ].join(' ');
  return [
    { name: 'group', in: 'query', description: `Comma-separated columns to group by. ${rules}`, schema: { type: 'string' } },
    { name: 'having', in: 'query', description: 'A filter over group columns and aggregate output names.', schema: { type: 'string' } },
    countOnly,
  ];
}

export function rowOperation(d: ViewDescription): Json {
  if (d.read === false) return aggregateOnlyRowOperation(d);
  return {
    tags: [d.service],
    operationId: `get_${d.service}_${d.name}`,
    summary: `One row of ${d.id} by ${d.key[0]}`,
    description: '404 when the row does not exist or your row filter excludes it.',
    parameters: [
      idParam(d),
      { name: 'fields', in: 'query', description: 'Comma-separated columns to return.', schema: { type: 'string' } },
      ref('parameters', 'If-None-Match'),
    ],
    responses: {
      '200': {
        description: 'The row as a bare object.',
        headers: okHeaders(),
        content: { 'application/json': { schema: ref('schemas', d.id) } },
      },
      '304': ref('responses', 'NotModified'),
      ...errorResponses(),
    },
  };
}

/** A row by key under an aggregate-only grant: described with the 403 it answers. */
function aggregateOnlyRowOperation(d: ViewDescription): Json {
  return {
    tags: [d.service],
    operationId: `get_${d.service}_${d.name}`,
    summary: `Rows of ${d.id} cannot be read`,
    description: 'Your grant is aggregate-only (read: false): a row by key is a 403; aggregate the view instead (group, fields).',
    parameters: [idParam(d)],
    responses: errorResponses(),
  };
}

const idParam = (d: ViewDescription): Json => ({
  name: 'id',
  in: 'path',
  required: true,
  description: `The row's ${d.key[0]}.`,
  schema: { type: 'string' },
});

export function schemaOperation(d: ViewDescription): Json {
  return {
    tags: [d.service],
    operationId: `describe_${d.service}_${d.name}`,
    summary: `Schema of ${d.id} as you see it`,
    responses: {
      '200': {
        description: 'The view as you see it.',
        headers: okHeaders(),
        content: { 'application/json': { schema: ref('schemas', 'ViewSchema') } },
      },
      '304': ref('responses', 'NotModified'),
      ...errorResponses(),
    },
  };
}

export function listOperation(service: string, kind: '_table' | '_schema'): Json {
  return {
    tags: [service],
    operationId: `list_${service}${kind}`,
    summary: `Views of ${service} you may read`,
    responses: {
      '200': {
        description: 'Names and descriptions.',
        headers: okHeaders(),
        content: { 'application/json': { schema: ref('schemas', 'ViewList') } },
      },
      '304': ref('responses', 'NotModified'),
      ...errorResponses(),
    },
  };
}

/** Whether the caller may look rows up by key: a one-column key it can read unmasked. */
export function byIds(d: ViewDescription): boolean {
  return d.key.length === 1 && !d.opaqueOrder;
}
