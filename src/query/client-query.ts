// The client query model (docs/query.md), shared by REST and MCP: fields, filter, order, paging,
// count, ids, explain. This only checks syntax; which fields exist, masks and limits are the
// policy's.
//
// Decisions:
// - limit must be 1 or more: `limit=0` is a 400 (DreamFactory reads 0 as "no limit"; here the
//   grant's maxLimit applies when limit is left out).
// - An unknown query parameter is a 400 naming it and the parameters that exist, so a typo
//   (`limt=5`) is not silently ignored. DreamFactory parameters viewgate does not implement
//   (related, id_field, ...) are 400s too: ignoring them would change the answer unnoticed.
//   Credentials in the URL (api_key, ...) are refused before this, by the REST routes.
// - Aggregates in fields, group, having and count_only: src/query/aggregate-query.ts (docs/query.md).
// - filter: text in the grammar, or (starting with `{`) the structured JSON filter MCP takes.
// - A parameter given twice: fields, order and ids are joined with commas; the others are a 400.
// - include_count / explain: true/false/1/0, any case; present without a value means true.
// - fields: `*` or an empty value means the caller's schema.
import { badRequest, type ApiError } from '../errors.js';
import {
  checkDistinctNames,
  looksLikeAggregate,
  parseGroup,
  parseMetric,
  type AggregateRequest,
  type MetricFn,
  type SelectItem,
} from './aggregate-query.js';
import type { FilterAst } from './ast.js';
import { parseFilter } from './filter-parser.js';
import { structuredToAst } from './structured-filter.js';

interface OrderSpec {
  field: string;
  desc: boolean;
}

export interface ClientQuery {
  fields?: string[];
  filter?: FilterAst;
  order?: OrderSpec[];
  limit?: number;
  offset?: number;
  includeCount?: boolean;
  ids?: string[];
  explain?: boolean;
  /** Aggregates and/or `group` (docs/query.md, "Aggregates"): the rows are groups, not view rows. */
  aggregate?: AggregateRequest;
  /** `count_only=true`: the answer is the number of matching rows, nothing else. */
  countOnly?: boolean;
  /** A `next_cursor` from an earlier page of the same query (docs/query.md, "Cursors"); opened by the gateway. */
  cursor?: string;
}

export interface ToolQueryArgs {
  fields?: string[] | string;
  filter?: string | object;
  order?: string[] | string;
  limit?: number | string;
  offset?: number | string;
  cursor?: string;
}

const JOINABLE = new Set(['fields', 'order', 'ids', 'group']);

/** The query parameters of `GET /_table/{view}`, in the order error messages list them. */
const QUERY_PARAMS = [
  'fields',
  'filter',
  'order',
  'limit',
  'offset',
  'include_count',
  'ids',
  'explain',
  'cursor',
  'group',
  'having',
  'count_only',
] as const;
/** `GET /_table/{view}/{id}` takes only a field list. */
export const ROW_PARAMS = ['fields'] as const;

/** DreamFactory query parameters viewgate does not implement; named as such in the 400. */
const DREAMFACTORY_ONLY = new Set(['related', 'include_schema', 'id_field', 'id_type', 'continue', 'rollback', 'schema', 'fields_only']);

/**
 * REST query-string values: strings, or arrays of strings when a parameter repeats. `allowed` is
 * what the route takes; anything else is a 400 that names it and lists the allowed ones.
 */
