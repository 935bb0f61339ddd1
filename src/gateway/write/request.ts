// A write as a surface hands it over (docs/writes.md): DreamFactory's shapes, checked for shape
// only inside the pipeline (so a malformed one is audited like any refusal). Which fields exist,
// may be written or must be given is the policy's (plan.ts).
//
//   POST   /_table/{t}         {"resource":[{...}, ...]} (or one object, or a bare array)
//   PATCH  /_table/{t}/{id}    {...}
//   PATCH  /_table/{t}         {"resource":[{key..., ...}]}, or ?ids=1,2 / ?filter=... with one object for all
//   PUT    as PATCH, every writable non-key column given
//   DELETE /_table/{t}/{id}, ?ids=, ?filter=, or {"resource":[{key...}]}
//   query: fields= (what comes back), rollback= (default true), continue= (per-record results)
import { badRequest } from '../../errors.js';
import { parseRestQuery, type ClientQuery } from '../../query/client-query.js';

type WriteMethod = 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * How a batch is applied: all or nothing in one transaction (`rollback`, the default), each record
 * on its own (`continue`), or each on its own until the first failure (`halt`: rollback=false).
 */
type BatchMode = 'rollback' | 'continue' | 'halt';

export interface WriteRequest {
  method: WriteMethod;
  /** `/{id}`: one row by its one-column key. */
  id?: string;
  /** `resource` records, in order. */
  records?: Record<string, unknown>[];
  /** One object for every row `id`, `ids` or `filter` selects. */
  values?: Record<string, unknown>;
  /** `ids=` and `filter=` (bulk), as the read path parses them; `fields=`: the columns each written record returns. */
  query: Pick<ClientQuery, 'ids' | 'filter' | 'fields'>;
  /** `fields=*`: every column the caller may read comes back. */
  allFields?: boolean;
  mode: BatchMode;
  /** `If-Match` on a single-row PATCH, PUT or DELETE: the ETag of the caller's GET /{id}. */
  ifMatch?: string;
  /** `Idempotency-Key` on POST. */
  idempotencyKey?: string;
}

const WRITE_PARAMS = ['fields', 'filter', 'ids'] as const;
const MAX_RECORDS = 10_000;

function flag(v: unknown, name: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw badRequest(`${name} is given more than once`, { param: name });
  const t = v.trim().toLowerCase();
  if (t === 'true' || t === '1' || t === '') return true;
  if (t === 'false' || t === '0') return false;
  throw badRequest(`${name} is true or false`, { param: name });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export interface WriteInput {
  method: string;
  id?: string;
  query: Record<string, unknown>;
  body: unknown;
  headers?: { ifMatch?: string | undefined; idempotencyKey?: string | undefined };
}

export function parseWriteRequest(input: WriteInput): WriteRequest {
  const method = input.method.toUpperCase() as WriteMethod;
  const { rollback: rb, continue: cont, ...rest } = input.query;
  const rollback = flag(rb, 'rollback');
  const continues = flag(cont, 'continue') ?? false;
  if (continues && rollback === true) {
    throw badRequest('rollback=true (all or nothing) and continue=true (each record on its own) exclude each other; give one', {
      param: 'continue',
    });
  }
  const allFields = typeof rest.fields === 'string' && rest.fields.trim() === '*';
  if (allFields) delete rest.fields;
  const query = parseRestQuery(rest, WRITE_PARAMS);
  const out: WriteRequest = { method, query, mode: continues ? 'continue' : rollback === false ? 'halt' : 'rollback' };
  if (allFields) out.allFields = true;
  if (input.headers?.ifMatch !== undefined) out.ifMatch = input.headers.ifMatch;
  if (input.headers?.idempotencyKey !== undefined) out.idempotencyKey = input.headers.idempotencyKey;
  const selects = query.ids !== undefined || query.filter !== undefined;
  if (input.id !== undefined) {
    if (selects) throw badRequest('a row named by /{id} takes no ids or filter', { param: query.ids ? 'ids' : 'filter' });
    out.id = input.id;
  }
  if (query.ids && query.filter) throw badRequest('ids and filter exclude each other in a write; give one', { param: 'filter' });
  const body = input.body;
  if (method === 'POST') {
    if (input.id !== undefined || selects) throw badRequest('POST inserts the records of its body; it takes no /{id}, ids or filter', {});
    out.records = recordsOf(body, true);
    return out;
  }
  if (method === 'DELETE') {
    if (input.id !== undefined || selects) {
      if (body !== undefined && !(isObject(body) && Object.keys(body).length === 0)) {
        throw badRequest('DELETE with /{id}, ids or filter takes no body', { param: 'resource' });
      }
      return out;
    }
    out.records = recordsOf(body, false);
    return out;
  }
  // PATCH and PUT.
  if (input.id !== undefined || selects) {
    if (!isObject(body) || 'resource' in body) {
      throw badRequest(`${method} with /{id}, ids or filter takes one JSON object of the values to set`, { param: 'resource' });
    }
    out.values = body;
    return out;
  }
  out.records = recordsOf(body, false);
  return out;
}

/** `{"resource":[...]}`, a bare array, or (for POST) one object. */
function recordsOf(body: unknown, single: boolean): Record<string, unknown>[] {
  let list: unknown;
  if (Array.isArray(body)) list = body;
  else if (isObject(body) && 'resource' in body) {
    const extra = Object.keys(body).filter((k) => k !== 'resource');
    if (extra.length > 0) throw badRequest(`unknown property "${extra[0]}" beside "resource"`, { param: extra[0] });
    list = body.resource;
  } else if (single && isObject(body)) list = [body];
  else throw badRequest('the body is {"resource": [records]}', { param: 'resource' });
  if (!Array.isArray(list)) throw badRequest('"resource" is a list of records', { param: 'resource' });
  if (list.length === 0) throw badRequest('"resource" holds no record', { param: 'resource' });
  if (list.length > MAX_RECORDS)
    throw badRequest(`"resource" holds more than ${MAX_RECORDS} records; send smaller batches`, { param: 'resource' });
  list.forEach((r, i) => {
    if (!isObject(r)) throw badRequest(`record ${i} is not a JSON object`, { param: 'resource', record: i });
  });
  return list as Record<string, unknown>[];
}
