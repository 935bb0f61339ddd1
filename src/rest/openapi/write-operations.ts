// POST/PUT/PATCH/DELETE on one view's paths as one caller may use them (docs/writes.md): a method the
// caller may use is a typed operation (request body from the columns it may set); any other is
// listed with the refusal it answers (405 where the view cannot be written, 403 where the grant
// does not allow it), so every response the server gives is described.
import type { ViewDescription } from '../../gateway/index.js';
import { ref, type Json } from './components.js';
import { errorResponses } from './operations.js';
import { columnTypeSchema } from './row-schema.js';

type Method = 'post' | 'put' | 'patch' | 'delete';
const RIGHT: Record<Method, 'insert' | 'update' | 'delete'> = { post: 'insert', put: 'update', patch: 'update', delete: 'delete' };

function columns(d: ViewDescription, names: string[]): Json {
  return Object.fromEntries(
    names.flatMap((n) => {
      const c = d.columns.find((x) => x.name === n);
      return c ? [[n, columnTypeSchema(c.type, c.nullable)]] : [];
    }),
  );
}

function keyedRecord(d: ViewDescription, set: string[], required: string[]): Json {
  return { type: 'object', properties: columns(d, [...d.key, ...set]), required: [...d.key, ...required], additionalProperties: false };
}

function body(schema: Json): Json {
  return { required: true, content: { 'application/json': { schema } } };
}

const resourceOf = (items: Json): Json => ({
  type: 'object',
  properties: { resource: { type: 'array', minItems: 1, items } },
  required: ['resource'],
  additionalProperties: false,
});

function typed(d: ViewDescription, method: Method, row: boolean): Json {
  const w = d.write!;
  const values: Json = { type: 'object', properties: columns(d, w.fields), additionalProperties: false };
  const full: Json = { ...values, required: w.fields };
  const params: Json[] = [
    {
      name: 'fields',
      in: 'query',
      description: 'Comma-separated columns each written record returns (default: the key).',
      schema: { type: 'string' },
    },
  ];
  if (row) params.unshift({ name: 'id', in: 'path', required: true, description: `The row's ${d.key[0]}.`, schema: { type: 'string' } });
  if (!row && method !== 'post') {
    params.push({
      name: 'ids',
      in: 'query',
      description: `Comma-separated values of ${d.key[0] ?? 'the key'}; one body for all.`,
      schema: { type: 'string' },
    });
    if (w.bulk)
      params.push({
        name: 'filter',
        in: 'query',
        description: `Bulk: every row matching (at most ${w.maxBulkRows}).`,
        schema: { type: 'string' },
      });
  }
  if (!row) {
    params.push(
      {
        name: 'rollback',
        in: 'query',
        description: 'true (default): the batch is one transaction, all or nothing.',
        schema: { type: 'boolean' },
      },
      {
        name: 'continue',
        in: 'query',
        description: 'true: each record on its own; any failure is a 400 listing every record.',
        schema: { type: 'boolean' },
      },
    );
  }
  let requestBody: Json | undefined;
  if (method === 'post')
    requestBody = body(resourceOf({ type: 'object', properties: columns(d, [...w.insertKey, ...w.fields]), additionalProperties: false }));
  else if (method !== 'delete') {
    const one = method === 'put' ? full : values;
    requestBody = body(row ? one : { oneOf: [resourceOf(keyedRecord(d, w.fields, method === 'put' ? w.fields : [])), one] });
  } else if (!row) requestBody = { required: false, content: { 'application/json': { schema: resourceOf(keyedRecord(d, [], [])) } } };
  const result: Json = { type: 'object', description: 'The key, or the columns fields= names.' };
  return {
    tags: [d.service],
    operationId: `${method}_${d.service}_${d.name}${row ? '_row' : ''}`,
    summary: `${RIGHT[method]} ${row ? 'one row of' : 'rows of'} ${d.id}`,
    description: 'Only rows your role may read are reached; every written row must stay inside your row filter (docs/writes.md).',
    parameters: params,
    ...(requestBody ? { requestBody } : {}),
    responses: {
      [method === 'post' ? '201' : '200']: {
        description: row ? 'The written record.' : 'One entry per record written.',
        content: { 'application/json': { schema: row ? result : resourceOf(result) } },
      },
      ...errorResponses({ '409': ref('responses', 'WriteConflict'), '422': ref('responses', 'WriteRefused') }),
    },
  };
}

function refused(d: ViewDescription, method: Method, row: boolean): Json {
  const readOnly = d.writable !== true;
  if (!readOnly && row && method === 'post' && d.write?.insert) {
    return {
      tags: [d.service],
      operationId: `post_${d.service}_${d.name}_row`,
      summary: `Not available: insert at /_table/${d.name}`,
      description: 'POST inserts the records of its body at the table path; here it answers 400.',
      parameters: [{ name: 'id', in: 'path', required: true, description: `The row's ${d.key[0]}.`, schema: { type: 'string' } }],
      responses: { '400': ref('responses', 'BadRequest'), '401': ref('responses', 'Unauthorized'), '404': ref('responses', 'NotFound') },
    };
  }
  return {
    tags: [d.service],
    operationId: `${method}_${d.service}_${d.name}${row ? '_row' : ''}`,
    summary: readOnly ? `Not available: ${d.id} is read-only` : `Not available to your role on ${d.id}`,
    description: readOnly
      ? 'This view cannot be written (federated, hub, SQLite, or no unique key); this method answers 405 with `Allow`.'
      : `Your grant does not allow ${RIGHT[method]} here; this method answers 403.`,
    ...(row
      ? { parameters: [{ name: 'id', in: 'path', required: true, description: `The row's ${d.key[0]}.`, schema: { type: 'string' } }] }
      : {}),
    responses: {
      '401': ref('responses', 'Unauthorized'),
      '404': ref('responses', 'NotFound'),
      ...(readOnly ? { '405': ref('responses', 'ReadOnly') } : { '403': ref('responses', 'Forbidden') }),
    },
  };
}

export function writeOperations(d: ViewDescription, row: boolean): Json {
  const ops: Json = {};
  for (const method of ['post', 'put', 'patch', 'delete'] as const) {
    const may = d.writable === true && d.write?.[RIGHT[method]] === true && !(row && method === 'post');
    ops[method] = may ? typed(d, method, row) : refused(d, method, row);
  }
  return ops;
}