export function parseRestQuery(q: Record<string, unknown>, allowed: readonly string[] = QUERY_PARAMS): ClientQuery {
  for (const name of Object.keys(q)) {
    if (q[name] !== undefined && !allowed.includes(name)) throw unknownParameter(name, allowed);
  }
  const get = (name: string): string | undefined => {
    const v = q[name];
    if (v === undefined) return undefined;
    if (Array.isArray(v)) {
      if (!JOINABLE.has(name)) throw badRequest(`${name} is given more than once`, { param: name });
      if (!v.every((x) => typeof x === 'string')) throw badRequest(`${name} must be text`, { param: name });
      return v.join(',');
    }
    if (typeof v !== 'string') throw badRequest(`${name} must be text`, { param: name });
    return v;
  };
  const out: ClientQuery = {};
  const fields = get('fields');
  const group = get('group');
  const having = get('having');
  const aggregate = parseAggregateParams(fields, group, having);
  if (aggregate) out.aggregate = aggregate;
  else if (fields !== undefined) {
    const f = parseFields(fields);
    if (f) out.fields = f;
  }
  const countOnly = get('count_only');
  if (countOnly !== undefined && parseFlag(countOnly, 'count_only')) out.countOnly = true;
  const filter = get('filter');
  if (filter !== undefined && filter.trim() !== '') out.filter = parseFilterText(filter);
  const order = get('order');
  if (order !== undefined && order.trim() !== '') out.order = parseOrder(order);
  const limit = get('limit');
  if (limit !== undefined) out.limit = parseCount(limit, 'limit', 1);
  const offset = get('offset');
  if (offset !== undefined) out.offset = parseCount(offset, 'offset', 0);
  const count = get('include_count');
  if (count !== undefined) out.includeCount = parseFlag(count, 'include_count');
  const ids = get('ids');
  if (ids !== undefined) out.ids = parseIds(ids);
  const explain = get('explain');
  if (explain !== undefined) out.explain = parseFlag(explain, 'explain');
  const cursor = get('cursor');
  if (cursor !== undefined) out.cursor = parseCursor(cursor);
  return checkCursor(out);
}

/** MCP query_view arguments. A filter string that is JSON (starts with `{`) is a structured filter. */
export function parseToolQuery(args: ToolQueryArgs): ClientQuery {
  const out: ClientQuery = {};
  if (args.fields !== undefined && args.fields !== null) {
    const f = parseFields(listArg(args.fields, 'fields').join(','));
    if (f) out.fields = f;
  }
  const filter: unknown = args.filter;
  if (typeof filter === 'string') {
    if (filter.trim() !== '') out.filter = parseFilterText(filter);
  } else if (filter !== undefined && filter !== null) {
    out.filter = structuredToAst(filter, 'filter');
  }
  if (args.order !== undefined && args.order !== null) {
    const text = listArg(args.order, 'order').join(',');
    if (text.trim() !== '') out.order = parseOrder(text);
  }
  if (args.limit !== undefined && args.limit !== null) out.limit = countArg(args.limit, 'limit', 1);
  if (args.offset !== undefined && args.offset !== null) out.offset = countArg(args.offset, 'offset', 0);
  if (args.cursor !== undefined && args.cursor !== null) {
    if (typeof args.cursor !== 'string') throw badRequest('cursor must be text: the next_cursor of an earlier result', { param: 'cursor' });
    out.cursor = parseCursor(args.cursor);
  }
  return checkCursor(out);
}

function parseCursor(text: string): string {
  const t = text.trim();
  if (t === '')
    throw badRequest('cursor is empty; pass next_cursor from the previous page, or leave cursor out for the first page', {
      param: 'cursor',
    });
  return t;
}

/**
 * A cursor says where the page starts, so offset would say it twice; the count belongs to the
 * first page (with a cursor it would count only the rows after it).
 */
function checkCursor(q: ClientQuery): ClientQuery {
  if (q.cursor === undefined) return q;
  if (q.offset !== undefined) {
    throw badRequest('cursor and offset cannot be combined: a cursor continues where the previous page ended; leave offset out', {
      param: 'offset',
    });
  }
  if (q.includeCount) {
    throw badRequest('include_count cannot be combined with cursor: ask for the count on the first page', { param: 'include_count' });
  }
  return q;
}

/**
 * The aggregate part of a REST query: present when `fields` holds an aggregate or `group` is
 * given. Every plain field next to an aggregate must be in `group`; `group` alone (or with only
 * its own columns in fields) returns the distinct groups.
 */
function parseAggregateParams(
  fields: string | undefined,
  group: string | undefined,
  having: string | undefined,
): AggregateRequest | undefined {
  const items = fields !== undefined && fields.trim() !== '' && fields.trim() !== '*' ? splitList(fields) : [];
  const groupCols = group !== undefined && group.trim() !== '' ? parseGroup(splitList(group)) : [];
  const hasMetric = items.some(({ item }) => looksLikeAggregate(item));
  if (!hasMetric && groupCols.length === 0) {
    if (having !== undefined && having.trim() !== '') {
      throw badRequest('having filters groups, so it needs group or an aggregate in fields', { param: 'having' });
    }
    return undefined;
  }
  const select: SelectItem[] = [];
  for (const { item, pos } of items) {
    if (item === '') throw badRequest(`empty field name at position ${pos} in fields`, { param: 'fields', position: pos });
    if (item === '*')
      throw badRequest(`'*' cannot stand next to aggregates in fields; name the group columns`, { param: 'fields', position: pos });
    if (looksLikeAggregate(item)) select.push({ kind: 'metric', metric: parseMetric(item, 'fields', pos) });
    else {
      if (!groupCols.includes(item)) {
        throw badRequest(`field "${item}" at position ${pos} in fields stands next to aggregates, so it must be in group`, {
          param: 'fields',
          field: item,
          position: pos,
        });
      }
      select.push({ kind: 'field', name: item, position: pos });
    }
  }
  // Group columns not named in fields are returned too, first: a group is known by its values.
  const named = new Set(select.flatMap((s) => (s.kind === 'field' ? [s.name] : [])));
  const full = [...groupCols.filter((g) => !named.has(g)).map((name): SelectItem => ({ kind: 'field', name })), ...select];
  checkDistinctNames(full, 'fields');
  return {
    select: full,
    group: groupCols,
    ...(having !== undefined && having.trim() !== '' ? { having: parseFilterText(having, 'having') } : {}),
  };
}

/** MCP aggregate_view arguments. */
export interface ToolAggregateArgs {
  group_by?: string[] | string;
  metrics?: { fn: MetricFn; field?: string; as?: string }[];
  filter?: string | object;
  having?: string | object;
  order?: string[] | string;
  limit?: number | string;
  cursor?: string;
}

/** aggregate_view's arguments as a ClientQuery: the same model REST's fields/group/having build. */
export function parseToolAggregate(args: ToolAggregateArgs): ClientQuery {
  const group =
    args.group_by === undefined || args.group_by === null
      ? []
      : parseGroup(splitList(listArg(args.group_by, 'group_by').join(',')), 'group_by');
  const select: SelectItem[] = group.map((name) => ({ kind: 'field', name }));
  (args.metrics ?? []).forEach((m, i) => {
    if (m.field === undefined && m.fn !== 'count') {
      throw badRequest(`metrics[${i}]: ${m.fn} needs a field`, { param: 'metrics', position: i });
    }
    const call = m.fn === 'count_distinct' ? `count(distinct ${m.field ?? ''})` : `${m.fn}(${m.field ?? (m.fn === 'count' ? '*' : '')})`;
    const metric = parseMetric(m.as !== undefined ? `${call} as ${m.as}` : call, `metrics[${i}]`);
    select.push({ kind: 'metric', metric: { ...metric, param: 'metrics', position: i } });
  });
  if (select.length === 0) throw badRequest('give group_by, metrics or both', { param: 'metrics' });
  checkDistinctNames(select, 'metrics');
  const out: ClientQuery = { aggregate: { select, group } };
  const having: unknown = args.having;
  if (typeof having === 'string') {
    if (having.trim() !== '') out.aggregate!.having = parseFilterText(having, 'having');
  } else if (having !== undefined && having !== null) {
    out.aggregate!.having = structuredToAst(having, 'having');
  }
  const rest = parseToolQuery({
    ...(args.filter !== undefined ? { filter: args.filter } : {}),
    ...(args.order !== undefined ? { order: args.order } : {}),
    ...(args.limit !== undefined ? { limit: args.limit } : {}),
    ...(args.cursor !== undefined ? { cursor: args.cursor } : {}),
  });
  return { ...rest, ...out };
}

/** A filter parameter's text: the grammar, or JSON (starting with `{`) for the structured filter. */
function parseFilterText(filter: string, param = 'filter'): FilterAst {
  const text = filter.trim();
  if (!text.startsWith('{')) return parseFilter(filter, { param });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message;
    const at = /position (\d+)/.exec(message);
    const position = at ? Number(at[1]) + filter.indexOf('{') : undefined;
    throw badRequest(
      `${param} starts with '{' so it looks like JSON (a structured filter), but the JSON does not parse: ${message}. ` +
        `Write {"field":"customer_id","op":"eq","value":7} (with and/or/not to combine), or a filter in the grammar such as customer_id = 7`,
      { param, ...(position !== undefined ? { position } : {}) },
    );
  }
  return structuredToAst(json, param);
}

function unknownParameter(name: string, allowed: readonly string[]): ApiError {
  const list = allowed.join(', ');
  const context = { param: name, allowed: [...allowed] };
  if (DREAMFACTORY_ONLY.has(name)) {
    return badRequest(`the DreamFactory parameter "${name}" is not supported by viewgate; parameters here are: ${list}`, context);
  }
  const near = allowed.find((a) => editDistance(a, name.toLowerCase()) <= 2);
  return badRequest(`unknown query parameter "${name}"${near ? ` (did you mean "${near}"?)` : ''}; parameters here are: ${list}`, context);
}

/** Levenshtein distance, for "did you mean" on short parameter names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

function listArg(v: unknown, param: string): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw badRequest(`${param} must be a list of strings or a comma-separated string`, { param });
}

/** Splits a comma list, giving each trimmed item with its 0-based position in the text. */
function splitList(text: string): { item: string; pos: number }[] {
  const out: { item: string; pos: number }[] = [];
  let start = 0;
  for (const part of text.split(',')) {
    const lead = part.length - part.trimStart().length;
    out.push({ item: part.trim(), pos: start + lead });
    start += part.length + 1;
  }
  return out;
}

/** The field list, or undefined for the default (`*` or empty). */
function parseFields(text: string): string[] | undefined {
  if (text.trim() === '' || text.trim() === '*') return undefined;
  const out: string[] = [];
  for (const { item, pos } of splitList(text)) {
    if (item === '') throw badRequest(`empty field name at position ${pos} in fields`, { param: 'fields', position: pos });
    if (item === '*') throw badRequest(`'*' must stand alone in fields`, { param: 'fields', position: pos });
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

/** `col [asc|desc], ...`; a field named twice keeps its first direction. */
function parseOrder(text: string): OrderSpec[] {
  const out: OrderSpec[] = [];
  for (const { item, pos } of splitList(text)) {
    if (item === '') throw badRequest(`empty sort term at position ${pos} in order`, { param: 'order', position: pos });
    const words = item.split(/\s+/);
    const field = words[0]!;
    let desc = false;
    if (words.length > 1) {
      const dir = words[1]!;
      const dirPos = pos + item.indexOf(dir, field.length);
      const d = dir.toLowerCase();
      if (d !== 'asc' && d !== 'desc') {
        throw badRequest(`bad sort direction '${dir}' for ${field} at position ${dirPos} in order; use asc or desc`, {
          param: 'order',
          position: dirPos,
        });
      }
      desc = d === 'desc';
      if (words.length > 2) {
        const extraPos = pos + item.indexOf(words[2]!, dirPos - pos + dir.length);
        throw badRequest(
          `unexpected '${words[2]}' after '${field} ${dir}' at position ${extraPos} in order; write col [asc|desc], comma separated`,
          {
            param: 'order',
            position: extraPos,
          },
        );
      }
    }
    if (!out.some((o) => o.field === field)) out.push({ field, desc });
  }
  return out;
}

/** A key list for `ids`: values stay text (the policy coerces them to the key's type). */
function parseIds(text: string): string[] {
  if (text.trim() === '') throw badRequest('ids is empty; give a comma list of key values or leave ids out', { param: 'ids' });
  const out: string[] = [];
  for (const { item, pos } of splitList(text)) {
    if (item === '') throw badRequest(`empty key value at position ${pos} in ids`, { param: 'ids', position: pos });
    if (!out.includes(item)) out.push(item);
  }
  return out;
}

function parseCount(text: string, param: string, min: number): number {
  const t = text.trim();
  const n = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw badRequest(`${param} must be a whole number of ${min} or more, not '${text}'`, { param });
  }
  return n;
}

function countArg(v: unknown, param: string, min: number): number {
  if (typeof v === 'string') return parseCount(v, param, min);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) {
    throw badRequest(`${param} must be a whole number of ${min} or more, not ${typeof v === 'number' ? String(v) : `a ${typeof v}`}`, {
      param,
    });
  }
  return v;
}

function parseFlag(text: string, param: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'true' || t === '1') return true;
  if (t === 'false' || t === '0') return false;
  throw badRequest(`${param} must be true or false, not '${text}'`, { param });
}
